// A console client: each line of standard input goes out as a text
// message, each message received is printed. The end of input closes the
// connection with 1000; the exit status says how the connection ended.
//
// Usage: console-client <url> [subprotocol...]
//   e.g. console-client ws://127.0.0.1:8080/?name=Alice

#include <wsqt/wssocket.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdebug.h>
#include <QtCore/qsocketnotifier.h>
#include <QtCore/qtextstream.h>
#include <QtCore/qurl.h>

#include <unistd.h>

namespace {

void print(const QString &line)
{
    static QTextStream out(stdout);
    out << line << Qt::endl;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);

    const QStringList arguments = QCoreApplication::arguments();
    if (arguments.size() < 2) {
        qCritical("Usage: console-client <url> [subprotocol...]");
        return 2;
    }
    const QUrl url(arguments.at(1));
    const QStringList protocols = arguments.mid(2);

    WsClientOptions options;
    options.handshakeTimeout = 10000;   // ws has none by default
    options.followRedirects = true;

    WsSocket socket;
    QObject::connect(&socket, &WsSocket::opened, &socket, [&socket] {
        print(QStringLiteral("open: %1 (subprotocol: \"%2\", extensions: \"%3\")")
                      .arg(socket.url().toString(), socket.protocol(), socket.extensions()));
    });
    QObject::connect(&socket, &WsSocket::messageReceived, &socket, [](const QByteArray &message, bool isBinary) {
        if (isBinary)
            print(QStringLiteral("< binary, %1 bytes").arg(message.size()));
        else
            print(QStringLiteral("< ") + QString::fromUtf8(message));
    });
    bool failed = false;
    QObject::connect(&socket, &WsSocket::errorOccurred, &socket, [&failed](const WsError &error) {
        failed = true;
        qWarning().noquote() << "error:" << error.codeName() << error.message();
    });
    QObject::connect(&socket, &WsSocket::closed, &app, [&failed](int code, const QByteArray &reason) {
        print(QStringLiteral("closed: %1 \"%2\"").arg(code).arg(QString::fromUtf8(reason)));
        // 1000: a normal close; 1005: a close frame without a code.
        QCoreApplication::exit(!failed && (code == 1000 || code == 1005) ? 0 : 1);
    });

    // Standard input, a line at a time, without blocking the event loop.
    QByteArray pending;
    QSocketNotifier input(STDIN_FILENO, QSocketNotifier::Read);
    input.setEnabled(false);
    QObject::connect(&socket, &WsSocket::opened, &input, [&input] { input.setEnabled(true); });
    QObject::connect(&input, &QSocketNotifier::activated, &socket, [&input, &pending, &socket] {
        char buffer[4096];
        const ssize_t count = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (count <= 0) {
            input.setEnabled(false);
            if (!pending.isEmpty())     // a last line without a line break
                socket.sendText(QString::fromUtf8(pending));
            socket.close(1000, "bye");
            return;
        }
        pending.append(buffer, qsizetype(count));
        qsizetype end;
        while ((end = pending.indexOf('\n')) >= 0) {
            QByteArray line = pending.left(end);
            pending.remove(0, end + 1);
            if (line.endsWith('\r'))
                line.chop(1);
            // Refused, with the reason, unless the socket is open.
            if (const WsError error = socket.sendText(QString::fromUtf8(line)))
                qWarning().noquote() << "not sent:" << error.message();
        }
    });

    if (const WsError error = socket.open(url, protocols, options)) {
        qCritical().noquote() << "cannot open" << url.toString() << ":" << error.message();
        return 2;
    }
    return app.exec();
}
