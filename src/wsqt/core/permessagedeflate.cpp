#include "permessagedeflate.h"

#include <wsqt/wsqtversion.h>

#if WSQT_HAS_DEFLATE
#include <zlib.h>
#endif

#include <cstring>

namespace wsqt::core {

namespace {

#if WSQT_HAS_DEFLATE
// The last four bytes of a sync flush, taken off each message and put back
// before inflating (RFC 7692 §7.2.1, §7.2.2).
constexpr uchar kTail[4] = {0x00, 0x00, 0xff, 0xff};
#endif

QString invalidValue(const QByteArray &name, const std::optional<QByteArray> &value)
{
    return QStringLiteral("Invalid value for parameter \"%1\": %2")
            .arg(QString::fromLatin1(name), value ? QString::fromLatin1(*value) : QStringLiteral("true"));
}

// ws converts with JavaScript's Number(): "08" and "8.0" are 8.
bool parseWindowBits(const QByteArray &text, int *bits)
{
    bool ok = false;
    const double value = text.toDouble(&ok);
    if (!ok || value < 8 || value > 15 || value != int(value))
        return false;
    *bits = int(value);
    return true;
}

} // namespace

#if WSQT_HAS_DEFLATE
struct PerMessageDeflate::Stream
{
    z_stream z = {};
    bool deflating;

    explicit Stream(bool deflating) : deflating(deflating) { }
    ~Stream() { deflating ? deflateEnd(&z) : inflateEnd(&z); }

    // Null when zlib refuses the options (or has no memory).
    static std::unique_ptr<Stream> create(bool deflating, const WsDeflateOptions::Zlib &zlib, int windowBits)
    {
        auto stream = std::make_unique<Stream>(deflating);
        // zlib refuses a raw window of 8 bits to deflate; 9 is its nearest.
        const int bits = deflating && windowBits == 8 ? 9 : windowBits;
        const int result = deflating
                ? deflateInit2(&stream->z, zlib.level, Z_DEFLATED, -bits, zlib.memLevel, zlib.strategy)
                : inflateInit2(&stream->z, -bits);
        // After a failed init the stream holds no state: ending it is a no-op.
        return result == Z_OK ? std::move(stream) : nullptr;
    }
};
#else
struct PerMessageDeflate::Stream
{
};
#endif

std::shared_ptr<PerMessageDeflate> PerMessageDeflate::create(const WsDeflateOptions &options, Role role)
{
    return isAvailable() ? std::make_shared<PerMessageDeflate>(options, role) : nullptr;
}

bool PerMessageDeflate::isAvailable()
{
    return WSQT_HAS_DEFLATE;
}

PerMessageDeflate::PerMessageDeflate(const WsDeflateOptions &options, Role role)
    : m_options(options), m_role(role)
{
}

PerMessageDeflate::~PerMessageDeflate() = default;

QByteArray PerMessageDeflate::offer() const
{
    ExtensionOffer offer;
    offer.name = kPerMessageDeflate;
    if (m_options.serverNoContextTakeover)
        offer.params.append({"server_no_context_takeover", std::nullopt});
    if (m_options.clientNoContextTakeover)
        offer.params.append({"client_no_context_takeover", std::nullopt});
    if (m_options.serverMaxWindowBits > 0)
        offer.params.append({"server_max_window_bits", QByteArray::number(m_options.serverMaxWindowBits)});
    if (m_options.clientMaxWindowBits > 0)
        offer.params.append({"client_max_window_bits", QByteArray::number(m_options.clientMaxWindowBits)});
    else if (m_options.clientMaxWindowBits == WsDeflateOptions::DefaultWindowBits)
        offer.params.append({"client_max_window_bits", std::nullopt});
    return formatExtensions({offer});
}

// ws's normalizeParams: every parameter known, with a single valid value.
bool PerMessageDeflate::normalize(const ExtensionOffer &offer, bool asServer, DeflateParams *params,
                                  QString *error) const
{
    *params = {};
    for (qsizetype i = 0; i < offer.params.size(); ++i) {
        const ExtensionParam &param = offer.params[i];
        for (qsizetype j = 0; j < i; ++j) {
            if (offer.params[j].name == param.name) {
                *error = QStringLiteral("Parameter \"%1\" must have only a single value")
                                 .arg(QString::fromLatin1(param.name));
                return false;
            }
        }
        if (param.name == "client_max_window_bits") {
            if (!param.value) {
                // Without a value it only says the client could take one.
                if (!asServer) {
                    *error = invalidValue(param.name, param.value);
                    return false;
                }
                params->clientMaxWindowBits = -1;
            } else if (!parseWindowBits(*param.value, &params->clientMaxWindowBits)) {
                *error = invalidValue(param.name, param.value);
                return false;
            }
        } else if (param.name == "server_max_window_bits") {
            if (!param.value || !parseWindowBits(*param.value, &params->serverMaxWindowBits)) {
                *error = invalidValue(param.name, param.value);
                return false;
            }
        } else if (param.name == "client_no_context_takeover" || param.name == "server_no_context_takeover") {
            if (param.value) {
                *error = invalidValue(param.name, param.value);
                return false;
            }
            (param.name.startsWith("client") ? params->clientNoContextTakeover
                                             : params->serverNoContextTakeover) = true;
        } else {
            *error = QStringLiteral("Unknown parameter \"%1\"").arg(QString::fromLatin1(param.name));
            return false;
        }
    }
    return true;
}

bool PerMessageDeflate::acceptOffers(const QList<ExtensionOffer> &offers, QByteArray *response, QString *error)
{
    QList<DeflateParams> candidates;
    QList<const ExtensionOffer *> sources;
    for (const ExtensionOffer &offer : offers) {
        if (offer.name != kPerMessageDeflate)
            continue;
        DeflateParams params;
        // As ws: one invalid offer refuses the whole header.
        if (!normalize(offer, true, &params, error))
            return false;
        candidates.append(params);
        sources.append(&offer);
    }
    for (qsizetype i = 0; i < candidates.size(); ++i) {
        DeflateParams params = candidates[i];
        const int ownBits = m_options.serverMaxWindowBits;
        const int clientBits = m_options.clientMaxWindowBits;
        if (params.serverMaxWindowBits
            && (ownBits == WsDeflateOptions::NoWindowBits || (ownBits > 0 && ownBits > params.serverMaxWindowBits)))
            continue;
        if (clientBits > 0
            && (params.clientMaxWindowBits == 0
                || (params.clientMaxWindowBits > 0 && clientBits > params.clientMaxWindowBits)))
            continue;

        ExtensionOffer accepted = *sources[i];
        const auto setParam = [&accepted](const QByteArray &name, const std::optional<QByteArray> &value) {
            for (ExtensionParam &param : accepted.params) {
                if (param.name == name) {
                    param.value = value;
                    return;
                }
            }
            accepted.params.append({name, value});
        };
        // Window bits go back as the numbers they were read as ("08" is 8).
        for (ExtensionParam &param : accepted.params) {
            if (param.value && param.name == "server_max_window_bits")
                param.value = QByteArray::number(params.serverMaxWindowBits);
            else if (param.value && param.name == "client_max_window_bits")
                param.value = QByteArray::number(params.clientMaxWindowBits);
        }
        if (m_options.serverNoContextTakeover) {
            setParam("server_no_context_takeover", std::nullopt);
            params.serverNoContextTakeover = true;
        }
        if (m_options.clientNoContextTakeover) {
            setParam("client_no_context_takeover", std::nullopt);
            params.clientNoContextTakeover = true;
        }
        if (ownBits > 0) {
            setParam("server_max_window_bits", QByteArray::number(ownBits));
            params.serverMaxWindowBits = ownBits;
        }
        if (clientBits > 0) {
            setParam("client_max_window_bits", QByteArray::number(clientBits));
            params.clientMaxWindowBits = clientBits;
        } else if (params.clientMaxWindowBits == -1 || clientBits == WsDeflateOptions::NoWindowBits) {
            accepted.params.removeIf([](const ExtensionParam &param) {
                return param.name == "client_max_window_bits";
            });
            params.clientMaxWindowBits = 0;
        }
        m_params = params;
        *response = formatExtensions({accepted});
        return true;
    }
    *error = QStringLiteral("None of the extension offers can be accepted");
    return false;
}

bool PerMessageDeflate::acceptResponse(const ExtensionOffer &response, QString *error)
{
    DeflateParams params;
    if (!normalize(response, false, &params, error))
        return false;
    const int clientBits = m_options.clientMaxWindowBits;
    if (params.clientMaxWindowBits == 0) {
        if (clientBits > 0)
            params.clientMaxWindowBits = clientBits;
    } else if (clientBits == WsDeflateOptions::NoWindowBits
               || (clientBits > 0 && params.clientMaxWindowBits > clientBits)) {
        *error = QStringLiteral("Unexpected or invalid parameter \"client_max_window_bits\"");
        return false;
    }
    m_params = params;
    return true;
}

bool PerMessageDeflate::ownNoContextTakeover() const
{
    return m_role == Role::Server ? m_params.serverNoContextTakeover : m_params.clientNoContextTakeover;
}

bool PerMessageDeflate::peerNoContextTakeover() const
{
    return m_role == Role::Server ? m_params.clientNoContextTakeover : m_params.serverNoContextTakeover;
}

int PerMessageDeflate::ownWindowBits() const
{
    const int negotiated = m_role == Role::Server ? m_params.serverMaxWindowBits : m_params.clientMaxWindowBits;
    return negotiated ? negotiated : m_options.zlibDeflateOptions.windowBits;
}

int PerMessageDeflate::peerWindowBits() const
{
    const int negotiated = m_role == Role::Server ? m_params.clientMaxWindowBits : m_params.serverMaxWindowBits;
    return negotiated ? negotiated : m_options.zlibInflateOptions.windowBits;
}

bool PerMessageDeflate::hasInflateStream() const
{
    return bool(m_inflate);
}

bool PerMessageDeflate::hasDeflateStream() const
{
    return bool(m_deflate);
}

bool PerMessageDeflate::shouldCompress(qsizetype firstFragmentSize) const
{
    // As ws: the threshold only matters when each message starts a fresh context.
    return !ownNoContextTakeover() || firstFragmentSize >= m_options.threshold;
}

#if WSQT_HAS_DEFLATE
QByteArray PerMessageDeflate::prepareDeflate(qsizetype length)
{
    if (!m_deflate)
        m_deflate = Stream::create(true, m_options.zlibDeflateOptions, ownWindowBits());
    QByteArray out;
    if (m_deflate) {
        // deflate() grows its output a chunk at a time, up to the bound.
        const qsizetype chunk = qMax(m_options.zlibDeflateOptions.chunkSize, 64);
        out.reserve(qsizetype(deflateBound(&m_deflate->z, uLong(length))) + chunk);
    }
    return out;
}

WsError PerMessageDeflate::deflate(const char *data, qsizetype length, bool fin, QByteArray *out)
{
    if (!m_deflate)
        m_deflate = Stream::create(true, m_options.zlibDeflateOptions, ownWindowBits());
    if (!m_deflate)
        return WsError(WsError::InvalidArgument, QStringLiteral("zlib refused the deflate options"));
    z_stream &z = m_deflate->z;
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data));
    z.avail_in = uInt(length);
    const qsizetype chunk = qMax(m_options.zlibDeflateOptions.chunkSize, 64);
    // Z_SYNC_FLUSH ends each fragment on a byte boundary with 00 00 ff ff.
    do {
        const qsizetype old = out->size();
        out->resize(old + chunk);
        z.next_out = reinterpret_cast<Bytef *>(out->data() + old);
        z.avail_out = uInt(chunk);
        const int result = ::deflate(&z, Z_SYNC_FLUSH);
        out->resize(out->size() - qsizetype(z.avail_out));
        if (result != Z_OK && result != Z_BUF_ERROR)
            return WsError(WsError::InvalidCompressedData, QString::fromLatin1(z.msg ? z.msg : "deflate failed"));
    } while (z.avail_out == 0);

    if (fin) {
        if (out->endsWith(QByteArrayView(reinterpret_cast<const char *>(kTail), 4)))
            out->chop(4);
        // zlib has nothing to flush for an empty message after a flushed one;
        // an empty stored block's header keeps the peer's stream aligned.
        if (out->isEmpty())
            out->append('\0');
        if (ownNoContextTakeover())
            m_deflate.reset();
    }
    return {};
}

WsError PerMessageDeflate::inflate(const char *data, qsizetype length, bool fin, QByteArray *out, quint64 limit)
{
    if (!m_inflate)
        // Never smaller than the option's (15 by default): a window larger
        // than the peer's always decodes its data, and zlib's verdict on a
        // distance beyond a smaller window would depend on how the input came.
        m_inflate = Stream::create(false, m_options.zlibInflateOptions,
                                   qMax(peerWindowBits(), m_options.zlibInflateOptions.windowBits));
    if (!m_inflate)
        return WsError(WsError::InvalidArgument, QStringLiteral("zlib refused the inflate options"), 1011);
    const qsizetype chunk = qMax(m_options.zlibInflateOptions.chunkSize, 64);

    const auto run = [&](const uchar *input, qsizetype size) -> WsError {
        z_stream &z = m_inflate->z;
        z.next_in = const_cast<Bytef *>(input);
        z.avail_in = uInt(size);
        for (;;) {
            const qsizetype old = out->size();
            out->resize(old + chunk);
            z.next_out = reinterpret_cast<Bytef *>(out->data() + old);
            z.avail_out = uInt(chunk);
            const int result = ::inflate(&z, Z_SYNC_FLUSH);
            // A call that could do nothing (Z_BUF_ERROR) says nothing of where the stream is.
            if (result != Z_BUF_ERROR)
                m_blockBoundary = z.data_type & 128;
            out->resize(out->size() - qsizetype(z.avail_out));
            if (quint64(out->size()) > limit) {
                m_inflate.reset();
                return WsError(WsError::UnsupportedMessageLength, QStringLiteral("Max payload size exceeded"),
                               1009);
            }
            if (result == Z_STREAM_END) {
                // The peer ended its deflate stream: as ws, the rest of this
                // message is ignored and the next one starts a new stream.
                m_inflate.reset();
                m_inflateEnded = true;
                return {};
            }
            if (result == Z_BUF_ERROR)
                break;  // nothing more to do with this input
            if (result != Z_OK) {
                const QString message = QString::fromLatin1(z.msg ? z.msg : "invalid compressed data");
                m_inflate.reset();
                return WsError(WsError::InvalidCompressedData, message, 1007);
            }
            // Room left in the output: all input that could be used was used.
            if (z.avail_out != 0)
                break;
        }
        return {};
    };

    if (length > 0 && !m_inflateEnded) {
        if (const WsError error = run(reinterpret_cast<const uchar *>(data), length); error.isError())
            return error;
        m_messageFed = true;
        // zlib waits for a block header: the data ended on a block boundary
        // (a peer that kept the tail on, or a final fragment's own flush).
        m_atBlockBoundary = m_inflate && m_blockBoundary;
    }
    if (fin) {
        // An empty message needs no tail: some peers send nothing at all for it.
        if (m_messageFed && !m_inflateEnded && !m_atBlockBoundary) {
            if (const WsError error = run(kTail, 4); error.isError())
                return error;
            // Still inside a block after the tail (and the stream did not end
            // there): the data was cut short and the message would lose its end.
            if (!m_inflateEnded && !m_blockBoundary) {
                m_inflate.reset();
                return WsError(WsError::InvalidCompressedData,
                               QStringLiteral("The compressed message ends inside a deflate block"), 1007);
            }
        }
        m_messageFed = false;
        m_atBlockBoundary = false;
        m_inflateEnded = false;
        if (peerNoContextTakeover())
            m_inflate.reset();
    }
    return {};
}

#else

WsError PerMessageDeflate::deflate(const char *, qsizetype, bool, QByteArray *)
{
    return WsError(WsError::InvalidArgument, QStringLiteral("built without zlib"));
}

WsError PerMessageDeflate::inflate(const char *, qsizetype, bool, QByteArray *, quint64)
{
    return WsError(WsError::InvalidCompressedData, QStringLiteral("built without zlib"), 1011);
}

QByteArray PerMessageDeflate::prepareDeflate(qsizetype)
{
    return {};
}

#endif

} // namespace wsqt::core
