// Socket.IO catch-all listeners on the server, seen through socket.io-client: every socket of "/"
// gets onAny() and onAnyOutgoing() counters when it connects; `any-count` (ack) answers how
// many incoming events onAny() saw for that socket, `outgoing-count` (ack) how many events the
// server emitted to it.
//
// Exact expectations, from interop_server.cpp and Node's socket.io semantics:
// - onAny() runs before the event's own handler, so `any-count` counts itself: after N other
//   events the answer is N + 1. Every event counts once, whether the server has a handler for
//   it or not and however many binary attachments it has. Events of other namespaces (other
//   sockets) do not count.
// - onAnyOutgoing() sees EVENT packets only (not acks: the answers to `echo`, `any-count` or
//   `outgoing-count` do not count). The `auth` event is emitted by a "connected" handler that
//   was connected before the one that installs the counters, so a new socket starts at 0.
//   Namespace broadcasts (`broadcast`'s `bcast`) and emits by socket id (`to-socket`) count for
//   each recipient, as Node's adapter notifies the outgoing listeners of every recipient.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import {
    TRANSPORT_SETUPS, TEST_TIMEOUT_MS, connectClient, createManager, emitAck, managerSocket,
    waitConnected, waitUpgraded,
} from './lib/sio.mjs';
import { byteRamp } from './lib/util.mjs';

/** Keeps track of how many events the test sent on `socket`, and asks the server's count. */
function incomingCounter(socket) {
    const counter = {
        sent: 0,
        emit(event, ...args) {
            counter.sent++;
            socket.emit(event, ...args);
        },
        async ack(event, ...args) {
            counter.sent++;
            return emitAck(socket, event, args);
        },
        /** Asks `any-count`; the request itself is one more incoming event. */
        async ask() {
            const [n] = await counter.ack('any-count');
            return n;
        },
    };
    return counter;
}

async function outgoingCount(socket) {
    const answer = await emitAck(socket, 'outgoing-count');
    assert.equal(answer.length, 1, `outgoing-count answers one number: ${JSON.stringify(answer)}`);
    return answer[0];
}

for (const setup of TRANSPORT_SETUPS) {
    describe(`Socket.IO catch-all listeners over ${setup.name}`, { timeout: TEST_TIMEOUT_MS }, () => {
        let server;
        before(async () => { server = await startServer(); });
        after(() => server?.close());

        test('any-count on a new socket is 1: the request itself', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const c = incomingCounter(socket);
            assert.equal(await c.ask(), 1);
            assert.equal(await c.ask(), 2, 'the first any-count counted too');
        });

        test('after N events of distinct names any-count answers N + 1', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const c = incomingCounter(socket);
            const N = 6;
            c.emit('ev-no-args');
            c.emit('ev-text', 'text', 1, null);
            c.emit('ev-binary', Buffer.from(byteRamp(100)));
            c.emit('ev-binaries', Buffer.from('a'), { nested: [Buffer.from('b'), Buffer.alloc(0)] });
            c.emit('ev-object', { a: { b: ['c'] } });
            c.emit('ev-unicode-ü✓😀', 'ü');
            assert.equal(c.sent, N);
            assert.equal(await c.ask(), N + 1);
            await waitUpgraded(socket);
            for (let i = 0; i < 10; i++) {
                c.emit(`ev-${i}`, i);
            }
            assert.equal(await c.ask(), N + 1 + 10 + 1, 'after the upgrade too');
        });

        test('events the server handles count like the others; acks do not', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const c = incomingCounter(socket);
            assert.deepEqual(await c.ack('echo', 'one'), ['one']);
            assert.deepEqual(await c.ack('message-with-ack', 'two', 3), ['two', 3]);
            c.emit('message', 'back please');
            assert.deepEqual(await socket.log.next('message-back'), ['back please']);
            assert.deepEqual(await c.ack('join', 'catchall-room'), [true]);
            assert.deepEqual(await c.ack('leave', 'catchall-room'), [true]);
            assert.equal(c.sent, 5);
            assert.equal(await c.ask(), 6);
            // outgoing-count is an incoming event as well.
            await outgoingCount(socket);
            c.sent++;
            assert.equal(await c.ask(), 8);
        });

        test('each socket counts its own events; other namespaces do not count', async (t) => {
            const manager = createManager(server, setup, { t });
            const root = managerSocket(manager, '/');
            const custom = managerSocket(manager, '/custom');
            await Promise.all([waitConnected(root), waitConnected(custom)]);
            const other = await connectClient(server, setup, { t });
            const r = incomingCounter(root);
            const o = incomingCounter(other);
            r.emit('r-1');
            r.emit('r-2');
            custom.emit('custom-1');
            custom.emit('custom-2', Buffer.from([1]));
            custom.emit('any-count');
            o.emit('o-1');
            assert.equal(await r.ask(), 3, '"/" of the multiplexed connection: its own events only');
            assert.equal(await o.ask(), 2, 'another connection: its own events only');
            assert.equal(await r.ask(), 4);
        });

        test('outgoing-count grows by one per event the server emits to the socket', async (t) => {
            const socket = await connectClient(server, setup, { t });
            let expected = 0;
            assert.equal(await outgoingCount(socket), expected, 'the `auth` event is emitted before the counter exists');
            for (const data of ['first', { second: 2 }, Buffer.from([3, 3, 3])]) {
                socket.emit('message', data);
                await socket.log.next('message-back');
                expected++;
                assert.equal(await outgoingCount(socket), expected, `after message-back ${expected}`);
            }
            await waitUpgraded(socket);
            // Acks are not events: none of these answers counts.
            assert.deepEqual(await emitAck(socket, 'echo', ['x']), ['x']);
            assert.deepEqual(await emitAck(socket, 'message-with-ack', [1, 2]), [1, 2]);
            await emitAck(socket, 'any-count');
            assert.equal(await outgoingCount(socket), expected, 'acks are not counted');
            assert.equal(await outgoingCount(socket), expected, 'nor outgoing-count answers');
            // Emits with multiple arguments count once.
            socket.emit('message', 'a', 'b', Buffer.from('c'));
            assert.deepEqual((await socket.log.next('message-back')).length, 3);
            expected++;
            assert.equal(await outgoingCount(socket), expected);
        });

        test('outgoing-count includes broadcasts, emits by socket id and server emits with an ack', async (t) => {
            const a = await connectClient(server, setup, { t });
            const b = await connectClient(server, setup, { t });
            a.on('question', (x, y, answer) => answer(x + y));
            let expectedA = 0;
            let expectedB = 0;
            assert.equal(await outgoingCount(a), expectedA);
            assert.equal(await outgoingCount(b), expectedB);

            // `to-socket` to b: b's count grows, a's does not.
            a.emit('to-socket', b.id, 'direct', 1);
            assert.deepEqual(await b.log.next('direct'), [1]);
            expectedB++;
            assert.equal(await outgoingCount(b), expectedB, 'b got one event by id');
            assert.equal(await outgoingCount(a), expectedA, 'a got nothing');

            // `to-socket` to itself.
            a.emit('to-socket', a.id, 'direct', 2);
            assert.deepEqual(await a.log.next('direct'), [2]);
            expectedA++;
            assert.equal(await outgoingCount(a), expectedA);

            // `broadcast`: one `bcast` for each socket of "/".
            await emitAck(a, 'broadcast', ['to all']);
            assert.deepEqual(await a.log.next('bcast'), ['to all']);
            assert.deepEqual(await b.log.next('bcast'), ['to all']);
            expectedA++;
            expectedB++;
            assert.equal(await outgoingCount(a), expectedA, 'the broadcast counted for a');
            assert.equal(await outgoingCount(b), expectedB, 'the broadcast counted for b');

            // `request-ack`: the server emits `question` with an ack: one outgoing event.
            assert.deepEqual(await emitAck(a, 'request-ack', ['question', 2, 3]), [5]);
            expectedA++;
            assert.equal(await outgoingCount(a), expectedA, 'an emit with an ack is an event');
            assert.equal(await outgoingCount(b), expectedB);
        });
    });
}
