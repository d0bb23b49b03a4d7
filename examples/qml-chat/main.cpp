// The chat window; see README.md for its command line.

#include "commandline.h"

#include <QtGui/qguiapplication.h>
#include <QtQml/qqmlapplicationengine.h>

int main(int argc, char *argv[])
{
    QGuiApplication application(argc, argv);
    application.setApplicationName(QStringLiteral("qml-chat"));
    CommandLine::parse(application);

    QQmlApplicationEngine engine;
#ifdef WSQT_QML_IMPORT_PATH
    // Built inside the WsQt tree: the module is not installed yet.
    engine.addImportPath(QStringLiteral(WSQT_QML_IMPORT_PATH));
#endif
    QObject::connect(&engine, &QQmlApplicationEngine::objectCreated, &application, [](QObject *root) {
        if (!root)
            QCoreApplication::exit(1);
    }, Qt::QueuedConnection);
    engine.load(QUrl(QStringLiteral("qrc:/QmlChat/Main.qml")));
    return application.exec();
}
