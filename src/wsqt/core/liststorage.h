#pragma once

// A Qt 6 list keeps its capacity when it is emptied. A connection that goes
// idle with one emptied would hold that storage for as long as it lives, and
// a server holds many connections.

namespace wsqt::core {

template<typename List>
void releaseIfEmpty(List &list)
{
    if (list.isEmpty() && list.capacity() > 0)
        list = List();
}

} // namespace wsqt::core
