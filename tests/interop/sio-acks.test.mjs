// Socket.IO acknowledgements with socket.io-client: `message-with-ack` is acked with its own
// arguments, `echo` (data, ack) acks data; events the server does not ack time out on the client.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { RawSio, TRANSPORT_SETUPS, TEST_TIMEOUT_MS, connectClient, emitAck, normalizeBinary } from './lib/sio.mjs';
import { byteRamp } from './lib/util.mjs';

const ACK_TIMEOUT = 300;

for (const setup of TRANSPORT_SETUPS) {
    describe(`Socket.IO acks over ${setup.name}`, { timeout: TEST_TIMEOUT_MS }, () => {
        let server;
        before(async () => { server = await startServer(); });
        after(() => server?.close());

        test('emitWithAck("echo") resolves with the data', async (t) => {
            const socket = await connectClient(server, setup, { t });
            for (const data of ['text', 'ünïcödé 😀', 0, -1.5, true, false, null, [], {}, [1, [2, { three: 3 }]],
                { a: { b: { c: ['d'] } }, n: null }]) {
                assert.deepEqual(await socket.timeout(3000).emitWithAck('echo', data), data, JSON.stringify(data));
            }
        });

        test('emitWithAck("message-with-ack") resolves with the first argument', async (t) => {
            const socket = await connectClient(server, setup, { t });
            assert.deepEqual(await socket.timeout(3000).emitWithAck('message-with-ack', { first: 1 }, 'second'), { first: 1 });
        });

        test('message-with-ack acknowledges with all of its arguments', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const args = [1, 'two', { three: [3] }, null, false, [], 'ä€😀'];
            assert.deepEqual(await emitAck(socket, 'message-with-ack', args), args);
            assert.deepEqual(await emitAck(socket, 'message-with-ack', []), [], 'no arguments: empty ack');
            assert.deepEqual(await emitAck(socket, 'message-with-ack', [null]), [null]);
        });

        test('binary in acks: echo and message-with-ack', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const bytes = Buffer.from(byteRamp(300));
            assert.deepEqual(normalizeBinary(await socket.timeout(3000).emitWithAck('echo', bytes)), bytes);
            const nested = { name: 'file', parts: [Buffer.from('ab'), Buffer.alloc(0), Buffer.from([0, 255])] };
            assert.deepEqual(normalizeBinary(await socket.timeout(3000).emitWithAck('echo', nested)), nested);
            const args = ['text', Buffer.from([1, 2, 3]), { inner: Buffer.from('inner') }, [Buffer.from([9])], 7];
            assert.deepEqual(normalizeBinary(await emitAck(socket, 'message-with-ack', args)), args);
        });

        test('many acks in flight resolve each with its own data', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const N = 200;
            const results = await Promise.all(Array.from({ length: N }, (_, i) =>
                socket.timeout(5000).emitWithAck('echo', i % 10 === 0 ? Buffer.from(`bin ${i}`) : { i })));
            results.forEach((r, i) => assert.deepEqual(normalizeBinary(r), i % 10 === 0 ? Buffer.from(`bin ${i}`) : { i }, `ack ${i}`));
        });

        test(`raw ${setup.raw} session: ack ids beyond 32 bits come back exactly`, async (t) => {
            const raw = await RawSio.connected(server, setup.raw, { t });
            for (const id of ['0', '7', '2147483647', '2147483648', '4294967296', '999999999999999']) {
                await raw.send(`2${id}["echo","id ${id}"]`);
                assert.equal(await raw.next(), `3${id}["id ${id}"]`, `ack id ${id}`);
            }
            // A BINARY_ACK carries its id too.
            await raw.send('51-4294967297["message-with-ack",{"_placeholder":true,"num":0},"t"]', Buffer.from([1, 2]));
            assert.equal(await raw.next(), '61-4294967297[{"_placeholder":true,"num":0},"t"]');
            assert.deepEqual(await raw.next(), Buffer.from([1, 2]));
        });

        test('an event the server does not acknowledge times out on the client', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const start = Date.now();
            // `message` is handled (it emits message-back) but never acked.
            await assert.rejects(socket.timeout(ACK_TIMEOUT).emitWithAck('message', 'no ack please'),
                /operation has timed out/);
            assert.ok(Date.now() - start >= ACK_TIMEOUT - 20, 'rejected by the timeout');
            assert.deepEqual(await socket.log.next('message-back'), ['no ack please']);
            // An event without a handler is not acknowledged either.
            await assert.rejects(socket.timeout(ACK_TIMEOUT).emitWithAck('no-such-event', 1), /operation has timed out/);
            // The connection is fine afterwards and later acks still arrive.
            assert.equal(socket.connected, true);
            assert.deepEqual(await socket.timeout(3000).emitWithAck('echo', 'after timeouts'), 'after timeouts');
        });
    });
}
