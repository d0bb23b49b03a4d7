#pragma once

// The descriptors the test process holds, for tests that prove none leaked.

#include <QtCore/qdir.h>
#include <QtCore/qfileinfo.h>

namespace wsqt::test {

// Every open descriptor of the process.
inline int openDescriptorCount()
{
    return int(QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::Files | QDir::System).size());
}

// The open descriptors that are sockets.
inline int openSocketCount()
{
    int sockets = 0;
    const QDir fds(QStringLiteral("/proc/self/fd"));
    for (const QFileInfo &entry : fds.entryInfoList(QDir::Files | QDir::System)) {
        if (entry.symLinkTarget().contains(QLatin1String("socket:")))
            ++sockets;
    }
    return sockets;
}

} // namespace wsqt::test
