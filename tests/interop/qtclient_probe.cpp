// A SocketClient driven by a test through its standard streams, for qtclient-node.test.mjs:
// connects to --url and reports what happens as JSON lines on stdout; commands arrive as JSON
// lines on stdin. Binary values travel as {"$binary": "<base64>"} both ways.
//
// Out: {"type":"connect","id","engineId","transport"}, {"type":"transport","name"},
//      {"type":"event","event","args","ack"}, {"type":"ack","tag","timedOut","args"},
//      {"type":"connect_error","message","data"}, {"type":"disconnect","reason"},
//      {"type":"reconnecting","attempt"}, {"type":"error","message"}.
// In:  {"cmd":"emit","event","args"}, {"cmd":"emitWithAck","tag","event","args","timeout"?},
//      {"cmd":"disconnect"}, {"cmd":"open"}, {"cmd":"quit"}.
// An event that asks for an ack is answered with its own arguments.

#include <QSocketIo/socketclient.h>

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qsocketnotifier.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qnetworkproxy.h>

#include <cstdio>
#include <unistd.h>

using namespace QSocketIo;
using namespace Qt::StringLiterals;

static QJsonValue toJson(const QVariant &value)
{
    switch (value.typeId()) {
    case QMetaType::QByteArray:
        return QJsonObject {{u"$binary"_s, QString::fromLatin1(value.toByteArray().toBase64())}};
    case QMetaType::QVariantList: {
        QJsonArray array;
        for (const QVariant &v : value.toList())
            array.append(toJson(v));
        return array;
    }
    case QMetaType::QVariantMap: {
        QJsonObject object;
        const QVariantMap map = value.toMap();
        for (auto it = map.cbegin(); it != map.cend(); ++it)
            object.insert(it.key(), toJson(it.value()));
        return object;
    }
    default:
        return QJsonValue::fromVariant(value);
    }
}

static QVariant fromJson(const QJsonValue &value)
{
    if (value.isArray()) {
        QVariantList list;
        for (const auto &v : value.toArray())
            list.append(fromJson(v));
        return list;
    }
    if (value.isObject()) {
        const QJsonObject object = value.toObject();
        if (object.size() == 1 && object.value(u"$binary").isString())
            return QByteArray::fromBase64(object.value(u"$binary").toString().toLatin1());
        QVariantMap map;
        for (auto it = object.constBegin(); it != object.constEnd(); ++it)
            map.insert(it.key(), fromJson(it.value()));
        return map;
    }
    if (value.isDouble() && value.toDouble() == double(value.toInteger()))
        return value.toInteger();
    return value.toVariant();
}

static void print(const QJsonObject &line)
{
    const QByteArray text = QJsonDocument(line).toJson(QJsonDocument::Compact) + '\n';
    std::fwrite(text.constData(), 1, size_t(text.size()), stdout);
    std::fflush(stdout);
}

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QNetworkProxy::setApplicationProxy(QNetworkProxy::NoProxy);

    QCommandLineParser parser;
    parser.setApplicationDescription(u"SocketClient driven through stdin/stdout."_s);
    parser.addHelpOption();
    const QCommandLineOption url(u"url"_s, u"Server URL."_s, u"url"_s);
    const QCommandLineOption transports(
        u"transports"_s, u"Comma-separated transports, in order (polling,websocket)."_s, u"list"_s);
    const QCommandLineOption auth(u"auth"_s, u"CONNECT auth, a JSON object."_s, u"json"_s);
    const QCommandLineOption nsp(u"nsp"_s, u"Namespace."_s, u"name"_s, u"/"_s);
    const QCommandLineOption path(u"path"_s, u"Server path."_s, u"path"_s, u"/socket.io/"_s);
    const QCommandLineOption reconnectionDelay(
        u"reconnection-delay"_s, u"First reconnection delay."_s, u"ms"_s, u"1000"_s);
    parser.addOptions({url, transports, auth, nsp, path, reconnectionDelay});
    parser.process(app);
    if (!parser.isSet(url)) {
        std::fprintf(stderr, "--url is required\n");
        return 2;
    }

    SocketClientOptions options;
    options.path = parser.value(path);
    options.nsp = parser.value(nsp);
    if (parser.isSet(transports))
        options.transports = parser.value(transports).split(u',', Qt::SkipEmptyParts);
    if (parser.isSet(auth))
        options.auth = QJsonDocument::fromJson(parser.value(auth).toUtf8()).object().toVariantMap();
    options.reconnectionDelay = std::chrono::milliseconds(parser.value(reconnectionDelay).toInt());
    options.reconnectionDelayMax = options.reconnectionDelay * 2;
    options.rejectUnauthorized = false;

    auto *client = new SocketClient(QUrl(parser.value(url)), options);
    QObject::connect(client, &SocketClient::connected, [client] {
        print({{u"type"_s, u"connect"_s}, {u"id"_s, client->id()},
            {u"engineId"_s, client->engineId()}, {u"transport"_s, client->transport()}});
    });
    QObject::connect(client, &SocketClient::transportChanged, [](const QString &name) {
        print({{u"type"_s, u"transport"_s}, {u"name"_s, name}});
    });
    QObject::connect(
        client, &SocketClient::connectError, [](const QString &message, const QVariant &data) {
            print({{u"type"_s, u"connect_error"_s}, {u"message"_s, message},
                {u"data"_s, toJson(data)}});
        });
    QObject::connect(client, &SocketClient::disconnected, [](const QString &reason) {
        print({{u"type"_s, u"disconnect"_s}, {u"reason"_s, reason}});
    });
    QObject::connect(client, &SocketClient::reconnecting, [](int attempt) {
        print({{u"type"_s, u"reconnecting"_s}, {u"attempt"_s, attempt}});
    });
    QObject::connect(client, &SocketClient::eventReceived,
        [](const QString &event, const QVariantList &args, const Ack &ack) {
            print({{u"type"_s, u"event"_s}, {u"event"_s, event}, {u"args"_s, toJson(args)},
                {u"ack"_s, ack.isRequested()}});
            ack(args);
        });

    auto quit = [&app, &client] {
        delete std::exchange(client, nullptr);
        QTimer::singleShot(200, &app, &QCoreApplication::quit);
    };
    auto execute = [&](const QByteArray &line) {
        if (!client || line.trimmed().isEmpty())
            return;
        QJsonParseError error;
        const QJsonObject command = QJsonDocument::fromJson(line, &error).object();
        if (error.error != QJsonParseError::NoError) {
            print({{u"type"_s, u"error"_s},
                {u"message"_s, u"bad command: "_s + error.errorString()}});
            return;
        }
        const QString cmd = command.value(u"cmd").toString();
        const QString event = command.value(u"event").toString();
        const QVariantList args = fromJson(command.value(u"args")).toList();
        if (cmd == u"emit") {
            client->emitEvent(event, args);
        } else if (cmd == u"emitWithAck") {
            const QJsonValue tag = command.value(u"tag");
            client->emitWithAck(
                event, args,
                [tag](bool timedOut, const QVariantList &answer) {
                    print({{u"type"_s, u"ack"_s}, {u"tag"_s, tag}, {u"timedOut"_s, timedOut},
                        {u"args"_s, toJson(answer)}});
                },
                std::chrono::milliseconds(command.value(u"timeout").toInt(5000)));
        } else if (cmd == u"disconnect") {
            client->disconnect();
        } else if (cmd == u"open") {
            client->open();
        } else if (cmd == u"quit") {
            quit();
        } else {
            print({{u"type"_s, u"error"_s}, {u"message"_s, u"unknown command: "_s + cmd}});
        }
    };

    // Commands from stdin; its end (the test went away) ends the program too.
    QByteArray pending;
    QSocketNotifier input(STDIN_FILENO, QSocketNotifier::Read);
    QObject::connect(&input, &QSocketNotifier::activated, [&] {
        char buffer[65536];
        const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (n <= 0) {
            input.setEnabled(false);
            quit();
            return;
        }
        pending.append(buffer, n);
        qsizetype newline;
        while ((newline = pending.indexOf('\n')) >= 0) {
            const QByteArray line = pending.left(newline);
            pending.remove(0, newline + 1);
            execute(line);
        }
    });

    const int status = app.exec();
    delete client;
    return status;
}
