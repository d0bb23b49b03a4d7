// Runs the tst_*.qml files of this folder. The C++ peer is the QML type
// CppPeer of the WsQtTestPeer module.

#include "cpppeer.h"

#include <QtQml/qqmlengine.h>
#include <QtQuickTest/quicktest.h>

class Setup : public QObject
{
    Q_OBJECT

public Q_SLOTS:
    void qmlEngineAvailable(QQmlEngine *)
    {
        qmlRegisterType<CppPeer>("WsQtTestPeer", 1, 0, "CppPeer");
    }
};

QUICK_TEST_MAIN_WITH_SETUP(tst_qml, Setup)

#include "tst_qml.moc"
