// The factory of a build without the lean transport: every connection stays
// on Qt's sockets, so nothing asks for a lean transport.

#include "leantransport.h"

namespace wsqt::transport {

bool leanTransportEnabled(bool)
{
    return false;
}

Transport *createLeanTransport(qintptr)
{
    Q_UNREACHABLE();
    return nullptr;
}

void closeDescriptor(qintptr)
{
    Q_UNREACHABLE();
}

Transport *adoptIntoLeanTransport(QTcpSocket *)
{
    return nullptr;
}

} // namespace wsqt::transport
