#pragma once

#include <QtCore/qobject.h>
#include <QtCore/qstringlist.h>
#include <QtQml/qqml.h>

class QCoreApplication;
class QQuickWindow;
Q_MOC_INCLUDE(<QtQuick/qquickwindow.h>)

// What the command line asks of the chat window (host, join, say, and for
// unattended runs: print the transcript and take a screenshot), as the QML
// singleton CommandLine.
class CommandLine : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON
    Q_PROPERTY(int hostPort READ hostPort CONSTANT)
    Q_PROPERTY(QString joinUrl READ joinUrl CONSTANT)
    Q_PROPERTY(QString name READ name CONSTANT)
    Q_PROPERTY(QStringList messages READ messages CONSTANT)
    Q_PROPERTY(int quitAfter READ quitAfter CONSTANT)

public:
    // Parses the arguments; exits with the usage on an error.
    static void parse(const QCoreApplication &application);
    static CommandLine *create(QQmlEngine *, QJSEngine *);

    // -1 when not hosting.
    int hostPort() const { return m_hostPort; }
    QString joinUrl() const { return m_joinUrl; }
    QString name() const { return m_name; }
    // Said once connected.
    QStringList messages() const { return m_messages; }
    // Finish once the transcript has this many lines; 0: never.
    int quitAfter() const { return m_quitAfter; }

    // A line on standard output.
    Q_INVOKABLE void print(const QString &line) const;
    // Prints the transcript (with --dump) and saves a screenshot of `window`
    // (with --screenshot).
    Q_INVOKABLE void finish(QQuickWindow *window, const QStringList &transcript) const;

private:
    CommandLine() = default;

    QString m_joinUrl;
    QString m_name;
    QString m_screenshot;
    QStringList m_messages;
    int m_hostPort = -1;
    int m_quitAfter = 0;
    bool m_dump = false;
};
