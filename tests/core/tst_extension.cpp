#include <core/extension.h>

#include <QtTest/qtest.h>

using namespace wsqt::core;

namespace {

// A plain rendering of parsed offers, independent of formatExtensions():
// "name{param,param=value}" per offer, offers separated by " | ".
QByteArray describe(const QList<ExtensionOffer> &offers)
{
    QByteArrayList parts;
    for (const ExtensionOffer &offer : offers) {
        QByteArrayList params;
        for (const ExtensionParam &param : offer.params)
            params.append(param.value ? param.name + '=' + *param.value : param.name);
        parts.append(offer.name + '{' + params.join(',') + '}');
    }
    return parts.join(" | ");
}

ExtensionParam flag(const char *name)
{
    return {name, std::nullopt};
}

ExtensionParam param(const char *name, const QByteArray &value)
{
    return {name, value};
}

} // namespace

// The expected results are those of ws 8's extension.parse for the same input.
class tst_Extension : public QObject
{
    Q_OBJECT

private slots:
    void parses_data();
    void parses();
    void refuses_data();
    void refuses();
    void keepsDuplicates();
    void linearOnUnclosedQuote();
    void linearOnManyParams();
    void format_data();
    void format();
    void formatRoundTrip();
};

void tst_Extension::parses_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QByteArray>("offers");

    QTest::newRow("name") << QByteArray("foo") << QByteArray("foo{}");
    QTest::newRow("flag") << QByteArray("foo; bar") << QByteArray("foo{bar}");
    QTest::newRow("repeated param") << QByteArray("foo;bar=1;bar=2") << QByteArray("foo{bar=1,bar=2}");
    QTest::newRow("repeated extension") << QByteArray("foo, foo; x") << QByteArray("foo{} | foo{x}");
    QTest::newRow("quoted token") << QByteArray("foo; bar=\"1\"") << QByteArray("foo{bar=1}");
    QTest::newRow("escaped first char") << QByteArray("foo; bar=\"\\1\"") << QByteArray("foo{bar=1}");
    QTest::newRow("escaped inner char") << QByteArray("foo; bar=\"a\\bc\"") << QByteArray("foo{bar=abc}");
    QTest::newRow("every char escaped") << QByteArray("x; y=\"\\a\\b\\c\"") << QByteArray("x{y=abc}");
    QTest::newRow("space after quote") << QByteArray("foo; bar=\"abc\" ; baz") << QByteArray("foo{bar=abc,baz}");
    QTest::newRow("spaces around separators") << QByteArray("foo ; bar ; baz=1 , qux")
                                              << QByteArray("foo{bar,baz=1} | qux{}");
    QTest::newRow("tab before comma") << QByteArray("foo; bar=1\t, baz") << QByteArray("foo{bar=1} | baz{}");
    QTest::newRow("three names") << QByteArray("a,b,c") << QByteArray("a{} | b{} | c{}");
    QTest::newRow("ws client offer") << QByteArray("permessage-deflate; client_max_window_bits")
                                     << QByteArray("permessage-deflate{client_max_window_bits}");
    QTest::newRow("two offers") << QByteArray("permessage-deflate; client_max_window_bits, permessage-deflate; "
                                              "server_no_context_takeover; client_max_window_bits=10")
                                << QByteArray("permessage-deflate{client_max_window_bits} | permessage-deflate{"
                                              "server_no_context_takeover,client_max_window_bits=10}");
    QTest::newRow("RFC 7692 §5.2 example") << QByteArray("permessage-deflate; client_max_window_bits; "
                                                         "server_max_window_bits=10, permessage-deflate; "
                                                         "client_max_window_bits")
                                           << QByteArray("permessage-deflate{client_max_window_bits,"
                                                         "server_max_window_bits=10} | "
                                                         "permessage-deflate{client_max_window_bits}");
}

void tst_Extension::parses()
{
    QFETCH(QByteArray, header);
    QFETCH(QByteArray, offers);

    QList<ExtensionOffer> parsed;
    QString error;
    QVERIFY2(parseExtensions(header, &parsed, &error), qPrintable(error));
    QCOMPARE(describe(parsed), offers);
}

void tst_Extension::refuses_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QString>("error");

    const auto at = [](int index) { return QStringLiteral("Unexpected character at index %1").arg(index); };
    const QString end = QStringLiteral("Unexpected end of input");

    QTest::newRow("empty") << QByteArray("") << end;
    QTest::newRow("trailing semicolon") << QByteArray("foo;") << end;
    QTest::newRow("trailing comma") << QByteArray("foo,") << end;
    QTest::newRow("trailing comma after value") << QByteArray("foo; bar=1,") << end;
    QTest::newRow("trailing space") << QByteArray("foo ") << end;
    QTest::newRow("trailing tab") << QByteArray("foo\t") << end;
    QTest::newRow("trailing space after value") << QByteArray("foo; bar=1 ") << end;
    QTest::newRow("trailing space after quote") << QByteArray("foo; bar=\"1\" ") << end;
    QTest::newRow("unclosed quote") << QByteArray("foo; bar=\"abc") << end;
    QTest::newRow("unclosed escape") << QByteArray("foo; bar=\"abc\\") << end;
    QTest::newRow("leading space") << QByteArray(" foo") << at(0);
    QTest::newRow("leading semicolon") << QByteArray(";foo") << at(0);
    QTest::newRow("leading comma") << QByteArray(",foo") << at(0);
    QTest::newRow("empty offer") << QByteArray("foo,,bar") << at(4);
    QTest::newRow("empty param") << QByteArray("foo;;") << at(4);
    QTest::newRow("no param name") << QByteArray("foo;=") << at(4);
    QTest::newRow("space in name") << QByteArray("foo bar") << at(4);
    QTest::newRow("value on extension") << QByteArray("foo=1") << at(3);
    QTest::newRow("space before =") << QByteArray("foo; bar =1") << at(9);
    QTest::newRow("spaces around =") << QByteArray("foo; bar = 1") << at(9);
    QTest::newRow("tabs around =") << QByteArray("foo\t;\tbar\t=1") << at(10);
    QTest::newRow("space after =") << QByteArray("foo; bar= 1") << at(9);
    QTest::newRow("space in value") << QByteArray("foo; bar=1 2") << at(11);
    QTest::newRow("space in quoted value") << QByteArray("foo; bar=\"a b\"") << at(11);
    QTest::newRow("empty quoted value") << QByteArray("foo; bar=\"\"") << at(10);
    QTest::newRow("escaped space") << QByteArray("foo; bar=\"a\\ b\"") << at(12);
    QTest::newRow("escaped quote") << QByteArray("foo; bar=\"a\\\"b\"") << at(12);
    QTest::newRow("token after quote") << QByteArray("foo; bar=\"abc\"x") << at(14);
    QTest::newRow("quote after quote") << QByteArray("foo; bar=\"1\"\"") << at(12);
    QTest::newRow("quote inside token") << QByteArray("foo; bar=a\"") << at(10);
    QTest::newRow("space then token") << QByteArray("foo; bar=a b") << at(11);
    QTest::newRow("non-ASCII name") << QByteArray("foo; b\xc3\xa9=1") << at(6);
    QTest::newRow("non-ASCII value") << QByteArray("foo; bar=\xc3\xa9") << at(9);
    QTest::newRow("non-ASCII quoted") << QByteArray("foo; bar=\"\xc3\xa9\"") << at(10);
    QTest::newRow("CR LF") << QByteArray("foo\r\nX: 1") << at(3);
    QTest::newRow("NUL") << QByteArray("foo; a=\0", 8) << at(7);
}

void tst_Extension::refuses()
{
    QFETCH(QByteArray, header);
    QFETCH(QString, error);

    QList<ExtensionOffer> parsed = {{"untouched", {}}};
    QString message;
    QVERIFY(!parseExtensions(header, &parsed, &message));
    QCOMPARE(message, error);
    QCOMPARE(describe(parsed), QByteArray("untouched{}"));
}

void tst_Extension::keepsDuplicates()
{
    // bad-inputs 5: duplicate and unknown parameters reach the extension,
    // which judges them (RFC 7692 §7).
    QList<ExtensionOffer> parsed;
    QString error;
    QVERIFY(parseExtensions("permessage-deflate; server_max_window_bits=10; server_max_window_bits=11; "
                            "client_max_window_bits; client_max_window_bits; x-unknown=\"7\"",
                            &parsed, &error));
    const QList<ExtensionOffer> expected = {
            {"permessage-deflate",
             {param("server_max_window_bits", "10"), param("server_max_window_bits", "11"),
              flag("client_max_window_bits"), flag("client_max_window_bits"), param("x-unknown", "7")}}};
    QCOMPARE(parsed, expected);
}

void tst_Extension::linearOnUnclosedQuote()
{
    // bad-inputs 5: an unclosed quoted string of a million backslash pairs.
    // A parser that rescanned the value at each escape would not finish in time.
    QByteArray header = "a; b=\"";
    for (int i = 0; i < 1000000; ++i)
        header += "\\c";
    QList<ExtensionOffer> parsed;
    QString error;
    QVERIFY(!parseExtensions(header, &parsed, &error));
    QCOMPARE(error, QStringLiteral("Unexpected end of input"));

    // Closed, it is a value of a million characters.
    header += '"';
    QVERIFY(parseExtensions(header, &parsed, &error));
    QCOMPARE(parsed.size(), 1);
    QCOMPARE(parsed[0].params.size(), 1);
    QCOMPARE(*parsed[0].params[0].value, QByteArray(1000000, 'c'));
}

void tst_Extension::linearOnManyParams()
{
    QByteArray header = "x";
    for (int i = 0; i < 200000; ++i)
        header += ";p" + QByteArray::number(i) + "=" + QByteArray::number(i);
    header += ", y" + QByteArray(1000000, ' ') + ";z";
    QList<ExtensionOffer> parsed;
    QString error;
    QVERIFY2(parseExtensions(header, &parsed, &error), qPrintable(error));
    QCOMPARE(parsed.size(), 2);
    QCOMPARE(parsed[0].params.size(), 200000);
    QCOMPARE(parsed[0].params.last(), param("p199999", "199999"));
    QCOMPARE(parsed[1], (ExtensionOffer{"y", {flag("z")}}));
}

void tst_Extension::format_data()
{
    QTest::addColumn<QList<ExtensionOffer>>("offers");
    QTest::addColumn<QByteArray>("header");

    QTest::newRow("ws client offer") << QList<ExtensionOffer>{{"permessage-deflate", {flag("client_max_window_bits")}}}
                                     << QByteArray("permessage-deflate; client_max_window_bits");
    QTest::newRow("ws server answer") << QList<ExtensionOffer>{{"permessage-deflate", {}}}
                                      << QByteArray("permessage-deflate");
    QTest::newRow("values and flags")
            << QList<ExtensionOffer>{{"permessage-deflate",
                                      {flag("server_no_context_takeover"), flag("client_no_context_takeover"),
                                       param("server_max_window_bits", "10"), flag("client_max_window_bits")}}}
            << QByteArray("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                          "server_max_window_bits=10; client_max_window_bits");
    QTest::newRow("several offers") << QList<ExtensionOffer>{{"a", {param("x", "1")}}, {"b", {}}, {"a", {}}}
                                    << QByteArray("a; x=1, b, a");
    QTest::newRow("value that is not a token")
            << QList<ExtensionOffer>{{"x", {param("path", "/a b"), param("q", "say \"hi\\\"")}}}
            << QByteArray("x; path=\"/a b\"; q=\"say \\\"hi\\\\\\\"\"");
    QTest::newRow("empty value") << QList<ExtensionOffer>{{"x", {param("e", "")}}} << QByteArray("x; e=\"\"");
    QTest::newRow("nothing") << QList<ExtensionOffer>{} << QByteArray("");
}

void tst_Extension::format()
{
    QFETCH(QList<ExtensionOffer>, offers);
    QFETCH(QByteArray, header);
    QCOMPARE(formatExtensions(offers), header);
}

void tst_Extension::formatRoundTrip()
{
    const QList<ExtensionOffer> offers = {
            {"permessage-deflate", {param("client_max_window_bits", "15"), flag("server_no_context_takeover")}},
            {"x-webkit-deflate-frame", {}},
            {"permessage-deflate", {param("server_max_window_bits", "9"), param("server_max_window_bits", "9")}}};
    QList<ExtensionOffer> parsed;
    QString error;
    QVERIFY2(parseExtensions(formatExtensions(offers), &parsed, &error), qPrintable(error));
    QCOMPARE(parsed, offers);
}

QTEST_APPLESS_MAIN(tst_Extension)

#include "tst_extension.moc"
