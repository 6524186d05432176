#include "wsconnection_p.h"

#include "enginesocket.h"
#include "logging_p.h"

#include <QtCore/qcryptographichash.h>
#include <QtCore/qendian.h>
#include <QtCore/qsocketnotifier.h>
#include <QtWebSockets/qwebsocket.h>

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace QSocketIo {

using namespace Qt::StringLiterals;

namespace {

constexpr int OpContinuation = 0x0;
constexpr int OpText = 0x1;
constexpr int OpBinary = 0x2;
constexpr int OpClose = 0x8;
constexpr int OpPing = 0x9;
constexpr int OpPong = 0xA;

constexpr qsizetype readChunk = 64 * 1024;
constexpr int readsPerWakeup = 16; // then let other connections have their turn

// One read buffer per thread, made on first use (not a thread_local array: every thread of
// the process would carry it).
char *readBuffer()
{
    static thread_local std::unique_ptr<char[]> buffer;
    if (!buffer)
        buffer.reset(new char[readChunk]);
    return buffer.get();
}

void unmask(char *data, qsizetype size, const uchar key[4])
{
    quint32 k32;
    std::memcpy(&k32, key, 4);
    const quint64 k64 = (quint64(k32) << 32) | k32;
    qsizetype i = 0;
    for (; i + 8 <= size; i += 8) {
        quint64 v;
        std::memcpy(&v, data + i, 8);
        v ^= k64;
        std::memcpy(data + i, &v, 8);
    }
    for (; i < size; ++i)
        data[i] = char(data[i] ^ key[i & 3]);
}

} // namespace

// ---- RawWebSocket

RawWebSocket::RawWebSocket(int fd, qint64 maxMessage, const QByteArray &initial, bool autoStart)
    : m_fd(fd)
    , m_maxMessage(maxMessage)
{
    // Engine.IO packets are small and latency matters more than packing them.
    const int one = 1;
    ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    m_readNotifier = new QSocketNotifier(qintptr(m_fd), QSocketNotifier::Read);
    QObject::connect(m_readNotifier, &QSocketNotifier::activated, m_readNotifier,
        [this] { onReadable(); });
    m_in = initial;
    if (!m_in.isEmpty()) {
        // Frames that came with the request head go first: reading waits for start().
        m_readNotifier->setEnabled(false);
        if (autoStart) {
            // On the next turn, once the session is set up.
            QMetaObject::invokeMethod(m_readNotifier, [this] { start(); }, Qt::QueuedConnection);
        }
    }
}

void RawWebSocket::start()
{
    if (m_fd < 0 || !m_readNotifier || m_readNotifier->isEnabled() || m_closeReceived)
        return;
    m_readNotifier->setEnabled(true);
    bool deleted = false;
    m_deleted = &deleted;
    m_corked = true;
    const QByteArray pending = std::exchange(m_in, {});
    const qsizetype used = parse(pending);
    if (deleted)
        return;
    if (used >= 0 && used < pending.size())
        m_in = pending.sliced(used);
    uncork();
    if (!deleted)
        m_deleted = nullptr;
}

RawWebSocket::~RawWebSocket()
{
    if (m_deleted)
        *m_deleted = true;
    delete m_writeNotifier;
    delete m_readNotifier; // unregistered before the descriptor closes
    if (m_fd >= 0)
        ::close(m_fd);
}

QByteArray RawWebSocket::acceptKey(const QByteArray &key)
{
    const auto decoded = QByteArray::fromBase64Encoding(key.trimmed(),
        QByteArray::Base64Encoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || decoded.decoded.size() != 16)
        return {};
    return QCryptographicHash::hash(
        key.trimmed() + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", QCryptographicHash::Sha1)
        .toBase64();
}

QByteArray RawWebSocket::frame(int opcode, QByteArrayView payload)
{
    return frame(opcode, {}, payload);
}

QByteArray RawWebSocket::frame(int opcode, QByteArrayView prefix, QByteArrayView payload)
{
    const qsizetype n = prefix.size() + payload.size();
    const qsizetype header = n < 126 ? 2 : n < 65536 ? 4 : 10;
    QByteArray out(header + n, Qt::Uninitialized);
    auto *p = reinterpret_cast<uchar *>(out.data());
    p[0] = uchar(0x80 | opcode);
    if (n < 126) {
        p[1] = uchar(n);
    } else if (n < 65536) {
        p[1] = 126;
        qToBigEndian(quint16(n), p + 2);
    } else {
        p[1] = 127;
        qToBigEndian(quint64(n), p + 2);
    }
    if (!prefix.isEmpty())
        std::memcpy(p + header, prefix.data(), size_t(prefix.size()));
    if (!payload.isEmpty())
        std::memcpy(p + header + prefix.size(), payload.data(), size_t(payload.size()));
    return out;
}

void RawWebSocket::sendText(QByteArrayView utf8)
{
    if (!m_closeSent)
        write(frame(OpText, utf8));
}

void RawWebSocket::sendMessage(const EngineMessage &message)
{
    writeFrame(message.webSocketFrame());
}

void RawWebSocket::uncork()
{
    m_corked = false;
    if (!m_queue.isEmpty() && !m_writeNotifier)
        onWritable();
}

void RawWebSocket::write(const QByteArray &bytes)
{
    if (m_fd < 0 || m_writeFailed || bytes.isEmpty())
        return;
    if (m_queue.isEmpty() && !m_corked) {
        ssize_t n;
        do {
            n = ::send(m_fd, bytes.constData(), size_t(bytes.size()), MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        if (n == bytes.size())
            return;
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                // The read side sees the end too and reports it.
                qCDebug(lcEngine) << "WebSocket write failed:" << std::strerror(errno);
                m_writeFailed = true;
                return;
            }
            n = 0;
        }
        m_queue.append(bytes); // shared, not copied
        m_queueOffset = n;
        m_queued = bytes.size() - n;
        setWriteNotifier(true);
        return;
    }
    m_queue.append(bytes);
    m_queued += bytes.size();
}

void RawWebSocket::setWriteNotifier(bool enabled)
{
    if (enabled && !m_writeNotifier) {
        m_writeNotifier = new QSocketNotifier(qintptr(m_fd), QSocketNotifier::Write);
        QObject::connect(m_writeNotifier, &QSocketNotifier::activated, m_writeNotifier,
            [this] { onWritable(); });
    } else if (!enabled && m_writeNotifier) {
        // Deleted rather than kept disabled: most connections never need one again. Safe
        // inside its own activation (Qt guards the emission).
        delete std::exchange(m_writeNotifier, nullptr);
    }
}

void RawWebSocket::onWritable()
{
    // Only bytes that had to wait for the kernel are reported as written: what a corked batch
    // writes at once never counted as waiting.
    const bool waited = m_writeNotifier != nullptr;
    bool progressed = false;
    while (!m_queue.isEmpty()) {
        iovec iov[64];
        int count = 0;
        ssize_t requested = 0;
        for (qsizetype i = 0; i < m_queue.size() && count < 64; ++i, ++count) {
            const QByteArray &b = m_queue.at(i);
            const qsizetype skip = i == 0 ? m_queueOffset : 0;
            iov[count].iov_base = const_cast<char *>(b.constData()) + skip;
            iov[count].iov_len = size_t(b.size() - skip);
            requested += ssize_t(iov[count].iov_len);
        }
        msghdr msg {};
        msg.msg_iov = iov;
        msg.msg_iovlen = size_t(count);
        ssize_t n;
        do {
            n = ::sendmsg(m_fd, &msg, MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            qCDebug(lcEngine) << "WebSocket write failed:" << std::strerror(errno);
            m_writeFailed = true;
            m_queue.clear();
            m_queued = 0;
            m_queueOffset = 0;
            break;
        }
        m_queued -= n;
        progressed = progressed || n > 0;
        const bool partial = n < requested;
        while (n > 0) {
            const qsizetype left = m_queue.first().size() - m_queueOffset;
            if (n >= left) {
                n -= left;
                m_queue.removeFirst();
                m_queueOffset = 0;
            } else {
                m_queueOffset += n;
                n = 0;
            }
        }
        if (partial)
            break; // the kernel took what it could
    }
    if (!m_queue.isEmpty()) {
        if (!m_writeFailed)
            setWriteNotifier(true);
        if (waited && progressed && m_receiver)
            m_receiver->wsWritten(this);
        return;
    }
    setWriteNotifier(false);
    if (m_closeSent && (m_closeReceived || m_writeFailed) && m_finished) {
        finish();
        return;
    }
    if (waited && m_receiver)
        m_receiver->wsWritten(this);
}

void RawWebSocket::onReadable()
{
    bool deleted = false;
    m_deleted = &deleted;
    for (int round = 0; round < readsPerWakeup && m_fd >= 0; ++round) {
        char *buffer = readBuffer();
        ssize_t n;
        do {
            n = ::recv(m_fd, buffer, size_t(readChunk), 0);
        } while (n < 0 && errno == EINTR);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            const QString why = n == 0 ? u"connection closed"_s
                                       : QString::fromLocal8Bit(std::strerror(errno));
            ended(CloseAbnormal, why, true);
            if (!deleted)
                m_deleted = nullptr;
            return;
        }
        if (n < 0)
            break;
        qsizetype used;
        // What the application answers to these messages leaves in one write, after them.
        m_corked = true;
        if (m_in.isEmpty()) {
            used = parse(QByteArrayView(buffer, n));
            if (used >= 0 && used < n)
                m_in = QByteArray(buffer + used, n - used);
        } else {
            m_in.append(buffer, n);
            const QByteArray pending = std::exchange(m_in, {});
            used = parse(pending);
            if (used >= 0 && used < pending.size())
                m_in = pending.sliced(used);
        }
        if (deleted)
            return;
        uncork();
        if (deleted)
            return;
        if (used < 0 || n < readChunk)
            break;
    }
    m_deleted = nullptr;
}

qsizetype RawWebSocket::parse(QByteArrayView data)
{
    // Set by our caller; the destructor raises it when a callback deletes us.
    bool *const deleted = m_deleted;
    qsizetype pos = 0;
    while (m_fd >= 0 && !m_closeReceived) {
        const auto *p = reinterpret_cast<const uchar *>(data.data()) + pos;
        const qsizetype avail = data.size() - pos;
        if (avail < 2)
            break;
        const bool fin = p[0] & 0x80;
        const int opcode = p[0] & 0x0f;
        const bool masked = p[1] & 0x80;
        qsizetype header = 2;
        quint64 length = p[1] & 0x7f;
        if (length == 126) {
            if (avail < 4)
                break;
            length = qFromBigEndian<quint16>(p + 2);
            header = 4;
        } else if (length == 127) {
            if (avail < 10)
                break;
            length = qFromBigEndian<quint64>(p + 2);
            header = 10;
        }
        // Checked before waiting for the payload, so nothing too large is ever buffered.
        QString error;
        int code = CloseProtocolError;
        if (p[0] & 0x70)
            error = u"reserved bits set without an extension"_s;
        else if (!masked)
            error = u"unmasked frame from the client"_s;
        else if (opcode >= 0x8 && (!fin || length > 125))
            error = u"fragmented or oversized control frame"_s;
        else if (opcode != OpContinuation && opcode != OpText && opcode != OpBinary
            && opcode != OpClose && opcode != OpPing && opcode != OpPong)
            error = u"unknown opcode %1"_s.arg(opcode);
        else if (opcode == OpContinuation && !m_messageOpcode)
            error = u"continuation frame without a message"_s;
        else if ((opcode == OpText || opcode == OpBinary) && m_messageOpcode)
            error = u"new message inside a fragmented one"_s;
        else if (opcode < 0x8 && length + quint64(m_message.size()) > quint64(m_maxMessage)) {
            error = u"message larger than maxPayload"_s;
            code = CloseTooBig;
        }
        if (!error.isEmpty()) {
            fail(code, error);
            return -1;
        }
        header += 4;
        if (avail < header || quint64(avail - header) < length)
            break;
        uchar key[4];
        std::memcpy(key, p + header - 4, 4);
        QByteArray payload(reinterpret_cast<const char *>(p + header), qsizetype(length));
        unmask(payload.data(), payload.size(), key);
        pos += header + qsizetype(length);
        if (!handleFrame(opcode, fin, std::move(payload)) || *deleted)
            return -1;
    }
    return pos;
}

bool RawWebSocket::handleFrame(int opcode, bool fin, QByteArray &&payload)
{
    switch (opcode) {
    case OpPing:
        if (!m_closeSent)
            write(frame(OpPong, payload));
        return true;
    case OpPong:
        return true;
    case OpClose: {
        m_closeReceived = true; // the peer sends nothing more, whatever we answer
        int code = 1005; // none given
        QString reason;
        if (payload.size() == 1) {
            fail(CloseProtocolError, u"malformed close frame"_s);
            return false;
        }
        if (payload.size() >= 2) {
            code = qFromBigEndian<quint16>(payload.constData());
            // RFC 6455 7.4: 1004-1006 and 1015 are never sent; 1016-2999 are not assigned.
            const bool valid = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
                || (code >= 3000 && code <= 4999);
            if (!valid) {
                fail(CloseProtocolError, u"invalid close code %1"_s.arg(code));
                return false;
            }
            const QByteArrayView text = QByteArrayView(payload).sliced(2);
            if (!text.isValidUtf8()) {
                fail(CloseInvalidData, u"close reason is not UTF-8"_s);
                return false;
            }
            reason = QString::fromUtf8(text);
        }
        m_peerCloseCode = payload.size() >= 2 ? code : CloseNormal;
        if (!m_closeSent && !m_deferCloseAnswer)
            sendClose(m_peerCloseCode);
        ended(code, reason, false);
        return false;
    }
    default:
        break;
    }
    if (m_closeSent)
        return true; // data after our close frame is not delivered
    if (opcode != OpContinuation && !fin) {
        m_messageOpcode = opcode;
        m_message = std::move(payload);
        return true;
    }
    if (opcode == OpContinuation) {
        m_message.append(payload);
        if (!fin)
            return true;
        opcode = std::exchange(m_messageOpcode, 0);
        payload = std::exchange(m_message, {});
    }
    if (opcode == OpText && !QByteArrayView(payload).isValidUtf8()) {
        fail(CloseInvalidData, u"invalid UTF-8 in a text message"_s);
        return false;
    }
    if (m_receiver) {
        if (opcode == OpText)
            m_receiver->wsText(this, payload);
        else
            m_receiver->wsBinary(this, payload);
    }
    return true;
}

void RawWebSocket::sendClose(int code)
{
    if (m_closeSent)
        return;
    m_closeSent = true;
    uchar payload[2];
    qToBigEndian(quint16(code), payload);
    write(frame(OpClose, QByteArrayView(payload, 2)));
}

void RawWebSocket::fail(int code, const QString &reason)
{
    qCDebug(lcEngine) << "WebSocket protocol error:" << reason;
    m_message.clear();
    m_messageOpcode = 0;
    sendClose(code);
    if (!m_closeTimer) {
        // Bounded wait for the peer's close frame, also when nobody retires us.
        m_closeTimer = std::make_unique<DeadlineTimer>([this] {
            ended(CloseAbnormal, u"no close frame from the client"_s, true);
        });
        m_closeTimer->start(std::chrono::seconds(5));
    }
    reportClosed(code, reason);
}

void RawWebSocket::ended(int code, const QString &reason, bool lost)
{
    if (m_finished) {
        // Retired: done once our close frame (or answer) went out; onWritable() finishes then.
        if (lost || m_queue.isEmpty() || m_writeFailed)
            finish();
        return;
    }
    // Close the descriptor once the close frame (ours or our answer) went out; a deferred
    // answer waits for shutdown().
    if ((m_queue.isEmpty() && m_closeSent) || m_writeFailed || lost) {
        delete m_readNotifier;
        m_readNotifier = nullptr;
        setWriteNotifier(false);
        m_queue.clear();
        m_queued = 0;
        if (m_fd >= 0)
            ::close(std::exchange(m_fd, -1));
    } else if (m_readNotifier) {
        m_readNotifier->setEnabled(false);
    }
    reportClosed(code, reason);
}

void RawWebSocket::reportClosed(int code, const QString &reason)
{
    if (m_reported || !m_receiver)
        return;
    m_reported = true;
    m_receiver->wsClosed(this, code, reason);
}

void RawWebSocket::shutdown(
    std::chrono::milliseconds timeout, std::function<void(WsConnection *)> finished)
{
    m_receiver = nullptr;
    m_finished = std::move(finished);
    if (m_fd >= 0 && !m_writeFailed && m_closeReceived && !m_closeSent) {
        // The deferred answer to the peer's close frame, after what was sent before.
        sendClose(m_peerCloseCode);
        if (m_queue.isEmpty() || m_writeFailed) {
            finish();
            return;
        }
    }
    if (m_fd < 0 || m_writeFailed || m_closeReceived) {
        if (m_fd >= 0 && !m_queue.isEmpty() && !m_writeFailed) {
            // Our answer to the peer's close frame is still going out.
            m_closeTimer = std::make_unique<DeadlineTimer>([this] { finish(); });
            m_closeTimer->start(timeout);
            return;
        }
        finish();
        return;
    }
    sendClose(CloseNormal);
    m_closeTimer = std::make_unique<DeadlineTimer>([this] { finish(); });
    m_closeTimer->start(timeout);
    if (m_readNotifier)
        m_readNotifier->setEnabled(true);
}

void RawWebSocket::finish()
{
    if (m_closeTimer)
        m_closeTimer->stop();
    delete m_readNotifier;
    m_readNotifier = nullptr;
    setWriteNotifier(false);
    if (m_fd >= 0)
        ::close(std::exchange(m_fd, -1));
    if (auto finished = std::exchange(m_finished, nullptr))
        finished(this); // deletes us
}

// ---- QtWebSocket

QtWebSocket::QtWebSocket(QWebSocket *socket, qint64 maxMessage)
    : m_socket(socket)
{
    socket->setParent(nullptr);
    socket->setMaxAllowedIncomingMessageSize(quint64(maxMessage));
    socket->setMaxAllowedIncomingFrameSize(quint64(maxMessage));
    // Each slot counts itself in m_inSignal: deleting us inside one must not delete the
    // QWebSocket that is emitting.
    auto guarded = [this](auto &&f) {
        return [this, f](auto &&...args) {
            ++m_inSignal;
            bool deleted = false;
            bool *outer = std::exchange(m_deleted, &deleted);
            f(args...);
            if (!deleted) {
                m_deleted = outer;
                --m_inSignal;
            }
        };
    };
    QObject::connect(socket, &QWebSocket::textMessageReceived, socket,
        guarded([this](const QString &t) {
            if (m_receiver)
                m_receiver->wsText(this, t.toUtf8());
        }));
    QObject::connect(socket, &QWebSocket::binaryMessageReceived, socket,
        guarded([this](const QByteArray &bytes) {
            if (m_receiver)
                m_receiver->wsBinary(this, bytes);
        }));
    QObject::connect(socket, &QWebSocket::bytesWritten, socket, guarded([this](qint64) {
        if (m_receiver)
            m_receiver->wsWritten(this);
    }));
    QObject::connect(socket, &QWebSocket::disconnected, socket, guarded([this] {
        if (m_finished) {
            m_closeTimer->stop();
            std::exchange(m_finished, nullptr)(this);
            return;
        }
        if (Receiver *r = std::exchange(m_receiver, nullptr)) {
            const int code = m_socket->closeCode() == QWebSocketProtocol::CloseCodeTooMuchData
                ? CloseTooBig
                : int(m_socket->closeCode());
            r->wsClosed(this, code, m_socket->closeReason());
        }
    }));
}

QtWebSocket::~QtWebSocket()
{
    if (m_deleted)
        *m_deleted = true;
    QObject::disconnect(m_socket, nullptr, nullptr, nullptr);
    if (m_socket->state() != QAbstractSocket::UnconnectedState)
        m_socket->abort();
    if (m_inSignal)
        m_socket->deleteLater(); // it is emitting
    else
        delete m_socket;
}

void QtWebSocket::sendText(QByteArrayView utf8)
{
    m_socket->sendTextMessage(QString::fromUtf8(utf8));
}

void QtWebSocket::sendMessage(const EngineMessage &message)
{
    if (message.packet().binary)
        m_socket->sendBinaryMessage(message.packet().data);
    else
        m_socket->sendTextMessage(message.webSocketText());
}

qint64 QtWebSocket::bytesToWrite() const
{
    return m_socket->bytesToWrite();
}

void QtWebSocket::shutdown(
    std::chrono::milliseconds timeout, std::function<void(WsConnection *)> finished)
{
    m_receiver = nullptr;
    if (m_socket->state() == QAbstractSocket::UnconnectedState) {
        finished(this);
        return;
    }
    m_finished = std::move(finished);
    m_closeTimer = std::make_unique<DeadlineTimer>([this] {
        if (auto f = std::exchange(m_finished, nullptr))
            f(this);
    });
    m_closeTimer->start(timeout);
    m_socket->close();
}

} // namespace QSocketIo
