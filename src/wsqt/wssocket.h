#pragma once

/// \file
/// WsSocket: one WebSocket connection.

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

/// A WebSocket connection: ws's WebSocket class. A client opens one with
/// open(); a server gets them from WsServer. Everything happens on the event
/// loop of the thread the object lives in.
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
    /// The state of the connection, with ws's values.
    enum ReadyState { Connecting = 0, Open = 1, Closing = 2, Closed = 3 };
    Q_ENUM(ReadyState)
    /// \var WsSocket::ReadyState WsSocket::Connecting
    /// open() was called and the opening handshake is under way.

    /// \var WsSocket::ReadyState WsSocket::Open
    /// The connection is open: messages go both ways.

    /// \var WsSocket::ReadyState WsSocket::Closing
    /// The closing handshake started, or the connection is failing.

    /// \var WsSocket::ReadyState WsSocket::Closed
    /// No connection: before open(), and once closed() was emitted.

    /// How binary messages are delivered: NodeBuffer as one QByteArray
    /// (messageReceived; ws's "nodebuffer" and "arraybuffer" alike); Fragments
    /// as the list of the frames' payloads, without concatenation
    /// (fragmentsReceived). Text messages always arrive whole through
    /// messageReceived, as in ws.
    enum BinaryType { NodeBuffer, Fragments };
    Q_ENUM(BinaryType)
    /// \var WsSocket::BinaryType WsSocket::NodeBuffer
    /// A binary message arrives as one QByteArray through messageReceived().

    /// \var WsSocket::BinaryType WsSocket::Fragments
    /// A binary message arrives as its frames' payloads through fragmentsReceived().

    /// Whether a control frame is masked; by default a client masks and a server does not.
    enum Masking { Masked, Unmasked };
    Q_ENUM(Masking)
    /// \var WsSocket::Masking WsSocket::Masked
    /// Masked, as a client's frames are.

    /// \var WsSocket::Masking WsSocket::Unmasked
    /// Unmasked, as a server's frames are.

    /// What trySend() did with the data.
    enum SendStatus {
        Sent,           ///< queued; bufferedAmount is below the high-water mark
        Backpressure,   ///< queued, but bufferedAmount reached the high-water mark and has not
                        ///< drained to the low one yet: wait for drained() before sending more
        Dropped,        ///< refused: not open, an invalid argument, or maxBufferedAmount
    };
    Q_ENUM(SendStatus)

    /// Called once: with NoError when the data was written to the socket,
    /// otherwise with the reason it was not.
    using Callback = std::function<void(const WsError &error)>;

    /// A socket in the Closed state; open() connects it.
    explicit WsSocket(QObject *parent = nullptr);
    /// Drops a connection still open, without a closing handshake and
    /// without signals.
    ~WsSocket() override;

    /// Connects to a ws://, wss://, http://, https:// or ws+unix:// URL.
    /// Returns an error, and does nothing, where ws's constructor throws: an
    /// invalid URL, subprotocol or protocol version, or a socket not Closed.
    WsError open(const QUrl &url, const QStringList &protocols = {},
                 const WsClientOptions &options = {});

    /// The state of the connection; readyStateChanged() on every change.
    ReadyState readyState() const;
    /// The URL opened (after redirects, the last one); empty on the server side.
    QUrl url() const;
    /// The subprotocol the server chose, or empty.
    QString protocol() const;
    /// The negotiated extensions as their Sec-WebSocket-Extensions value.
    QString extensions() const;
    /// How binary messages are delivered; NodeBuffer by default.
    BinaryType binaryType() const;
    /// Changes how binary messages are delivered; a message already arriving
    /// keeps the way it started.
    void setBinaryType(BinaryType type);
    /// Bytes queued by send() and not yet handed to the network, framing included.
    qint64 bufferedAmount() const;
    /// Whether pause() is in effect.
    bool isPaused() const;
    /// Whether this is a server's connection, from WsServer.
    bool isServerSide() const;
    /// bufferedAmount reached the high-water mark and has not yet drained to the low one.
    bool isBackpressured() const;
    /// Traffic counters of the current connection, or of the last one once closed.
    WsStatistics statistics() const;

    /// The peer's address while a connection exists; null otherwise, and for
    /// a UNIX domain socket.
    QHostAddress peerAddress() const;
    /// The peer's port while a connection exists; 0 otherwise.
    quint16 peerPort() const;
    /// The local address while a connection exists; null otherwise, and for
    /// a UNIX domain socket.
    QHostAddress localAddress() const;
    /// The local port while a connection exists; 0 otherwise.
    quint16 localPort() const;

    /// Sends a message, or a fragment of one with fin = false. Refused with an
    /// error while Connecting, and after closing started (the callback gets
    /// "WebSocket is not open: readyState 2 (CLOSING)").
    WsError send(const QByteArray &data, const WsSendOptions &options = {}, Callback callback = {});
    /// send(), telling whether the caller should wait for drained() before sending more.
    SendStatus trySend(const QByteArray &data, const WsSendOptions &options = {}, Callback callback = {});
    /// Sends a text message (UTF-8).
    WsError sendText(const QString &text, Callback callback = {});
    /// Sends a binary message.
    WsError sendBinary(const QByteArray &data, Callback callback = {});
    /// Sends a ping. Control frames carry at most 125 bytes of payload, masked
    /// as a client's and unmasked as a server's unless `masking` says otherwise.
    WsError ping(const QByteArray &data = {}, Callback callback = {});
    /// \overload
    /// With the masking given.
    WsError ping(const QByteArray &data, Masking masking, Callback callback = {});
    /// Sends an unsolicited pong, with ping()'s limits.
    WsError pong(const QByteArray &data = {}, Callback callback = {});
    /// \overload
    /// With the masking given.
    WsError pong(const QByteArray &data, Masking masking, Callback callback = {});

    /// `callback` tied to `context`, as a Qt connection's functor is to its
    /// context object: it runs in the context's thread, and not at all once
    /// the context is destroyed. A null context leaves it untied.
    static Callback bindCallback(const QObject *context, Callback callback);

    /// \overload
    /// The callback runs in `context`'s thread, and not at all once `context` is destroyed.
    template<typename Functor>
    WsError send(const QByteArray &data, const WsSendOptions &options, const QObject *context, Functor &&callback)
    {
        return send(data, options, bindCallback(context, std::forward<Functor>(callback)));
    }
    /// \overload
    /// The callback runs in `context`'s thread, and not at all once `context` is destroyed.
    template<typename Functor>
    SendStatus trySend(const QByteArray &data, const WsSendOptions &options, const QObject *context,
                       Functor &&callback)
    {
        return trySend(data, options, bindCallback(context, std::forward<Functor>(callback)));
    }
    /// \overload
    /// The callback runs in `context`'s thread, and not at all once `context` is destroyed.
    template<typename Functor>
    WsError sendText(const QString &text, const QObject *context, Functor &&callback)
    {
        return sendText(text, bindCallback(context, std::forward<Functor>(callback)));
    }
    /// \overload
    /// The callback runs in `context`'s thread, and not at all once `context` is destroyed.
    template<typename Functor>
    WsError sendBinary(const QByteArray &data, const QObject *context, Functor &&callback)
    {
        return sendBinary(data, bindCallback(context, std::forward<Functor>(callback)));
    }
    /// \overload
    /// The callback runs in `context`'s thread, and not at all once `context` is destroyed.
    template<typename Functor>
    WsError ping(const QByteArray &data, const QObject *context, Functor &&callback)
    {
        return ping(data, bindCallback(context, std::forward<Functor>(callback)));
    }
    /// \overload
    /// The callback runs in `context`'s thread, and not at all once `context` is destroyed.
    template<typename Functor>
    WsError pong(const QByteArray &data, const QObject *context, Functor &&callback)
    {
        return pong(data, bindCallback(context, std::forward<Functor>(callback)));
    }

    /// Starts the closing handshake; `code` 0 sends a close frame without a
    /// code. Refuses a code ws refuses and a reason over 123 bytes.
    WsError close(int code = 0, const QByteArray &reason = {});
    /// \overload
    WsError close(int code, const QString &reason);
    /// \overload
    WsError close(int code, const char *reason) { return close(code, QByteArray(reason)); }
    /// \overload
    /// With a code by name. The names that only describe a close
    /// (NoStatusReceived, Abnormal, TlsHandshakeFailed) are refused as their
    /// numbers are.
    WsError close(WsQt::CloseCode code, const QByteArray &reason = {}) { return close(int(code), reason); }
    /// \overload
    WsError close(WsQt::CloseCode code, const QString &reason) { return close(int(code), reason); }
    /// \overload
    WsError close(WsQt::CloseCode code, const char *reason) { return close(int(code), QByteArray(reason)); }
    /// Destroys the connection at once, with no closing handshake.
    void terminate();
    /// From a receiver of sslErrors() (direct connection): go on despite
    /// these errors (all of them when the list is empty), as QSslSocket does.
    void ignoreSslErrors(const QList<QSslError> &errors = {});
    /// Stops reading from the socket: no message events until resume().
    void pause();
    /// Reads again after pause(); what waited is delivered on the next turn
    /// of the event loop.
    void resume();

Q_SIGNALS:
    /// The connection is open: readyState() is Open.
    void opened();
    /// A whole message: text (UTF-8, `isBinary` false), or binary unless
    /// binaryType() is Fragments.
    void messageReceived(const QByteArray &message, bool isBinary);
    /// With binaryType() Fragments: a binary message as the payloads of its
    /// frames, not concatenated. `isBinary` is always true.
    void fragmentsReceived(const QByteArrayList &fragments, bool isBinary);
    /// A ping; with autoPong (the default) it was already answered.
    void pingReceived(const QByteArray &payload);
    /// A pong.
    void pongReceived(const QByteArray &payload);
    /// The connection is closed: the code and reason of the peer's close
    /// frame, 1005 when it had no code, 1006 when none was received. Emitted
    /// once per connection, also after a failed open().
    void closed(int code, const QByteArray &reason);
    /// Something failed: the handshake, the connection, the peer's protocol,
    /// the heartbeat or a limit. closed() follows.
    void errorOccurred(const WsError &error);
    /// Client: the 101 response, before it is checked.
    void upgraded(const WsHttpResponse &response);
    /// Client: a response other than the upgrade. With the option
    /// handleUnexpectedResponse its body has been read and no error follows;
    /// without it errorOccurred() reports "Unexpected server response".
    void unexpectedResponse(const WsHttpResponse &response);
    /// Client: a redirect is being followed with this request (after the
    /// option handleRedirect, where set, has edited it).
    void redirected(const QUrl &url, const WsHttpRequest &request);
    /// Client: the TLS peer verification failed. Unless a receiver calls
    /// ignoreSslErrors(), the connection fails with a TlsError.
    void sslErrors(const QList<QSslError> &errors);
    /// bufferedAmount fell to the low-water mark after reaching the high one.
    void drained();
    /// Client, with the reconnect option: the connection was lost and attempt
    /// number `attempt` starts in `delayMs` ms.
    void reconnecting(int attempt, int delayMs);
    /// Client: maxAttempts reconnections failed; no more will be made.
    void reconnectFailed();
    /// readyState() changed.
    void readyStateChanged(WsSocket::ReadyState state);
    /// url() changed: open() was called, or a redirect is followed.
    void urlChanged(const QUrl &url);
    /// binaryType() changed.
    void binaryTypeChanged(WsSocket::BinaryType type);
    /// pause() or resume() changed isPaused().
    void pausedChanged(bool paused);

private:
    friend class WsServer;
    friend class WsServerPrivate;
    friend class WsSocketPrivate;
    std::unique_ptr<WsSocketPrivate> d;
};
