#pragma once

// Non-blocking TCP sockets for epoll loops.

#include <string>

namespace loadgen {

// Raises the open-file limit to the hard limit (thousands of connections);
// the limit now in force.
long raiseFileLimit();
// Starts a non-blocking connect (TCP_NODELAY set); -1 on an immediate failure.
// A source address, when given, is bound first; the port is still chosen at
// connect(), for the whole 4-tuple, so each source address has its own
// ephemeral ports towards the server.
int startConnect(const std::string &host, int port, const std::string &source = std::string());
// A non-blocking listening socket; the bound port goes to *boundPort.
int listenOn(const std::string &host, int port, int *boundPort);
// Accepts one pending connection, non-blocking with TCP_NODELAY; -1 when none.
int acceptConnection(int listenFd);
// The error a finished non-blocking connect left (SO_ERROR).
int connectError(int fd);

} // namespace loadgen
