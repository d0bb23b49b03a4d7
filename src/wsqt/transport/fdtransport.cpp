#include "fdtransport.h"

#include <QtCore/qmetaobject.h>
#include <QtNetwork/qtcpsocket.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace wsqt::transport {

namespace {

// writev() takes at most this many pieces at a time (IOV_MAX is 1024 on Linux).
constexpr int kMaxIovecs = 64;
// At the end of a connection, the most of what the kernel still holds that
// is kept for the reader.
constexpr qsizetype kMaxDrainAtEnd = 256 * 1024;

QString errnoMessage(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

bool wouldBlock(int error)
{
    return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

} // namespace

FdDevice::FdDevice(qintptr descriptor, FdTransport *owner) : m_owner(owner), m_descriptor(descriptor)
{
    const int fd = int(descriptor);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    QIODevice::open(QIODevice::ReadWrite | QIODevice::Unbuffered);
    updateWatch();
}

FdDevice::~FdDevice()
{
    if (m_descriptor < 0)
        return;
    EpollSet::forThisThread()->forget(int(m_descriptor), this);
    ::close(int(m_descriptor));
}

void FdDevice::ready(quint32 readiness)
{
    if (readiness & Failed) {
        drainAndFinish();
        return;
    }
    if (readiness & Writable)
        flush();
    if (readiness & Readable && m_descriptor >= 0)
        onReadable();
}

void FdDevice::drainAndFinish()
{
    // A reset, or both directions closed: reported again and again until
    // the descriptor goes, whatever is watched. What the kernel still holds
    // is read ahead, for the reader to take after the end.
    const qsizetype old = m_readAhead.size();
    m_readAhead.resize(old + kMaxDrainAtEnd);
    const ssize_t n = ::read(int(m_descriptor), m_readAhead.data() + old, size_t(kMaxDrainAtEnd));
    m_readAhead.resize(old + qMax<qsizetype>(qsizetype(n), 0));
    if (m_readAhead.isEmpty())
        m_readAhead = QByteArray();
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(int(m_descriptor), SOL_SOCKET, SO_ERROR, &error, &length);
    finish(error ? errnoMessage(error) : QString());
}

qint64 FdDevice::bytesAvailable() const
{
    int pending = 0;
    if (m_descriptor < 0 || ::ioctl(int(m_descriptor), FIONREAD, &pending) != 0)
        pending = 0;
    return pending + m_readAhead.size() + QIODevice::bytesAvailable();
}

qint64 FdDevice::readData(char *data, qint64 maxSize)
{
    if (!m_readAhead.isEmpty()) {
        const qsizetype n = qsizetype(qMin<qint64>(maxSize, m_readAhead.size()));
        std::memcpy(data, m_readAhead.constData(), size_t(n));
        // Drained, it is freed: a resumed connection keeps no buffer here.
        if (n == m_readAhead.size())
            m_readAhead = QByteArray();
        else
            m_readAhead.remove(0, n);
        updateWatch();
        return n;
    }
    if (m_descriptor < 0 || m_peerEnded)
        return -1;
    const ssize_t n = ::read(int(m_descriptor), data, size_t(maxSize));
    if (n > 0)
        return n;
    if (n < 0 && wouldBlock(errno))
        return 0;
    peerEnded(n < 0 ? errnoMessage(errno) : QString());
    return -1;
}

void FdDevice::onReadable()
{
    if (m_readAheadLimit == 0) {
        m_owner->deviceReadable();
        Q_EMIT readyRead();
        return;
    }
    const qsizetype old = m_readAhead.size();
    const qsizetype room = qsizetype(m_readAheadLimit) - old;
    if (room <= 0 || m_descriptor < 0) {
        updateWatch();
        return;
    }
    m_readAhead.resize(old + room);
    const ssize_t n = ::read(int(m_descriptor), m_readAhead.data() + old, size_t(room));
    const int readError = errno;
    if (n > 0 || old > 0)
        m_readAhead.resize(old + qMax<qsizetype>(qsizetype(n), 0));
    else
        m_readAhead = QByteArray();   // nothing came: no buffer kept for it
    if (n > 0)
        updateWatch();
    else if (n == 0 || !wouldBlock(readError))
        peerEnded(n < 0 ? errnoMessage(readError) : QString());
}

void FdDevice::peerEnded(const QString &error)
{
    // The end of the stream: the connection ends once what is queued is sent.
    m_peerEnded = true;
    updateWatch();
    if (!error.isEmpty() || m_queue.isEmpty())
        QMetaObject::invokeMethod(this, [this, error] { finish(error); }, Qt::QueuedConnection);
}

qint64 FdDevice::writeData(const char *data, qint64 size)
{
    if (m_descriptor < 0)
        return -1;
    qint64 sent = 0;
    if (m_queue.isEmpty()) {
        const ssize_t n = ::send(int(m_descriptor), data, size_t(size), MSG_NOSIGNAL);
        if (n < 0 && !wouldBlock(errno)) {
            const QString error = errnoMessage(errno);
            QMetaObject::invokeMethod(this, [this, error] { finish(error); }, Qt::QueuedConnection);
            return -1;
        }
        sent = qMax<qint64>(n, 0);
        reportWritten(sent);
    }
    if (sent < size) {
        m_queue.append(QByteArray(data + sent, qsizetype(size - sent)));
        m_queuedBytes += size - sent;
        watchWritable(true);
    }
    return size;
}

void FdDevice::queue(const QByteArray &chunk)
{
    if (m_descriptor < 0 || chunk.isEmpty())
        return;
    m_queue.append(chunk);
    m_queuedBytes += chunk.size();
}

void FdDevice::flush()
{
    while (m_descriptor >= 0 && !m_queue.isEmpty()) {
        iovec pieces[kMaxIovecs];
        int count = 0;
        for (qsizetype i = 0; i < m_queue.size() && count < kMaxIovecs; ++i, ++count) {
            const qsizetype offset = i == 0 ? m_headOffset : 0;
            pieces[count].iov_base = const_cast<char *>(m_queue[i].constData() + offset);
            pieces[count].iov_len = size_t(m_queue[i].size() - offset);
        }
        ssize_t n;
        if (count == 1) {
            // The usual case, a batch coalesced into one chunk: send() skips
            // the copying in of a message header and an iovec array.
            n = ::send(int(m_descriptor), pieces[0].iov_base, pieces[0].iov_len, MSG_NOSIGNAL);
        } else {
            msghdr message = {};
            message.msg_iov = pieces;
            message.msg_iovlen = size_t(count);
            n = ::sendmsg(int(m_descriptor), &message, MSG_NOSIGNAL);
        }
        if (n < 0) {
            if (wouldBlock(errno)) {
                watchWritable(true);
                return;
            }
            finish(errnoMessage(errno));
            return;
        }
        m_queuedBytes -= n;
        reportWritten(n);
        qsizetype left = n;
        while (left > 0) {
            const qsizetype rest = m_queue.first().size() - m_headOffset;
            if (left < rest) {
                m_headOffset += left;
                break;
            }
            left -= rest;
            m_queue.removeFirst();
            m_headOffset = 0;
        }
        if (!m_queue.isEmpty() && count == kMaxIovecs)
            continue;   // more pieces than one call takes
        if (!m_queue.isEmpty()) {
            watchWritable(true);
            return;
        }
    }
    watchWritable(false);
    if (m_descriptor < 0)
        return;
    if (m_shutdownPending) {
        m_shutdownPending = false;
        ::shutdown(int(m_descriptor), SHUT_WR);
    }
    if (m_peerEnded)
        finish({});
}

void FdDevice::shutdownWhenFlushed()
{
    if (m_descriptor < 0)
        return;
    if (m_queue.isEmpty())
        ::shutdown(int(m_descriptor), SHUT_WR);
    else
        m_shutdownPending = true;
}

void FdDevice::setReadAheadLimit(qint64 limit)
{
    m_readAheadLimit = limit;
    updateWatch();
}

bool FdDevice::isReadWatched() const
{
    return !m_peerEnded && m_readAheadLimit != kStopped
            && (m_readAheadLimit == 0 || m_readAhead.size() < m_readAheadLimit);
}

void FdDevice::updateWatch()
{
    if (m_descriptor < 0)
        return;
    if (!EpollSet::forThisThread()->watch(int(m_descriptor), this, isReadWatched(), m_writeWatched))
        QMetaObject::invokeMethod(this, [this] { finish(QStringLiteral("epoll refused the descriptor")); },
                                  Qt::QueuedConnection);
}

void FdDevice::reportWritten(qint64 bytes)
{
    // Posting an event for every write costs about as much as parsing a
    // small message, and most connections never ask how their writes go.
    if (bytes <= 0 || !m_writesWatched)
        return;
    if (m_reportScheduled)
        return;
    // As a QTcpSocket reports bytesWritten(): never from inside a write.
    m_reportScheduled = true;
    QMetaObject::invokeMethod(this, [this] {
        m_reportScheduled = false;
        m_owner->deviceWritten();
    }, Qt::QueuedConnection);
}

void FdDevice::close()
{
    finish({});
}

void FdDevice::watchWritable(bool watch)
{
    if (watch == m_writeWatched)
        return;
    m_writeWatched = watch;
    updateWatch();
}

void FdDevice::finish(const QString &error)
{
    if (m_descriptor < 0)
        return;
    EpollSet::forThisThread()->forget(int(m_descriptor), this);
    ::close(int(m_descriptor));
    m_descriptor = -1;
    m_queue.clear();
    m_queuedBytes = 0;
    // What was read ahead is still to be read: the device stays open for it.
    if (m_readAhead.isEmpty())
        QIODevice::close();
    m_owner->deviceFinished(error);
}

// ---- FdTransport -------------------------------------------------------------

namespace {

// The address and port of one end of a connected socket (null, 0 when unknown).
QPair<QHostAddress, quint16> socketName(qintptr descriptor, bool peer)
{
    sockaddr_storage storage = {};
    socklen_t length = sizeof storage;
    auto *raw = reinterpret_cast<sockaddr *>(&storage);
    if (descriptor < 0
        || (peer ? ::getpeername(int(descriptor), raw, &length) : ::getsockname(int(descriptor), raw, &length)) != 0)
        return {};
    const quint16 port = storage.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6 *>(&storage)->sin6_port)
                                                       : ntohs(reinterpret_cast<sockaddr_in *>(&storage)->sin_port);
    return {QHostAddress(raw), port};
}

} // namespace

bool leanTransportEnabled()
{
    static const bool enabled = qEnvironmentVariableIsEmpty("WSQT_NO_LEAN_TRANSPORT");
    return enabled;
}

FdTransport *FdTransport::adopt(QTcpSocket *socket)
{
    // Closing the socket's own descriptor then ends nothing: no shutdown is
    // sent while another descriptor refers to the connection.
    const int descriptor = ::fcntl(int(socket->socketDescriptor()), F_DUPFD_CLOEXEC, 0);
    return descriptor < 0 ? nullptr : new FdTransport(descriptor);
}

FdTransport::FdTransport(qintptr descriptor, QObject *parent)
    : Transport(new FdDevice(descriptor, this), parent)
{
    m_device = static_cast<FdDevice *>(device());
    m_device->setParent(this);
}

void FdTransport::deviceFinished(const QString &error)
{
    if (!error.isEmpty())
        reportError(error);
    emitDisconnectedOnce();
}

void FdTransport::end()
{
    if (!m_device->isConnected()) {
        destroy();
        return;
    }
    m_device->shutdownWhenFlushed();
}

void FdTransport::destroy()
{
    m_device->close();
    emitDisconnectedOnce();
}

void FdTransport::write(const QByteArray &chunk)
{
    m_device->queue(chunk);
}

void FdTransport::flushWrites()
{
    m_device->flush();
}

void FdTransport::setReadBufferLimit(qint64 bytes)
{
    m_device->setReadAheadLimit(bytes);
}

void FdTransport::stopReading()
{
    m_device->stopReading();
}

bool FdTransport::isConnected() const
{
    return m_device->isConnected();
}

QHostAddress FdTransport::peerAddress() const
{
    return socketName(m_device->descriptor(), true).first;
}

quint16 FdTransport::peerPort() const
{
    return socketName(m_device->descriptor(), true).second;
}

QHostAddress FdTransport::localAddress() const
{
    return socketName(m_device->descriptor(), false).first;
}

quint16 FdTransport::localPort() const
{
    return socketName(m_device->descriptor(), false).second;
}

QString FdTransport::peerName() const
{
    return peerAddress().toString();
}

} // namespace wsqt::transport
