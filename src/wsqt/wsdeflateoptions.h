#pragma once

/// \file
/// WsDeflateOptions: the permessage-deflate parameters.

#include <wsqt/wsqt_global.h>

/// permessage-deflate (RFC 7692), ws's perMessageDeflate object. A client
/// puts these parameters in its offer; a server uses them to choose among a
/// client's offers and to answer.
struct WSQT_EXPORT WsDeflateOptions
{
    /// Window bits values: 8..15, or one of these.
    enum WindowBits {
        /// Not set: an offered value is used, or (client_max_window_bits) the
        /// client offers the parameter without a value.
        DefaultWindowBits = 0,
        /// ws's `false`: the parameter is not offered, nor accepted.
        NoWindowBits = -1,
    };

    /// Client: ask the server to start every message with a fresh compression
    /// context. Server: do so, and say so in the answer.
    bool serverNoContextTakeover = false;
    /// Client: offer to start every message fresh. Server: require it of the client.
    bool clientNoContextTakeover = false;
    /// 8 to 15, or a WindowBits value: the server's window. Client: ask for at
    /// most this. Server: use this, and refuse offers that ask for less.
    int serverMaxWindowBits = DefaultWindowBits;
    /// 8 to 15, or a WindowBits value: the client's window. Client: offer it.
    /// Server: answer with it, and refuse offers that name a smaller value.
    int clientMaxWindowBits = DefaultWindowBits;
    /// Messages smaller than this are sent uncompressed when the sender's own
    /// context takeover is off (as ws); with a fragmented message the first
    /// fragment decides.
    int threshold = 1024;
    /// Compression work at most this many messages at a time on worker threads.
    int concurrencyLimit = 10;

    /// zlib's settings for one direction.
    struct Zlib
    {
        int level = -1;         ///< Z_DEFAULT_COMPRESSION; 0 (none) to 9 (best)
        int memLevel = 8;       ///< 1 to 9: memory for the compressor's state
        int strategy = 0;       ///< Z_DEFAULT_STRATEGY
        int windowBits = 15;    ///< used when not negotiated
        int chunkSize = 16384;  ///< the size of each output step
    };
    Zlib zlibDeflateOptions;    ///< for compressing
    Zlib zlibInflateOptions;    ///< for decompressing
};
