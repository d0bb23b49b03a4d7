// Two qml-chat processes, offscreen: Alice hosts, Bob joins; each says one
// thing, and each window must show both messages. Every wait is on the
// processes' output or exit, never a fixed delay.

#include <QtCore/qdir.h>
#include <QtCore/qprocess.h>
#include <QtGui/qimage.h>
#include <QtTest/qtest.h>

#include <memory>

namespace {

constexpr int kTimeoutMs = 60000;

// A chat window in its own process, and the lines it printed.
class Chat
{
public:
    explicit Chat(const QStringList &arguments)
    {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        // Rendering without a GPU, for grabWindow().
        environment.insert(QStringLiteral("QT_QUICK_BACKEND"), QStringLiteral("software"));
        m_process.setProcessEnvironment(environment);
        QObject::connect(&m_process, &QProcess::readyReadStandardOutput, [this] {
            m_output += m_process.readAllStandardOutput();
        });
        m_process.start(QStringLiteral(QMLCHAT_EXECUTABLE), arguments);
    }

    ~Chat()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished();
        }
    }

    QStringList lines() const { return QString::fromUtf8(m_output).split(QLatin1Char('\n'), Qt::SkipEmptyParts); }
    // The first line that starts with `prefix`, without it; null if none.
    QString lineAfter(const QString &prefix) const
    {
        for (const QString &line : lines()) {
            if (line.startsWith(prefix))
                return line.mid(prefix.size());
        }
        return QString();
    }
    QStringList messages() const
    {
        QStringList result;
        for (const QString &line : lines()) {
            if (line.startsWith(QLatin1String("message: ")))
                result.append(line.mid(9));
        }
        return result;
    }
    bool finished() const { return m_process.state() == QProcess::NotRunning; }
    bool exitedCleanly() const
    {
        return finished() && m_process.exitStatus() == QProcess::NormalExit && m_process.exitCode() == 0;
    }
    // For failure messages.
    QByteArray report() { return m_output + m_process.readAllStandardError(); }

private:
    QProcess m_process;
    QByteArray m_output;
};

// Not one flat colour: something was drawn.
bool hasContent(const QImage &image)
{
    const QRgb first = image.pixel(0, 0);
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            if (image.pixel(x, y) != first)
                return true;
        }
    }
    return false;
}

} // namespace

class tst_QmlChat : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hostAndJoin();
};

void tst_QmlChat::hostAndJoin()
{
    const QDir screenshots(QStringLiteral(QMLCHAT_SCREENSHOT_DIR));
    QVERIFY(screenshots.mkpath(QStringLiteral(".")));
    const QString hostShot = screenshots.filePath(QStringLiteral("host.png"));
    const QString guestShot = screenshots.filePath(QStringLiteral("guest.png"));
    QFile::remove(hostShot);
    QFile::remove(guestShot);

    Chat host({QStringLiteral("--host-port"), QStringLiteral("0"), QStringLiteral("--name"), QStringLiteral("Alice"),
               QStringLiteral("--say"), QStringLiteral("hello from Alice"), QStringLiteral("--quit-after"),
               QStringLiteral("2"), QStringLiteral("--dump"), QStringLiteral("--screenshot"), hostShot});
    QTRY_VERIFY2_WITH_TIMEOUT(!host.lineAfter(QStringLiteral("listening on port ")).isNull() || host.finished(),
                              host.report().constData(), kTimeoutMs);
    bool validPort = false;
    const int port = host.lineAfter(QStringLiteral("listening on port ")).toInt(&validPort);
    QVERIFY2(validPort && port > 0, host.report().constData());

    const QString url = QStringLiteral("ws://127.0.0.1:%1/").arg(port);
    Chat guest({QStringLiteral("--join"), url, QStringLiteral("--name"), QStringLiteral("Bob"), QStringLiteral("--say"),
                QStringLiteral("hi from Bob"), QStringLiteral("--quit-after"), QStringLiteral("2"),
                QStringLiteral("--dump"), QStringLiteral("--screenshot"), guestShot});

    QTRY_VERIFY2_WITH_TIMEOUT(guest.finished(), guest.report().constData(), kTimeoutMs);
    QTRY_VERIFY2_WITH_TIMEOUT(host.finished(), host.report().constData(), kTimeoutMs);
    QVERIFY2(host.exitedCleanly(), host.report().constData());
    QVERIFY2(guest.exitedCleanly(), guest.report().constData());
    QCOMPARE(guest.lineAfter(QStringLiteral("joined ")), url);

    // Alice spoke before Bob came: he got her message with the history.
    const QStringList expected{QStringLiteral("Alice: hello from Alice"), QStringLiteral("Bob: hi from Bob")};
    QCOMPARE(host.messages(), expected);
    QCOMPARE(guest.messages(), expected);

    for (const QString &shot : {hostShot, guestShot}) {
        const QImage image(shot);
        QVERIFY2(!image.isNull(), qPrintable(shot));
        QVERIFY(image.width() > 100 && image.height() > 100);
        QVERIFY2(hasContent(image), qPrintable(shot));
    }
    QCOMPARE(host.lineAfter(QStringLiteral("screenshot: ")), hostShot);
    QCOMPARE(guest.lineAfter(QStringLiteral("screenshot: ")), guestShot);
}

QTEST_MAIN(tst_QmlChat)

#include "tst_qmlchat.moc"
