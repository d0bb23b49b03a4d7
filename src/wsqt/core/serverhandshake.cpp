#include "serverhandshake.h"

#include <algorithm>

namespace wsqt::core {

namespace {

// As ws, the extensions header is read only when permessage-deflate is on.
std::optional<WsDeflateOptions> usable(const std::optional<WsDeflateOptions> &options)
{
    return options && PerMessageDeflate::isAvailable() ? options : std::nullopt;
}

} // namespace

ServerHandshake::ServerHandshake(const WsHttpRequest &request, const std::optional<WsDeflateOptions> &deflate)
    : m_deflateOptions(usable(deflate))
{
    m_rejection = validateUpgradeRequest(request, &m_upgrade, m_deflateOptions.has_value());
}

HandshakeRejection ServerHandshake::negotiate()
{
    if (m_rejection.isRejected() || !m_deflateOptions)
        return m_rejection;
    const bool offered = std::any_of(m_upgrade.extensions.cbegin(), m_upgrade.extensions.cend(),
                                     [](const ExtensionOffer &offer) { return offer.name == kPerMessageDeflate; });
    if (!offered)
        return m_rejection;
    m_deflate = PerMessageDeflate::create(*m_deflateOptions, Role::Server);
    QString reason;
    if (!m_deflate->acceptOffers(m_upgrade.extensions, &m_extensions, &reason)) {
        m_deflate.reset();
        m_extensions.clear();
        m_rejection = HandshakeRejection::unacceptableExtensions();
        m_offerRefusal = reason;
    }
    return m_rejection;
}

QList<QByteArray> ServerHandshake::acceptLines(const QByteArray &protocol) const
{
    return buildAcceptHeaderLines(m_upgrade.key, protocol, m_extensions);
}

} // namespace wsqt::core
