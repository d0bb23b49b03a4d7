#pragma once

#include <QtCore/qglobal.h>

#if defined(WSQT_LIBRARY)
#  define WSQT_EXPORT Q_DECL_EXPORT
#else
#  define WSQT_EXPORT Q_DECL_IMPORT
#endif
