#pragma once

// Non-blocking TCP sockets for epoll loops.

#include <string>

namespace loadgen {

// Raises the open-file limit to the hard limit (thousands of connections).
void raiseFileLimit();
// Starts a non-blocking connect (TCP_NODELAY set); -1 on an immediate failure.
int startConnect(const std::string &host, int port);
// A non-blocking listening socket; the bound port goes to *boundPort.
int listenOn(const std::string &host, int port, int *boundPort);
// Accepts one pending connection, non-blocking with TCP_NODELAY; -1 when none.
int acceptConnection(int listenFd);
// The error a finished non-blocking connect left (SO_ERROR).
int connectError(int fd);

} // namespace loadgen
