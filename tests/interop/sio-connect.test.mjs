// Socket.IO namespace connection (CONNECT / CONNECT_ERROR) with socket.io-client: auth payload,
// socket ids, /custom, refused namespaces, multiplexing, and the connect timeout.
// On connect to "/" or "/custom" the server emits `auth` with the CONNECT payload ({} if none).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import {
    RawSio, TRANSPORT_SETUPS, TEST_TIMEOUT_MS, WAIT_MS, connectClient, connectEngine, createClient,
    createManager, emitAck, managerSocket, waitConnected, waitUpgraded,
} from './lib/sio.mjs';
import { delay, waitEvent } from './lib/util.mjs';

const SOCKET_ID_RE = /^[A-Za-z0-9_-]{20}$/;
const CONNECT_TIMEOUT = 300;

for (const setup of TRANSPORT_SETUPS) {
    describe(`Socket.IO connect over ${setup.name}`, { timeout: TEST_TIMEOUT_MS }, () => {
        let server;
        before(async () => { server = await startServer(); });
        after(() => server?.close());

        test('auth object of the CONNECT packet reaches the server', async (t) => {
            const auth = { token: 'secret-ü-✓', n: 42, nested: { list: [1, 'two', null, true] } };
            const socket = await connectClient(server, setup, { auth, t });
            assert.deepEqual(await socket.log.next('auth'), [auth]);
            assert.equal(socket.connected, true);
        });

        test('without auth the server sees {}', async (t) => {
            const socket = await connectClient(server, setup, { t });
            assert.deepEqual(await socket.log.next('auth'), [{}]);
        });

        test('socket.id is 20 URL-safe characters and differs from the Engine.IO id', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const other = await connectClient(server, setup, { t });
            assert.match(socket.id, SOCKET_ID_RE);
            assert.match(other.id, SOCKET_ID_RE);
            assert.notEqual(socket.id, socket.io.engine.id, 'socket id is not the Engine.IO sid');
            assert.notEqual(socket.id, other.id, 'every socket has its own id');
            await waitUpgraded(socket);
            assert.equal(socket.io.engine.transport.name, setup.transports?.length === 1 ? setup.transports[0] : 'websocket');
            // Still the same socket after the upgrade, and it works.
            assert.deepEqual(await emitAck(socket, 'echo', ['after upgrade']), ['after upgrade']);
        });

        test('connect to /custom (with auth)', async (t) => {
            const socket = await connectClient(server, setup, { nsp: '/custom', auth: { ns: 'custom' }, t });
            assert.equal(socket.nsp, '/custom');
            assert.match(socket.id, SOCKET_ID_RE);
            assert.deepEqual(await socket.log.next('auth'), [{ ns: 'custom' }]);
        });

        test('an unknown namespace is refused with "Invalid namespace"', async (t) => {
            const socket = createClient(server, setup, { nsp: '/nope' });
            t.after(() => socket.io.engine?.close());
            t.after(() => socket.disconnect());
            const err = await waitEvent(socket, 'connect_error', WAIT_MS, { failOn: ['connect'] });
            assert.equal(err.message, 'Invalid namespace');
            await delay(100);
            assert.equal(socket.connected, false);
            assert.equal(socket.id, undefined);
            assert.equal(socket.log.count('auth'), 0, 'no auth event on a refused namespace');
        });

        test('a refused namespace leaves the other namespaces of the connection alone', async (t) => {
            const manager = createManager(server, setup, { t });
            const root = managerSocket(manager, '/');
            await waitConnected(root);
            const bad = managerSocket(manager, '/does-not-exist');
            const err = await waitEvent(bad, 'connect_error', WAIT_MS, { failOn: ['connect'] });
            assert.equal(err.message, 'Invalid namespace');
            assert.equal(root.connected, true);
            assert.deepEqual(await emitAck(root, 'echo', ['still here']), ['still here']);
            assert.equal(root.io.engine.readyState, 'open');
        });

        test(`raw ${setup.raw} session: CONNECT and CONNECT_ERROR packets on the wire`, async (t) => {
            const raw = await RawSio.open(server, setup.raw === 'upgrade' ? 'polling' : setup.raw, { t });
            if (setup.raw === 'upgrade') {
                await raw.upgrade();
            }
            await raw.send('0/nope,{"token":1}');
            assert.equal(await raw.next(), '4/nope,{"message":"Invalid namespace"}');
            await raw.send('0');
            const root = await raw.next();
            assert.match(root, /^0\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
            assert.notEqual(JSON.parse(root.slice(1)).sid, raw.sid, 'not the Engine.IO sid');
            assert.equal(await raw.next(), '2["auth",{}]');
            await raw.send('0/custom,{"token":"abc","n":[1,2]}');
            const custom = await raw.next();
            assert.match(custom, /^0\/custom,\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
            assert.notEqual(JSON.parse(custom.slice('0/custom,'.length)).sid, JSON.parse(root.slice(1)).sid);
            assert.deepEqual(JSON.parse((await raw.next()).slice('2/custom,'.length)), ['auth', { token: 'abc', n: [1, 2] }]);
            // The refusal did not close anything.
            await raw.send('20["echo","ok"]');
            assert.equal(await raw.next(), '30["ok"]');
            assert.equal(raw.isClosed, false);
        });

        test('several namespaces are multiplexed on one Engine.IO connection', async (t) => {
            const manager = createManager(server, setup, { t });
            const root = managerSocket(manager, '/', { auth: { which: 'root' } });
            const custom = managerSocket(manager, '/custom', { auth: { which: 'custom' } });
            await Promise.all([waitConnected(root), waitConnected(custom)]);
            assert.equal(root.io, custom.io, 'one Manager');
            const engineId = manager.engine.id;
            assert.ok(engineId);
            assert.notEqual(root.id, custom.id, 'one socket id per namespace');
            assert.match(root.id, SOCKET_ID_RE);
            assert.match(custom.id, SOCKET_ID_RE);
            assert.deepEqual(await root.log.next('auth'), [{ which: 'root' }]);
            assert.deepEqual(await custom.log.next('auth'), [{ which: 'custom' }]);
            assert.deepEqual(await emitAck(root, 'echo', [{ via: 'root' }]), [{ via: 'root' }]);
            assert.equal(manager.engine.id, engineId, 'same Engine.IO session throughout');
            // Leaving one namespace keeps the connection for the other.
            custom.disconnect();
            assert.deepEqual(await emitAck(root, 'echo', [2]), [2]);
            assert.equal(manager.engine.id, engineId);
            assert.equal(manager.engine.readyState, 'open');
        });
    });

    describe(`Socket.IO connect timeout (--connect-timeout ${CONNECT_TIMEOUT}) over ${setup.name}`,
        { timeout: TEST_TIMEOUT_MS, concurrency: true }, () => {
            let server;
            before(async () => { server = await startServer(['--connect-timeout', String(CONNECT_TIMEOUT)]); });
            after(() => server?.close());

            test('an Engine.IO connection that joins no namespace is closed', async (t) => {
                const start = Date.now();
                const engine = await connectEngine(server, setup, { t });
                const closed = await waitEvent(engine, 'close', CONNECT_TIMEOUT + 2000).catch(() => null);
                assert.ok(closed, `the connection was closed within ${CONNECT_TIMEOUT + 2000} ms`);
                const elapsed = engine.closeEvents[0].at - start;
                assert.ok(elapsed >= CONNECT_TIMEOUT - 50,
                    `closed after ${elapsed} ms, not before the connect timeout (${CONNECT_TIMEOUT} ms)`);
                // Closed by the server: over WebSocket the socket closes, over polling the
                // pending GET gets a close packet (both "transport close"; a GET that reached the
                // server only after the session was gone would get a 400: "transport error").
                const expected = engine.transport.name === 'websocket'
                    ? ['transport close'] : ['transport close', 'transport error'];
                assert.ok(expected.includes(engine.closeEvents[0].reason),
                    `closed by the server (${JSON.stringify(engine.closeEvents)})`);
            });

            test('a client that joined a namespace in time stays connected', async (t) => {
                const socket = await connectClient(server, setup, { t });
                await delay(CONNECT_TIMEOUT * 2);
                assert.equal(socket.connected, true);
                assert.deepEqual(socket.disconnects, []);
                assert.deepEqual(await emitAck(socket, 'echo', ['alive']), ['alive']);
            });
        });
}
