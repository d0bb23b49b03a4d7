#pragma once

#include <QtCore/qloggingcategory.h>

namespace wsqt {
Q_DECLARE_LOGGING_CATEGORY(lcSocket)     // "wsqt.socket": connection state changes
Q_DECLARE_LOGGING_CATEGORY(lcServer)     // "wsqt.server": listening, accepting, refusing
Q_DECLARE_LOGGING_CATEGORY(lcHandshake)  // "wsqt.handshake": opening handshakes
} // namespace wsqt
