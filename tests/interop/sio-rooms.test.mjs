// Socket.IO rooms and broadcasts with three socket.io-client clients: `join` / `leave` (ack
// true), `to-room` (room, event, ...args) emits to the room except the sender, `broadcast`
// (data, ack) emits `bcast` to every socket of "/" and acks the recipient count.
//
// "Did not receive" is checked with a barrier: after the emit under test the sender does a
// `broadcast`; the server handles one connection's packets in order, so a client that gets the
// `bcast` without the event before it will not get the event at all.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import {
    TRANSPORT_SETUPS, TEST_TIMEOUT_MS, connectClient, createManager, emitAck, managerSocket,
    normalizeBinary, waitConnected,
} from './lib/sio.mjs';
import { delay } from './lib/util.mjs';

for (const setup of TRANSPORT_SETUPS) {
    describe(`Socket.IO rooms over ${setup.name}`, { timeout: TEST_TIMEOUT_MS }, () => {
        let server;
        let a;
        let b;
        let c;
        let barrierCount = 0;
        const clients = () => [a, b, c];

        before(async () => {
            server = await startServer();
            [a, b, c] = await Promise.all([1, 2, 3].map(() => connectClient(server, setup)));
        });
        after(async () => {
            for (const s of [a, b, c]) {
                s?.io.engine?.close();
                s?.disconnect();
            }
            await server?.close();
        });

        /** `from` broadcasts a marker; resolves once every one of `everyone` got it. */
        async function barrier(from, everyone = clients()) {
            const marker = `barrier ${++barrierCount}`;
            const [count] = await emitAck(from, 'broadcast', [marker]);
            for (const s of everyone) {
                assert.deepEqual(await s.log.next('bcast'), [marker], 'barrier reached every client');
            }
            return count;
        }

        test('join acks true', async () => {
            assert.deepEqual(await emitAck(a, 'join', ['r1']), [true]);
            assert.deepEqual(await emitAck(b, 'join', ['r1']), [true]);
            assert.deepEqual(await emitAck(a, 'join', ['r1']), [true], 'joining twice is fine');
        });

        test('to-room from a non-member reaches exactly the members', async () => {
            c.emit('to-room', 'r1', 'room-msg', 'from c', { n: 1 }, [true, null]);
            assert.deepEqual(await a.log.next('room-msg'), ['from c', { n: 1 }, [true, null]]);
            assert.deepEqual(await b.log.next('room-msg'), ['from c', { n: 1 }, [true, null]]);
            await barrier(c);
            assert.deepEqual(c.log.pending('room-msg'), [], 'the non-member sender gets nothing');
            assert.deepEqual(a.log.pending('room-msg'), [], 'a got it once');
            assert.deepEqual(b.log.pending('room-msg'), [], 'b got it once');
        });

        test('to-room from a member reaches the other members but not the sender', async () => {
            a.emit('to-room', 'r1', 'room-msg', 'from a');
            assert.deepEqual(await b.log.next('room-msg'), ['from a']);
            await barrier(a);
            assert.deepEqual(a.log.pending('room-msg'), [], 'the sender is excluded');
            assert.deepEqual(c.log.pending('room-msg'), [], 'the non-member gets nothing');
        });

        test('to-room with binary arguments and without arguments', async () => {
            c.emit('to-room', 'r1', 'room-bin', Buffer.from([1, 2, 3]), { nested: Buffer.from('xyz') });
            for (const s of [a, b]) {
                assert.deepEqual(normalizeBinary(await s.log.next('room-bin')),
                    [Buffer.from([1, 2, 3]), { nested: Buffer.from('xyz') }]);
            }
            c.emit('to-room', 'r1', 'room-empty');
            assert.deepEqual(await a.log.next('room-empty'), []);
            assert.deepEqual(await b.log.next('room-empty'), []);
            await barrier(c);
            assert.equal(c.log.count('room-bin') + c.log.count('room-empty'), 0);
        });

        test('to-room to a room nobody joined reaches nobody', async () => {
            a.emit('to-room', 'empty-room', 'room-msg', 'to nobody');
            await barrier(a);
            for (const s of clients()) {
                assert.deepEqual(s.log.pending('room-msg'), []);
            }
        });

        test('after leave, a former member is not reached', async () => {
            assert.deepEqual(await emitAck(b, 'leave', ['r1']), [true]);
            c.emit('to-room', 'r1', 'room-msg', 'after b left');
            assert.deepEqual(await a.log.next('room-msg'), ['after b left']);
            await barrier(c);
            assert.deepEqual(b.log.pending('room-msg'), [], 'b left r1');
            assert.deepEqual(c.log.pending('room-msg'), []);
            assert.deepEqual(await emitAck(b, 'leave', ['r1']), [true], 'leaving twice is fine');
            assert.deepEqual(await emitAck(b, 'leave', ['never-joined']), [true]);
        });

        test('rooms are independent of each other', async () => {
            assert.deepEqual(await emitAck(b, 'join', ['r2']), [true]);
            assert.deepEqual(await emitAck(c, 'join', ['r2']), [true]);
            a.emit('to-room', 'r2', 'r2-msg', 'to r2');
            assert.deepEqual(await b.log.next('r2-msg'), ['to r2']);
            assert.deepEqual(await c.log.next('r2-msg'), ['to r2']);
            await barrier(a);
            assert.deepEqual(a.log.pending('r2-msg'), [], 'a is in r1, not r2');
            c.emit('to-room', 'r1', 'r1-msg', 'to r1');
            assert.deepEqual(await a.log.next('r1-msg'), ['to r1']);
            await barrier(c);
            assert.deepEqual(b.log.pending('r1-msg'), []);
        });

        test('broadcast reaches every socket of "/", the sender too, and acks the count', async () => {
            const [count] = await emitAck(b, 'broadcast', [{ hello: 'all' }]);
            assert.equal(count, 3);
            for (const s of clients()) {
                assert.deepEqual(await s.log.next('bcast'), [{ hello: 'all' }]);
            }
            b.emit('broadcast', 'without ack');
            for (const s of clients()) {
                assert.deepEqual(await s.log.next('bcast'), ['without ack']);
            }
            const [binCount] = await emitAck(c, 'broadcast', [Buffer.from([0xde, 0xad])]);
            assert.equal(binCount, 3);
            for (const s of clients()) {
                assert.deepEqual(normalizeBinary(await s.log.next('bcast')), [Buffer.from([0xde, 0xad])]);
            }
        });

        test('sockets of /custom do not get "/" broadcasts', async (t) => {
            // d: a connection with a socket on "/custom" only; e: a connection with sockets on
            // both namespaces (the "/" one is the barrier for the "/custom" one: same connection,
            // so the order of the packets on it is kept).
            const d = await connectClient(server, setup, { nsp: '/custom', t });
            const manager = createManager(server, setup, { t });
            const eRoot = managerSocket(manager, '/');
            const eCustom = managerSocket(manager, '/custom');
            await Promise.all([waitConnected(eRoot), waitConnected(eCustom)]);
            // /custom members cannot be reached through a "/" room either.
            c.emit('to-room', 'r1', 'room-msg', 'to r1 again');
            assert.deepEqual(await a.log.next('room-msg'), ['to r1 again']);
            const [count] = await emitAck(a, 'broadcast', ['only for /']);
            assert.equal(count, 4, 'a, b, c and the "/" socket of the multiplexed connection');
            for (const s of [...clients(), eRoot]) {
                assert.deepEqual(await s.log.next('bcast'), ['only for /']);
            }
            await delay(100); // d has no barrier of its own
            assert.equal(eCustom.log.count('bcast'), 0, '/custom socket on a shared connection');
            assert.equal(d.log.count('bcast'), 0, '/custom socket on its own connection');
            assert.equal(d.log.count('room-msg') + eCustom.log.count('room-msg'), 0);
        });
    });
}
