#pragma once

// The lean descriptor transport (transport/lean/) behind a factory. It is
// built where the platform has epoll (WSQT_LEAN_TRANSPORT, on by default on
// Linux); in a build without it every connection stays on Qt's sockets and
// these calls say so.

#include <QtCore/qglobal.h>

class QTcpSocket;

namespace wsqt::transport {

class Transport;

// Whether a connection whose options ask for the lean transport gets it:
// never in a build without it, nor when WSQT_NO_LEAN_TRANSPORT was set to a
// non-empty value at start-up (the test suite runs over both transports).
bool leanTransportEnabled(bool wanted);

// A transport over a connected, non-blocking descriptor, which it takes
// over. Only where leanTransportEnabled() said yes.
Transport *createLeanTransport(qintptr descriptor);

// Closes an accepted descriptor that no transport took.
void closeDescriptor(qintptr descriptor);

// The connection of `socket` on a lean transport of its own (a duplicate of
// its descriptor), or null when that fails.
Transport *adoptIntoLeanTransport(QTcpSocket *socket);

} // namespace wsqt::transport
