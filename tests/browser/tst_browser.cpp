// A real browser as a client of WsServer. Headless Chromium loads page.html
// from a small HTTP server in this test; its page.js runs scenarios with the
// browser's own WebSocket API (echoes of text, binary and 1 MiB messages,
// subprotocols, closing from either side, a server ping, permessage-deflate)
// and sends a JSON report back over a WebSocket. The test checks the report
// and what the server side saw, with permessage-deflate on and off.

#include "waitfor.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qfile.h>
#include <QtCore/qhash.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qprocess.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtimer.h>
#include <QtCore/qurlquery.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/qtest.h>

#include <signal.h>
#include <unistd.h>

#include <memory>

namespace {

// Room for every scenario to time out in the page (4 s each) and still report.
constexpr int kReportTimeoutMs = 75000;

// The constants of page.js.
const QByteArray kUtf8Text = QStringLiteral("h\u00e9llo \u20ac \U0001D11E \U0001F600").toUtf8();
const QByteArray kLargeTextUnit = QStringLiteral("wsqt \u00e9\u20ac\U0001F600  ").toUtf8();
constexpr qsizetype kLargeSize = 1024 * 1024;
constexpr int kOrderCount = 200;
const QByteArray kBrowserCloseReason = QStringLiteral("bye from browser \u2713").toUtf8();
const QByteArray kServerCloseReason = QStringLiteral("bye from server \u2713").toUtf8();
const QByteArray kPingPayload = "ping from wsqt";

const QStringList kScenarios = {
    QStringLiteral("text echo"),           QStringLiteral("utf-8 text echo"),
    QStringLiteral("binary echo"),         QStringLiteral("large binary echo"),
    QStringLiteral("large text echo"),     QStringLiteral("message order"),
    QStringLiteral("subprotocol"),         QStringLiteral("close from the browser"),
    QStringLiteral("close without a code"), QStringLiteral("close from the server"),
    QStringLiteral("server ping"),         QStringLiteral("extensions"),
};

QByteArray pattern(qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char((i * 31 + (i >> 8)) & 0xff);
    return bytes;
}

using wsqt::test::waitFor;

// Serves page.html and page.js, one request per connection.
class PageServer : public QObject
{
public:
    PageServer()
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                socket->setParent(this);
                connect(socket, &QTcpSocket::readyRead, socket, [this, socket] { serve(socket); });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }

    bool listen() { return m_server.listen(QHostAddress(QHostAddress::LocalHost)); }
    quint16 port() const { return m_server.serverPort(); }
    const QByteArrayList &served() const { return m_served; }

private:
    void serve(QTcpSocket *socket)
    {
        QByteArray &head = m_heads[socket];
        head += socket->readAll();
        if (!head.contains("\r\n\r\n"))
            return;
        const QByteArray path = head.left(head.indexOf("\r\n")).split(' ').value(1).split('?').value(0);
        m_heads.remove(socket);
        m_served.append(path);

        const QHash<QByteArray, QByteArray> files = {{"/page.html", "text/html; charset=utf-8"},
                                                     {"/page.js", "text/javascript; charset=utf-8"}};
        QByteArray status = "200 OK";
        QByteArray type = "text/plain";
        QByteArray body;
        if (files.contains(path)) {
            QFile file(QStringLiteral(WSQT_BROWSER_PAGE_DIR) + QString::fromLatin1(path));
            if (file.open(QIODevice::ReadOnly)) {
                body = file.readAll();
                type = files.value(path);
            } else {
                status = "500 Internal Server Error";
            }
        } else {
            status = "404 Not Found";
        }
        socket->write("HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: "
                      + QByteArray::number(body.size()) + "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
                      + body);
        socket->disconnectFromHost();
    }

    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_heads;
    QByteArrayList m_served;
};

// What the server side of one scenario saw.
struct Seen
{
    QList<QPair<QByteArray, bool>> messages;    // payload, binary
    int closeCode = 0;                          // 0: not closed
    QByteArray closeReason;
    QByteArrayList pongs;
    QString protocol;
    QString extensions;
};

// The WsServer under test. Each connection's path names the scenario it
// serves and so what the server does with it.
class BrowserServer : public QObject
{
public:
    explicit BrowserServer(bool deflate)
    {
        WsServerOptions options;
        options.port = 0;
        options.host = QHostAddress(QHostAddress::LocalHost);
        if (deflate)
            options.perMessageDeflate = WsDeflateOptions();
        options.handleProtocols = [](const QStringList &protocols, const WsHttpRequest &) {
            return protocols.contains(QStringLiteral("wsqt.v1")) ? QStringLiteral("wsqt.v1") : protocols.value(0);
        };
        m_server = std::make_unique<WsServer>(options);
        connect(m_server.get(), &WsServer::newConnection, this, &BrowserServer::serve);
    }

    quint16 port() const { return m_server->address().port; }
    bool isListening() const { return m_server->isListening(); }
    const QHash<QByteArray, Seen> &seen() const { return m_seen; }
    const QByteArray &report() const { return m_report; }

private:
    void serve(WsSocket *socket, const WsHttpRequest &request)
    {
        const QByteArray scenario = request.path().mid(1);
        Seen &seen = m_seen[scenario];
        seen.protocol = socket->protocol();
        seen.extensions = socket->extensions();

        connect(socket, &WsSocket::closed, this, [this, scenario](int code, const QByteArray &reason) {
            m_seen[scenario].closeCode = code;
            m_seen[scenario].closeReason = reason;
        });
        connect(socket, &WsSocket::messageReceived, this,
                [this, socket, scenario](const QByteArray &message, bool binary) {
                    m_seen[scenario].messages.append({message, binary});
                    if (scenario == "report") {
                        m_report = message;
                    } else if (scenario.startsWith("echo-")) {
                        WsSendOptions echo;
                        echo.binary = binary;
                        socket->send(message, echo);
                    }
                });
        connect(socket, &WsSocket::pongReceived, this, [this, socket, scenario](const QByteArray &payload) {
            m_seen[scenario].pongs.append(payload);
            socket->sendText(QStringLiteral("pong: ") + QString::fromUtf8(payload));
        });

        if (scenario == "protocol")
            socket->sendText(socket->protocol());
        else if (scenario == "extensions")
            socket->sendText(socket->extensions());
        else if (scenario == "server-close")
            socket->close(4002, kServerCloseReason);
        else if (scenario == "ping")
            socket->ping(kPingPayload);
    }

    std::unique_ptr<WsServer> m_server;
    QHash<QByteArray, Seen> m_seen;
    QByteArray m_report;
};

// Headless Chromium on a URL, in a process group of its own so that all of
// its processes end with it, and a profile that is thrown away.
class Browser
{
public:
    ~Browser() { stop(); }

    bool start(const QUrl &url)
    {
        if (!m_profile.isValid())
            return false;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        // Whatever Chromium writes outside the profile goes there too.
        environment.insert(QStringLiteral("HOME"), m_profile.path());
        environment.insert(QStringLiteral("XDG_CONFIG_HOME"), m_profile.path());
        environment.insert(QStringLiteral("XDG_CACHE_HOME"), m_profile.path());
        m_process.setProcessEnvironment(environment);
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.setChildProcessModifier([] { ::setsid(); });
        QObject::connect(&m_process, &QProcess::readyRead, &m_process, [this] {
            // Enough to tell why it failed, without keeping all its chatter.
            m_output = (m_output + m_process.readAll()).right(16 * 1024);
        });
        m_process.start(QStringLiteral(WSQT_CHROMIUM_EXECUTABLE),
                        {QStringLiteral("--headless"), QStringLiteral("--no-sandbox"), QStringLiteral("--disable-gpu"),
                         QStringLiteral("--disable-quic"), QStringLiteral("--no-first-run"),
                         QStringLiteral("--disable-background-networking"),
                         QStringLiteral("--disable-component-update"), QStringLiteral("--disable-sync"),
                         // Containers often have a small /dev/shm.
                         QStringLiteral("--disable-dev-shm-usage"),
                         QStringLiteral("--user-data-dir=") + m_profile.path() + QStringLiteral("/profile"),
                         url.toString(QUrl::FullyEncoded)});
        return m_process.waitForStarted(10000);
    }

    bool isRunning() const { return m_process.state() != QProcess::NotRunning; }
    const QByteArray &output() const { return m_output; }

    void stop()
    {
        const qint64 pid = m_process.processId();
        if (pid <= 0)
            return;
        // The group first (renderers, zygotes), then the browser itself.
        ::kill(-pid_t(pid), SIGKILL);
        m_process.kill();
        m_process.waitForFinished(10000);
    }

private:
    QTemporaryDir m_profile;
    QProcess m_process;
    QByteArray m_output;
};

} // namespace

class tst_Browser : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void scenarios_data();
    void scenarios();
};

void tst_Browser::initTestCase()
{
    qRegisterMetaType<WsSocket *>();
    qRegisterMetaType<WsHttpRequest>();
}

void tst_Browser::scenarios_data()
{
    QTest::addColumn<bool>("deflate");
    QTest::newRow("permessage-deflate off") << false;
    QTest::newRow("permessage-deflate on") << true;
}

void tst_Browser::scenarios()
{
    QFETCH(bool, deflate);

    PageServer pages;
    QVERIFY(pages.listen());
    BrowserServer server(deflate);
    QVERIFY(server.isListening());

    QUrl url(QStringLiteral("http://127.0.0.1:%1/page.html").arg(pages.port()));
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("ws"), QStringLiteral("ws://127.0.0.1:%1").arg(server.port()));
    url.setQuery(query);

    Browser browser;
    QVERIFY2(browser.start(url), "Chromium did not start");
    const bool reported = waitFor([&] { return !server.report().isEmpty() || !browser.isRunning(); },
                                  kReportTimeoutMs);
    browser.stop();
    QVERIFY2(reported && !server.report().isEmpty(),
             qPrintable(QStringLiteral("no report from the page (pages served: %1); Chromium said:\n%2")
                                .arg(QString::fromLatin1(pages.served().join(' ')),
                                     QString::fromLocal8Bit(browser.output()))));

    // The page's verdicts.
    QJsonParseError parseError;
    const QJsonObject report = QJsonDocument::fromJson(server.report(), &parseError).object();
    QCOMPARE(parseError.error, QJsonParseError::NoError);
    qInfo("%s", qPrintable(report.value(QStringLiteral("userAgent")).toString()));
    QHash<QString, QJsonObject> results;
    for (const QJsonValue &value : report.value(QStringLiteral("results")).toArray())
        results.insert(value[QStringLiteral("name")].toString(), value.toObject());
    QStringList failures;
    for (const QString &name : kScenarios) {
        if (!results.contains(name))
            failures.append(name + QStringLiteral(": not run"));
        else if (!results.value(name).value(QStringLiteral("ok")).toBool())
            failures.append(name + QStringLiteral(": ") + results.value(name).value(QStringLiteral("detail")).toString());
    }
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QStringLiteral("\n"))));
    QCOMPARE(results.size(), kScenarios.size());

    // What the server side saw of the same scenarios.
    const QHash<QByteArray, Seen> &seen = server.seen();
    const auto onlyMessage = [&seen](const char *scenario) {
        const Seen s = seen.value(scenario);
        return s.messages.size() == 1 ? s.messages.first() : QPair<QByteArray, bool>({"(none or several)", false});
    };
    QCOMPARE(onlyMessage("echo-text"), qMakePair(QByteArray("hello, wsqt"), false));
    QCOMPARE(onlyMessage("echo-utf8"), qMakePair(kUtf8Text, false));
    QCOMPARE(onlyMessage("echo-binary"), qMakePair(pattern(256), true));
    QCOMPARE(onlyMessage("echo-large-binary"), qMakePair(pattern(kLargeSize), true));
    QCOMPARE(onlyMessage("echo-large-text"), qMakePair(kLargeTextUnit.repeated(kLargeSize / 16), false));
    const Seen order = seen.value("echo-order");
    QCOMPARE(order.messages.size(), kOrderCount);
    for (int i = 0; i < kOrderCount; ++i)
        QCOMPARE(order.messages.at(i).first, "m" + QByteArray::number(i));
    for (const char *scenario : {"echo-text", "echo-large-binary", "echo-order"}) {
        QCOMPARE(seen.value(scenario).closeCode, 1000);
    }

    QCOMPARE(seen.value("protocol").protocol, QStringLiteral("wsqt.v1"));
    QCOMPARE(results.value(QStringLiteral("subprotocol")).value(QStringLiteral("detail")).toString(),
             QStringLiteral("wsqt.v1"));
    QCOMPARE(seen.value("close-coded").closeCode, 4001);
    QCOMPARE(seen.value("close-coded").closeReason, kBrowserCloseReason);
    QCOMPARE(seen.value("close-plain").closeCode, 1005);
    QCOMPARE(seen.value("close-plain").closeReason, QByteArray());
    // The browser answered the server's close frame with the same code.
    QCOMPARE(seen.value("server-close").closeCode, 4002);
    QCOMPARE(seen.value("ping").pongs, QByteArrayList{kPingPayload});

    // Chromium always offers permessage-deflate; the server takes it when enabled.
    for (const Seen &s : seen) {
        if (deflate)
            QVERIFY2(s.extensions.startsWith(QStringLiteral("permessage-deflate")), qPrintable(s.extensions));
        else
            QCOMPARE(s.extensions, QString());
    }
    QCOMPARE(results.value(QStringLiteral("extensions")).value(QStringLiteral("detail")).toString(),
             seen.value("extensions").extensions);
}

QTEST_MAIN(tst_Browser)

#include "tst_browser.moc"
