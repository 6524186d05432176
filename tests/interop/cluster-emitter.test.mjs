// @socket.io/redis-emitter 5.1 (a process that is no Socket.IO server, publishing on Redis)
// reaching the clients of a cluster: two interop_servers (--redis) and a Node socket.io server on
// @socket.io/redis-adapter (lib/cluster-server.mjs). Each server has a WebSocket and a polling
// client on "/" and a WebSocket client on "/custom".
//
// What the emitter does: emit (binary included), to / in / except rooms, volatile, of('/custom'),
// socketsJoin / socketsLeave / disconnectSockets on the sockets of a room, serverSideEmit (which
// the servers pass to their clients as "sse-received").
//
// "Did not receive" / "received once only" is checked after a barrier: the emitter publishes a
// marker to every client after the emit under test, on the same Redis connection, and every
// server reads both from its one subscriber connection in that order; 300 ms more cover anything
// sent late.
//
// CLUSTER_QSIO_AS_NODE=1 runs Node servers in place of the two interop_servers (a check of the
// tests themselves).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { startRedis, waitSubscribers } from './lib/redis.mjs';
import { createEmitterClient, startNodeClusterServer } from './lib/cluster-server.mjs';
import { closeManager, connectClient, emitAck, normalizeBinary } from './lib/sio.mjs';
import { byteRamp, delay, waitEvent } from './lib/util.mjs';

const NODE_ONLY = process.env.CLUSTER_QSIO_AS_NODE === '1';
const WAIT = 5_000;
const QUIET_MS = 300;

const WS = { name: 'websocket', transports: ['websocket'] };
const POLLING = { name: 'polling', transports: ['polling'] };

async function startMember(redis, serverId) {
    if (NODE_ONLY) {
        return startNodeClusterServer(redis.address, { serverId });
    }
    return startServer(['--redis', redis.address, '--server-id', serverId]);
}

async function ack(client, event, ...args) {
    const [first] = await emitAck(client.socket, event, args, WAIT);
    return first;
}

describe('@socket.io/redis-emitter to a cluster of two interop_servers and a Node server', { timeout: 60_000 }, () => {
    let redis;
    let emitterClient;
    let emitter;
    const servers = []; // [{name, server}]
    const clients = []; // "/" clients: [{label, serverName, server, socket}]
    const customClients = []; // "/custom" clients
    let barrierCount = 0;

    before(async () => {
        redis = await startRedis();
        servers.push({ name: 'qsio-a', server: await startMember(redis, 'qsio-a') });
        servers.push({ name: 'qsio-b', server: await startMember(redis, 'qsio-b') });
        servers.push({ name: 'node', server: await startNodeClusterServer(redis.address, { serverId: 'node' }) });
        await waitSubscribers(redis.port, 3);
        await waitSubscribers(redis.port, 3, { channel: 'socket.io-request#/custom#' });
        for (const { name, server } of servers) {
            for (const setup of [WS, POLLING]) {
                const socket = await connectClient(server, setup, { timeout: WAIT });
                clients.push({ label: `${name}/${setup.name}`, serverName: name, server, socket });
            }
            const socket = await connectClient(server, WS, { nsp: '/custom', timeout: WAIT });
            customClients.push({ label: `${name}/custom`, serverName: name, server, socket });
        }
        ({ emitter, ...emitterClient } = await createEmitterClient(redis.address));
        // The emitter is no server: the servers still count three.
        await waitSubscribers(redis.port, 3);
    });

    after(async () => {
        for (const c of [...clients, ...customClients]) {
            closeManager(c.socket.io);
        }
        await emitterClient?.close();
        const errors = [];
        for (const { server } of servers) {
            try {
                await server.close();
            } catch (err) {
                errors.push(err);
            }
        }
        await redis?.stop();
        if (errors.length) {
            throw errors[0];
        }
    });

    const wsOf = (name) => clients.find((c) => c.serverName === name && c.label.endsWith('/websocket'));
    const pollOf = (name) => clients.find((c) => c.serverName === name && c.label.endsWith('/polling'));
    const everyone = () => [...clients, ...customClients];

    /** The emitter sends a marker to every client of "/" and "/custom"; waits for all, then QUIET_MS. */
    async function barrier() {
        const marker = `barrier ${++barrierCount}`;
        emitter.emit('barrier', marker);
        emitter.of('/custom').emit('barrier', marker);
        await Promise.all(everyone().map(async (c) => {
            assert.deepEqual(await c.socket.log.next('barrier', WAIT), [marker], `${c.label} got the barrier`);
        }));
        await delay(QUIET_MS);
    }

    /** Every client of `targets` gets `event` with `args` once; nobody else gets it. */
    async function expectExactly(targets, event, args, what) {
        await Promise.all(targets.map(async (c) => {
            assert.deepEqual(normalizeBinary(await c.socket.log.next(event, WAIT)), args, `${c.label}: ${what}`);
        }));
        await barrier();
        for (const c of everyone()) {
            assert.deepEqual(c.socket.log.pending(event), [],
                `${c.label} got '${event}' ${targets.includes(c) ? 'more than once' : 'but should not have'} (${what})`);
        }
    }

    async function fetchRoom(room) {
        const { sockets, error } = await ack(wsOf('node'), 'fetch-sockets', room);
        assert.equal(error, null);
        return sockets.map((s) => s.id).sort();
    }

    const ids = (list) => list.map((c) => c.socket.id).sort();

    test('emit() reaches every "/" client of every server once, binary included; "/custom" gets nothing', async () => {
        const payload = { text: 'from the emitter ü', n: 42, blob: Buffer.from(byteRamp(500, 3)), list: [Buffer.from([1, 2]), null] };
        emitter.emit('em-all', payload, Buffer.from('top'), 1.5, true);
        await expectExactly(clients, 'em-all', [payload, Buffer.from('top'), 1.5, true], 'emitter.emit');
        emitter.emit('em-none');
        await expectExactly(clients, 'em-none', [], 'emitter.emit without arguments');
    });

    test('emit() of every msgpack size class and number form, and with the compress flag', async () => {
        // Written by notepack.io (the emitter's msgpack), read by each server's decoder.
        const payload = {
            ints: [0, -1, 127, 128, 255, 256, -33, -129, 65535, 65536, -32769, 2 ** 32 - 1, 2 ** 32,
                -(2 ** 31) - 1, 2 ** 53 - 1, 2 ** 53, 2 ** 60, -(2 ** 60), 2 ** 63, -(2 ** 63), 2 ** 64 - 2048],
            floats: [0.5, -2.5e-300, Math.PI, 1.5e-323],
            strings: ['', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(256), 'z'.repeat(65536), 'ü€😀 \u0000'],
            bins: [Buffer.alloc(0), Buffer.alloc(256, 1), Buffer.from(byteRamp(65536))],
            arrays: [[], Array.from({ length: 16 }, (_, i) => i), Array.from({ length: 65536 }, (_, i) => i % 2)],
            maps: [{}, Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i]))],
            literals: [null, true, false],
        };
        emitter.emit('em-edge', payload);
        await expectExactly(clients, 'em-edge', [payload], 'emitter.emit(edge values)');
        emitter.compress(false).emit('em-compress', 'uncompressed');
        await expectExactly(clients, 'em-compress', ['uncompressed'], 'emitter.compress(false).emit');
    });

    test('to(room) / in(room) / except(room), several rooms, binary to a room', async () => {
        const r1 = [wsOf('qsio-a'), pollOf('qsio-b'), wsOf('node')];
        const r2 = [pollOf('qsio-a'), pollOf('qsio-b')];
        for (const c of r1) {
            assert.equal(await ack(c, 'join', 'em-r1'), true);
        }
        for (const c of r2) {
            assert.equal(await ack(c, 'join', 'em-r2'), true);
        }
        emitter.to('em-r1').emit('em-room', 'r1');
        await expectExactly(r1, 'em-room', ['r1'], 'emitter.to("em-r1")');
        emitter.in('em-r2').emit('em-room', 'r2');
        await expectExactly(r2, 'em-room', ['r2'], 'emitter.in("em-r2")');
        // Two rooms: the plain channel; pollOf('qsio-b') is in both and gets it once.
        emitter.to('em-r1').to('em-r2').emit('em-room', 'r1+r2');
        await expectExactly([...new Set([...r1, ...r2])], 'em-room', ['r1+r2'], 'emitter.to(["em-r1", "em-r2"])');
        emitter.except('em-r1').emit('em-room', 'not r1');
        await expectExactly(clients.filter((c) => !r1.includes(c)), 'em-room', ['not r1'], 'emitter.except("em-r1")');
        emitter.to('em-r1').except('em-r2').emit('em-room', 'r1 not r2');
        await expectExactly(r1.filter((c) => !r2.includes(c)), 'em-room', ['r1 not r2'], 'emitter.to("em-r1").except("em-r2")');
        emitter.to('em-nobody').emit('em-room', 'nobody');
        await expectExactly([], 'em-room', ['nobody'], 'emitter.to(an empty room)');
        const bytes = Buffer.from(byteRamp(2000, 9));
        emitter.to('em-r1').emit('em-room-bin', { bytes, nested: [{ b: Buffer.from([0]) }] });
        await expectExactly(r1, 'em-room-bin', [{ bytes, nested: [{ b: Buffer.from([0]) }] }], 'binary to em-r1');
        for (const c of r1) {
            await ack(c, 'leave', 'em-r1');
        }
        for (const c of r2) {
            await ack(c, 'leave', 'em-r2');
        }
    });

    test('to(socket id) reaches that socket only, on whatever server', async () => {
        for (const c of clients) {
            emitter.to(c.socket.id).emit('em-direct', c.label);
            await expectExactly([c], 'em-direct', [c.label], `emitter.to(${c.label}'s id)`);
        }
    });

    test('volatile emit reaches the WebSocket clients', async () => {
        const wsClients = clients.filter((c) => c.label.endsWith('/websocket'));
        for (const c of wsClients) {
            await ack(c, 'join', 'em-vol');
        }
        emitter.volatile.to('em-vol').emit('em-vol-msg', 'volatile');
        await expectExactly(wsClients, 'em-vol-msg', ['volatile'], 'emitter.volatile.to("em-vol")');
        for (const c of wsClients) {
            await ack(c, 'leave', 'em-vol');
        }
    });

    test('of("/custom").emit reaches the "/custom" clients only', async () => {
        emitter.of('/custom').emit('em-custom', { nsp: '/custom' }, Buffer.from([7, 7]));
        await expectExactly(customClients, 'em-custom', [{ nsp: '/custom' }, Buffer.from([7, 7])], 'emitter.of("/custom")');
        emitter.of('custom').emit('em-custom', 'without the slash');
        await expectExactly(customClients, 'em-custom', ['without the slash'], 'emitter.of("custom")');
    });

    test('in(room).socketsJoin(other): a broadcast to other right after reaches them; socketsLeave', async () => {
        const src = [pollOf('qsio-a'), wsOf('qsio-b'), pollOf('node')];
        for (const c of src) {
            await ack(c, 'join', 'em-src');
        }
        emitter.in('em-src').socketsJoin('em-dst');
        // Published after the join request on the same connection: applied in that order.
        emitter.to('em-dst').emit('em-dst-msg', 'joined');
        await expectExactly(src, 'em-dst-msg', ['joined'], 'emitter.to("em-dst") after socketsJoin');
        assert.deepEqual(await fetchRoom('em-dst'), ids(src));
        // Several rooms at once, and every socket (no room).
        emitter.in('em-src').socketsJoin(['em-dst2', 'em-dst3']);
        emitter.to('em-dst3').emit('em-dst-msg', 'joined 3');
        await expectExactly(src, 'em-dst-msg', ['joined 3'], 'emitter.to("em-dst3") after socketsJoin([...])');
        emitter.socketsJoin('em-everyone');
        emitter.to('em-everyone').emit('em-dst-msg', 'everyone');
        await expectExactly(clients, 'em-dst-msg', ['everyone'], 'emitter.to("em-everyone") after socketsJoin');
        assert.deepEqual(await fetchRoom('em-everyone'), ids(clients));

        emitter.in('em-src').socketsLeave('em-dst');
        emitter.to('em-dst').emit('em-dst-msg', 'left');
        await expectExactly([], 'em-dst-msg', ['left'], 'emitter.to("em-dst") after socketsLeave');
        assert.deepEqual(await fetchRoom('em-dst'), []);
        assert.deepEqual(await fetchRoom('em-dst2'), ids(src), 'the other rooms are kept');
        emitter.except('em-src').socketsLeave('em-everyone');
        emitter.to('em-everyone').emit('em-dst-msg', 'src only');
        await expectExactly(src, 'em-dst-msg', ['src only'], 'socketsLeave except em-src');
        emitter.socketsLeave(['em-src', 'em-dst2', 'em-dst3', 'em-everyone']);
        emitter.to('em-src').emit('em-dst-msg', 'nobody');
        await expectExactly([], 'em-dst-msg', ['nobody'], 'after socketsLeave of every room');
        for (const room of ['em-src', 'em-dst2', 'em-dst3', 'em-everyone']) {
            assert.deepEqual(await fetchRoom(room), [], room);
        }
    });

    test('in(room).disconnectSockets() disconnects the room\'s sockets on every server', async (t) => {
        for (const close of [false, true]) {
            const room = `em-doomed-${close}`;
            const doomed = [];
            for (const { name, server } of servers) {
                for (const setup of [WS, POLLING]) {
                    const socket = await connectClient(server, setup, { t, timeout: WAIT });
                    doomed.push({ label: `${name}/doomed/${setup.name}`, socket });
                    assert.deepEqual(await emitAck(socket, 'join', [room], WAIT), [true]);
                }
            }
            const gone = doomed.map((d) => waitEvent(d.socket, 'disconnect', WAIT));
            emitter.in(room).disconnectSockets(close);
            const reasons = await Promise.all(gone);
            reasons.forEach((reason, i) => {
                const r = [reason].flat()[0];
                if (close) {
                    assert.ok(['io server disconnect', 'transport close'].includes(r), `${doomed[i].label}: ${r}`);
                } else {
                    assert.equal(r, 'io server disconnect', doomed[i].label);
                }
            });
            for (const d of doomed) {
                closeManager(d.socket.io);
            }
            await barrier();
            for (const c of everyone()) {
                assert.ok(c.socket.connected, `${c.label} is still connected`);
            }
        }
    });

    test('serverSideEmit() reaches every server (sse-received on each of their clients)', async () => {
        emitter.serverSideEmit('hello', 1);
        await expectExactly(clients, 'sse-received', ['hello', 1], 'emitter.serverSideEmit("hello", 1)');
        emitter.serverSideEmit('hello', { nested: ['x', null, true] }, 'two');
        await expectExactly(clients, 'sse-received', ['hello', { nested: ['x', null, true] }, 'two'], 'serverSideEmit with objects');
        assert.throws(() => emitter.serverSideEmit('ack', () => {}), /not supported/);
    });
});
