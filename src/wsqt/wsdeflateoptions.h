#pragma once

#include <wsqt/wsqt_global.h>

// permessage-deflate (RFC 7692), ws's perMessageDeflate object.
struct WSQT_EXPORT WsDeflateOptions
{
    // Window bits values: 8..15, or one of these.
    enum WindowBits {
        // Not set: an offered value is used, or (client_max_window_bits) the
        // client offers the parameter without a value.
        DefaultWindowBits = 0,
        // ws's `false`: the parameter is not offered, nor accepted.
        NoWindowBits = -1,
    };

    bool serverNoContextTakeover = false;
    bool clientNoContextTakeover = false;
    int serverMaxWindowBits = DefaultWindowBits;
    int clientMaxWindowBits = DefaultWindowBits;
    // Messages smaller than this are sent uncompressed when the sender's own
    // context takeover is off (as ws); with a fragmented message the first
    // fragment decides.
    int threshold = 1024;
    // Compression work at most this many messages at a time on worker threads.
    int concurrencyLimit = 10;

    struct Zlib
    {
        int level = -1;         // Z_DEFAULT_COMPRESSION
        int memLevel = 8;
        int strategy = 0;       // Z_DEFAULT_STRATEGY
        int windowBits = 15;    // used when not negotiated
        int chunkSize = 16384;
    };
    Zlib zlibDeflateOptions;
    Zlib zlibInflateOptions;
};
