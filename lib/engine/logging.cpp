#include "logging_p.h"

namespace QSocketIo {
Q_LOGGING_CATEGORY(lcEngine, "qsocketio.engine", QtWarningMsg)
Q_LOGGING_CATEGORY(lcEngineTraffic, "qsocketio.engine.traffic", QtWarningMsg)
} // namespace QSocketIo
