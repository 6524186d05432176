#pragma once

#include <QtCore/qstring.h>

namespace QSocketIo {
// 20 URL-safe characters from the system's cryptographic random source: Engine.IO session ids
// and Socket.IO socket ids.
QString generateId();
} // namespace QSocketIo
