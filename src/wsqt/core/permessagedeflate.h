#pragma once

// permessage-deflate (RFC 7692): the negotiation as ws does it, and the
// per-connection zlib streams. Streams are created on first use and, where
// the context is not taken over, released after each message, so an idle
// connection holds no zlib memory. Inflation counts its output as it goes
// and stops at the payload limit: a decompression bomb costs at most the
// limit plus one chunk.

#include "extension.h"
#include "receiver.h"
#include "sender.h"

#include <wsqt/wsdeflateoptions.h>
#include <wsqt/wserror.h>
#include <wsqt/wsqtversion.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>

#include <memory>

namespace wsqt::core {

inline constexpr char kPerMessageDeflate[] = "permessage-deflate";

// The parameters both ends agreed on.
struct DeflateParams
{
    bool serverNoContextTakeover = false;
    bool clientNoContextTakeover = false;
    int serverMaxWindowBits = 0;    // 0: not negotiated (15)
    int clientMaxWindowBits = 0;    // 0: not negotiated (15)
};

class PerMessageDeflate : public MessageInflater, public MessageDeflater
{
public:
    // Null in a build without zlib (WSQT_WITH_ZLIB=OFF): no permessage-deflate then.
    static std::shared_ptr<PerMessageDeflate> create(const WsDeflateOptions &options, Role role);
    static bool isAvailable();

    PerMessageDeflate(const WsDeflateOptions &options, Role role);
    ~PerMessageDeflate() override;

    // Client: the offer for Sec-WebSocket-Extensions.
    QByteArray offer() const;
    // Server: picks the first acceptable offer among those named
    // permessage-deflate and returns the response value. Fails (the caller
    // answers 400) where an offer's parameters are invalid or none is acceptable.
    bool acceptOffers(const QList<ExtensionOffer> &offers, QByteArray *response, QString *error);
    // Client: checks the server's answer to the offer.
    bool acceptResponse(const ExtensionOffer &response, QString *error);

    const DeflateParams &params() const { return m_params; }
    int concurrencyLimit() const { return m_options.concurrencyLimit; }

    // MessageInflater
    WsError inflate(const char *data, qsizetype length, bool fin, QByteArray *out, quint64 limit) override;
    // MessageDeflater
    bool shouldCompress(qsizetype firstFragmentSize) const override;
    WsError deflate(const char *data, qsizetype length, bool fin, QByteArray *out) override;
    // For a deflate() of `length` bytes in another thread: makes the stream
    // now, in the calling thread, and returns an output buffer with room for
    // all that deflate() writes, so that the other thread allocates nothing.
    // (glibc never gives back the top of a worker thread's arena.)
    QByteArray prepareDeflate(qsizetype length);

    // Whether zlib streams are currently allocated (for tests and statistics).
    bool hasInflateStream() const;
    bool hasDeflateStream() const;

private:
    struct Stream;
    bool normalize(const ExtensionOffer &offer, bool asServer, DeflateParams *params, QString *error) const;
    bool ownNoContextTakeover() const;
    bool peerNoContextTakeover() const;
    int ownWindowBits() const;
    int peerWindowBits() const;

    WsDeflateOptions m_options;
    Role m_role;
    DeflateParams m_params;
    std::unique_ptr<Stream> m_inflate;
#if WSQT_HAS_DEFLATE
    bool m_inflateEnded = false;    // the peer's stream ended within the current message
    bool m_messageFed = false;      // the current message had compressed bytes
    bool m_atBlockBoundary = false; // and they ended between two blocks
    bool m_blockBoundary = false;   // the inflater last stopped between two blocks
#endif
    std::unique_ptr<Stream> m_deflate;
};

} // namespace wsqt::core
