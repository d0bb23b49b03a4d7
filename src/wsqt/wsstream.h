#pragma once

/// \file
/// WsStream: a WebSocket as a QIODevice, and WsStreamOptions.

#include <wsqt/wsqt_global.h>

#include <QtCore/qiodevice.h>

#include <memory>

class WsSocket;
class WsStreamPrivate;

/// How a WsStream uses its WebSocket.
struct WSQT_EXPORT WsStreamOptions
{
    /// Each write() is sent as one message: binary by default, as ws's
    /// stream sends Buffers; false sends text messages, in which case every
    /// write must be complete UTF-8.
    bool binary = true;
    /// Once more than this many received bytes wait unread, the socket is
    /// paused; it resumes when the application has read them down to the
    /// limit, or has read all that arrived. 64 KiB, Node's default
    /// highWaterMark; 0 for no limit. One message is never split: a message
    /// larger than the limit is still received whole.
    qint64 readBufferLimit = 64 * 1024;
};

/// A byte stream over a WebSocket: ws's createWebSocketStream(). Reading
/// yields the bytes of the messages received, text and binary alike, in
/// order; each write() sends one message.
///
/// The device opens itself in ReadWrite mode at construction when the socket
/// is connecting or open (as a QTcpSocket is open while it connects);
/// data written while it connects is sent once it is open. When the
/// WebSocket closes, readChannelFinished() is emitted and the data not read
/// yet stays readable: atEnd() becomes true once it is read. close() closes
/// the WebSocket gracefully without a status code (the peer gets 1005, as
/// after ws's stream.end()); abort() terminates it. The stream does not own
/// the socket; destroying an open stream closes it like close().
///
/// WsStream is event-driven, like QNetworkReply: use readyRead() and
/// bytesWritten(). waitForReadyRead() and waitForBytesWritten() are not
/// implemented and return false at once.
class WSQT_EXPORT WsStream : public QIODevice
{
    Q_OBJECT

public:
    /// A stream over `socket`, open at once when the socket is connecting
    /// or open; not open, with an error string, when it is Closed.
    explicit WsStream(WsSocket *socket, const WsStreamOptions &options = {}, QObject *parent = nullptr);
    /// Closes the stream like close(); the socket is not deleted.
    ~WsStream() override;

    /// The WebSocket, which the stream does not own.
    WsSocket *socket() const;
    /// The options given.
    WsStreamOptions options() const;

    /// The stream opens itself: refused, with an error string.
    bool open(OpenMode mode) override;
    /// Closes the device and the WebSocket gracefully without a status code
    /// (the peer gets 1005, as after ws's stream.end()).
    void close() override;
    /// Closes the device and terminates the WebSocket without a closing
    /// handshake, discarding what was not sent yet (ws's stream.destroy()).
    void abort();

    /// True: a stream has no positions.
    bool isSequential() const override;
    /// Bytes received and not read yet.
    qint64 bytesAvailable() const override;
    /// Bytes given to write() whose message the socket has not written to
    /// the network yet: those waiting for the connection, then the queued
    /// ones. Framing is not counted, so that the bytesWritten() signals and
    /// bytesToWrite() add up to what was written.
    qint64 bytesToWrite() const override;
    /// Whether a whole line, up to a newline, waits to be read.
    bool canReadLine() const override;
    /// True once the WebSocket has closed (or failed) and everything
    /// received was read, or when the device is not open; while the
    /// connection lasts, an empty read buffer is not the end.
    bool atEnd() const override;

protected:
    /// Takes up to `maxSize` received bytes; -1 at the end of the stream.
    qint64 readData(char *data, qint64 maxSize) override;
    /// Sends `data` as one message, or keeps it for when the socket is open;
    /// -1 when the socket is closing or closed.
    qint64 writeData(const char *data, qint64 size) override;

private:
    friend class WsStreamPrivate;
    std::unique_ptr<WsStreamPrivate> d;
};
