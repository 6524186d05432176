#pragma once

#include <QtCore/qloggingcategory.h>

namespace QSocketIo {
// Sessions opening and closing, refused requests, protocol errors: warnings and up by default.
Q_DECLARE_LOGGING_CATEGORY(lcEngine)
// Every packet in and out: off by default (EngineOptions::engineioLogger switches it on).
Q_DECLARE_LOGGING_CATEGORY(lcEngineTraffic)
} // namespace QSocketIo
