#pragma once

#include <QtCore/qglobal.h>

#if defined(QSOCKETIO_BUILD_LIBRARY)
#define QSOCKETIO_EXPORT Q_DECL_EXPORT
#else
#define QSOCKETIO_EXPORT Q_DECL_IMPORT
#endif
