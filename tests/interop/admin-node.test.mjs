// Our Admin UI namespace (interop_server --admin, from $INTEROP_SERVER) against the reference,
// Node's socket.io 4.8 instrumented by @socket.io/admin-ui 0.5.1 (lib/node-admin-server.mjs):
// both are driven the same way by socket.io-client and every admin event is recorded; the
// events' SHAPES must agree (object key sets and JSON types, recursively; arrays by the shape of
// their first element). Ids, times and counts differ and are not compared, but timestamps must
// parse as dates. Then auth, readonly and production mode, on both.
//
// Deliberate differences, not reported:
// - our `config` carries an extra `qsioExtensions` field (our CLI and admin app's extensions;
//   docs/admin-protocol.md: extensions are advertised in an extra field of config);
// - Node emits `session` before the CONNECT packet (socket.io-client buffers it until connected,
//   the shipped web UI loses it); ours emits it after CONNECT, so the order is not compared;
// - we send one `server_stats` when an admin connects, Node only every 2 s;
// - handshake `headers`, `query` and socket `data` are open maps (the request's headers, the
//   application's data: interop_server counts events in data): only their value types are
//   compared, not their keys;
// - the order of `room_joined` (own-id room) and `socket_connected` for a new socket;
// - Node announces a new admin socket to itself too (`socket_connected`, `room_joined` before
//   `config`); ours lets it learn about itself from `all_sockets` only;
// - handshake.time is a date text in another format (ours RFC 2822, Node's Date.toString());
//   both parse as dates, which is all the UI needs.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { io } from 'socket.io-client';
import { startServer } from './lib/server.mjs';
import { startNodeAdminServer } from './lib/node-admin-server.mjs';
import { delay, waitEvent, withTimeout } from './lib/util.mjs';

const WAIT_MS = 6_000; // Node's admin-ui sends server_stats every 2 s
const ISO_MS_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const USER = 'admin';
const PASSWORD = 'secret';

const FEATURES = {
    development: ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT',
        'AGGREGATED_EVENTS', 'ALL_EVENTS'],
    'development+readonly': ['AGGREGATED_EVENTS', 'ALL_EVENTS'],
    production: ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT',
        'AGGREGATED_EVENTS'],
    'production+readonly': ['AGGREGATED_EVENTS'],
};

/** A bcrypt hash made by the bcryptjs @socket.io/admin-ui itself verifies with. */
function bcryptHash(password) {
    const require = createRequire(import.meta.url);
    const bcrypt = createRequire(require.resolve('@socket.io/admin-ui'))('bcryptjs');
    return bcrypt.hashSync(password, 10);
}

/** Both servers, configured alike. */
async function startBoth({ auth = false, readonly = false, production = false } = {}) {
    const ourFlags = ['--admin'];
    const nodeFlags = [];
    if (auth) {
        ourFlags.push('--admin-user', USER, '--admin-password-hash', bcryptHash(PASSWORD));
        nodeFlags.push('--auth', `${USER}:${PASSWORD}`);
    }
    if (readonly) {
        ourFlags.push('--admin-readonly');
        nodeFlags.push('--readonly');
    }
    if (production) {
        ourFlags.push('--admin-production');
        nodeFlags.push('--mode', 'production');
    }
    const [ours, node] = await Promise.all([startServer(ourFlags), startNodeAdminServer(nodeFlags)]);
    return { ours, node };
}

/** An admin client recording every event it receives, in order. */
class AdminRecorder {
    constructor(url, { auth } = {}) {
        this.events = [];
        this.waiters = [];
        this.socket = io(`${url}/admin`, {
            forceNew: true, reconnection: false, transports: ['websocket'], timeout: WAIT_MS, auth,
        });
        this.socket.onAny((event, ...args) => {
            this.events.push({ event, args });
            for (const w of [...this.waiters]) {
                if (w.event === event && w.predicate(args)) {
                    this.waiters.splice(this.waiters.indexOf(w), 1);
                    w.resolve(args);
                }
            }
        });
    }

    connect() {
        return waitEvent(this.socket, 'connect', WAIT_MS, { failOn: ['connect_error'] });
    }

    all(event) {
        return this.events.filter((e) => e.event === event).map((e) => e.args);
    }

    /** Args of the first `event` (received already or to come) whose args satisfy predicate. */
    waitFor(event, predicate = () => true, ms = WAIT_MS) {
        const seen = this.all(event).find(predicate);
        if (seen) {
            return Promise.resolve(seen);
        }
        let waiter;
        const got = new Promise((resolve) => {
            waiter = { event, predicate, resolve };
            this.waiters.push(waiter);
        });
        return withTimeout(got, ms, `admin event ${event}; got ${this.events.map((e) => e.event)}`)
            .finally(() => {
                const i = this.waiters.indexOf(waiter);
                if (i >= 0) {
                    this.waiters.splice(i, 1);
                }
            });
    }

    close() {
        this.socket.close();
    }
}

function jsonType(v) {
    if (v === null) {
        return 'null';
    }
    return Array.isArray(v) ? 'array' : typeof v;
}

// Open maps: their keys belong to the request or the application, not to the protocol.
const OPEN_MAPS = new Set(['headers', 'query', 'data']);

/**
 * Differences in shape between a (ours) and b (Node's), as readable lines: key sets of objects,
 * JSON types of values, arrays by their first elements.
 */
function shapeDiff(a, b, path = '$', out = []) {
    const ta = jsonType(a);
    const tb = jsonType(b);
    if (ta !== tb) {
        out.push(`${path}: ours ${ta} (${JSON.stringify(a)}), Node's ${tb} (${JSON.stringify(b)})`);
        return out;
    }
    if (ta === 'array') {
        if (a.length && b.length) {
            shapeDiff(a[0], b[0], `${path}[0]`, out);
        }
    } else if (ta === 'object') {
        const key = path.split('.').pop();
        if (OPEN_MAPS.has(key)) {
            const types = (o) => [...new Set(Object.values(o).map(jsonType))].sort().join(',');
            if (key !== 'data' && types(a) !== types(b)) {
                out.push(`${path}: values ours ${types(a)}, Node's ${types(b)}`);
            }
            return out;
        }
        for (const k of Object.keys(a)) {
            if (!(k in b)) {
                out.push(`${path}.${k}: only ours has it (${JSON.stringify(a[k])})`);
            }
        }
        for (const k of Object.keys(b)) {
            if (!(k in a)) {
                out.push(`${path}.${k}: only Node's has it (${JSON.stringify(b[k])})`);
            }
        }
        for (const k of Object.keys(a)) {
            if (k in b) {
                shapeDiff(a[k], b[k], `${path}.${k}`, out);
            }
        }
    }
    return out;
}

/** Event arguments compared position by position (they are not a homogeneous list). */
function assertSameArgsShape(event, ours, node) {
    assert.ok(ours, `ours sent no matching ${event}`);
    assert.ok(node, `Node's sent no matching ${event}`);
    const diffs = [];
    if (ours.length !== node.length) {
        diffs.push(`${event}: ours has ${ours.length} arguments, Node's ${node.length}`);
    }
    for (let i = 0; i < Math.min(ours.length, node.length); i++) {
        shapeDiff(ours[i], node[i], `${event}[${i}]`, diffs);
    }
    assert.deepEqual(diffs, [], `shape differences:\n${diffs.join('\n')}\nours: ${JSON.stringify(ours)}\n`
        + `Node's: ${JSON.stringify(node)}`);
}

function assertTimestamp(value, what) {
    assert.equal(typeof value, 'string', `${what}: ${JSON.stringify(value)}`);
    assert.match(value, ISO_MS_UTC, what);
    const ms = Date.parse(value);
    assert.ok(Math.abs(ms - Date.now()) < 120_000, `${what}: ${value} is not about now`);
}

function assertSerializedSocket(s, what) {
    assert.equal(typeof s.handshake.issued, 'number', `${what}: handshake.issued`);
    assert.ok(Math.abs(s.handshake.issued - Date.now()) < 120_000, `${what}: handshake.issued`);
    assert.ok(!Number.isNaN(Date.parse(s.handshake.time)),
        `${what}: handshake.time ${JSON.stringify(s.handshake.time)} does not parse as a date`);
    assert.ok(!('auth' in s.handshake), `${what}: the auth payload must not be shown`);
}

/**
 * The common scenario: an admin client on /admin, then a user client on "/" that connects over
 * polling, upgrades to websocket, joins a room, emits `echo` with an ack, receives `hello` sent
 * through the admin `emit` command, and disconnects. Resolves with the admin recording. The
 * user's steps must work; an admin event that does not come is only noted in `missing`, so that
 * the subtest of that event fails and the others still run.
 */
async function runScenario(url) {
    const admin = new AdminRecorder(url);
    const missing = [];
    const expect = (promise) => promise.catch((err) => missing.push(err.message));
    let user;
    try {
        await admin.connect();
        await expect(admin.waitFor('config'));
        await expect(admin.waitFor('all_sockets'));

        user = io(url, { forceNew: true, reconnection: false, timeout: WAIT_MS });
        await waitEvent(user, 'connect', WAIT_MS, { failOn: ['connect_error'] });
        const id = user.id;
        if (user.io.engine.transport.name !== 'websocket') {
            await waitEvent(user.io.engine, 'upgrade', WAIT_MS, { failOn: ['upgradeError', 'close'] });
        }
        await expect(admin.waitFor('socket_connected', ([s]) => s.id === id));
        await expect(admin.waitFor('socket_updated', ([u]) => u.id === id && u.transport === 'websocket'));

        user.emit('join', 'shape-room');
        await expect(admin.waitFor('room_joined', ([, room, sid]) => room === 'shape-room' && sid === id));

        const answer = await user.timeout(WAIT_MS).emitWithAck('echo', 'hi', { n: 1 });
        assert.equal(answer, 'hi');
        await expect(admin.waitFor('event_received', ([, sid, payload]) => sid === id && payload[0] === 'echo'));

        const hello = waitEvent(user, 'hello', WAIT_MS);
        admin.socket.emit('emit', '/', id, 'hello', { greeting: 'hi', list: [1] });
        assert.deepEqual(await hello, { greeting: 'hi', list: [1] });
        await expect(admin.waitFor('event_sent', ([, sid, payload]) => sid === id && payload[0] === 'hello'));

        user.disconnect();
        await expect(admin.waitFor('socket_disconnected', ([, sid]) => sid === id));
        // Node defers room_left by a tick, after socket_disconnected; both are waited for at once.
        await Promise.all([
            expect(admin.waitFor('room_left', ([, room, sid]) => room === 'shape-room' && sid === id)),
            // The closed Engine.IO connection shows in the next stats.
            expect(admin.waitFor('server_stats',
                ([s]) => s.aggregatedEvents.some((e) => e.type === 'rawDisconnection'))),
        ]);
        return { admin, id, missing };
    } finally {
        user?.close();
        admin.close();
    }
}

describe('admin events: ours against Node\'s @socket.io/admin-ui', { timeout: 60_000 }, () => {
    let servers;
    let ours;
    let node;
    // Args of the first event of that name matching predicate, on each side.
    const pick = (event, predicate = () => true) => [ours, node].map((side, i) => {
        const found = side.admin.all(event).find((args) => predicate(args, side.id));
        assert.ok(found, `${i ? 'Node\'s' : 'ours'} sent no matching ${event}; its events: `
            + `${side.admin.events.map((e) => e.event)}; missing: ${side.missing.join('; ')}`);
        return found;
    });

    before(async () => {
        servers = await startBoth();
        [ours, node] = await Promise.all([runScenario(servers.ours.url),
            runScenario(servers.node.url)]);
    });
    after(async () => {
        await Promise.all([servers?.ours.close(), servers?.node.close()]);
    });

    test('config: the same supported features; ours adds qsioExtensions', () => {
        const [o, n] = pick('config');
        assert.deepEqual(new Set(o[0].supportedFeatures), new Set(n[0].supportedFeatures));
        assert.deepEqual(new Set(n[0].supportedFeatures), new Set(FEATURES.development));
        const { qsioExtensions, ...rest } = o[0];
        assert.ok(Array.isArray(qsioExtensions) && qsioExtensions.every((x) => typeof x === 'string'),
            JSON.stringify(o[0]));
        assertSameArgsShape('config', [rest, ...o.slice(1)], n);
    });

    test('all_sockets', () => {
        const [o, n] = pick('all_sockets');
        assert.ok(o[0].length > 0 && n[0].length > 0, 'both list at least the admin socket');
        o[0].forEach((s, i) => assertSerializedSocket(s, `ours all_sockets[${i}]`));
        n[0].forEach((s, i) => assertSerializedSocket(s, `Node's all_sockets[${i}]`));
        assertSameArgsShape('all_sockets', o, n);
    });

    test('server_stats', () => {
        const [o, n] = pick('server_stats', ([s]) => s.aggregatedEvents.length > 0);
        const strip = ([s]) => [{ ...s, aggregatedEvents: [] }];
        assertSameArgsShape('server_stats', strip(o), strip(n));
        assert.ok(o[0].namespaces.some((x) => x.name === '/admin'));
        assert.ok(n[0].namespaces.some((x) => x.name === '/admin'));
    });

    test('server_stats: aggregatedEvents entries, per type', () => {
        const byType = (recorder) => {
            const map = new Map();
            for (const [s] of recorder.all('server_stats')) {
                for (const e of s.aggregatedEvents) {
                    assert.equal(e.timestamp % 1000, 0, `timestamp floored to the second: ${JSON.stringify(e)}`);
                    if (!map.has(e.type)) {
                        map.set(e.type, e);
                    }
                }
            }
            return map;
        };
        const o = byType(ours.admin);
        const n = byType(node.admin);
        const types = ['rawConnection', 'rawDisconnection', 'packetsIn', 'packetsOut', 'bytesIn', 'bytesOut'];
        assert.deepEqual([...o.keys()].sort(), [...types].sort(), 'our types');
        assert.deepEqual([...n.keys()].sort(), [...types].sort(), 'Node\'s types');
        for (const type of types) {
            assertSameArgsShape(`aggregatedEvents ${type}`, [o.get(type)], [n.get(type)]);
        }
        assert.equal(o.get('rawDisconnection').subType, n.get('rawDisconnection').subType,
            'the same close reason');
    });

    test('socket_connected', () => {
        const [o, n] = pick('socket_connected', ([s], id) => s.id === id);
        assertSerializedSocket(o[0], 'ours');
        assertSerializedSocket(n[0], 'Node\'s');
        assertTimestamp(o[1], 'ours');
        assertTimestamp(n[1], 'Node\'s');
        assert.equal(o[0].nsp, '/');
        assert.equal(n[0].nsp, '/');
        assert.equal(o[0].transport, n[0].transport, 'the transport the socket connected with');
        assertSameArgsShape('socket_connected', o, n);
    });

    test('socket_updated after the upgrade', () => {
        const [o, n] = pick('socket_updated', ([u], id) => u.id === id && 'transport' in u);
        assert.equal(o[0].transport, 'websocket');
        assertSameArgsShape('socket_updated', o, n);
    });

    test('room_joined, the own-id room included', () => {
        const [o, n] = pick('room_joined', ([, room, sid], id) => room === 'shape-room' && sid === id);
        assertTimestamp(o[3], 'ours');
        assertTimestamp(n[3], 'Node\'s');
        assertSameArgsShape('room_joined', o, n);
        const [ownO, ownN] = pick('room_joined', ([, room, sid], id) => room === id && sid === id);
        assert.ok(ownO, 'ours reports the own-id room');
        assert.ok(ownN, 'Node\'s reports the own-id room');
        assertSameArgsShape('room_joined (own room)', ownO, ownN);
    });

    test('room_left at disconnect, the own-id room included', () => {
        const [o, n] = pick('room_left', ([, room, sid], id) => room === 'shape-room' && sid === id);
        assertTimestamp(o[3], 'ours');
        assertTimestamp(n[3], 'Node\'s');
        assertSameArgsShape('room_left', o, n);
        const [ownO, ownN] = pick('room_left', ([, room, sid], id) => room === id && sid === id);
        assert.ok(ownO && ownN, 'both report leaving the own-id room');
    });

    test('event_sent for an emit made while the socket connects', () => {
        const [o] = [ours].map((side) => side.admin.all('event_sent')
            .find(([, sid, p]) => sid === side.id && p[0] === 'auth'));
        assert.ok(o, `ours reported no event_sent for 'auth': ${JSON.stringify(ours.admin.all('event_sent'))}`);
        assertTimestamp(o[3], 'ours');
    });

    test('event_received', () => {
        const [o, n] = pick('event_received', ([, sid, p], id) => sid === id && p[0] === 'echo');
        assertTimestamp(o[3], 'ours');
        assertTimestamp(n[3], 'Node\'s');
        assert.deepEqual(o[2], ['echo', 'hi', { n: 1 }]);
        assert.deepEqual(n[2], o[2]);
        assertSameArgsShape('event_received', o, n);
    });

    test('event_sent', () => {
        const [o, n] = pick('event_sent', ([, sid, p], id) => sid === id && p[0] === 'hello');
        assertTimestamp(o[3], 'ours');
        assertTimestamp(n[3], 'Node\'s');
        assert.deepEqual(o[2], ['hello', { greeting: 'hi', list: [1] }]);
        assert.deepEqual(n[2], o[2]);
        assertSameArgsShape('event_sent', o, n);
    });

    test('socket_disconnected', () => {
        const [o, n] = pick('socket_disconnected', ([, sid], id) => sid === id);
        assertTimestamp(o[3], 'ours');
        assertTimestamp(n[3], 'Node\'s');
        assert.equal(o[2], n[2], 'the same reason');
        assertSameArgsShape('socket_disconnected', o, n);
    });
});

describe('admin auth: ours against Node\'s', { timeout: 30_000 }, () => {
    let servers;
    before(async () => {
        servers = await startBoth({ auth: true });
    });
    after(async () => {
        await Promise.all([servers?.ours.close(), servers?.node.close()]);
    });

    const refusal = async (url, auth) => {
        const admin = new AdminRecorder(url, { auth });
        try {
            const err = await waitEvent(admin.socket, 'connect_error', WAIT_MS, { failOn: ['connect'] });
            return err.message;
        } finally {
            admin.close();
        }
    };

    test('a wrong password is refused alike', async () => {
        const auth = { username: USER, password: 'wrong' };
        const [o, n] = await Promise.all([refusal(servers.ours.url, auth), refusal(servers.node.url, auth)]);
        assert.equal(n, 'invalid credentials');
        assert.equal(o, n);
    });

    test('a wrong user or no credentials are refused alike', async () => {
        for (const auth of [{ username: 'nobody', password: PASSWORD }, undefined, { sessionId: null },
            { sessionId: '0123456789abcdef' }]) {
            const [o, n] = await Promise.all([refusal(servers.ours.url, auth),
                refusal(servers.node.url, auth)]);
            assert.equal(n, 'invalid credentials', JSON.stringify(auth));
            assert.equal(o, n, JSON.stringify(auth));
        }
    });

    test('the right password gets a session id that works on the next connect', async () => {
        const login = async (url) => {
            const admin = new AdminRecorder(url, { auth: { username: USER, password: PASSWORD } });
            try {
                await admin.connect();
                const [sessionId] = await admin.waitFor('session');
                await admin.waitFor('config');
                return sessionId;
            } finally {
                admin.close();
            }
        };
        const resume = async (url, sessionId) => {
            const admin = new AdminRecorder(url, { auth: { sessionId } });
            try {
                await admin.connect();
                await admin.waitFor('config');
                assert.equal(admin.all('session').length, 0, 'no new session on resume');
            } finally {
                admin.close();
            }
        };
        const [o, n] = await Promise.all([login(servers.ours.url), login(servers.node.url)]);
        assert.match(n, /^[0-9a-f]{16}$/);
        assert.match(o, /^[0-9a-f]{16}$/);
        await Promise.all([resume(servers.ours.url, o), resume(servers.node.url, n)]);
    });
});

for (const mode of ['development+readonly', 'production', 'production+readonly']) {
    describe(`admin ${mode}: ours against Node's`, { timeout: 30_000 }, () => {
        const readonly = mode.endsWith('+readonly');
        const production = mode.startsWith('production');
        let servers;
        const sockets = [];
        // Per server: the admin recording and the user socket.
        let ours;
        let node;

        // An admin, then a user socket that joins a room and emits (the admin asks for a join as
        // well, which read-only servers must ignore); resolves after the next server_stats.
        const watch = async (url) => {
            const admin = new AdminRecorder(url);
            sockets.push(admin.socket);
            await admin.connect();
            await admin.waitFor('config');
            const user = io(url, { forceNew: true, reconnection: false, transports: ['websocket'] });
            sockets.push(user);
            await waitEvent(user, 'connect', WAIT_MS, { failOn: ['connect_error'] });
            admin.socket.emit('join', '/', 'by-admin', user.id);
            user.emit('join', 'by-user');
            await user.timeout(WAIT_MS).emitWithAck('echo', 'x');
            const statsBefore = admin.all('server_stats').length;
            await admin.waitFor('server_stats', () => admin.all('server_stats').length > statsBefore);
            return { admin, user, url };
        };

        before(async () => {
            servers = await startBoth({ readonly, production });
            [ours, node] = await Promise.all([watch(servers.ours.url), watch(servers.node.url)]);
        });
        after(async () => {
            for (const s of sockets) {
                s.close();
            }
            await Promise.all([servers?.ours.close(), servers?.node.close()]);
        });

        test('supported features', () => {
            const features = (side) => new Set(side.admin.all('config')[0][0].supportedFeatures);
            assert.deepEqual(features(node), new Set(FEATURES[mode]));
            assert.deepEqual(features(ours), features(node));
        });

        if (production) {
            test('no per-socket events, stats only', () => {
                for (const [who, side] of [['ours', ours], ['Node\'s', node]]) {
                    for (const event of ['all_sockets', 'socket_connected', 'socket_updated',
                        'room_joined', 'event_received', 'event_sent']) {
                        assert.equal(side.admin.all(event).length, 0,
                            `${who} sent ${event} in production mode`);
                    }
                }
                const last = (side) => side.admin.all('server_stats').at(-1)[0];
                assertSameArgsShape('server_stats (production)',
                    [{ ...last(ours), aggregatedEvents: [] }], [{ ...last(node), aggregatedEvents: [] }]);
            });
        }

        if (readonly) {
            test('commands change nothing', async () => {
                if (!production) {
                    // The user's own join shows, so the admin's would have shown by now too.
                    for (const [who, side] of [['ours', ours], ['Node\'s', node]]) {
                        await side.admin.waitFor('room_joined', ([, room]) => room === 'by-user');
                        assert.equal(side.admin.all('room_joined')
                            .filter(([, room]) => room === 'by-admin').length, 0,
                        `${who} ran a join command while read-only`);
                    }
                }
                for (const [who, side] of [['ours', ours], ['Node\'s', node]]) {
                    const got = [];
                    side.user.on('from-admin', (...a) => got.push(a));
                    side.admin.socket.emit('emit', '/', null, 'from-admin', 1);
                    // A round trip on another connection, then a margin: an emit that ran would
                    // have arrived by then.
                    const probe = io(side.url, { forceNew: true, reconnection: false,
                        transports: ['websocket'] });
                    sockets.push(probe);
                    await waitEvent(probe, 'connect', WAIT_MS, { failOn: ['connect_error'] });
                    await probe.timeout(WAIT_MS).emitWithAck('echo', 'sync');
                    await delay(300);
                    assert.equal(got.length, 0, `${who} ran an emit command while read-only`);
                }
            });
        }
    });
}
