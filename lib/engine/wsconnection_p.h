#pragma once

// The WebSocket connection under a session. Two implementations:
// - RawWebSocket: our own RFC 6455 server side on the connection's descriptor, for plain TCP
//   connections that our listener accepted (the common case). It costs under 1 KB per idle
//   connection, where QTcpSocket + QWebSocket cost about 15 KB, and it writes a broadcast's
//   frame, built once, straight to each descriptor without converting or copying it.
// - QtWebSocket: QWebSocket, for TLS connections and for WebSockets that QtHttpServer upgraded
//   by itself (an upgrade on a keep-alive connection it already served).

#include "deadlinetimers_p.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>

#include <functional>
#include <memory>

class QSocketNotifier;
class QWebSocket;

namespace QSocketIo {

class EngineMessage;

class WsConnection
{
public:
    // What a connection reports to the session that uses it. A callback may delete the
    // connection (directly or by retiring it).
    class Receiver
    {
    public:
        virtual void wsText(WsConnection *connection, const QByteArray &utf8) = 0;
        virtual void wsBinary(WsConnection *connection, const QByteArray &bytes) = 0;
        // Queued bytes went out (bytesToWrite() shrank, maybe to zero).
        virtual void wsWritten(WsConnection *connection) = 0;
        // The connection is over: the peer closed it or broke the protocol (code 1002, 1007,
        // 1009 for a message over the size limit), or it failed (1006). Called once; the
        // receiver then retires or deletes the connection.
        virtual void wsClosed(WsConnection *connection, int code, const QString &reason) = 0;

    protected:
        ~Receiver() = default;
    };

    static constexpr int CloseNormal = 1000;
    static constexpr int CloseProtocolError = 1002;
    static constexpr int CloseAbnormal = 1006;
    static constexpr int CloseInvalidData = 1007;
    static constexpr int CloseTooBig = 1009;

    virtual ~WsConnection() = default; // drops the connection at once
    void setReceiver(Receiver *receiver) { m_receiver = receiver; }

    virtual void sendText(QByteArrayView utf8) = 0;
    virtual void sendMessage(const EngineMessage &message) = 0;
    // Written by the application but not yet accepted by the operating system.
    virtual qint64 bytesToWrite() const = 0;
    // Closes gracefully: what is queued goes out, then the close handshake, bounded by
    // `timeout`. `finished` is called once it is over (possibly at once); it deletes the
    // connection. No receiver calls happen after this.
    virtual void shutdown(std::chrono::milliseconds timeout,
        std::function<void(WsConnection *)> finished) = 0;

protected:
    Receiver *m_receiver = nullptr;
};

class RawWebSocket final : public WsConnection
{
public:
    // Takes `fd` (a connected, non-blocking TCP socket whose upgrade request was read);
    // `initial` are bytes already read after the request head: they are parsed by start(),
    // which `autoStart` calls on the next event-loop turn. `maxMessage` bounds a message.
    RawWebSocket(
        int fd, qint64 maxMessage, const QByteArray &initial = {}, bool autoStart = true);
    ~RawWebSocket() override;

    // Sec-WebSocket-Accept for a Sec-WebSocket-Key; empty when the key is not 16 bytes in
    // base64.
    static QByteArray acceptKey(const QByteArray &key);
    // Writes raw bytes (the handshake response) ahead of any frame.
    void writeRaw(const QByteArray &bytes) { write(bytes); }
    // Writes a complete frame (see frame()), unless the connection is closing.
    void writeFrame(const QByteArray &frame)
    {
        if (!m_closeSent)
            write(frame);
    }
    // While corked, writes only queue; uncork() writes them together. uncork() may finish
    // (and so delete) a connection that was shut down.
    bool isCorked() const { return m_corked; }
    // The answer to the peer's close frame waits for shutdown() instead of going out at once,
    // so that what the session sends in reply to the messages before it goes out first (a
    // session in another thread answers later).
    void setDeferCloseAnswer(bool defer) { m_deferCloseAnswer = defer; }
    // Parses the initial bytes, then reads; nothing without initial bytes (reading runs).
    void start();
    void cork() { m_corked = true; }
    void uncork();

    void sendText(QByteArrayView utf8) override;
    void sendMessage(const EngineMessage &message) override;
    qint64 bytesToWrite() const override { return m_queued; }
    void shutdown(std::chrono::milliseconds timeout,
        std::function<void(WsConnection *)> finished) override;

    // A whole server-to-client frame (unmasked) for a payload.
    static QByteArray frame(int opcode, QByteArrayView payload);
    // The same for prefix + payload, without joining them first.
    static QByteArray frame(int opcode, QByteArrayView prefix, QByteArrayView payload);

private:
    void onReadable();
    void onWritable();
    // Consumes complete frames from `data`; returns how many bytes it used, or -1 when the
    // connection ended (or was deleted) meanwhile.
    qsizetype parse(QByteArrayView data);
    bool handleFrame(int opcode, bool fin, QByteArray &&payload);
    void write(const QByteArray &bytes);
    void setWriteNotifier(bool enabled);
    // A protocol violation: send a close frame with `code`, report it, wait for the peer.
    void fail(int code, const QString &reason);
    void sendClose(int code);
    // The close handshake completed, or (`lost`) the peer is gone (EOF, reset, no answer).
    void ended(int code, const QString &reason, bool lost);
    void reportClosed(int code, const QString &reason);
    void finish(); // closes the descriptor; calls `finished` when retired

    int m_fd;
    qint64 m_maxMessage;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr; // only while the kernel refuses data
    QByteArray m_in; // an incomplete frame
    QByteArray m_message; // fragments of a message so far
    int m_messageOpcode = 0; // 1 text, 2 binary, 0 none under way
    QList<QByteArray> m_queue; // frames the kernel did not take yet
    qsizetype m_queueOffset = 0; // of the first one, already written
    qint64 m_queued = 0;
    bool m_closeSent = false;
    bool m_closeReceived = false;
    bool m_reported = false; // wsClosed() called
    bool m_writeFailed = false;
    bool m_corked = false; // while a read is parsed: writes wait for its end
    bool m_deferCloseAnswer = false;
    int m_peerCloseCode = CloseNormal;
    bool *m_deleted = nullptr; // set while a callback may delete us
    std::function<void(WsConnection *)> m_finished;
    std::unique_ptr<DeadlineTimer> m_closeTimer; // while closing
};

class QtWebSocket final : public WsConnection
{
public:
    // Takes ownership of `socket`.
    QtWebSocket(QWebSocket *socket, qint64 maxMessage);
    ~QtWebSocket() override;

    QWebSocket *socket() const { return m_socket; }
    void sendText(QByteArrayView utf8) override;
    void sendMessage(const EngineMessage &message) override;
    qint64 bytesToWrite() const override;
    void shutdown(std::chrono::milliseconds timeout,
        std::function<void(WsConnection *)> finished) override;

private:
    QWebSocket *m_socket;
    int m_inSignal = 0;
    bool *m_deleted = nullptr;
    std::function<void(WsConnection *)> m_finished;
    std::unique_ptr<DeadlineTimer> m_closeTimer;
};

} // namespace QSocketIo
