#pragma once

#include <QtCore/qloggingcategory.h>

namespace QSocketIo {
// Connections, reconnections, refusals and protocol errors of SocketClient.
Q_DECLARE_LOGGING_CATEGORY(lcClient)
// Every Engine.IO packet in and out: off by default.
Q_DECLARE_LOGGING_CATEGORY(lcClientTraffic)
} // namespace QSocketIo
