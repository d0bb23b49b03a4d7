// Records over a WebSocket with QDataStream: a client sends sensor readings
// through a WsStream, and the server answers each one with the statistics
// of all the readings it got on that connection.
//
// Usage: wsstream-datastream                   server and client in one process
//        wsstream-datastream server [port]     (default 8080)
//        wsstream-datastream client [url]      (default ws://127.0.0.1:8080)

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>
#include <wsqt/wsstream.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdatastream.h>
#include <QtCore/qdatetime.h>
#include <QtCore/qdebug.h>
#include <QtCore/qurl.h>

#include <memory>

namespace {

constexpr int kReadings = 5;

struct Reading
{
    QString sensor;
    QDateTime time;
    double celsius = 0;
};

QDataStream &operator<<(QDataStream &out, const Reading &reading)
{
    return out << reading.sensor << reading.time << reading.celsius;
}

QDataStream &operator>>(QDataStream &in, Reading &reading)
{
    return in >> reading.sensor >> reading.time >> reading.celsius;
}

struct Summary
{
    quint32 count = 0;
    double mean = 0;
    double maximum = 0;
};

QDataStream &operator<<(QDataStream &out, const Summary &summary)
{
    return out << summary.count << summary.mean << summary.maximum;
}

QDataStream &operator>>(QDataStream &in, Summary &summary)
{
    return in >> summary.count >> summary.mean >> summary.maximum;
}

// Both ends agree on the format, whatever Qt version each was built with.
constexpr QDataStream::Version kVersion = QDataStream::Qt_6_4;

// Each write() is one WebSocket message: the record is serialised first so
// that it goes out whole rather than as one small message per field.
template<typename Record>
void writeRecord(QIODevice *device, const Record &record)
{
    QByteArray bytes;
    QDataStream out(&bytes, QIODevice::WriteOnly);
    out.setVersion(kVersion);
    out << record;
    device->write(bytes);
}

// Hands every complete record that arrived to `handle`. Message boundaries do
// not matter: a record cut short is rolled back until the rest is there.
// `handle` may close the device, which ends the loop.
template<typename Record, typename Handler>
void readRecords(QDataStream &in, Handler handle)
{
    while (in.device()->isOpen()) {
        in.startTransaction();
        Record record;
        in >> record;
        if (!in.commitTransaction())
            return;
        handle(record);
    }
}

std::shared_ptr<QDataStream> readerFor(QIODevice *device)
{
    auto in = std::make_shared<QDataStream>(device);
    in->setVersion(kVersion);
    return in;
}

void serve(WsServer *server)
{
    QObject::connect(server, &WsServer::newConnection, server, [](WsSocket *socket) {
        // A child of the socket: both go when the connection has closed.
        auto *stream = new WsStream(socket, {}, socket);
        const std::shared_ptr<QDataStream> in = readerFor(stream);
        auto summary = std::make_shared<Summary>();
        QObject::connect(stream, &QIODevice::readyRead, stream, [stream, in, summary] {
            readRecords<Reading>(*in, [&](const Reading &reading) {
                summary->mean = (summary->mean * summary->count + reading.celsius) / (summary->count + 1);
                summary->maximum = summary->count ? qMax(summary->maximum, reading.celsius) : reading.celsius;
                ++summary->count;
                qInfo().noquote() << "server: reading" << summary->count << "from" << reading.sensor
                                  << reading.time.toString(Qt::ISODate) << reading.celsius << "°C";
                writeRecord(stream, *summary);
            });
        });
    });
}

// Sends the readings, prints the answers and ends the program when the
// connection has closed: with 0 after all the answers, otherwise with 1.
void runClient(const QUrl &url)
{
    auto *socket = new WsSocket(qApp);
    if (const WsError error = socket->open(url); error.isError()) {
        qCritical().noquote() << error.message();
        QCoreApplication::exit(1);
        return;
    }
    // Open at once: what is written before the handshake ends is sent after it.
    auto *stream = new WsStream(socket, {}, socket);
    const std::shared_ptr<QDataStream> in = readerFor(stream);
    auto answers = std::make_shared<int>(0);

    const QDateTime start = QDateTime::currentDateTimeUtc();
    for (int i = 0; i < kReadings; ++i)
        writeRecord(stream, Reading{QStringLiteral("greenhouse-1"), start.addSecs(60 * i), 18.5 + i * 0.75});

    QObject::connect(stream, &QIODevice::readyRead, stream, [stream, in, answers] {
        readRecords<Summary>(*in, [&](const Summary &summary) {
            qInfo("client: %u readings, mean %.2f °C, maximum %.2f °C", summary.count, summary.mean,
                  summary.maximum);
            if (++*answers == kReadings)
                stream->close();
        });
    });
    // The server went away, or never answered.
    QObject::connect(stream, &QIODevice::readChannelFinished, stream, [stream] {
        qCritical().noquote() << "client: connection lost:" << stream->errorString();
    });
    QObject::connect(socket, &WsSocket::closed, qApp, [answers] {
        QCoreApplication::exit(*answers == kReadings ? 0 : 1);
    });
}

std::unique_ptr<WsServer> startServer(quint16 port)
{
    WsServerOptions options;
    options.host = QHostAddress::LocalHost;
    options.port = port;
    auto server = std::make_unique<WsServer>(options);
    if (server->error()) {
        qCritical().noquote() << server->error().message();
        return nullptr;
    }
    serve(server.get());
    return server;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QStringList arguments = QCoreApplication::arguments();
    const QString mode = arguments.value(1);

    if (mode == QLatin1String("client") && arguments.size() <= 3) {
        runClient(QUrl(arguments.value(2, QStringLiteral("ws://127.0.0.1:8080"))));
        return app.exec();
    }
    if (mode == QLatin1String("server") && arguments.size() <= 3) {
        bool ok = true;
        const uint port = arguments.size() > 2 ? arguments.at(2).toUInt(&ok) : 8080;
        if (!ok || port > 65535) {
            qCritical("Usage: wsstream-datastream server [port]");
            return 2;
        }
        const std::unique_ptr<WsServer> server = startServer(quint16(port));
        if (!server)
            return 1;
        QObject::connect(server.get(), &WsServer::listening, server.get(), [&server] {
            qInfo("server: listening on ws://127.0.0.1:%d", int(server->address().port));
        });
        return app.exec();
    }
    if (arguments.size() > 1) {
        qCritical("Usage: wsstream-datastream [server [port] | client [url]]");
        return 2;
    }

    // Both ends: the client connects once the server listens on a free port.
    const std::unique_ptr<WsServer> server = startServer(0);
    if (!server)
        return 1;
    QObject::connect(server.get(), &WsServer::listening, server.get(), [&server] {
        runClient(QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(server->address().port)));
    });
    return app.exec();
}
