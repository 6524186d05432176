// Socket.IO emit targets and server-side disconnection with socket.io-client:
// - `to-socket` (sid, event, ...args): the server emits to that socket id only (the namespace
//   emits, so the sender is not excluded when it names itself);
// - `except-room` (room, event, ...args): to every socket of "/" outside the room (the sender
//   included when it is outside);
// - `server-disconnect`: the server disconnects the socket: the client sees
//   "io server disconnect", does not reconnect by itself, and the other namespaces of the same
//   connection stay connected.
//
// "Did not receive" is checked with a barrier: after the emit under test the sender does a
// `broadcast`; the server handles one connection's packets in order, so a client that gets the
// `bcast` without the event before it will not get the event at all.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import {
    RawSio, TRANSPORT_SETUPS, TEST_TIMEOUT_MS, WAIT_MS, connectClient, createManager, emitAck,
    managerSocket, normalizeBinary, waitConnected, waitUpgraded,
} from './lib/sio.mjs';
import { delay, waitEvent } from './lib/util.mjs';

// With reconnection turned on, how long the test watches for an automatic reconnection.
const RECONNECT_DELAY = 50;
const WATCH_MS = 20 * RECONNECT_DELAY;

for (const setup of TRANSPORT_SETUPS) {
    describe(`Socket.IO emit targets over ${setup.name}`, { timeout: TEST_TIMEOUT_MS }, () => {
        let server;
        let a;
        let b;
        let c;
        let barrierCount = 0;
        const clients = () => [a, b, c];

        before(async () => {
            server = await startServer();
            [a, b, c] = await Promise.all([1, 2, 3].map(() => connectClient(server, setup)));
            await Promise.all(clients().map((s) => waitUpgraded(s)));
        });
        after(async () => {
            for (const s of [a, b, c]) {
                s?.io.engine?.close();
                s?.disconnect();
            }
            await server?.close();
        });

        /** `from` broadcasts a marker; resolves once every client got it. */
        async function barrier(from) {
            const marker = `barrier ${++barrierCount}`;
            await emitAck(from, 'broadcast', [marker]);
            for (const s of clients()) {
                assert.deepEqual(await s.log.next('bcast'), [marker], 'barrier reached every client');
            }
        }

        function assertNothing(event, ...sockets) {
            for (const s of sockets) {
                assert.deepEqual(s.log.pending(event), [], `${s === a ? 'a' : s === b ? 'b' : 'c'} got no '${event}'`);
            }
        }

        test('to-socket reaches only the named socket', async () => {
            a.emit('to-socket', b.id, 'direct', 'for b', { n: 1 });
            assert.deepEqual(await b.log.next('direct'), ['for b', { n: 1 }]);
            c.emit('to-socket', a.id, 'direct', 'for a');
            assert.deepEqual(await a.log.next('direct'), ['for a']);
            await barrier(a);
            await barrier(c);
            assertNothing('direct', a, b, c);
            assert.equal(a.log.count('direct'), 1);
            assert.equal(b.log.count('direct'), 1);
            assert.equal(c.log.count('direct'), 0);
        });

        test('to-socket with the sender\'s own id reaches the sender', async () => {
            b.emit('to-socket', b.id, 'self', 'me');
            assert.deepEqual(await b.log.next('self'), ['me']);
            await barrier(b);
            assertNothing('self', a, b, c);
        });

        test('to-socket with an unknown id reaches nobody', async () => {
            a.emit('to-socket', 'AAAAAAAAAAAAAAAAAAAA', 'nobody', 1);
            a.emit('to-socket', '', 'nobody', 2);
            await barrier(a);
            for (const s of clients()) {
                assert.equal(s.log.count('nobody'), 0);
            }
        });

        test('to-socket with binary arguments and without arguments', async () => {
            const args = [Buffer.from([0, 1, 254, 255]), { file: Buffer.from('xyz'), list: [Buffer.alloc(0)] }];
            a.emit('to-socket', c.id, 'direct-bin', ...args);
            assert.deepEqual(normalizeBinary(await c.log.next('direct-bin')), args);
            a.emit('to-socket', c.id, 'direct-empty');
            assert.deepEqual(await c.log.next('direct-empty'), []);
            await barrier(a);
            assertNothing('direct-bin', a, b, c);
            assertNothing('direct-empty', a, b, c);
        });

        test('except-room reaches every socket outside the room, not those in it', async () => {
            assert.deepEqual(await emitAck(a, 'join', ['inside']), [true]);
            assert.deepEqual(await emitAck(b, 'join', ['inside']), [true]);
            // From an outsider: the outsider itself gets it.
            c.emit('except-room', 'inside', 'outside', 'from c', [1, { two: 2 }]);
            assert.deepEqual(await c.log.next('outside'), ['from c', [1, { two: 2 }]]);
            await barrier(c);
            assertNothing('outside', a, b, c);
            // From a member: only the outsider gets it.
            a.emit('except-room', 'inside', 'outside', 'from a');
            assert.deepEqual(await c.log.next('outside'), ['from a']);
            await barrier(a);
            assertNothing('outside', a, b, c);
            assert.equal(a.log.count('outside'), 0);
            assert.equal(b.log.count('outside'), 0);
        });

        test('except-room with a room nobody is in reaches everyone; after leave the socket is outside', async () => {
            a.emit('except-room', 'empty-room', 'all', Buffer.from('bin'));
            for (const s of clients()) {
                assert.deepEqual(normalizeBinary(await s.log.next('all')), [Buffer.from('bin')]);
            }
            assert.deepEqual(await emitAck(b, 'join', ['r2']), [true]);
            a.emit('except-room', 'r2', 'r2-out', 1);
            assert.deepEqual(await a.log.next('r2-out'), [1]);
            assert.deepEqual(await c.log.next('r2-out'), [1]);
            await barrier(a);
            assertNothing('r2-out', b);
            assert.deepEqual(await emitAck(b, 'leave', ['r2']), [true]);
            a.emit('except-room', 'r2', 'r2-out', 2);
            for (const s of clients()) {
                assert.deepEqual(await s.log.next('r2-out'), [2]);
            }
        });

        test('except-room with a socket id as the room excludes that socket', async () => {
            a.emit('except-room', b.id, 'not-b', 'x');
            assert.deepEqual(await a.log.next('not-b'), ['x']);
            assert.deepEqual(await c.log.next('not-b'), ['x']);
            await barrier(a);
            assertNothing('not-b', a, b, c);
            assert.equal(b.log.count('not-b'), 0);
        });

        test('except-room stays in "/": sockets of /custom on the same connection get nothing', async (t) => {
            const manager = createManager(server, setup, { t });
            const root = managerSocket(manager, '/');
            const custom = managerSocket(manager, '/custom');
            await Promise.all([waitConnected(root), waitConnected(custom)]);
            a.emit('except-room', 'inside', 'ns-check', 1);
            assert.deepEqual(await root.log.next('ns-check'), [1]);
            assert.deepEqual(await c.log.next('ns-check'), [1]);
            // /custom shares root's connection, whose packets come in order: root's `bcast` after
            // the event means /custom would already have had it.
            await emitAck(a, 'broadcast', ['ns barrier']);
            assert.deepEqual(await root.log.next('bcast'), ['ns barrier']);
            assert.equal(custom.log.count('ns-check'), 0);
            assert.equal(custom.log.count('bcast'), 0);
            for (const s of clients()) {
                await s.log.next('bcast');
            }
        });
    });

    describe(`Socket.IO server-side disconnect over ${setup.name}`, { timeout: TEST_TIMEOUT_MS }, () => {
        let server;
        before(async () => { server = await startServer(); });
        after(() => server?.close());

        const reconnecting = { reconnection: true, reconnectionDelay: RECONNECT_DELAY, reconnectionDelayMax: RECONNECT_DELAY };

        test('server-disconnect: reason "io server disconnect", no automatic reconnection', async (t) => {
            const socket = await connectClient(server, setup, { options: reconnecting, t });
            await waitUpgraded(socket);
            let connects = 0;
            socket.on('connect', () => connects++);
            let reconnectAttempts = 0;
            socket.io.on('reconnect_attempt', () => reconnectAttempts++);
            const oldId = socket.id;
            socket.emit('server-disconnect');
            const reason = await waitEvent(socket, 'disconnect', WAIT_MS);
            assert.equal([reason].flat()[0], 'io server disconnect');
            assert.equal(socket.connected, false);
            await delay(WATCH_MS);
            assert.equal(socket.connected, false, 'still disconnected');
            assert.equal(connects, 0, 'no reconnection by itself');
            assert.equal(reconnectAttempts, 0, 'no reconnection attempt');
            assert.deepEqual(socket.disconnects, ['io server disconnect']);
            // The application may reconnect by hand: a new socket.
            socket.connect();
            await waitConnected(socket);
            assert.notEqual(socket.id, oldId);
            assert.deepEqual(await emitAck(socket, 'echo', ['back']), ['back']);
        });

        test('server-disconnect keeps the other namespaces of the connection', async (t) => {
            const manager = createManager(server, setup, { options: reconnecting, t });
            const root = managerSocket(manager, '/');
            const custom = managerSocket(manager, '/custom');
            await Promise.all([waitConnected(root), waitConnected(custom)]);
            await waitUpgraded(root);
            const engineId = manager.engine.id;
            const disconnected = waitEvent(root, 'disconnect', WAIT_MS);
            root.emit('server-disconnect');
            assert.equal([await disconnected].flat()[0], 'io server disconnect');
            await delay(WATCH_MS);
            assert.equal(root.connected, false, '"/" does not reconnect by itself');
            assert.equal(custom.connected, true, '/custom stays connected');
            assert.deepEqual(custom.disconnects, []);
            assert.equal(manager.engine.readyState, 'open', 'the connection stays');
            assert.equal(manager.engine.id, engineId, 'same Engine.IO session');
            // The server still has /custom on this connection: a packet for a namespace it had
            // forgotten would close the connection (as in Node), this one does not.
            custom.emit('anything', 1);
            // "/" joins again on the same connection.
            root.connect();
            await waitConnected(root);
            assert.deepEqual(await emitAck(root, 'echo', ['again']), ['again']);
            assert.equal(manager.engine.id, engineId);
            assert.equal(custom.connected, true);
            assert.deepEqual(root.disconnects, ['io server disconnect']);
        });

        test('server-disconnect of one client leaves other clients alone', async (t) => {
            // A server of its own, so that the `broadcast` count sees these two clients only.
            const own = await startServer([], { t });
            const a = await connectClient(own, setup, { t });
            const b = await connectClient(own, setup, { t });
            a.emit('server-disconnect');
            assert.equal([await waitEvent(a, 'disconnect', WAIT_MS)].flat()[0], 'io server disconnect');
            assert.equal(b.connected, true);
            const [count] = await emitAck(b, 'broadcast', ['who is there']);
            assert.equal(count, 1, 'the server forgot the disconnected socket');
            assert.deepEqual(b.disconnects, []);
        });

        test(`raw ${setup.raw} session: the server sends DISCONNECT and keeps the connection`, async (t) => {
            const raw = await RawSio.connected(server, setup.raw, { t });
            await raw.connect('/custom');
            await raw.send('2["server-disconnect"]');
            assert.equal(await raw.next(), '1');
            await delay(100);
            assert.equal(raw.isClosed, false, 'the Engine.IO connection stays');
            // "/" can be joined again on the same connection.
            await raw.send('0');
            assert.match(await raw.next(), /^0\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
            assert.equal(await raw.next(), '2["auth",{}]');
            await raw.send('20["echo","ok"]');
            assert.equal(await raw.next(), '30["ok"]');
            assert.equal(raw.isClosed, false);
        });
    });
}
