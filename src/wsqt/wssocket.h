#pragma once

#include <wsqt/wsclosecode.h>
#include <wsqt/wserror.h>
#include <wsqt/wshttp.h>
#include <wsqt/wsoptions.h>
#include <wsqt/wsstatistics.h>

#include <QtCore/qbytearraylist.h>
#include <QtCore/qobject.h>
#include <QtCore/qurl.h>
#include <QtNetwork/qhostaddress.h>
#include <QtNetwork/qsslerror.h>

#include <functional>
#include <memory>

class QIODevice;
class WsServer;
class WsSocketPrivate;

// A WebSocket connection: ws's WebSocket class. A client opens one with
// open(); a server gets them from WsServer. Everything happens on the event
// loop of the thread the object lives in.
class WSQT_EXPORT WsSocket : public QObject
{
    Q_OBJECT
    Q_PROPERTY(ReadyState readyState READ readyState NOTIFY readyStateChanged)
    Q_PROPERTY(QUrl url READ url NOTIFY urlChanged)
    Q_PROPERTY(QString protocol READ protocol NOTIFY opened)
    Q_PROPERTY(QString extensions READ extensions NOTIFY opened)
    Q_PROPERTY(BinaryType binaryType READ binaryType WRITE setBinaryType NOTIFY binaryTypeChanged)
    Q_PROPERTY(qint64 bufferedAmount READ bufferedAmount)
    Q_PROPERTY(bool paused READ isPaused NOTIFY pausedChanged)

public:
    enum ReadyState { Connecting = 0, Open = 1, Closing = 2, Closed = 3 };
    Q_ENUM(ReadyState)

    // How binary messages are delivered: NodeBuffer as one QByteArray
    // (messageReceived; ws's "nodebuffer" and "arraybuffer" alike); Fragments
    // as the list of the frames' payloads, without concatenation
    // (fragmentsReceived). Text messages always arrive whole through
    // messageReceived, as in ws.
    enum BinaryType { NodeBuffer, Fragments };
    Q_ENUM(BinaryType)

    // Whether a control frame is masked; by default a client masks and a server does not.
    enum Masking { Masked, Unmasked };
    Q_ENUM(Masking)

    // What trySend() did with the data.
    enum SendStatus {
        Sent,           // queued; bufferedAmount is below the high-water mark
        Backpressure,   // queued, but bufferedAmount reached the high-water mark and has not
                        // drained to the low one yet: wait for drained() before sending more
        Dropped,        // refused: not open, an invalid argument, or maxBufferedAmount
    };
    Q_ENUM(SendStatus)

    // Called once: with NoError when the data was written to the socket,
    // otherwise with the reason it was not.
    using Callback = std::function<void(const WsError &error)>;

    explicit WsSocket(QObject *parent = nullptr);
    ~WsSocket() override;

    // Connects to a ws://, wss://, http://, https:// or ws+unix:// URL.
    // Returns an error, and does nothing, where ws's constructor throws: an
    // invalid URL, subprotocol or protocol version, or a socket not Closed.
    WsError open(const QUrl &url, const QStringList &protocols = {},
                 const WsClientOptions &options = {});

    ReadyState readyState() const;
    // The URL opened (after redirects, the last one); empty on the server side.
    QUrl url() const;
    // The subprotocol the server chose, or empty.
    QString protocol() const;
    // The negotiated extensions as their Sec-WebSocket-Extensions value.
    QString extensions() const;
    BinaryType binaryType() const;
    void setBinaryType(BinaryType type);
    // Bytes queued by send() and not yet handed to the network, framing included.
    qint64 bufferedAmount() const;
    bool isPaused() const;
    bool isServerSide() const;
    // bufferedAmount reached the high-water mark and has not yet drained to the low one.
    bool isBackpressured() const;
    WsStatistics statistics() const;

    QHostAddress peerAddress() const;
    quint16 peerPort() const;
    QHostAddress localAddress() const;
    quint16 localPort() const;

    // Sends a message, or a fragment of one with fin = false. Refused with an
    // error while Connecting, and after closing started (the callback gets
    // "WebSocket is not open: readyState 2 (CLOSING)").
    WsError send(const QByteArray &data, const WsSendOptions &options = {}, Callback callback = {});
    // send(), telling whether the caller should wait for drained() before sending more.
    SendStatus trySend(const QByteArray &data, const WsSendOptions &options = {}, Callback callback = {});
    WsError sendText(const QString &text, Callback callback = {});
    WsError sendBinary(const QByteArray &data, Callback callback = {});
    // Control frames with at most 125 bytes of payload, masked as a client's
    // and unmasked as a server's unless `masking` says otherwise.
    WsError ping(const QByteArray &data = {}, Callback callback = {});
    WsError ping(const QByteArray &data, Masking masking, Callback callback = {});
    WsError pong(const QByteArray &data = {}, Callback callback = {});
    WsError pong(const QByteArray &data, Masking masking, Callback callback = {});

    // Starts the closing handshake; `code` 0 sends a close frame without a
    // code. Refuses a code ws refuses and a reason over 123 bytes.
    WsError close(int code = 0, const QByteArray &reason = {});
    WsError close(int code, const QString &reason);
    WsError close(int code, const char *reason) { return close(code, QByteArray(reason)); }
    WsError close(WsQt::CloseCode code, const QByteArray &reason = {}) { return close(int(code), reason); }
    WsError close(WsQt::CloseCode code, const QString &reason) { return close(int(code), reason); }
    WsError close(WsQt::CloseCode code, const char *reason) { return close(int(code), QByteArray(reason)); }
    // Destroys the connection at once, with no closing handshake.
    void terminate();
    // From a receiver of sslErrors() (direct connection): go on despite
    // these errors (all of them when the list is empty), as QSslSocket does.
    void ignoreSslErrors(const QList<QSslError> &errors = {});
    // Stops reading from the socket: no message events until resume().
    void pause();
    void resume();

Q_SIGNALS:
    void opened();
    void messageReceived(const QByteArray &message, bool isBinary);
    void fragmentsReceived(const QByteArrayList &fragments, bool isBinary);
    void pingReceived(const QByteArray &payload);
    void pongReceived(const QByteArray &payload);
    // The connection is closed: the code and reason of the peer's close
    // frame, 1005 when it had no code, 1006 when none was received.
    void closed(int code, const QByteArray &reason);
    void errorOccurred(const WsError &error);
    // Client: the 101 response, before it is checked.
    void upgraded(const WsHttpResponse &response);
    // Client: a response other than the upgrade. With the option
    // handleUnexpectedResponse its body has been read and no error follows;
    // without it errorOccurred() reports "Unexpected server response".
    void unexpectedResponse(const WsHttpResponse &response);
    // Client: a redirect is being followed with this request (after the
    // option handleRedirect, where set, has edited it).
    void redirected(const QUrl &url, const WsHttpRequest &request);
    // Client: the TLS peer verification failed. Unless a receiver calls
    // ignoreSslErrors(), the connection fails with a TlsError.
    void sslErrors(const QList<QSslError> &errors);
    // bufferedAmount fell to the low-water mark after reaching the high one.
    void drained();
    // Client, with the reconnect option: the connection was lost and attempt
    // number `attempt` starts in `delayMs` ms.
    void reconnecting(int attempt, int delayMs);
    // Client: maxAttempts reconnections failed; no more will be made.
    void reconnectFailed();
    void readyStateChanged(WsSocket::ReadyState state);
    void urlChanged(const QUrl &url);
    void binaryTypeChanged(WsSocket::BinaryType type);
    void pausedChanged(bool paused);

private:
    friend class WsServer;
    friend class WsServerPrivate;
    friend class WsSocketPrivate;
    std::unique_ptr<WsSocketPrivate> d;
};
