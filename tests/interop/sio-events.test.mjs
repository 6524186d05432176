// Socket.IO events with socket.io-client: the server re-emits `message` to its sender as
// `message-back` with the same arguments.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { TRANSPORT_SETUPS, TEST_TIMEOUT_MS, connectClient, emitAck, waitUpgraded } from './lib/sio.mjs';
import { delay } from './lib/util.mjs';

const MIXED_ARGS = [
    0, 1, -1, 42, -273, 3.5, 0.1, -2.25e-7, 1.5e300, 2 ** 31, 2 ** 53 - 1, -(2 ** 53 - 1),
    '', 'plain', 'ünïcödé ✓ 日本語 한국어 Ελληνικά', 'emoji 😀👍🏽 surrogate pairs 𝄞',
    'quotes " \' and \\ backslash / slash', 'control \n \r \t \x00 \x1e \x7f \u2028 \u2029 chars',
    '["looks", "like", {"json": 1}]', '<script>&amp;</script>',
    null, true, false,
    [], {}, [1, 'two', [3, [4, [5]]], { six: 6 }, null, false],
    { a: 1, b: 'two', c: { d: [true, false, null], e: { f: { g: 'deep' } } }, 'key with spaces': 'x', 'ключ': 'значение', '': 'empty key' },
    { nullValue: null, zero: 0, emptyString: '', emptyArray: [], emptyObject: {} },
];

for (const setup of TRANSPORT_SETUPS) {
    describe(`Socket.IO events over ${setup.name}`, { timeout: TEST_TIMEOUT_MS }, () => {
        let server;
        before(async () => { server = await startServer(); });
        after(() => server?.close());

        test('message -> message-back with mixed arguments', async (t) => {
            const socket = await connectClient(server, setup, { t });
            socket.emit('message', ...MIXED_ARGS);
            const back = await socket.log.next('message-back');
            assert.equal(back.length, MIXED_ARGS.length, 'same number of arguments');
            MIXED_ARGS.forEach((want, i) => assert.deepEqual(back[i], want, `argument ${i}`));
        });

        test('message with a single argument of each kind, and with none', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const singles = [[], ['only'], [7], [null], [true], [[]], [{}], [{ k: ['v'] }]];
            for (const args of singles) {
                socket.emit('message', ...args);
            }
            const backs = await socket.log.take('message-back', singles.length);
            backs.forEach((back, i) => assert.deepEqual(back, singles[i], `emit ${i}: ${JSON.stringify(singles[i])}`));
        });

        test('many events arrive complete and in order', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const COUNT = 500;
            for (let i = 0; i < COUNT; i++) {
                socket.emit('message', i, `text ${i}`, { i });
            }
            const backs = await socket.log.take('message-back', COUNT, 10_000);
            backs.forEach((back, i) => assert.deepEqual(back, [i, `text ${i}`, { i }], `event ${i}`));
            await delay(50);
            assert.equal(socket.log.pending('message-back').length, 0, 'no extra events');
        });

        test('events keep their order across the transport setup (sent while connecting and after upgrade)', async (t) => {
            const socket = await connectClient(server, setup, { t });
            for (let i = 0; i < 50; i++) {
                socket.emit('message', 'before', i);
            }
            await waitUpgraded(socket);
            for (let i = 0; i < 50; i++) {
                socket.emit('message', 'after', i);
            }
            const backs = await socket.log.take('message-back', 100, 10_000);
            backs.forEach((back, i) => assert.deepEqual(back, [i < 50 ? 'before' : 'after', i % 50], `event ${i}`));
        });

        test('large payload: 100 KB string, and 100 KB of multi-byte characters', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const ascii = 'abcdefghij'.repeat(10_240);
            const wide = 'ä€😀'.repeat(12_000); // 2 + 3 + 4 bytes in UTF-8, 108 KB
            socket.emit('message', ascii);
            socket.emit('message', { wide, list: [ascii.slice(0, 1000), wide.slice(0, 1000)] });
            const [first, second] = await socket.log.take('message-back', 2, 10_000);
            assert.equal(first.length, 1);
            assert.equal(first[0].length, ascii.length);
            assert.equal(first[0], ascii);
            assert.deepEqual(second, [{ wide, list: [ascii.slice(0, 1000), wide.slice(0, 1000)] }]);
        });

        test('events to other handlers do not produce message-back', async (t) => {
            const socket = await connectClient(server, setup, { t });
            socket.emit('no-such-event', 1, 2, 3);
            socket.emit('message', 'marker');
            assert.deepEqual(await socket.log.next('message-back'), ['marker']);
            assert.deepEqual(await emitAck(socket, 'echo', ['ok']), ['ok']);
            assert.equal(socket.log.count('message-back'), 1);
            assert.equal(socket.connected, true);
        });
    });
}
