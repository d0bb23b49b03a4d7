#include <core/subprotocol.h>

#include <QtTest/qtest.h>

using namespace wsqt::core;

// The expected results are those of ws 8's subprotocol.parse for the same input.
class tst_Subprotocol : public QObject
{
    Q_OBJECT

private slots:
    void parses_data();
    void parses();
    void refuses_data();
    void refuses();
    void linearInWhitespace();
    void linearInTokens();
    void validSubprotocol_data();
    void validSubprotocol();
};

void tst_Subprotocol::parses_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QList<QByteArray>>("protocols");

    QTest::newRow("one") << QByteArray("chat") << QList<QByteArray>{"chat"};
    QTest::newRow("RFC 6455 §1.3") << QByteArray("chat, superchat") << QList<QByteArray>{"chat", "superchat"};
    QTest::newRow("no space") << QByteArray("a,b") << QList<QByteArray>{"a", "b"};
    QTest::newRow("space both sides") << QByteArray("a , b") << QList<QByteArray>{"a", "b"};
    QTest::newRow("tabs") << QByteArray("a\t,\tb") << QList<QByteArray>{"a", "b"};
    QTest::newRow("several spaces") << QByteArray("a,  b") << QList<QByteArray>{"a", "b"};
    QTest::newRow("case matters") << QByteArray("A,a") << QList<QByteArray>{"A", "a"};
    QTest::newRow("every token char") << QByteArray("!#$%&'*+-.^_`|~09AZaz")
                                      << QList<QByteArray>{"!#$%&'*+-.^_`|~09AZaz"};
    QTest::newRow("order kept") << QByteArray("z, y, x") << QList<QByteArray>{"z", "y", "x"};
}

void tst_Subprotocol::parses()
{
    QFETCH(QByteArray, header);
    QFETCH(QList<QByteArray>, protocols);

    QList<QByteArray> parsed;
    QString error;
    QVERIFY2(parseSubprotocols(header, &parsed, &error), qPrintable(error));
    QCOMPARE(parsed, protocols);
    QVERIFY(error.isEmpty());
}

void tst_Subprotocol::refuses_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QString>("error");

    const auto at = [](int index) { return QStringLiteral("Unexpected character at index %1").arg(index); };
    const QString end = QStringLiteral("Unexpected end of input");

    // bad-inputs 4: empty tokens, leading or trailing commas, duplicates,
    // non-ASCII and control bytes.
    QTest::newRow("leading space") << QByteArray(" a") << at(0);
    QTest::newRow("leading tab") << QByteArray("\ta") << at(0);
    QTest::newRow("leading comma") << QByteArray(",a") << at(0);
    QTest::newRow("empty token") << QByteArray("a,,b") << at(2);
    QTest::newRow("blank token") << QByteArray("a, ,b") << at(3);
    QTest::newRow("semicolon") << QByteArray("a;b") << at(1);
    QTest::newRow("slash") << QByteArray("a/b") << at(1);
    QTest::newRow("quote") << QByteArray("a\"b") << at(1);
    QTest::newRow("space inside") << QByteArray("a b") << at(2);
    QTest::newRow("space inside second") << QByteArray("a,b c") << at(4);
    QTest::newRow("non-ASCII") << QByteArray("a\x80") << at(1);
    QTest::newRow("UTF-8") << QByteArray("ch\xc3\xa4t") << at(2);
    QTest::newRow("control") << QByteArray("a\x01") << at(1);
    QTest::newRow("CR LF") << QByteArray("a\r\nb") << at(1);
    QTest::newRow("NUL") << QByteArray("a\0b", 3) << at(1);
    QTest::newRow("empty") << QByteArray("") << end;
    QTest::newRow("trailing comma") << QByteArray("a,") << end;
    QTest::newRow("trailing space") << QByteArray("a ") << end;
    QTest::newRow("trailing comma and space") << QByteArray("a,b ,") << end;
    QTest::newRow("duplicate") << QByteArray("a, a") << QStringLiteral("The \"a\" subprotocol is duplicated");
    QTest::newRow("duplicate later") << QByteArray("a,b,a") << QStringLiteral("The \"a\" subprotocol is duplicated");
    QTest::newRow("duplicate last") << QByteArray("chat, superchat , chat")
                                    << QStringLiteral("The \"chat\" subprotocol is duplicated");
}

void tst_Subprotocol::refuses()
{
    QFETCH(QByteArray, header);
    QFETCH(QString, error);

    QList<QByteArray> parsed = {"untouched"};
    QString message;
    QVERIFY(!parseSubprotocols(header, &parsed, &message));
    QCOMPARE(message, error);
    QCOMPARE(parsed, QList<QByteArray>{"untouched"});
}

void tst_Subprotocol::linearInWhitespace()
{
    // bad-inputs 4: a million spaces between two tokens. A parser that went
    // back over the spaces for each one would not finish within the test's time.
    const QByteArray header = "a," + QByteArray(1000000, ' ') + "b";
    QList<QByteArray> parsed;
    QString error;
    QVERIFY(parseSubprotocols(header, &parsed, &error));
    QCOMPARE(parsed, (QList<QByteArray>{"a", "b"}));

    // The same spaces before a bad byte: the error names its index.
    QVERIFY(!parseSubprotocols("a," + QByteArray(1000000, ' ') + "/", &parsed, &error));
    QCOMPARE(error, QStringLiteral("Unexpected character at index 1000002"));
}

void tst_Subprotocol::linearInTokens()
{
    // 200 000 distinct tokens, then a repeat of the first: the duplicate check
    // must not compare each token with all those before it.
    QByteArray header;
    for (int i = 0; i < 200000; ++i)
        header += "p" + QByteArray::number(i) + ",";
    header += "p0";
    QList<QByteArray> parsed;
    QString error;
    QVERIFY(!parseSubprotocols(header, &parsed, &error));
    QCOMPARE(error, QStringLiteral("The \"p0\" subprotocol is duplicated"));
    header.chop(2);
    header += "last";
    QVERIFY(parseSubprotocols(header, &parsed, &error));
    QCOMPARE(parsed.size(), 200001);
    QCOMPARE(parsed.last(), QByteArray("last"));
}

void tst_Subprotocol::validSubprotocol_data()
{
    QTest::addColumn<QByteArray>("protocol");
    QTest::addColumn<bool>("valid");

    QTest::newRow("token") << QByteArray("chat.v2+json") << true;
    QTest::newRow("empty") << QByteArray("") << false;
    QTest::newRow("comma") << QByteArray("a,b") << false;
    QTest::newRow("space") << QByteArray("a b") << false;
    QTest::newRow("CR LF") << QByteArray("chat\r\nX-Injected: 1") << false;
    QTest::newRow("NUL") << QByteArray("a\0", 2) << false;
    QTest::newRow("non-ASCII") << QByteArray("\xc3\xa4") << false;
}

void tst_Subprotocol::validSubprotocol()
{
    QFETCH(QByteArray, protocol);
    QFETCH(bool, valid);
    QCOMPARE(isValidSubprotocol(protocol), valid);
}

QTEST_APPLESS_MAIN(tst_Subprotocol)

#include "tst_subprotocol.moc"
