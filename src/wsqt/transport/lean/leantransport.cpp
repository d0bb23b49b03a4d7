#include "transport/leantransport.h"

#include "fdtransport.h"

#include <unistd.h>

namespace wsqt::transport {

bool leanTransportEnabled(bool wanted)
{
    static const bool enabled = qEnvironmentVariableIsEmpty("WSQT_NO_LEAN_TRANSPORT");
    return wanted && enabled;
}

Transport *createLeanTransport(qintptr descriptor)
{
    return new FdTransport(descriptor);
}

void closeDescriptor(qintptr descriptor)
{
    ::close(int(descriptor));
}

Transport *adoptIntoLeanTransport(QTcpSocket *socket)
{
    return FdTransport::adopt(socket);
}

} // namespace wsqt::transport
