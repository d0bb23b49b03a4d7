#pragma once

// The server's side of the opening handshake as staged calls, in ws's order,
// with the application's decisions between them (after the style of
// python-websockets' ServerProtocol): the request's own checks; then, once
// the application has taken the path, the subprotocol and extension checks
// and the negotiation of the extensions; then, once the application has
// accepted the client and chosen a subprotocol, the 101 response.

#include "handshake.h"
#include "permessagedeflate.h"

#include <wsqt/wsdeflateoptions.h>
#include <wsqt/wshttp.h>

#include <memory>
#include <optional>

namespace wsqt::core {

class ServerHandshake
{
public:
    // Stage 1: checks the request. `deflate`: the server's permessage-deflate
    // options, when it offers it (its offers are read only then, as in ws).
    ServerHandshake(const WsHttpRequest &request, const std::optional<WsDeflateOptions> &deflate);

    // A refusal ws gives before it looks at the path, or none.
    HandshakeRejection refusalBeforePath() const
    {
        return m_rejection.precedesPathCheck() ? m_rejection : HandshakeRejection();
    }
    // Stage 2, for a path the application takes: the remaining checks and
    // the negotiation of the extensions. A refusal, or none.
    HandshakeRejection negotiate();

    const UpgradeRequest &request() const { return m_upgrade; }
    // Stage 3: the lines of the 101 response, status line first, with the
    // subprotocol the application chose (empty for none).
    QList<QByteArray> acceptLines(const QByteArray &protocol) const;
    // What stage 2 agreed on.
    const std::shared_ptr<PerMessageDeflate> &deflate() const { return m_deflate; }
    const QByteArray &extensions() const { return m_extensions; }
    // Why permessage-deflate's offers were refused, for a log: the refusal
    // itself carries ws's message only.
    const QString &offerRefusal() const { return m_offerRefusal; }

private:
    UpgradeRequest m_upgrade;
    HandshakeRejection m_rejection;
    std::optional<WsDeflateOptions> m_deflateOptions;
    std::shared_ptr<PerMessageDeflate> m_deflate;
    QByteArray m_extensions;    // the Sec-WebSocket-Extensions value agreed on
    QString m_offerRefusal;
};

} // namespace wsqt::core
