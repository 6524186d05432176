#pragma once

// The two Engine.IO client transports: HTTP long-polling over QNetworkAccessManager and
// WebSocket over QWebSocket. They move packets; the session (handshake, heartbeat, upgrade,
// write buffer) is EngineClient's.

#include "../codec/enginecodec.h"

#include <QtCore/qobject.h>
#include <QtCore/qpointer.h>
#include <QtCore/qurl.h>
#include <QtCore/qurlquery.h>
#include <QtNetwork/qnetworkrequest.h>
#include <QtNetwork/qsslconfiguration.h>

#include <functional>
#include <optional>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
class QNetworkReply;
class QWebSocket;
QT_END_NAMESPACE

namespace QSocketIo {

// What every transport of a client's connection shares.
struct TransportSettings
{
    QUrl url; // http(s)://host:port/path/, no query
    QUrlQuery query; // the application's
    QList<QPair<QByteArray, QByteArray>> extraHeaders;
    std::optional<QSslConfiguration> ssl;
    bool rejectUnauthorized = true;
    QNetworkAccessManager *network = nullptr; // its cookie jar serves both transports
};

class ClientTransport : public QObject
{
    Q_OBJECT
public:
    enum class State { Opening, Open, Pausing, Paused, Closed };

    ClientTransport(const TransportSettings &settings, QObject *parent);

    virtual QString name() const = 0;
    virtual void open() = 0;
    // Only while isWritable(); the transport takes the packets as one write.
    virtual void send(const QList<EngineIo::Packet> &packets) = 0;
    // Ends the transport without signals (polling tells the server with a close packet).
    virtual void close() = 0;
    // Stops receiving once what is in flight has arrived, then calls `done` (the upgrade).
    virtual void pause(std::function<void()> done) { done(); }
    // Receives again after a pause whose upgrade failed.
    virtual void resume() { }

    State state() const { return m_state; }
    bool isWritable() const { return m_writable; }
    void setSid(const QString &sid) { m_sid = sid; }

Q_SIGNALS:
    void opened();
    void packetReceived(const QSocketIo::EngineIo::Packet &packet);
    // The last send() is written: the transport takes more.
    void drained();
    // The server ended the transport.
    void closed(const QString &description);
    void failed(const QString &message, const QString &description);

protected:
    QUrl requestUrl(bool webSocket) const;
    QNetworkRequest request(bool webSocket) const;
    void fail(const QString &message, const QString &description);

    TransportSettings m_settings;
    QString m_sid;
    State m_state = State::Opening;
    bool m_writable = false;
};

class PollingTransport : public ClientTransport
{
    Q_OBJECT
public:
    using ClientTransport::ClientTransport;
    ~PollingTransport() override;

    QString name() const override { return QStringLiteral("polling"); }
    void open() override;
    void send(const QList<EngineIo::Packet> &packets) override;
    void close() override;
    void pause(std::function<void()> done) override;
    void resume() override;

private:
    void poll();
    // The finished request in `slot`, or null when it failed (then the transport failed with
    // `errorReason`) or the transport is closed.
    QNetworkReply *takeFinished(QPointer<QNetworkReply> &slot, const QString &errorReason);
    void onPollFinished();
    void onPostFinished();
    QNetworkReply *post(const QByteArray &payload);
    void watchTls(QNetworkReply *reply) const;
    void checkPaused();

    QPointer<QNetworkReply> m_get;
    QPointer<QNetworkReply> m_post;
    std::function<void()> m_onPaused;
};

class WebSocketTransport : public ClientTransport
{
    Q_OBJECT
public:
    using ClientTransport::ClientTransport;
    ~WebSocketTransport() override;

    QString name() const override { return QStringLiteral("websocket"); }
    void open() override;
    void send(const QList<EngineIo::Packet> &packets) override;
    void close() override;

private:
    void onText(const QString &text);
    void onBinary(const QByteArray &bytes);
    void release();

    QWebSocket *m_socket = nullptr;
};

} // namespace QSocketIo
