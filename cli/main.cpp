// qsocketio-ctl: inspects and drives a Socket.IO server through its Admin UI namespace
// (protocol: docs/admin-protocol.md, plus the qsio:handlers / qsio:routes extensions). Any
// server speaking that protocol will do, Node's @socket.io/admin-ui included; handlers and
// routes are QSocketIo extensions.
//
//   qsocketio-ctl [options] handlers|routes|sockets|rooms|stats
//   qsocketio-ctl [options] emit <nsp> <event> [json-args...] [--to ROOM_OR_SID]
//   qsocketio-ctl [options] join|leave <nsp> <room> [--filter SID_OR_ROOM]
//   qsocketio-ctl [options] disconnect <nsp> [--filter SID_OR_ROOM] [--close]
//
// Exit codes: 0 success, 1 other error, 2 bad arguments, 3 refused (connect_error),
// 4 timeout, 5 the server does not offer what the command needs (read-only server for
// emit/join/leave/disconnect, production mode for sockets/rooms, no QSocketIo extension for
// handlers/routes); nothing is sent then.

#include <QSocketIo/socketclient.h>

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qfile.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qmap.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qsslcertificate.h>
#include <QtNetwork/qsslconfiguration.h>

#include <cstdio>
#include <optional>

using namespace QSocketIo;
using namespace Qt::StringLiterals;

namespace {

// How long the command has to itself before the DISCONNECT follows it.
constexpr std::chrono::milliseconds commandLinger {300};
// Time for the DISCONNECT packet to leave before the process ends.
constexpr std::chrono::milliseconds disconnectFlush {150};

enum ExitCode {
    Ok = 0,
    OtherError = 1,
    BadArguments = 2,
    Refused = 3,
    TimedOut = 4,
    Unsupported = 5,
};

void printErr(const QString &text)
{
    std::fprintf(stderr, "qsocketio-ctl: %s\n", qPrintable(text));
}

void printOut(const QString &text)
{
    std::fputs(text.toUtf8().constData(), stdout);
    std::fflush(stdout);
}

QString usageText()
{
    return u"usage: qsocketio-ctl [--url URL] [--namespace NSP] [--user NAME] [--json] "
           "[--timeout MS]\n"
           "                     [--path PATH] [--transports LIST | --websocket-only] "
           "[--insecure] [--ca FILE]\n"
           "                     COMMAND [ARGS...]\n"
           "options:\n"
           "  --url URL              the server (default http://127.0.0.1:3000)\n"
           "  --namespace NSP        its admin namespace (default /admin)\n"
           "  --user NAME            basic auth user; the password is read from "
           "$QSOCKETIO_PASSWORD\n"
           "  --json                 print JSON instead of tables\n"
           "  --timeout MS           give up after MS milliseconds (default 5000)\n"
           "  --path PATH            the server's Engine.IO path (default /socket.io/)\n"
           "  --transports LIST      comma-separated, in order: polling,websocket (default)\n"
           "  --websocket-only       no polling at all (same as --transports websocket)\n"
           "  --insecure             https: accept any server certificate\n"
           "  --ca FILE              https: trust only the PEM CA certificates in FILE\n"
           "commands:\n"
           "  handlers                          registered event handlers per namespace "
           "(QSocketIo only)\n"
           "  routes                            mount points of the server (QSocketIo only)\n"
           "  sockets                           connected sockets (not in production mode)\n"
           "  rooms                             rooms per namespace, from the sockets (not in "
           "production mode)\n"
           "  stats                             server statistics\n"
           "  emit <nsp> <event> [json-args...] [--to ROOM_OR_SID]\n"
           "  join <nsp> <room> [--filter SID_OR_ROOM]\n"
           "  leave <nsp> <room> [--filter SID_OR_ROOM]\n"
           "  disconnect <nsp> [--filter SID_OR_ROOM] [--close]\n"
           "emit, join, leave and disconnect need a server that is not read-only. json-args\n"
           "that are not valid JSON are sent as strings. Arguments that start with a single\n"
           "dash (socket ids such as -Xk2..., negative numbers) are arguments, not options;\n"
           "everything after -- is an argument too.\n"
           "exit codes: 0 done, 1 error, 2 bad arguments, 3 refused, 4 timeout, 5 not offered\n"
           "by the server\n"_s;
}

// QCommandLineParser reads every argument that starts with a dash as an option, but socket
// ids (base64url) and JSON arguments (-5) may start with one. Options here are long ones
// (--name, --name=value) plus -h; everything else, and everything after "--", is moved
// behind a "--" so the parser takes it as a positional argument. Values of options that
// take one are kept with their option, whatever they start with.
QStringList splitArguments(const QStringList &argv, const QList<QCommandLineOption> &options)
{
    QStringList withValue;
    for (const QCommandLineOption &o : options) {
        if (!o.valueName().isEmpty())
            withValue += o.names();
    }
    QStringList opts {argv.value(0)};
    QStringList positional;
    for (qsizetype i = 1; i < argv.size(); ++i) {
        const QString &arg = argv.at(i);
        if (arg == u"--"_s) {
            positional += argv.mid(i + 1);
            break;
        }
        if (arg == u"-h"_s) {
            opts += arg;
        } else if (arg.startsWith(u"--"_s)) {
            opts += arg;
            if (!arg.contains(u'=') && withValue.contains(arg.mid(2)) && i + 1 < argv.size())
                opts += argv.at(++i);
        } else {
            positional += arg;
        }
    }
    if (!positional.isEmpty()) {
        opts += u"--"_s;
        opts += positional;
    }
    return opts;
}

QString jsonText(const QJsonValue &value)
{
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Indented));
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Indented));
    // Scalars: wrap and strip the brackets.
    QByteArray text = QJsonDocument(QJsonArray {value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(text.mid(1, text.size() - 2)) + u'\n';
}

QString cell(const QVariant &v)
{
    if (v.userType() == QMetaType::QVariantList || v.userType() == QMetaType::QStringList)
        return v.toStringList().join(u',');
    if (v.userType() == QMetaType::QVariantMap) {
        return QString::fromUtf8(
            QJsonDocument(QJsonObject::fromVariantMap(v.toMap())).toJson(QJsonDocument::Compact));
    }
    return v.toString();
}

// Aligned columns, a header row first.
QString table(const QStringList &header, const QList<QStringList> &rows)
{
    QList<qsizetype> widths;
    for (const QString &h : header)
        widths.append(h.size());
    for (const QStringList &row : rows) {
        for (qsizetype i = 0; i < row.size() && i < widths.size(); ++i)
            widths[i] = std::max(widths[i], row.at(i).size());
    }
    auto line = [&](const QStringList &row) {
        QString out;
        for (qsizetype i = 0; i < row.size(); ++i) {
            const bool last = i + 1 == row.size();
            out += last ? row.at(i) : row.at(i).leftJustified(widths.at(i)) + u"  "_s;
        }
        return out + u'\n';
    };
    QString out = line(header);
    for (const QStringList &row : rows)
        out += line(row);
    return out;
}

QVariantList roomsOf(const QVariantList &sockets)
{
    // nsp -> room -> socket ids, in name order.
    QMap<QString, QMap<QString, QStringList>> byNsp;
    QMap<QString, QSet<QString>> idsByNsp;
    for (const QVariant &v : sockets) {
        const QVariantMap s = v.toMap();
        const QString nsp = s.value(u"nsp"_s).toString();
        const QString id = s.value(u"id"_s).toString();
        idsByNsp[nsp].insert(id);
        for (const QString &room : s.value(u"rooms"_s).toStringList())
            byNsp[nsp][room].append(id);
    }
    QVariantList out;
    for (auto n = byNsp.cbegin(); n != byNsp.cend(); ++n) {
        for (auto r = n.value().cbegin(); r != n.value().cend(); ++r) {
            out.append(QVariantMap {{u"nsp"_s, n.key()}, {u"name"_s, r.key()},
                {u"isPrivate"_s, idsByNsp.value(n.key()).contains(r.key())},
                {u"sockets"_s, r.value()}});
        }
    }
    return out;
}

QString human(const QString &command, const QVariant &data)
{
    QList<QStringList> rows;
    const QVariantList list = data.toList();
    if (command == u"handlers"_s) {
        for (const QVariant &v : list) {
            const QVariantMap m = v.toMap();
            rows.append({m.value(u"nsp"_s).toString(), m.value(u"event"_s).toString(),
                cell(m.value(u"how"_s))});
        }
        return table({u"NAMESPACE"_s, u"EVENT"_s, u"HOW"_s}, rows);
    }
    if (command == u"routes"_s) {
        for (const QVariant &v : list) {
            const QVariantMap m = v.toMap();
            rows.append({m.value(u"path"_s).toString(), cell(m.value(u"transports"_s)),
                cell(m.value(u"mount"_s))});
        }
        return table({u"PATH"_s, u"TRANSPORTS"_s, u"MOUNT"_s}, rows);
    }
    if (command == u"sockets"_s) {
        for (const QVariant &v : list) {
            const QVariantMap m = v.toMap();
            rows.append({m.value(u"id"_s).toString(), m.value(u"nsp"_s).toString(),
                m.value(u"transport"_s).toString(),
                m.value(u"handshake"_s).toMap().value(u"address"_s).toString(),
                cell(m.value(u"rooms"_s))});
        }
        return table({u"ID"_s, u"NAMESPACE"_s, u"TRANSPORT"_s, u"ADDRESS"_s, u"ROOMS"_s}, rows);
    }
    if (command == u"rooms"_s) {
        for (const QVariant &v : list) {
            const QVariantMap m = v.toMap();
            const QStringList ids = m.value(u"sockets"_s).toStringList();
            rows.append({m.value(u"nsp"_s).toString(), m.value(u"name"_s).toString(),
                m.value(u"isPrivate"_s).toBool() ? u"yes"_s : u"no"_s, QString::number(ids.size()),
                ids.join(u',')});
        }
        return table({u"NAMESPACE"_s, u"ROOM"_s, u"PRIVATE"_s, u"SOCKETS"_s, u"MEMBERS"_s}, rows);
    }
    // stats
    const QVariantMap m = data.toMap();
    for (const QString &key : {u"serverId"_s, u"hostname"_s, u"pid"_s, u"uptime"_s,
             u"clientsCount"_s, u"pollingClientsCount"_s}) {
        rows.append({key, cell(m.value(key))});
    }
    QString out = table({u"KEY"_s, u"VALUE"_s}, rows);
    QList<QStringList> nspRows;
    for (const QVariant &v : m.value(u"namespaces"_s).toList()) {
        const QVariantMap n = v.toMap();
        nspRows.append({n.value(u"name"_s).toString(), n.value(u"socketsCount"_s).toString()});
    }
    out += u'\n' + table({u"NAMESPACE"_s, u"SOCKETS"_s}, nspRows);
    return out;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"qsocketio-ctl"_s);

    QCommandLineParser parser;
    parser.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsOptions);
    const QCommandLineOption helpOpt({u"h"_s, u"help"_s}, u"Show the usage."_s);
    const QCommandLineOption urlOpt(
        u"url"_s, u"Server URL."_s, u"url"_s, u"http://127.0.0.1:3000"_s);
    const QCommandLineOption nspOpt(u"namespace"_s, u"Admin namespace."_s, u"nsp"_s, u"/admin"_s);
    const QCommandLineOption userOpt(u"user"_s, u"Admin user name."_s, u"name"_s);
    const QCommandLineOption jsonOpt(u"json"_s, u"Machine-readable output."_s);
    const QCommandLineOption timeoutOpt(u"timeout"_s, u"Timeout."_s, u"ms"_s, u"5000"_s);
    const QCommandLineOption toOpt(u"to"_s, u"emit: room or socket id."_s, u"target"_s);
    const QCommandLineOption filterOpt(u"filter"_s, u"Room or socket id."_s, u"filter"_s);
    const QCommandLineOption closeOpt(u"close"_s, u"disconnect: close the connection too."_s);
    const QCommandLineOption pathOpt(u"path"_s, u"Engine.IO path."_s, u"path"_s, u"/socket.io/"_s);
    const QCommandLineOption transportsOpt(
        u"transports"_s, u"Transports, in order."_s, u"list"_s, u"polling,websocket"_s);
    const QCommandLineOption websocketOnlyOpt(u"websocket-only"_s, u"No polling."_s);
    const QCommandLineOption insecureOpt(u"insecure"_s, u"Accept any TLS certificate."_s);
    const QCommandLineOption caOpt(u"ca"_s, u"PEM CA certificates."_s, u"file"_s);
    const QList<QCommandLineOption> cliOptions {helpOpt, urlOpt, nspOpt, userOpt, jsonOpt, timeoutOpt,
        toOpt, filterOpt, closeOpt, pathOpt, transportsOpt, websocketOnlyOpt, insecureOpt, caOpt};
    parser.addOptions(cliOptions);

    auto badArgs = [](const QString &message) {
        printErr(message);
        std::fputs(usageText().toUtf8().constData(), stderr);
        return int(BadArguments);
    };

    if (!parser.parse(splitArguments(app.arguments(), cliOptions)))
        return badArgs(parser.errorText());
    if (parser.isSet(helpOpt)) {
        printOut(usageText());
        return Ok;
    }
    const QStringList pos = parser.positionalArguments();
    if (pos.isEmpty())
        return badArgs(u"no command given"_s);
    const QString command = pos.first();
    const QStringList args = pos.mid(1);

    static const QStringList queries {
        u"handlers"_s, u"routes"_s, u"sockets"_s, u"rooms"_s, u"stats"_s};
    const bool isQuery = queries.contains(command);
    QString event; // the admin command sent
    QVariantList eventArgs;
    if (isQuery) {
        if (!args.isEmpty())
            return badArgs(u"%1 takes no arguments"_s.arg(command));
    } else if (command == u"emit"_s) {
        if (args.size() < 2)
            return badArgs(u"emit needs <nsp> <event>"_s);
        event = u"emit"_s;
        const QString to = parser.value(toOpt);
        eventArgs
            = {args.at(0), to.isEmpty() ? QVariant::fromValue(nullptr) : QVariant(to), args.at(1)};
        for (const QString &a : args.mid(2)) {
            QJsonParseError error;
            const QJsonDocument doc = QJsonDocument::fromJson("[" + a.toUtf8() + "]", &error);
            if (error.error == QJsonParseError::NoError && doc.array().size() == 1)
                eventArgs.append(doc.array().at(0).toVariant());
            else
                eventArgs.append(a);
        }
    } else if (command == u"join"_s || command == u"leave"_s) {
        if (args.size() != 2)
            return badArgs(u"%1 needs <nsp> <room>"_s.arg(command));
        event = command;
        eventArgs = {args.at(0), args.at(1)};
        if (parser.isSet(filterOpt))
            eventArgs.append(parser.value(filterOpt));
    } else if (command == u"disconnect"_s) {
        if (args.size() != 1)
            return badArgs(u"disconnect needs <nsp>"_s);
        event = u"_disconnect"_s;
        eventArgs = {args.at(0), parser.isSet(closeOpt)};
        if (parser.isSet(filterOpt))
            eventArgs.append(parser.value(filterOpt));
    } else {
        return badArgs(u"unknown command \"%1\""_s.arg(command));
    }
    if (parser.isSet(toOpt) && command != u"emit"_s)
        return badArgs(u"--to is only for emit"_s);
    if (parser.isSet(filterOpt) && command != u"join"_s && command != u"leave"_s
        && command != u"disconnect"_s) {
        return badArgs(u"--filter is only for join, leave and disconnect"_s);
    }
    if (parser.isSet(closeOpt) && command != u"disconnect"_s)
        return badArgs(u"--close is only for disconnect"_s);
    if (!event.isEmpty() && !args.at(0).startsWith(u'/'))
        return badArgs(u"the namespace must start with '/': \"%1\""_s.arg(args.at(0)));

    bool timeoutOk = false;
    const int timeoutMs = parser.value(timeoutOpt).toInt(&timeoutOk);
    if (!timeoutOk || timeoutMs <= 0)
        return badArgs(u"--timeout wants a positive number of milliseconds"_s);
    const QUrl url(parser.value(urlOpt), QUrl::StrictMode);
    if (!url.isValid() || (url.scheme() != u"http"_s && url.scheme() != u"https"_s)
        || url.host().isEmpty()) {
        return badArgs(u"--url wants an http(s) URL: \"%1\""_s.arg(parser.value(urlOpt)));
    }
    const bool json = parser.isSet(jsonOpt);

    const QString enginePath = parser.value(pathOpt);
    if (!enginePath.startsWith(u'/') || enginePath.contains(u'?') || enginePath.contains(u'#')) {
        return badArgs(
            u"--path wants an absolute path such as /socket.io/: \"%1\""_s.arg(enginePath));
    }
    if (parser.isSet(transportsOpt) && parser.isSet(websocketOnlyOpt))
        return badArgs(u"--transports and --websocket-only exclude each other"_s);
    QStringList transports = parser.value(transportsOpt).split(u',', Qt::SkipEmptyParts);
    static const QStringList knownTransports {u"polling"_s, u"websocket"_s};
    if (transports.isEmpty() || transports.removeDuplicates() > 0)
        return badArgs(u"--transports wants polling, websocket or both, once each"_s);
    for (const QString &t : transports) {
        if (!knownTransports.contains(t))
            return badArgs(u"unknown transport \"%1\" (polling, websocket)"_s.arg(t));
    }
    std::optional<QSslConfiguration> ssl;
    if (parser.isSet(caOpt)) {
        const QString file = parser.value(caOpt);
        QFile caFile(file);
        if (!caFile.open(QIODevice::ReadOnly))
            return badArgs(u"--ca: cannot read %1: %2"_s.arg(file, caFile.errorString()));
        const QList<QSslCertificate> cas = QSslCertificate::fromDevice(&caFile, QSsl::Pem);
        if (cas.isEmpty())
            return badArgs(u"--ca: no PEM certificate in %1"_s.arg(file));
        ssl = QSslConfiguration::defaultConfiguration();
        // As Node's `ca` option: these replace the system's CAs.
        ssl->setCaCertificates(cas);
    }
    if ((parser.isSet(caOpt) || parser.isSet(insecureOpt)) && url.scheme() != u"https"_s)
        return badArgs(u"--ca and --insecure are for https URLs"_s);

    SocketClientOptions options;
    options.path = enginePath;
    options.transports = transports;
    options.websocketOnly = parser.isSet(websocketOnlyOpt);
    options.rejectUnauthorized = !parser.isSet(insecureOpt);
    options.ssl = ssl;
    options.nsp = parser.value(nspOpt);
    options.reconnection = false;
    options.timeout = std::chrono::milliseconds(timeoutMs);
    options.autoConnect = false;
    if (parser.isSet(userOpt)) {
        options.auth = {{u"username"_s, parser.value(userOpt)},
            {u"password"_s, qEnvironmentVariable("QSOCKETIO_PASSWORD")}};
    }
    SocketClient client(url, options);

    bool done = false;
    auto finish = [&](int code, const QString &message = {}) {
        if (done)
            return;
        done = true;
        if (!message.isEmpty())
            printErr(message);
        if (client.isConnected()) {
            // Leave cleanly: a polling session would otherwise linger on the server, and show
            // in its admin UI, until its ping timeout.
            client.disconnect();
            QTimer::singleShot(disconnectFlush, [code] { QCoreApplication::exit(code); });
        } else {
            QCoreApplication::exit(code);
        }
    };

    QTimer deadline;
    deadline.setSingleShot(true);
    QObject::connect(&deadline, &QTimer::timeout, [&] {
        finish(TimedOut,
            u"timeout: no answer from %1 within %2 ms"_s.arg(url.toString()).arg(timeoutMs));
    });

    QObject::connect(
        &client, &SocketClient::connectError, [&](const QString &message, const QVariant &) {
            static const QStringList transportFailures {u"xhr poll error"_s, u"websocket error"_s,
                u"timeout"_s, u"transport error"_s, u"transport close"_s, u"parse error"_s};
            if (transportFailures.contains(message))
                finish(OtherError, u"cannot connect to %1: %2"_s.arg(url.toString(), message));
            else
                finish(Refused, u"refused: %1"_s.arg(message));
        });

    bool sent = false;
    QObject::connect(&client, &SocketClient::disconnected, [&](const QString &reason) {
        if (done)
            return;
        if (sent) {
            // Our own disconnect after the command: give the socket a moment to flush.
            QTimer::singleShot(disconnectFlush, [&] { finish(Ok); });
        } else {
            finish(OtherError, u"disconnected before the answer: %1"_s.arg(reason));
        }
    });

    auto output = [&](const QVariant &data) {
        if (json)
            printOut(jsonText(QJsonValue::fromVariant(data)));
        else
            printOut(human(command, data));
        finish(Ok);
    };

    // Every admin socket gets `config` first: what the server offers is known before anything
    // is asked or sent.
    auto supportedFeatures = [](const QVariantList &received) {
        return received.value(0).toMap().value(u"supportedFeatures"_s).toStringList();
    };
    if (isQuery) {
        const QString wanted = command == u"handlers"_s ? u"qsio:handlers"_s
            : command == u"routes"_s                    ? u"qsio:routes"_s
            : command == u"stats"_s                     ? u"server_stats"_s
                                                        : u"all_sockets"_s;
        client.on(wanted, [&, wanted](const QVariantList &received, const Ack &) {
            const QVariant data = received.value(0);
            output(command == u"rooms"_s ? QVariant(roomsOf(data.toList())) : data);
        });
        client.on(u"config"_s, [&, wanted](const QVariantList &received, const Ack &) {
            const QVariantMap config = received.value(0).toMap();
            const QStringList extensions = config.value(u"qsioExtensions"_s).toStringList();
            if (wanted.startsWith(u"qsio:"_s) && !extensions.contains(wanted)) {
                finish(Unsupported,
                    u"%1 needs the QSocketIo extension %2, which this server does not offer "
                    "(its admin config lists no such qsioExtensions entry: not a QSocketIo "
                    "server, or an older one)"_s.arg(command, wanted));
            } else if (wanted == u"all_sockets"_s
                && !supportedFeatures(received).contains(u"ALL_EVENTS"_s)) {
                finish(Unsupported,
                    u"%1 needs per-socket data, which this server does not report: its admin "
                    "namespace runs in production mode (no ALL_EVENTS among its supported "
                    "features); stats still works"_s.arg(command));
            }
        });
    } else {
        // The Admin UI's feature names of the commands.
        const QString feature = command == u"emit"_s ? u"EMIT"_s
            : command == u"join"_s                   ? u"JOIN"_s
            : command == u"leave"_s                  ? u"LEAVE"_s
                                                     : u"DISCONNECT"_s;
        client.on(u"config"_s, [&, feature](const QVariantList &received, const Ack &) {
            if (done || sent)
                return;
            if (!supportedFeatures(received).contains(feature)) {
                finish(Unsupported,
                    u"the server refuses %1: its admin namespace is read-only (no %2 among its "
                    "supported features); nothing was sent"_s.arg(command, feature));
                return;
            }
            if (!client.emitEvent(event, eventArgs)) {
                finish(OtherError, u"cannot send %1"_s.arg(event));
                return;
            }
            sent = true;
            // Node's socket.io runs an event on the next tick, and drops it if the socket's
            // DISCONNECT was read in the meantime: the command must arrive on its own.
            QTimer::singleShot(commandLinger, &client, [&] { client.disconnect(); });
        });
    }

    deadline.start(timeoutMs);
    client.open();
    return app.exec();
}
