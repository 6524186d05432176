// Socket.IO disconnection: the client leaves (the server forgets the socket, seen through the
// `broadcast` ack count), the server goes away, and the server closes a client that stops
// answering pings (--ping-interval 200 --ping-timeout 100).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import {
    RawSio, TRANSPORT_SETUPS, TEST_TIMEOUT_MS, WAIT_MS, connectClient, createManager, emitAck,
    managerSocket, waitConnected, waitUpgraded,
} from './lib/sio.mjs';
import { delay, waitEvent } from './lib/util.mjs';

const PING_INTERVAL = 200;
const PING_TIMEOUT = 100;
const PING_FLAGS = ['--ping-interval', String(PING_INTERVAL), '--ping-timeout', String(PING_TIMEOUT)];
const CONTROL_PING_TIMEOUT = 1000;
// How late after pingTimeout the close of a silent client may come.
const LATE_SLACK = 1000;

/**
 * Asks `socket` for `broadcast` until the acked count is `expected` (the server learns about a
 * disconnection of another connection asynchronously); resolves with the last count.
 */
async function waitBroadcastCount(socket, expected, ms = WAIT_MS) {
    const deadline = Date.now() + ms;
    let count;
    do {
        [count] = await emitAck(socket, 'broadcast', ['count?']);
        if (count === expected) {
            return count;
        }
        await delay(20);
    } while (Date.now() < deadline);
    return count;
}

/**
 * Makes a socket.io-client connection stop answering the server's pings, and turns off its own
 * watchdog (it would close the connection pingInterval + pingTimeout after the last ping), so
 * that only the server can end the connection.
 */
function stopPongs(socket) {
    const engine = socket.io.engine;
    assert.equal(typeof engine._sendPacket, 'function', 'engine.io-client has _sendPacket()');
    assert.equal(typeof engine._pingTimeout, 'number', 'engine.io-client has _pingTimeout');
    const original = engine._sendPacket.bind(engine);
    engine._sendPacket = (type, ...rest) => (type === 'pong' ? undefined : original(type, ...rest));
    engine._pingTimeout = 60_000; // used from the next ping on
}

for (const setup of TRANSPORT_SETUPS) {
    describe(`Socket.IO disconnect over ${setup.name}`, { timeout: TEST_TIMEOUT_MS, concurrency: true }, () => {
        test('socket.disconnect(): the server forgets the socket', async (t) => {
            const server = await startServer([], { t });
            const a = await connectClient(server, setup, { t });
            const b = await connectClient(server, setup, { t });
            await waitUpgraded(a);
            assert.equal(await waitBroadcastCount(b, 2), 2, 'two sockets before');
            const disconnected = waitEvent(a, 'disconnect', WAIT_MS);
            a.disconnect();
            assert.equal([await disconnected].flat()[0], 'io client disconnect');
            assert.equal(await waitBroadcastCount(b, 1), 1, 'the broadcast count dropped to 1');
            assert.equal(b.connected, true);
            assert.deepEqual(await emitAck(b, 'echo', ['b still works']), ['b still works']);
        });

        test('leaving one namespace of a multiplexed connection keeps the others', async (t) => {
            const server = await startServer([], { t });
            const other = await connectClient(server, setup, { t });
            const manager = createManager(server, setup, { t });
            const root = managerSocket(manager, '/');
            const custom = managerSocket(manager, '/custom');
            await Promise.all([waitConnected(root), waitConnected(custom)]);
            const engineId = manager.engine.id;
            assert.equal(await waitBroadcastCount(other, 2), 2);
            root.disconnect();
            assert.equal(await waitBroadcastCount(other, 1), 1, 'the "/" socket is gone');
            assert.equal(custom.connected, true);
            assert.equal(manager.engine.readyState, 'open', 'the connection stays for /custom');
            // Joining "/" again on the same connection gives a new socket.
            const oldId = root.id ?? null;
            root.connect();
            await waitConnected(root);
            assert.notEqual(root.id, oldId);
            assert.equal(manager.engine.id, engineId, 'same Engine.IO session');
            assert.equal(await waitBroadcastCount(other, 2), 2, 'the "/" socket is back');
            assert.deepEqual(await emitAck(root, 'echo', ['back again']), ['back again']);
        });

        test('closing the whole connection (no DISCONNECT packet) cleans up too', async (t) => {
            const server = await startServer([], { t });
            const a = await connectClient(server, setup, { t });
            const b = await connectClient(server, setup, { t });
            await waitUpgraded(a);
            assert.equal(await waitBroadcastCount(b, 2), 2);
            a.io.engine.close();
            assert.equal(await waitBroadcastCount(b, 1), 1, 'the broadcast count dropped to 1');
        });

        test('the server going away: the client gets "disconnect"', async (t) => {
            const server = await startServer([], { t });
            const socket = await connectClient(server, setup, { t });
            await waitUpgraded(socket);
            const disconnected = waitEvent(socket, 'disconnect', WAIT_MS);
            const transportName = socket.io.engine.transport.name;
            await server.close(); // kills the process
            const [reason] = [await disconnected].flat();
            // Over WebSocket the socket closes: "transport close". Over polling the pending
            // request fails, which socket.io-client reports as "transport error" (what it does
            // against any server that dies).
            const expected = transportName === 'polling' ? ['transport error', 'transport close'] : ['transport close'];
            assert.ok(expected.includes(reason), `disconnect reason ${JSON.stringify(reason)}, expected ${expected.join(' or ')}`);
            assert.equal(socket.connected, false);
        });
    });

    describe(`Socket.IO ping timeout (--ping-interval ${PING_INTERVAL} --ping-timeout ${PING_TIMEOUT}) over ${setup.name}`,
        { timeout: TEST_TIMEOUT_MS, concurrency: true }, () => {
            // The control runs with a roomier pingTimeout: a 100 ms pong deadline is at the mercy
            // of the machine's load, and this test is about pings keeping a session alive.
            test(`a client that answers pings stays connected (--ping-timeout ${CONTROL_PING_TIMEOUT})`, async (t) => {
                const server = await startServer(['--ping-interval', String(PING_INTERVAL),
                                                  '--ping-timeout', String(CONTROL_PING_TIMEOUT)], { t });
                const socket = await connectClient(server, setup, { t });
                let pings = 0;
                socket.io.engine.on('ping', () => { pings++; });
                await delay(PING_INTERVAL * 5);
                assert.equal(socket.connected, true);
                assert.deepEqual(socket.disconnects, []);
                assert.ok(pings >= 3, `got ${pings} pings`);
                assert.deepEqual(await emitAck(socket, 'echo', ['alive']), ['alive']);
            });

            test('socket.io-client that stops answering pings is closed by the server', async (t) => {
                const server = await startServer(PING_FLAGS, { t });
                const socket = await connectClient(server, setup, { t });
                await waitUpgraded(socket);
                const transportName = socket.io.engine.transport.name;
                stopPongs(socket);
                const pings = [];
                socket.io.engine.on('ping', () => pings.push(Date.now()));
                const [reason] = [await waitEvent(socket, 'disconnect', PING_INTERVAL + PING_TIMEOUT + LATE_SLACK)].flat();
                const closedAt = Date.now();
                assert.ok(pings.length >= 1, 'the server pinged before closing');
                const elapsed = closedAt - pings.at(-1);
                // The client's own watchdog is off (stopPongs), so the close comes from the
                // server. Over WebSocket the socket closes ("transport close"); over polling the
                // pending GET gets a close packet ("transport close"), or, when the client's next
                // GET reaches the server only after the session is gone, a 400 ("transport
                // error"); Node's server has the same race.
                const expected = transportName === 'websocket' ? ['transport close'] : ['transport close', 'transport error'];
                assert.ok(expected.includes(reason), `disconnect reason ${JSON.stringify(reason)}, expected ${expected.join(' or ')}`);
                assert.ok(elapsed <= PING_TIMEOUT + LATE_SLACK, `closed ${elapsed} ms after the unanswered ping`);
                // The server forgot the silent socket: a newcomer's broadcast reaches only itself.
                const newcomer = await connectClient(server, setup, { t });
                assert.equal(await waitBroadcastCount(newcomer, 1), 1, 'the silent socket is gone on the server');
            });

            test(`raw ${setup.raw} session that stops answering pings is closed`, async (t) => {
                const server = await startServer(PING_FLAGS, { t });
                const raw = await RawSio.connected(server, setup.raw, { t });
                raw.autoPong = false;
                const pingsBefore = raw.pings;
                const pings = [];
                raw.events.on('ping', () => pings.push(Date.now()));
                const closed = await raw.waitClosed(PING_INTERVAL + PING_TIMEOUT + LATE_SLACK);
                assert.ok(closed, `closed within ${PING_INTERVAL + PING_TIMEOUT + LATE_SLACK} ms`);
                assert.ok(raw.pings > pingsBefore, 'the server pinged before closing');
                // RawSio has no watchdog of its own: the server closed it. Not right at the ping
                // (the client gets pingTimeout to answer), and not much later than pingTimeout.
                const sincePing = closed.at - pings.at(-1);
                assert.ok(sincePing >= PING_TIMEOUT / 2 && sincePing <= PING_TIMEOUT + LATE_SLACK,
                    `closed (${closed.how}) ${sincePing} ms after the unanswered ping (pingTimeout ${PING_TIMEOUT})`);
            });
        });
}
