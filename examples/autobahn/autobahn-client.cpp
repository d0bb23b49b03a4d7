// The client under test for the Autobahn TestSuite's fuzzingserver. It asks
// the server how many cases there are, runs each one by echoing every message
// until the server closes, and finally asks the server to write its reports.
//
// Usage: autobahn-client [URL [AGENT]]   (default ws://127.0.0.1:9001 wsqt)

#include <wsqt/wssocket.h>

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qdebug.h>
#include <QtCore/qurlquery.h>

#include <functional>

namespace {

class AutobahnDriver
{
public:
    AutobahnDriver(const QUrl &server, const QString &agent) : m_server(server), m_agent(agent) { }

    void start()
    {
        visit(QStringLiteral("getCaseCount"), {}, [this](WsSocket *, const QByteArray &message, bool) {
            m_caseCount = message.toInt();
        }, [this] {
            if (m_caseCount <= 0) {
                qCritical("The server reported no test case.");
                QCoreApplication::exit(1);
                return;
            }
            runCase(1);
        });
    }

private:
    using MessageHandler = std::function<void(WsSocket *socket, const QByteArray &message, bool isBinary)>;

    void runCase(int number)
    {
        if (number > m_caseCount) {
            updateReports();
            return;
        }
        qInfo("Running case %d of %d", number, m_caseCount);
        const QList<QPair<QString, QString>> query = {
            {QStringLiteral("case"), QString::number(number)},
            {QStringLiteral("agent"), m_agent},
        };
        visit(QStringLiteral("runCase"), query, [](WsSocket *socket, const QByteArray &message, bool isBinary) {
            WsSendOptions sendOptions;
            sendOptions.binary = isBinary;
            socket->send(message, sendOptions);
        }, [this, number] { runCase(number + 1); });
    }

    void updateReports()
    {
        visit(QStringLiteral("updateReports"), {{QStringLiteral("agent"), m_agent}}, {}, [] {
            qInfo("Reports updated.");
            QCoreApplication::exit(0);
        });
    }

    // Opens the server's `endpoint`, hands each message to `onMessage` and
    // calls `onClosed` once the connection is over.
    void visit(const QString &endpoint, const QList<QPair<QString, QString>> &query,
               const MessageHandler &onMessage, const std::function<void()> &onClosed)
    {
        QUrl url = m_server;
        QString path = url.path();
        if (!path.endsWith(QLatin1Char('/')))
            path += QLatin1Char('/');
        url.setPath(path + endpoint);
        QUrlQuery urlQuery;
        urlQuery.setQueryItems(query);
        url.setQuery(urlQuery);

        WsClientOptions options;
        // Case 9.1.6 sends a 16 MiB message; leave room above it.
        options.maxPayload = 64 * 1024 * 1024;
        auto *socket = new WsSocket;
        if (onMessage) {
            QObject::connect(socket, &WsSocket::messageReceived, socket,
                             [socket, onMessage](const QByteArray &message, bool isBinary) {
                                 onMessage(socket, message, isBinary);
                             });
        }
        // Many cases break the protocol on purpose: the error is the expected outcome.
        QObject::connect(socket, &WsSocket::errorOccurred, socket, [endpoint](const WsError &error) {
            qInfo().noquote() << endpoint + QLatin1String(": ") + error.message();
        });
        QObject::connect(socket, &WsSocket::closed, socket, [socket, onClosed] {
            socket->deleteLater();
            onClosed();
        });
        if (const WsError error = socket->open(url, {}, options)) {
            qCritical().noquote() << url.toString() << error.message();
            delete socket;
            QCoreApplication::exit(1);
        }
    }

    const QUrl m_server;
    const QString m_agent;
    int m_caseCount = 0;
};

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Client driver for the Autobahn fuzzingserver."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("url"),
                                 QStringLiteral("The fuzzingserver (default ws://127.0.0.1:9001)."));
    parser.addPositionalArgument(QStringLiteral("agent"),
                                 QStringLiteral("The name the reports give this client (default wsqt)."));
    parser.process(app);
    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 2)
        parser.showHelp(2);
    const QUrl server(positional.value(0, QStringLiteral("ws://127.0.0.1:9001")));
    const QString agent = positional.value(1, QStringLiteral("wsqt"));

    AutobahnDriver driver(server, agent);
    // Started from the event loop, so that an early exit() is not lost.
    QMetaObject::invokeMethod(&app, [&driver] { driver.start(); }, Qt::QueuedConnection);
    return app.exec();
}
