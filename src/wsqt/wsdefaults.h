#pragma once

/// \file
/// ws's default limits, defined once for the options and the protocol core.

#include <QtCore/qglobal.h>

/// ws's defaults for the limits every connection enforces.
namespace WsDefaults {

/// The largest message, in bytes, after decompression: ws's maxPayload, 100 MiB.
constexpr qint64 maxPayload = 100 * 1024 * 1024;
/// The most frames one message may span: ws 8.21's limit, which lets a 4 MiB
/// message in 64-byte fragments pass.
constexpr quint32 maxFragments = 131072;

} // namespace WsDefaults
