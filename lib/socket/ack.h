#pragma once

#include "../qsocketioglobal.h"

#include <QtCore/qvariant.h>

#include <functional>
#include <memory>

namespace QSocketIo {

// The acknowledgement a client asked for with its event. Copyable; the first call sends it,
// later calls do nothing. A handler that keeps a copy may answer later.
class QSOCKETIO_EXPORT Ack
{
public:
    Ack() = default;
    explicit Ack(std::function<void(const QVariantList &)> send);

    bool isRequested() const { return bool(m_state); }
    bool isSent() const;
    void operator()(const QVariantList &args = {}) const;

private:
    struct State
    {
        std::function<void(const QVariantList &)> send;
        bool sent = false;
    };
    std::shared_ptr<State> m_state;
};

// Called once: with the client's answer to an emitWithAck(), or with timedOut set when the
// timeout passed or the socket disconnected first.
using AckCallback = std::function<void(bool timedOut, const QVariantList &args)>;

// What a connect middleware or connect handler refuses a connection with (CONNECT_ERROR).
struct QSOCKETIO_EXPORT ConnectError
{
    QString message;
    QVariant data; // optional details for the client (err.data)
};

// The continuation handed to middlewares: next() lets the connection or packet through,
// next(error) refuses it.
class QSOCKETIO_EXPORT Next
{
public:
    explicit Next(std::function<void(const ConnectError *)> fn)
        : m_fn(std::move(fn))
    {
    }
    void operator()() const { m_fn(nullptr); }
    void operator()(const ConnectError &error) const { m_fn(&error); }

private:
    std::function<void(const ConnectError *)> m_fn;
};

} // namespace QSocketIo

Q_DECLARE_METATYPE(QSocketIo::Ack)
