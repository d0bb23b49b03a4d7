#pragma once

#include <QtCore/qbytearray.h>
#include <QtCore/qstring.h>

class QHostAddress;

namespace cli {

// Lines are written and flushed at once, so that a program reading the
// other end of a pipe sees each one as soon as it happens.
void printLine(const QByteArray &line);
// Diagnostics go to standard error, keeping standard output for the data.
void printError(const QString &line);

// A received message as printed after "< ": text as it is; binary as
// "<binary N bytes> HEX", the hex dump cut after the first 64 bytes ("...").
QByteArray describeMessage(const QByteArray &message, bool isBinary);
// A ping or pong payload: as text where it is printable UTF-8, else as binary.
QByteArray describePayload(const QByteArray &payload);
// "(code: 1000, reason: "bye")"
QByteArray describeClose(int code, const QByteArray &reason);
// "127.0.0.1:8080" or "[::1]:8080"; IPv4-mapped IPv6 addresses shown as IPv4.
QString describeEndpoint(const QHostAddress &address, quint16 port);

} // namespace cli
