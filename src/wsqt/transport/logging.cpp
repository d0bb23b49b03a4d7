#include "logging.h"

namespace wsqt {
Q_LOGGING_CATEGORY(lcSocket, "wsqt.socket", QtWarningMsg)
Q_LOGGING_CATEGORY(lcServer, "wsqt.server", QtWarningMsg)
Q_LOGGING_CATEGORY(lcHandshake, "wsqt.handshake", QtWarningMsg)
} // namespace wsqt
