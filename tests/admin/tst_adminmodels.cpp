// Unit tests of the admin app's item models, fed with Admin UI protocol payloads as our server and
// Node's @socket.io/admin-ui send them (docs: admin-protocol.md). Every model runs under
// QAbstractItemModelTester, which checks the begin/end signalling of each change.

#include "adminmodels.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qjsondocument.h>
#include <QtTest/qabstractitemmodeltester.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <functional>

using namespace AdminApp;
using namespace Qt::StringLiterals;

namespace {

QVariant json(const char *text)
{
    return QJsonDocument::fromJson(text).toVariant();
}

// A SerializedSocket as our server sends it.
QVariantMap serialized(const QString &id, const QString &nsp = u"/"_s,
    const QStringList &rooms = {}, const QVariantMap &data = {})
{
    return {
        {u"id"_s, id},
        {u"clientId"_s, u"abcdefabcdef"_s},
        {u"transport"_s, u"polling"_s},
        {u"nsp"_s, nsp},
        {u"data"_s, data},
        {u"handshake"_s,
            QVariantMap {{u"address"_s, u"127.0.0.1"_s},
                {u"headers"_s, QVariantMap {{u"user-agent"_s, u"test"_s}}},
                {u"query"_s, QVariantMap {}}, {u"issued"_s, qint64(1700000000123)},
                {u"secure"_s, false}, {u"time"_s, u"Tue, 14 Nov 2023 22:13:20 GMT"_s},
                {u"url"_s, u"/socket.io/?EIO=4"_s}, {u"xdomain"_s, false}}},
        {u"rooms"_s, rooms.isEmpty() ? QStringList {id} : rooms},
    };
}

// The text a rich-text tooltip shows: the model's wrapper paragraph off, entities decoded.
QString toolTipText(const QVariant &tip)
{
    QString text = tip.toString();
    const QString open = u"<p style='white-space:pre'>"_s;
    if (!text.startsWith(open) || !text.endsWith(u"</p>"_s))
        return u"(not wrapped) "_s + text;
    text = text.mid(open.size(), text.size() - open.size() - 4);
    text.replace(u"&lt;"_s, u"<"_s).replace(u"&gt;"_s, u">"_s).replace(u"&quot;"_s, u"\""_s);
    return text.replace(u"&amp;"_s, u"&"_s);
}

} // namespace

class tst_AdminModels : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void serversStats();
    void serversNodeStats();
    void serversHealth();
    void serversHistoryBound();
    void serversMalformed();
    void uptimeText_data();
    void uptimeText();

    void socketsFromSerialized();
    void socketsNodeSerialized();
    void socketsAddDuplicate();
    void socketsUpdate();
    void socketsRooms();
    void socketsRemove();
    void socketsReset();

    void roomsTree();
    void roomsLastMemberRemovesRoom();
    void roomsPersistentIndexes();
    void roomsLargeIncremental();
    void toolTipsEscaped();

    void handlers();

    void eventLogAdd();
    void eventLogTimestamps();
    void eventLogCapacity();
    void eventLogPause();
    void eventLogPauseOverflow();
    void argsText();
    void eventLogLargeBinary();

    void filterProxy();
    void filterProxyTree();
    void headersTranslatable();
};

void tst_AdminModels::serversStats()
{
    ServersModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy samples(&model, &ServersModel::sampleAdded);
    const QDateTime t0 = QDateTime::currentDateTimeUtc();
    model.addStats(json(R"({"serverId":"srv","hostname":"host","pid":42,"uptime":3725.4,
        "clientsCount":3,"pollingClientsCount":1,
        "aggregatedEvents":[{"timestamp":1700000000000,"type":"rawConnection","count":2},
            {"timestamp":1700000000000,"type":"packetsIn","count":5},
            {"timestamp":1700000001000,"type":"packetsIn","count":4},
            {"timestamp":1700000001000,"type":"bytesIn","count":300},
            {"timestamp":1700000001000,"type":"bytesOut","count":120},
            {"timestamp":1700000001000,"type":"packetsOut","count":7},
            {"timestamp":1700000001000,"type":"rawDisconnection","subType":"transport close","count":1}],
        "namespaces":[{"name":"/","socketsCount":2},{"name":"/admin","socketsCount":1}]})")
                       .toMap(),
        t0);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(samples.size(), 1);
    QCOMPARE(samples.first().first().toString(), u"srv"_s);
    const ServersModel::Server *s = model.server(u"srv"_s);
    QVERIFY(s);
    QCOMPARE(s->history.size(), size_t(1));
    const ServersModel::Sample &sample = s->history.back();
    QCOMPARE(sample.packetsIn, 9);
    QCOMPARE(sample.packetsOut, 7);
    QCOMPARE(sample.bytesIn, 300);
    QCOMPARE(sample.bytesOut, 120);
    QCOMPARE(sample.connections, 2);
    QCOMPARE(sample.disconnections, 1);
    QCOMPARE(sample.clients, 3);
    QCOMPARE(sample.pollingClients, 1);

    QCOMPARE(model.index(0, ServersModel::ServerId).data().toString(), u"srv"_s);
    QCOMPARE(model.index(0, ServersModel::Hostname).data().toString(), u"host"_s);
    QCOMPARE(model.index(0, ServersModel::Pid).data().toLongLong(), 42);
    QCOMPARE(model.index(0, ServersModel::Uptime).data().toString(), u"1 h 02 min"_s);
    QCOMPARE(model.index(0, ServersModel::Uptime).data(RawRole).toDouble(), 3725.4);
    QCOMPARE(model.index(0, ServersModel::Clients).data().toInt(), 3);
    QCOMPARE(model.index(0, ServersModel::Namespaces).data().toString(), u"/ (2), /admin (1)"_s);
    QCOMPARE(model.index(0, ServersModel::LastSeen).data().toString(),
        t0.toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss"_s));
    QCOMPARE(model.index(0, ServersModel::LastSeen).data(RawRole).toDateTime(), t0);
    QCOMPARE(model.index(0, ServersModel::Healthy).data(RawRole).toBool(), true);
    QCOMPARE(model.index(0, 0).data(ServerIdRole).toString(), u"srv"_s);

    // The same server again: one row, two samples, counts of the new interval only.
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.addStats(json(R"({"serverId":"srv","hostname":"host","pid":42,"uptime":45,
        "clientsCount":1,"pollingClientsCount":0,"aggregatedEvents":[],"namespaces":[]})")
                       .toMap(),
        t0.addSecs(2));
    QCOMPARE(model.rowCount(), 1);
    QVERIFY(!changed.isEmpty());
    QCOMPARE(s->history.size(), size_t(2));
    QCOMPARE(s->history.back().packetsIn, 0);
    QCOMPARE(model.index(0, ServersModel::Uptime).data().toString(), u"45 s"_s);

    model.addStats(json(R"({"serverId":"other","hostname":"h2","pid":1,"uptime":1})").toMap(), t0);
    QCOMPARE(model.rowCount(), 2);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void tst_AdminModels::serversNodeStats()
{
    // Node's instrument() without a serverId option: the web UI names it hostname#pid.
    ServersModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.addStats(json(R"({"hostname":"node-host","pid":7,"uptime":12.5,"clientsCount":0,
        "pollingClientsCount":0,"aggregatedEvents":[{"timestamp":1700000000000,"type":"bytesOut","count":10}],
        "namespaces":[{"name":"/","socketsCount":0}]})")
                       .toMap());
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.serverList().first().serverId, u"node-host#7"_s);
    QCOMPARE(model.serverList().first().history.back().bytesOut, 10);
}

void tst_AdminModels::serversHealth()
{
    ServersModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QDateTime t0 = QDateTime::currentDateTimeUtc();
    model.addStats(json(R"({"serverId":"a","hostname":"h","pid":1,"uptime":1})").toMap(), t0);
    const QModelIndex healthy = model.index(0, ServersModel::Healthy);
    QCOMPARE(healthy.data(RawRole).toBool(), true);
    QCOMPARE(healthy.data().toString(), u"yes"_s);

    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.refreshHealth(t0.addSecs(5));
    QCOMPARE(healthy.data(RawRole).toBool(), true);
    QVERIFY(!changed.isEmpty());
    model.refreshHealth(t0.addSecs(11)); // more than 10 s of silence
    QCOMPARE(healthy.data(RawRole).toBool(), false);
    QCOMPARE(healthy.data().toString(), u"no"_s);
    QVERIFY(!healthy.data(Qt::ToolTipRole).toString().isEmpty());

    // A fresh sample makes it healthy again.
    model.addStats(
        json(R"({"serverId":"a","hostname":"h","pid":1,"uptime":12})").toMap(), t0.addSecs(12));
    QCOMPARE(healthy.data(RawRole).toBool(), true);
}

void tst_AdminModels::serversHistoryBound()
{
    ServersModel model;
    const QDateTime t0 = QDateTime::currentDateTimeUtc();
    for (int i = 0; i < ServersModel::maxHistory + 25; ++i) {
        model.addStats(
            QVariantMap {{u"serverId"_s, u"a"_s}, {u"clientsCount"_s, i}}, t0.addSecs(2 * i));
    }
    const ServersModel::Server *s = model.server(u"a"_s);
    QVERIFY(s);
    QCOMPARE(s->history.size(), size_t(ServersModel::maxHistory));
    QCOMPARE(s->history.front().clients, 25); // the oldest went first
    QCOMPARE(s->history.back().clients, ServersModel::maxHistory + 24);
}

void tst_AdminModels::serversMalformed()
{
    ServersModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"server_stats"_s));
    model.addStats({});
    QCOMPARE(model.rowCount(), 0);
    // Wrong types are read as zero, not trusted.
    model.addStats(json(R"({"serverId":"x","pid":"no","uptime":"x","clientsCount":[1],
        "aggregatedEvents":"none","namespaces":[1,"a",{"socketsCount":2}]})")
                       .toMap());
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.serverList().first().clients, 0);
    QVERIFY(model.serverList().first().namespaces.isEmpty());
}

void tst_AdminModels::uptimeText_data()
{
    QTest::addColumn<double>("seconds");
    QTest::addColumn<QString>("text");
    QTest::newRow("seconds") << 45.7 << u"45 s"_s;
    QTest::newRow("minutes") << 125.0 << u"2 min 05 s"_s;
    QTest::newRow("hours") << 3720.0 << u"1 h 02 min"_s;
    QTest::newRow("days") << 90000.0 << u"1 d 01 h"_s;
}

void tst_AdminModels::uptimeText()
{
    QFETCH(double, seconds);
    QFETCH(QString, text);
    ServersModel model;
    model.addStats(QVariantMap {{u"serverId"_s, u"a"_s}, {u"uptime"_s, seconds}});
    QCOMPARE(model.index(0, ServersModel::Uptime).data().toString(), text);
}

void tst_AdminModels::socketsFromSerialized()
{
    const SocketsModel::SocketInfo info = SocketsModel::fromSerialized(
        serialized(u"sock1"_s, u"/chat"_s, {u"sock1"_s, u"lobby"_s}, {{u"user"_s, u"bob"_s}}));
    QCOMPARE(info.id, u"sock1"_s);
    QCOMPARE(info.clientId, u"abcdefabcdef"_s);
    QCOMPARE(info.nsp, u"/chat"_s);
    QCOMPARE(info.transport, u"polling"_s);
    QCOMPARE(info.address, u"127.0.0.1"_s);
    QCOMPARE(info.rooms, (QStringList {u"sock1"_s, u"lobby"_s}));
    QCOMPARE(info.data.value(u"user"_s).toString(), u"bob"_s);
    QCOMPARE(info.connectedAt, QDateTime::fromMSecsSinceEpoch(1700000000123, Qt::UTC));

    SocketsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.addSocket(info);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0, SocketsModel::Id).data().toString(), u"sock1"_s);
    QCOMPARE(model.index(0, SocketsModel::Namespace).data().toString(), u"/chat"_s);
    QCOMPARE(model.index(0, SocketsModel::Rooms).data().toString(), u"sock1, lobby"_s);
    QCOMPARE(model.index(0, SocketsModel::Rooms).data(RawRole).toStringList(), info.rooms);
    QCOMPARE(model.index(0, SocketsModel::Data).data().toString(), uR"({"user":"bob"})"_s);
    QVERIFY(model.index(0, SocketsModel::Data).data(PrettyJsonRole).toString().contains(u'\n'));
    // The tooltip is the same text, escaped for rich text (toolTipsEscaped).
    QCOMPARE(toolTipText(model.index(0, SocketsModel::Data).data(Qt::ToolTipRole)),
        model.index(0, SocketsModel::Data).data(PrettyJsonRole).toString());
    QCOMPARE(model.index(0, SocketsModel::ConnectedSince).data().toString(),
        info.connectedAt.toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss"_s));
    QCOMPARE(
        model.index(0, SocketsModel::ConnectedSince).data(RawRole).toDateTime(), info.connectedAt);
    for (int c = 0; c < SocketsModel::ColumnCount; ++c) {
        QCOMPARE(model.index(0, c).data(SocketIdRole).toString(), u"sock1"_s);
        QCOMPARE(model.index(0, c).data(NamespaceRole).toString(), u"/chat"_s);
    }
}

void tst_AdminModels::socketsNodeSerialized()
{
    // Node sends issued as a number that JSON decodes as a double, and time as Date text.
    const QVariantMap node = json(R"js({"id":"nodeSock","clientId":"abc","transport":"websocket",
        "nsp":"/","data":{},"rooms":["nodeSock"],"handshake":{"address":"::ffff:127.0.0.1",
        "headers":{"host":"localhost"},"time":"Tue Nov 14 2023 22:13:20 GMT+0000 (UTC)",
        "issued":1700000000000,"secure":false,"query":{"EIO":"4"},"url":"/socket.io/","xdomain":false}})js")
                                 .toMap();
    const SocketsModel::SocketInfo info = SocketsModel::fromSerialized(node);
    QCOMPARE(info.connectedAt, QDateTime::fromMSecsSinceEpoch(1700000000000, Qt::UTC));
    QCOMPARE(info.address, u"::ffff:127.0.0.1"_s);
    QCOMPARE(info.transport, u"websocket"_s);

    // Missing or wrong fields give an empty info, not a crash.
    const SocketsModel::SocketInfo bad = SocketsModel::fromSerialized(
        json(R"({"id":5,"rooms":"x","handshake":7,"data":[1]})").toMap());
    QVERIFY(bad.nsp.isEmpty());
    QVERIFY(bad.rooms.isEmpty());
    QVERIFY(!bad.connectedAt.isValid());
    SocketsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"without id"_s));
    model.addSocket(bad);
    QCOMPARE(model.rowCount(), 0);
}

void tst_AdminModels::socketsAddDuplicate()
{
    SocketsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.addSocket(SocketsModel::fromSerialized(serialized(u"a"_s)));
    model.addSocket(SocketsModel::fromSerialized(serialized(u"a"_s, u"/chat"_s)));
    QCOMPARE(model.rowCount(), 2); // same id, other namespace: another socket
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.addSocket(SocketsModel::fromSerialized(serialized(u"a"_s, u"/"_s, {u"a"_s, u"r"_s})));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(inserted.size(), 0);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(
        model.socketList().at(model.indexOf(u"/"_s, u"a"_s)).rooms, (QStringList {u"a"_s, u"r"_s}));
}

void tst_AdminModels::socketsUpdate()
{
    SocketsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.addSocket(SocketsModel::fromSerialized(serialized(u"a"_s, u"/"_s, {}, {{u"k"_s, 1}})));
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

    model.updateSocket(
        u"/"_s, u"a"_s, json(R"({"id":"a","nsp":"/","transport":"websocket"})").toMap());
    QCOMPARE(model.index(0, SocketsModel::Transport).data().toString(), u"websocket"_s);
    QCOMPARE(model.index(0, SocketsModel::Data).data().toString(), uR"({"k":1})"_s); // untouched
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.first().at(0).toModelIndex().column(), int(SocketsModel::Transport));

    model.updateSocket(u"/"_s, u"a"_s, json(R"({"id":"a","nsp":"/","data":{"user":"x"}})").toMap());
    QCOMPARE(model.index(0, SocketsModel::Data).data().toString(), uR"({"user":"x"})"_s);
    QCOMPARE(model.index(0, SocketsModel::Transport).data().toString(), u"websocket"_s);
    QCOMPARE(changed.size(), 2);

    // Unknown sockets are ignored.
    model.updateSocket(u"/"_s, u"nobody"_s, {{u"transport"_s, u"polling"_s}});
    QCOMPARE(changed.size(), 2);
}

void tst_AdminModels::socketsRooms()
{
    SocketsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.addSocket(SocketsModel::fromSerialized(serialized(u"a"_s)));
    model.joinRoom(u"/"_s, u"lobby"_s, u"a"_s);
    model.joinRoom(u"/"_s, u"lobby"_s, u"a"_s); // our server repeats rooms after socket_connected
    QCOMPARE(model.socketList().first().rooms, (QStringList {u"a"_s, u"lobby"_s}));
    model.joinRoom(u"/"_s, u"lobby"_s, u"ghost"_s); // unknown socket
    model.joinRoom(u"/other"_s, u"lobby"_s, u"a"_s); // right id, wrong namespace
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.socketList().first().rooms, (QStringList {u"a"_s, u"lobby"_s}));
    model.leaveRoom(u"/"_s, u"lobby"_s, u"a"_s);
    model.leaveRoom(u"/"_s, u"lobby"_s, u"ghost"_s);
    QCOMPARE(model.socketList().first().rooms, QStringList {u"a"_s});
}

void tst_AdminModels::socketsRemove()
{
    SocketsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.addSocket(SocketsModel::fromSerialized(serialized(u"a"_s)));
    model.addSocket(SocketsModel::fromSerialized(serialized(u"b"_s)));
    model.removeSocket(u"/"_s, u"nobody"_s);
    QCOMPARE(model.rowCount(), 2);
    model.removeSocket(u"/"_s, u"a"_s);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.indexOf(u"/"_s, u"b"_s), 0);
    QCOMPARE(model.indexOf(u"/"_s, u"a"_s), -1);
}

void tst_AdminModels::socketsReset()
{
    SocketsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.addSocket(SocketsModel::fromSerialized(serialized(u"stale"_s)));
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.reset({SocketsModel::fromSerialized(serialized(u"x"_s)),
        SocketsModel::fromSerialized(serialized(u"y"_s, u"/admin"_s)),
        SocketsModel::fromSerialized(serialized(u"x"_s))}); // a duplicate collapses
    QCOMPARE(reset.size(), 1);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.indexOf(u"/"_s, u"stale"_s), -1);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void tst_AdminModels::roomsTree()
{
    SocketsModel sockets;
    RoomsModel rooms(&sockets);
    QAbstractItemModelTester tester(&rooms, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(rooms.rowCount(), 0);
    sockets.addSocket(
        SocketsModel::fromSerialized(serialized(u"a"_s, u"/"_s, {u"a"_s, u"lobby"_s})));
    sockets.addSocket(SocketsModel::fromSerialized(serialized(u"b"_s)));
    sockets.addSocket(SocketsModel::fromSerialized(serialized(u"adm"_s, u"/admin"_s)));
    QCOMPARE(rooms.rowCount(), 2); // "/" and "/admin"

    const QModelIndex root = rooms.find(u"/"_s);
    QVERIFY(root.isValid());
    QCOMPARE(root.data().toString(), u"/"_s);
    QCOMPARE(root.data(KindRole).value<RoomsModel::Kind>(), RoomsModel::Kind::Namespace);
    QCOMPARE(root.siblingAtColumn(RoomsModel::Members).data().toInt(), 2);
    QCOMPARE(rooms.rowCount(root), 3); // a, b, lobby

    sockets.joinRoom(u"/"_s, u"lobby"_s, u"b"_s);
    const QModelIndex lobby = rooms.find(u"/"_s, u"lobby"_s);
    QVERIFY(lobby.isValid());
    QCOMPARE(lobby.data(KindRole).value<RoomsModel::Kind>(), RoomsModel::Kind::Room);
    QCOMPARE(lobby.data(RoomRole).toString(), u"lobby"_s);
    QCOMPARE(lobby.data(NamespaceRole).toString(), u"/"_s);
    QCOMPARE(lobby.siblingAtColumn(RoomsModel::Members).data().toInt(), 2);
    QCOMPARE(rooms.rowCount(lobby), 2);
    const QModelIndex member = rooms.find(u"/"_s, u"lobby"_s, u"b"_s);
    QVERIFY(member.isValid());
    QCOMPARE(member.parent(), lobby);
    QCOMPARE(member.data(SocketIdRole).toString(), u"b"_s);
    QCOMPARE(member.data(KindRole).value<RoomsModel::Kind>(), RoomsModel::Kind::Member);
    QVERIFY(!rooms.find(u"/"_s, u"lobby"_s, u"adm"_s).isValid());
    QVERIFY(!rooms.find(u"/nowhere"_s).isValid());
    QVERIFY(rooms.find(u"/"_s, u"a"_s).data(Qt::ToolTipRole).toString().contains(u"private"_s));

    // A transport change leaves the tree alone.
    QSignalSpy reset(&rooms, &QAbstractItemModel::modelReset);
    sockets.updateSocket(u"/"_s, u"a"_s, {{u"transport"_s, u"websocket"_s}});
    QCOMPARE(reset.size(), 0);
}

void tst_AdminModels::roomsLastMemberRemovesRoom()
{
    SocketsModel sockets;
    RoomsModel rooms(&sockets);
    QAbstractItemModelTester tester(&rooms, QAbstractItemModelTester::FailureReportingMode::QtTest);
    sockets.addSocket(SocketsModel::fromSerialized(serialized(u"a"_s)));
    sockets.addSocket(SocketsModel::fromSerialized(serialized(u"b"_s)));
    sockets.joinRoom(u"/"_s, u"game"_s, u"a"_s);
    sockets.joinRoom(u"/"_s, u"game"_s, u"b"_s);
    QCOMPARE(rooms.rowCount(rooms.find(u"/"_s, u"game"_s)), 2);
    sockets.leaveRoom(u"/"_s, u"game"_s, u"a"_s);
    QCOMPARE(rooms.rowCount(rooms.find(u"/"_s, u"game"_s)), 1);
    sockets.removeSocket(u"/"_s, u"b"_s); // the last member goes, and the room with it
    QVERIFY(!rooms.find(u"/"_s, u"game"_s).isValid());
    QVERIFY(!rooms.find(u"/"_s, u"b"_s).isValid());
    QVERIFY(rooms.find(u"/"_s, u"a"_s).isValid());
    sockets.removeSocket(u"/"_s, u"a"_s);
    QCOMPARE(rooms.rowCount(), 0);
}

void tst_AdminModels::handlers()
{
    HandlersModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"handler entry"_s));
    model.setHandlers(json(R"([{"nsp":"/","event":"message","how":"on"},
        {"nsp":"/chat","event":"join","how":"SOCKET_EVENT"},{"event":"broken"}])")
                          .toList());
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.index(1, HandlersModel::Namespace).data().toString(), u"/chat"_s);
    QCOMPARE(model.index(1, HandlersModel::Event).data().toString(), u"join"_s);
    QCOMPARE(model.index(1, HandlersModel::How).data().toString(), u"SOCKET_EVENT"_s);
    QCOMPARE(model.index(1, HandlersModel::Event).data(NamespaceRole).toString(), u"/chat"_s);
    model.setHandlers({});
    QCOMPARE(model.rowCount(), 0);
}

void tst_AdminModels::roomsPersistentIndexes()
{
    SocketsModel sockets;
    RoomsModel rooms(&sockets);
    QAbstractItemModelTester tester(&rooms, QAbstractItemModelTester::FailureReportingMode::QtTest);
    sockets.addSocket(
        SocketsModel::fromSerialized(serialized(u"m"_s, u"/"_s, {u"m"_s, u"lobby"_s})));
    sockets.addSocket(SocketsModel::fromSerialized(serialized(u"n"_s, u"/"_s)));
    const QPersistentModelIndex lobby = rooms.find(u"/"_s, u"lobby"_s);
    const QPersistentModelIndex member = rooms.find(u"/"_s, u"lobby"_s, u"m"_s);
    QVERIFY(lobby.isValid());
    QVERIFY(member.isValid());
    QSignalSpy reset(&rooms, &QAbstractItemModel::modelReset);

    // Unrelated: a socket in another namespace (sorted before "/"... and after), a member of the
    // room joining another room, another socket joining a room sorted before "lobby".
    sockets.addSocket(SocketsModel::fromSerialized(serialized(u"x"_s, u"/chat"_s)));
    sockets.addSocket(SocketsModel::fromSerialized(serialized(u"y"_s, u"/"_s)));
    sockets.joinRoom(u"/"_s, u"game"_s, u"m"_s);
    sockets.joinRoom(u"/"_s, u"aaa"_s, u"n"_s);
    sockets.joinRoom(u"/"_s, u"lobby"_s, u"n"_s); // a second member, sorted after
    sockets.updateSocket(u"/"_s, u"m"_s, {{u"data"_s, QVariantMap {{u"k"_s, 1}}}});
    QCOMPARE(reset.size(), 0);
    QVERIFY(lobby.isValid());
    QCOMPARE(QModelIndex(lobby), rooms.find(u"/"_s, u"lobby"_s));
    QCOMPARE(lobby.data(RoomRole).toString(), u"lobby"_s);
    QCOMPARE(lobby.sibling(lobby.row(), RoomsModel::Members).data().toInt(), 2);
    QVERIFY(member.isValid());
    QCOMPARE(QModelIndex(member), rooms.find(u"/"_s, u"lobby"_s, u"m"_s));
    QCOMPARE(member.parent(), QModelIndex(lobby));

    // Leaving and disconnecting update in place too; the room's index goes with its last member.
    sockets.leaveRoom(u"/"_s, u"lobby"_s, u"n"_s);
    sockets.removeSocket(u"/chat"_s, u"x"_s);
    QVERIFY(!rooms.find(u"/chat"_s).isValid());
    QCOMPARE(QModelIndex(lobby), rooms.find(u"/"_s, u"lobby"_s));
    QCOMPARE(rooms.find(u"/"_s).siblingAtColumn(RoomsModel::Members).data().toInt(), 3);
    sockets.removeSocket(u"/"_s, u"m"_s);
    QCOMPARE(reset.size(), 0);
    QVERIFY(!lobby.isValid());
    QVERIFY(!member.isValid());
    QVERIFY(!rooms.find(u"/"_s, u"game"_s).isValid());
    QCOMPARE(rooms.find(u"/"_s).siblingAtColumn(RoomsModel::Members).data().toInt(), 2);

    // A socket replaced with other rooms (socket_connected again) moves between rooms.
    sockets.addSocket(SocketsModel::fromSerialized(serialized(u"y"_s, u"/"_s, {u"y"_s, u"zzz"_s})));
    QVERIFY(rooms.find(u"/"_s, u"zzz"_s, u"y"_s).isValid());
    QCOMPARE(reset.size(), 0);

    // all_sockets still rebuilds the whole tree.
    sockets.reset({SocketsModel::fromSerialized(serialized(u"q"_s, u"/"_s, {u"q"_s, u"r"_s}))});
    QCOMPARE(reset.size(), 1);
    QCOMPARE(rooms.rowCount(rooms.find(u"/"_s)), 2);
}

void tst_AdminModels::roomsLargeIncremental()
{
    // 20,000 sockets from all_sockets, then 2,000 room events: no reset of the tree for them, and
    // no quadratic cost (a generous bound for Debug builds on a loaded machine).
    SocketsModel sockets;
    RoomsModel rooms(&sockets);
    QList<SocketsModel::SocketInfo> list;
    for (int i = 0; i < 20000; ++i) {
        const QString id = u"s%1"_s.arg(i, 5, 10, QLatin1Char('0'));
        list.append(SocketsModel::fromSerialized(serialized(id, i % 2 ? u"/"_s : u"/odd"_s)));
    }
    QElapsedTimer timer;
    timer.start();
    sockets.reset(list);
    QCOMPARE(sockets.rowCount(), 20000);
    QCOMPARE(sockets.indexOf(u"/"_s, u"s19999"_s), 19999);
    QSignalSpy reset(&rooms, &QAbstractItemModel::modelReset);
    for (int i = 0; i < 1000; ++i) {
        const QString id = u"s%1"_s.arg(i * 17 % 20000, 5, 10, QLatin1Char('0'));
        const QString nsp = (i * 17 % 20000) % 2 ? u"/"_s : u"/odd"_s;
        sockets.joinRoom(nsp, u"room%1"_s.arg(i % 50), id);
        sockets.leaveRoom(nsp, id, id);
    }
    // Removing from the middle keeps the row index right for the rows after.
    for (int i = 0; i < 100; ++i)
        sockets.removeSocket(u"/odd"_s, u"s%1"_s.arg(i * 100, 5, 10, QLatin1Char('0')));
    QVERIFY2(timer.elapsed() < 10000, qPrintable(QString::number(timer.elapsed())));
    QCOMPARE(reset.size(), 0);
    QCOMPARE(sockets.rowCount(), 19900);
    QCOMPARE(sockets.indexOf(u"/"_s, u"s19999"_s), 19899);
    QCOMPARE(sockets.indexOf(u"/odd"_s, u"s00000"_s), -1);
    for (int row = 0; row < sockets.rowCount(); row += 997) {
        const SocketsModel::SocketInfo &s = sockets.socketList().at(row);
        QCOMPARE(sockets.indexOf(s.nsp, s.id), row);
    }
    // The tree updated in place is the one a rebuild makes.
    QVERIFY(rooms.rowCount(rooms.find(u"/odd"_s, u"room0"_s)) > 10);
    const RoomsModel rebuilt(&sockets);
    const std::function<void(const QModelIndex &, const QModelIndex &)> compare
        = [&](const QModelIndex &a, const QModelIndex &b) {
              QCOMPARE(rooms.rowCount(a), rebuilt.rowCount(b));
              for (int row = 0; row < rooms.rowCount(a); ++row) {
                  for (int c = 0; c < RoomsModel::ColumnCount; ++c)
                      QCOMPARE(rooms.index(row, c, a).data(), rebuilt.index(row, c, b).data());
                  compare(rooms.index(row, 0, a), rebuilt.index(row, 0, b));
              }
          };
    compare({}, {});
}

void tst_AdminModels::toolTipsEscaped()
{
    // Text from the monitored server or its clients must never be taken for rich text by a
    // tooltip: <img src=...> would load local files.
    const QString html = uR"(<img src="x">)"_s;
    QVariantMap s = serialized(u"a"_s, u"/"_s, {u"a"_s, html}, {{u"k"_s, html}});
    QVariantMap handshake = s.value(u"handshake"_s).toMap();
    handshake[u"headers"_s] = QVariantMap {{u"user-agent"_s, html}};
    s[u"handshake"_s] = handshake;
    SocketsModel sockets;
    RoomsModel rooms(&sockets);
    sockets.addSocket(SocketsModel::fromSerialized(s));
    const auto checkEscaped = [&](const QVariant &tip, const char *where) {
        const QString text = tip.toString();
        QVERIFY2(!text.contains(u"<img"_s), where);
        QVERIFY2(text.contains(u"&lt;img src="_s), where); // JSON escapes the quotes its own way
    };
    const QVariant agent = sockets.index(0, SocketsModel::Address).data(Qt::ToolTipRole);
    checkEscaped(agent, "user-agent");
    // Still shown as it was sent, and line breaks kept.
    QCOMPARE(toolTipText(agent), html);
    checkEscaped(sockets.index(0, SocketsModel::Rooms).data(Qt::ToolTipRole), "rooms");
    checkEscaped(sockets.index(0, SocketsModel::Data).data(Qt::ToolTipRole), "data");
    QCOMPARE(
        toolTipText(sockets.index(0, SocketsModel::Rooms).data(Qt::ToolTipRole)), u"a\n"_s + html);

    const QString id = uR"(<img src="y">)"_s;
    sockets.addSocket(SocketsModel::fromSerialized(serialized(id)));
    QVERIFY(rooms.find(u"/"_s, id).data(Qt::ToolTipRole).toString().contains(u"&lt;img src="_s));
    QVERIFY(!rooms.find(u"/"_s, id).data(Qt::ToolTipRole).toString().contains(u"<img"_s));

    ServersModel servers;
    servers.addStats(QVariantMap {{u"serverId"_s, u"srv"_s},
        {u"namespaces"_s, QVariantList {QVariantMap {{u"name"_s, html}, {u"socketsCount"_s, 1}}}}});
    checkEscaped(servers.index(0, ServersModel::Namespaces).data(Qt::ToolTipRole), "namespaces");

    EventLogModel log;
    log.addEvent(EventLogModel::Direction::Received, u"/"_s, u"a"_s, {u"e"_s, html}, {});
    checkEscaped(log.index(0, EventLogModel::Arguments).data(Qt::ToolTipRole), "args");
    QCOMPARE(log.index(0, EventLogModel::Arguments).data(PrettyJsonRole).toString(),
        u"[\n  \"<img src=\\\"x\\\">\"\n]"_s); // plain text for plain-text widgets
}

void tst_AdminModels::eventLogAdd()
{
    EventLogModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QVariantList payload {
        u"chat"_s, u"hi"_s, QVariantMap {{u"n"_s, 1}}, QByteArray("\x01\x02\x03", 3)};
    model.addEvent(EventLogModel::Direction::Received, u"/"_s, u"sock"_s, payload,
        u"2024-03-01T10:20:30.456Z"_s);
    model.addEvent(EventLogModel::Direction::Sent, u"/"_s, u"sock"_s, {u"reply"_s}, {});
    QCOMPARE(model.rowCount(), 2);
    const EventLogModel::Entry &e = model.entry(0);
    QCOMPARE(e.event, u"chat"_s);
    QCOMPARE(e.args.size(), 3);
    QCOMPARE(e.args.at(2).toByteArray(), QByteArray("\x01\x02\x03", 3));
    const QDateTime time = QDateTime::fromString(u"2024-03-01T10:20:30.456Z"_s, Qt::ISODateWithMs);
    QCOMPARE(e.time, time);
    QCOMPARE(model.index(0, EventLogModel::Time).data().toString(),
        time.toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss"_s));
    QCOMPARE(model.index(0, EventLogModel::Event).data().toString(), u"chat"_s);
    QCOMPARE(model.index(0, EventLogModel::Arguments).data().toString(),
        uR"(["hi",{"n":1},<binary 3 bytes>])"_s);
    QCOMPARE(model.index(0, EventLogModel::Arguments).data(RawRole).toList(), e.args);
    QVERIFY(
        model.index(0, EventLogModel::Arguments).data(Qt::ToolTipRole).toString().contains(u'\n'));
    QCOMPARE(model.index(0, 0).data(DirectionRole).value<EventLogModel::Direction>(),
        EventLogModel::Direction::Received);
    QCOMPARE(model.index(1, 0).data(DirectionRole).value<EventLogModel::Direction>(),
        EventLogModel::Direction::Sent);
    QVERIFY(model.index(0, EventLogModel::Dir).data().toString()
        != model.index(1, EventLogModel::Dir).data().toString());
    QCOMPARE(model.index(1, EventLogModel::Arguments).data().toString(), u"[]"_s);
    QVERIFY(model.entry(1).time.isValid()); // no timestamp: when it arrived
    for (int c = 0; c < EventLogModel::ColumnCount; ++c) {
        QCOMPARE(model.index(0, c).data(SocketIdRole).toString(), u"sock"_s);
        QCOMPARE(model.index(0, c).data(NamespaceRole).toString(), u"/"_s);
    }
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void tst_AdminModels::eventLogTimestamps()
{
    EventLogModel model;
    const qint64 ms = 1700000000123;
    model.addEvent(EventLogModel::Direction::Received, u"/"_s, u"s"_s, {u"a"_s}, double(ms));
    model.addEvent(EventLogModel::Direction::Received, u"/"_s, u"s"_s, {u"a"_s}, ms);
    model.addEvent(EventLogModel::Direction::Received, u"/"_s, u"s"_s, {u"a"_s},
        QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs));
    for (int i = 0; i < 3; ++i)
        QCOMPARE(model.entry(i).time.toMSecsSinceEpoch(), ms);
}

void tst_AdminModels::eventLogCapacity()
{
    EventLogModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.capacity(), 5000);
    model.setCapacity(5);
    for (int i = 0; i < 8; ++i)
        model.addEvent(EventLogModel::Direction::Received, u"/"_s, u"s"_s, {u"e"_s, i}, {});
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.entry(0).args.first().toInt(), 3);
    QCOMPARE(model.entry(4).args.first().toInt(), 7);
    model.setCapacity(2);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.entry(0).args.first().toInt(), 6);
}

void tst_AdminModels::eventLogPause()
{
    EventLogModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setCapacity(10);
    for (int i = 0; i < 4; ++i)
        model.addEvent(EventLogModel::Direction::Received, u"/"_s, u"s"_s, {u"e"_s, i}, {});
    QSignalSpy paused(&model, &EventLogModel::pausedChanged);
    model.setPaused(true);
    QVERIFY(model.isPaused());
    QCOMPARE(paused.size(), 1);
    for (int i = 4; i < 9; ++i)
        model.addEvent(EventLogModel::Direction::Sent, u"/"_s, u"s"_s, {u"e"_s, i}, {});
    QCOMPARE(model.rowCount(), 4); // nothing shows while paused
    QCOMPARE(model.pendingCount(), 5);
    model.setPaused(false);
    QCOMPARE(paused.size(), 2);
    QCOMPARE(model.pendingCount(), 0);
    QCOMPARE(model.rowCount(), 9); // nothing was dropped
    for (int i = 0; i < 9; ++i)
        QCOMPARE(model.entry(i).args.first().toInt(), i);

    // Pausing past capacity keeps the newest entries, up to capacity.
    model.setPaused(true);
    for (int i = 9; i < 12; ++i)
        model.addEvent(EventLogModel::Direction::Sent, u"/"_s, u"s"_s, {u"e"_s, i}, {});
    model.setPaused(false);
    QCOMPARE(model.rowCount(), 10);
    QCOMPARE(model.entry(0).args.first().toInt(), 2);
    QCOMPARE(model.entry(9).args.first().toInt(), 11);
}

void tst_AdminModels::eventLogPauseOverflow()
{
    EventLogModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setCapacity(5);
    model.addEvent(EventLogModel::Direction::Received, u"/"_s, u"s"_s, {u"e"_s, -1}, {});
    model.setPaused(true);
    for (int i = 0; i < 20; ++i)
        model.addEvent(EventLogModel::Direction::Received, u"/"_s, u"s"_s, {u"e"_s, i}, {});
    QCOMPARE(model.pendingCount(), 5); // waiting entries are bounded too
    QCOMPARE(model.rowCount(), 1);
    model.setPaused(false);
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.entry(0).args.first().toInt(), 15);
    QCOMPARE(model.entry(4).args.first().toInt(), 19);
}

void tst_AdminModels::argsText()
{
    QCOMPARE(EventLogModel::argsText({}), u"[]"_s);
    QCOMPARE(EventLogModel::argsText({1, 2.5, true, QVariant::fromValue(nullptr), u"a\"b"_s}),
        uR"([1,2.5,true,null,"a\"b"])"_s);
    QCOMPARE(EventLogModel::argsText({QByteArray(1024, 'x')}), u"[<binary 1024 bytes>]"_s);
    QCOMPARE(EventLogModel::argsText({QVariantMap {
                 {u"img"_s, QByteArray("ab")}, {u"list"_s, QVariantList {QByteArray(), 1}}}}),
        uR"([{"img":<binary 2 bytes>,"list":[<binary 0 bytes>,1]}])"_s);
    QCOMPARE(EventLogModel::argsText({QVariantMap {{u"a"_s, 1}}}, true),
        u"[\n  {\n    \"a\": 1\n  }\n]"_s);
}

void tst_AdminModels::eventLogLargeBinary()
{
    // The log is for display: a large binary argument leaves only its size behind, wherever it is.
    EventLogModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QByteArray image(1048576, 'x');
    model.addEvent(EventLogModel::Direction::Sent, u"/"_s, u"s"_s,
        {u"img"_s, image, QVariantMap {{u"nested"_s, QVariantList {image}}}, QByteArray("ab")}, {});
    const EventLogModel::Entry &e = model.entry(0);
    QCOMPARE(e.args.size(), 3);
    QVERIFY(e.args.at(0).metaType() != QMetaType::fromType<QByteArray>());
    QVERIFY(e.args.at(0).toByteArray().size() < 1024);
    const QVariant nested = e.args.at(1).toMap().value(u"nested"_s).toList().value(0);
    QVERIFY(nested.metaType() != QMetaType::fromType<QByteArray>());
    QCOMPARE(e.args.at(2).toByteArray(), QByteArray("ab")); // small ones stay
    QCOMPARE(model.index(0, EventLogModel::Arguments).data().toString(),
        uR"([<binary 1048576 bytes>,{"nested":[<binary 1048576 bytes>]},<binary 2 bytes>])"_s);
    QVERIFY(model.index(0, EventLogModel::Arguments)
                .data(PrettyJsonRole)
                .toString()
                .contains(u"<binary 1048576 bytes>"_s));
    // The same while paused.
    model.setPaused(true);
    model.addEvent(EventLogModel::Direction::Sent, u"/"_s, u"s"_s, {u"img"_s, image}, {});
    model.setPaused(false);
    QVERIFY(model.entry(1).args.at(0).metaType() != QMetaType::fromType<QByteArray>());
    QCOMPARE(
        model.index(1, EventLogModel::Arguments).data().toString(), u"[<binary 1048576 bytes>]"_s);
}

void tst_AdminModels::filterProxy()
{
    SocketsModel sockets;
    sockets.addSocket(SocketsModel::fromSerialized(
        serialized(u"AlphaSock"_s, u"/"_s, {u"AlphaSock"_s, u"Lobby"_s})));
    sockets.addSocket(SocketsModel::fromSerialized(serialized(u"beta"_s, u"/chat"_s)));
    sockets.addSocket(SocketsModel::fromSerialized(
        serialized(u"gamma"_s, u"/chat"_s, {}, {{u"user"_s, u"Zoe"_s}})));
    TextFilterProxyModel proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&sockets);
    QCOMPARE(proxy.rowCount(), 3);

    proxy.setFilterText(u"lobby"_s); // another column (rooms), other case
    QCOMPARE(proxy.filterText(), u"lobby"_s);
    QCOMPARE(proxy.rowCount(), 1);
    QCOMPARE(proxy.index(0, SocketsModel::Id).data().toString(), u"AlphaSock"_s);
    proxy.setFilterText(u"zoe"_s); // socket data
    QCOMPARE(proxy.rowCount(), 1);
    QCOMPARE(proxy.index(0, 0).data(SocketIdRole).toString(), u"gamma"_s);
    proxy.setFilterText(u"nothing matches"_s);
    QCOMPARE(proxy.rowCount(), 0);
    proxy.setFilterText({});
    proxy.setNamespaceFilter(u"/chat"_s);
    QCOMPARE(proxy.namespaceFilter(), u"/chat"_s);
    QCOMPARE(proxy.rowCount(), 2);
    proxy.setFilterText(u"BETA"_s);
    QCOMPARE(proxy.rowCount(), 1);
    proxy.setNamespaceFilter({});
    proxy.setFilterText({});

    // Dates sort by their raw value, case-insensitive text otherwise.
    proxy.sort(SocketsModel::Id);
    QCOMPARE(proxy.index(0, SocketsModel::Id).data().toString(), u"AlphaSock"_s);
    QCOMPARE(proxy.index(2, SocketsModel::Id).data().toString(), u"gamma"_s);

    // Numbers sort numerically (RawRole), not as text: 9 before 10.
    ServersModel servers;
    servers.addStats(QVariantMap {{u"serverId"_s, u"a"_s}, {u"clientsCount"_s, 10}});
    servers.addStats(QVariantMap {{u"serverId"_s, u"b"_s}, {u"clientsCount"_s, 9}});
    TextFilterProxyModel serverProxy;
    serverProxy.setSourceModel(&servers);
    serverProxy.sort(ServersModel::Clients);
    QCOMPARE(serverProxy.index(0, ServersModel::ServerId).data().toString(), u"b"_s);
    serverProxy.sort(ServersModel::Clients, Qt::DescendingOrder);
    QCOMPARE(serverProxy.index(0, ServersModel::ServerId).data().toString(), u"a"_s);
    // A model without namespaces is not hidden by a namespace filter.
    serverProxy.setNamespaceFilter(u"/chat"_s);
    QCOMPARE(serverProxy.rowCount(), 2);

    // Live updates pass through.
    proxy.setFilterText(u"delta"_s);
    QCOMPARE(proxy.rowCount(), 0);
    sockets.addSocket(SocketsModel::fromSerialized(serialized(u"delta"_s)));
    QCOMPARE(proxy.rowCount(), 1);
}

void tst_AdminModels::filterProxyTree()
{
    SocketsModel sockets;
    RoomsModel rooms(&sockets);
    sockets.addSocket(
        SocketsModel::fromSerialized(serialized(u"a"_s, u"/"_s, {u"a"_s, u"lobby"_s})));
    sockets.addSocket(SocketsModel::fromSerialized(serialized(u"b"_s, u"/chat"_s)));
    TextFilterProxyModel proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&rooms);
    proxy.setFilterText(u"LOBBY"_s);
    QCOMPARE(proxy.rowCount(), 1); // "/" stays as the room's parent
    const QModelIndex nsp = proxy.index(0, 0);
    QCOMPARE(nsp.data().toString(), u"/"_s);
    QCOMPARE(proxy.rowCount(nsp), 1);
    QCOMPARE(proxy.index(0, 0, nsp).data().toString(), u"lobby"_s);
    proxy.setFilterText({});
    proxy.setNamespaceFilter(u"/chat"_s);
    QCOMPARE(proxy.rowCount(), 1);
    QCOMPARE(proxy.index(0, 0).data().toString(), u"/chat"_s);
}

void tst_AdminModels::headersTranslatable()
{
    // Every column has a header text (tr()'d in the models; lupdate collects them).
    ServersModel servers;
    SocketsModel sockets;
    RoomsModel rooms(&sockets);
    HandlersModel handlers;
    EventLogModel log;
    for (const QAbstractItemModel *m : std::initializer_list<const QAbstractItemModel *> {
             &servers, &sockets, &rooms, &handlers, &log}) {
        for (int c = 0; c < m->columnCount(); ++c)
            QVERIFY2(!m->headerData(c, Qt::Horizontal).toString().isEmpty(),
                qPrintable(u"%1 column %2"_s.arg(QString::fromLatin1(m->metaObject()->className()))
                               .arg(c)));
    }
    QCOMPARE(sockets.headerData(SocketsModel::Rooms, Qt::Horizontal).toString(), u"Rooms"_s);
}

QTEST_MAIN(tst_AdminModels)
#include "tst_adminmodels.moc"
