// Socket.IO binary events (BINARY_EVENT / BINARY_ACK with attachments) with socket.io-client:
// Buffers at the top level, nested in objects and arrays, several per event, empty ones, in both
// directions (`message` -> `message-back`) and in acks. Bytes are compared exactly.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { TRANSPORT_SETUPS, TEST_TIMEOUT_MS, connectClient, emitAck, normalizeBinary, waitUpgraded } from './lib/sio.mjs';
import { byteRamp } from './lib/util.mjs';

const ramp = (n, start = 0) => Buffer.from(byteRamp(n, start));

/** Sends `args` as `message` and returns the `message-back` arguments (binary as Buffers). */
async function roundTrip(socket, args, ms) {
    socket.emit('message', ...args);
    return socket.log.next('message-back', ms);
}

function assertBinaryEqual(actual, expected, what) {
    assert.deepEqual(normalizeBinary(actual), expected, what);
}

for (const setup of TRANSPORT_SETUPS) {
    describe(`Socket.IO binary over ${setup.name}`, { timeout: TEST_TIMEOUT_MS }, () => {
        let server;
        before(async () => { server = await startServer(); });
        after(() => server?.close());

        test('a Buffer at the top level, every byte value', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const bytes = ramp(256);
            const back = await roundTrip(socket, [bytes]);
            assert.equal(back.length, 1);
            assert.ok(Buffer.isBuffer(back[0]), 'comes back as binary, not as a placeholder object');
            assertBinaryEqual(back, [bytes]);
        });

        test('Buffers nested in objects and arrays', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const args = [{
                name: 'nested',
                file: ramp(100, 7),
                list: [ramp(3), 'text', [ramp(5, 250), { deeper: ramp(1, 128) }]],
                meta: { size: 100, parts: [{ data: ramp(10, 1) }, { data: ramp(10, 2) }] },
            }];
            assertBinaryEqual(await roundTrip(socket, args), args);
        });

        test('several Buffers and other values in one event keep their positions', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const args = [ramp(1), 'between', ramp(2, 10), 3, [ramp(3, 20), null, ramp(4, 30)], { x: ramp(5, 40) }, ramp(6, 50), false];
            const back = await roundTrip(socket, args);
            assertBinaryEqual(back, args);
        });

        test('many attachments in one event (10, the client parser default limit)', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const args = Array.from({ length: 10 }, (_, i) => ramp(i * 7 + 1, i));
            assertBinaryEqual(await roundTrip(socket, args), args);
        });

        test('empty Buffers', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const args = [Buffer.alloc(0), { empty: Buffer.alloc(0), one: Buffer.from([0]) }, [Buffer.alloc(0)]];
            assertBinaryEqual(await roundTrip(socket, args), args);
        });

        test('typed arrays and ArrayBuffers are sent as binary too', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const u8 = new Uint8Array([1, 2, 3, 250]);
            const ab = new Uint8Array([9, 8, 7]).buffer;
            const back = await roundTrip(socket, [u8, { ab }]);
            assertBinaryEqual(back, [Buffer.from(u8), { ab: Buffer.from(ab) }]);
        });

        test('a large Buffer (512 KB)', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const big = ramp(512 * 1024, 3);
            const [back] = await roundTrip(socket, [big], 10_000);
            assert.equal(back.length, big.length);
            assert.ok(back.equals(big), 'same bytes');
        });

        test('binary and text events interleaved stay in order (also across the upgrade)', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const sent = [];
            const burst = (tag) => {
                for (let i = 0; i < 30; i++) {
                    const args = i % 3 === 0 ? [tag, i, ramp(i + 1, i)] : [tag, i, `text ${i}`];
                    sent.push(args);
                    socket.emit('message', ...args);
                }
            };
            burst('early');
            await waitUpgraded(socket);
            burst('late');
            const backs = await socket.log.take('message-back', sent.length, 10_000);
            backs.forEach((back, i) => assertBinaryEqual(back, sent[i], `event ${i}`));
        });

        test('binary in acks', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const data = { blob: ramp(1000, 5), list: [ramp(2), Buffer.alloc(0)] };
            assertBinaryEqual(await socket.timeout(3000).emitWithAck('echo', data), data, 'echo');
            assertBinaryEqual(await socket.timeout(3000).emitWithAck('echo', ramp(17)), ramp(17), 'echo of a top-level Buffer');
            const args = [ramp(4), 'text', { b: ramp(6, 100) }, [ramp(8, 200)]];
            assertBinaryEqual(await emitAck(socket, 'message-with-ack', args), args, 'message-with-ack');
        });
    });
}
