#pragma once

/// \file
/// The export macro of the library.

#include <QtCore/qglobal.h>

/// \def WSQT_EXPORT
/// Marks a class or function of the library's API: exported while the
/// library is built (WSQT_LIBRARY defined), imported by its users.
#if defined(WSQT_LIBRARY)
#  define WSQT_EXPORT Q_DECL_EXPORT
#else
#  define WSQT_EXPORT Q_DECL_IMPORT
#endif
