#include "socketevent.h"

#include <QtCore/qmutex.h>

namespace QSocketIo {

// Registrations happen during static initialisation, possibly of several libraries.
static QList<SocketEventRegistration> &registry()
{
    static QList<SocketEventRegistration> list;
    return list;
}
Q_CONSTINIT static QBasicMutex registryMutex;

bool registerSocketEvent(
    SocketEventFunction function, const char *file, int line, const char *event, const char *nsp)
{
    QMutexLocker lock(&registryMutex);
    registry().append({event, nsp, function, file, line});
    return true;
}

QList<SocketEventRegistration> registeredSocketEvents()
{
    QMutexLocker lock(&registryMutex);
    return registry();
}

} // namespace QSocketIo
