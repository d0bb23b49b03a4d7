#include "upgradereader.h"

#include "core/handshake.h"
#include "logging.h"
#include "transport.h"

#include <QtCore/qtimer.h>

namespace wsqt::transport {

namespace {

constexpr int kLingerAfterRefusalMs = 2000;

} // namespace

void respondAndClose(Transport *transport, const QByteArray &response)
{
    QObject::connect(transport, &Transport::disconnected, transport, &QObject::deleteLater);
    QIODevice *device = transport->device();
    // What a refused client still sends is dropped, never buffered.
    const auto discardInput = [device] { device->skip(device->bytesAvailable()); };
    QObject::connect(device, &QIODevice::readyRead, transport, discardInput);
    discardInput();
    device->write(response);
    transport->end();
    // A client that never closes its side is not waited for long.
    QTimer::singleShot(kLingerAfterRefusalMs, transport, &Transport::destroy);
}

UpgradeReader::UpgradeReader(Transport *transport, int timeoutMs, QObject *parent)
    : QObject(parent), m_transport(transport), m_parser(core::HttpHeadParser::Kind::Request)
{
    transport->setParent(this);
    transport->setListener(this);
    if (timeoutMs > 0) {
        m_timeout.setCallback([this] {
            qCDebug(lcServer) << "opening handshake timed out";
            reject(408);
        });
        m_timeout.start(timeoutMs);
    }
    // Bytes may have arrived before this object existed.
    if (transport->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &UpgradeReader::onReadyRead, Qt::QueuedConnection);
}

UpgradeReader::~UpgradeReader()
{
    // A transport not taken goes with this reader, as its child.
    if (m_transport)
        m_transport->setListener(nullptr);
}

void UpgradeReader::transportEnded()
{
    if (m_done)
        return;
    m_done = true;
    Q_EMIT finished();
}

Transport *UpgradeReader::takeTransport()
{
    m_timeout.stop();
    m_done = true;
    Transport *transport = std::exchange(m_transport, nullptr);
    transport->setListener(nullptr);
    transport->setParent(nullptr);
    return transport;
}

void UpgradeReader::reject(int status)
{
    if (m_done)
        return;
    Transport *transport = takeTransport();
    // As Node answers a request it cannot read: the status alone.
    respondAndClose(transport, "HTTP/1.1 " + QByteArray::number(status) + ' ' + core::httpReasonPhrase(status)
                            + "\r\nConnection: close\r\n\r\n");
    Q_EMIT refused();
    Q_EMIT finished();
}

void UpgradeReader::onReadyRead()
{
    if (m_done || m_requestRead)
        return;
    const QByteArray data = m_transport->readAll();
    const qsizetype used = m_parser.feed(data.constData(), data.size());
    switch (m_parser.status()) {
    case core::HttpHeadParser::Status::NeedMore:
        return;
    case core::HttpHeadParser::Status::Failed:
        qCDebug(lcServer) << "bad request head:" << m_parser.errorStatus() << m_parser.errorMessage();
        reject(m_parser.errorStatus());
        return;
    case core::HttpHeadParser::Status::Complete:
        break;
    }
    m_requestRead = true;
    // What followed the head belongs to the connection.
    Q_EMIT requestRead(m_parser.request(), data.mid(used));
}

} // namespace wsqt::transport
