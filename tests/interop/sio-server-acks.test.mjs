// Server-to-client acknowledgements with socket.io-client: `request-ack` (event, ...args, ack)
// makes the server emit `event` with `args` to the client WITH an ack (server-side timeout
// 5 s); the client's answer comes back as the ack of `request-ack`, or ["timeout"] when the
// client never answers.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import {
    RawSio, TRANSPORT_SETUPS, TEST_TIMEOUT_MS, connectClient, emitAck, normalizeBinary, waitUpgraded,
} from './lib/sio.mjs';
import { byteRamp, delay } from './lib/util.mjs';

const SERVER_ACK_TIMEOUT_MS = 5_000;

for (const setup of TRANSPORT_SETUPS) {
    describe(`Socket.IO server-to-client acks over ${setup.name}`, { timeout: TEST_TIMEOUT_MS }, () => {
        let server;
        before(async () => { server = await startServer(); });
        after(() => server?.close());

        test('request-ack("question", 2, 3) gets the client\'s answer [5]', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const questions = [];
            socket.on('question', (a, b, answer) => {
                questions.push([a, b]);
                answer(a + b);
            });
            assert.deepEqual(await emitAck(socket, 'request-ack', ['question', 2, 3]), [5]);
            assert.deepEqual(questions, [[2, 3]]);
            await waitUpgraded(socket);
            assert.deepEqual(await emitAck(socket, 'request-ack', ['question', -1.5, 40]), [38.5]);
            assert.deepEqual(await emitAck(socket, 'request-ack', ['question', 'a', 'b']), ['ab']);
            assert.equal(questions.length, 3);
        });

        test('the answer comes back with all its arguments, or none', async (t) => {
            const socket = await connectClient(server, setup, { t });
            socket.on('many', (...args) => args.pop()('sum', args.length, { args }, null, [true]));
            socket.on('none', (x, answer) => answer());
            socket.on('no-args', (answer) => answer('called without arguments'));
            assert.deepEqual(await emitAck(socket, 'request-ack', ['many', 1, 'two', { three: 3 }]),
                ['sum', 3, { args: [1, 'two', { three: 3 }] }, null, [true]]);
            assert.deepEqual(await emitAck(socket, 'request-ack', ['none', 'x']), []);
            assert.deepEqual(await emitAck(socket, 'request-ack', ['no-args']), ['called without arguments']);
        });

        test('binary in the question and in the answer comes back intact', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const received = [];
            socket.on('bin-question', (data, answer) => {
                received.push(normalizeBinary(data));
                answer(Buffer.from(byteRamp(1000)), { file: Buffer.from('answer ü'), parts: [Buffer.alloc(0), Buffer.from([255])] }, 'text');
            });
            const question = { blob: Buffer.from(byteRamp(256, 3)), list: [Buffer.from('q'), 1] };
            const answer = normalizeBinary(await emitAck(socket, 'request-ack', ['bin-question', question]));
            assert.deepEqual(received, [question], 'the binary question reached the client');
            assert.deepEqual(answer, [
                Buffer.from(byteRamp(1000)),
                { file: Buffer.from('answer ü'), parts: [Buffer.alloc(0), Buffer.from([255])] },
                'text',
            ]);
            await waitUpgraded(socket);
            socket.on('echo-bin', (data, answer) => answer(data));
            const bytes = Buffer.from(byteRamp(70_000));
            assert.deepEqual(normalizeBinary(await emitAck(socket, 'request-ack', ['echo-bin', bytes])), [bytes]);
        });

        test('a late answer (within the server\'s timeout) still arrives', async (t) => {
            const socket = await connectClient(server, setup, { t });
            socket.on('slow', (x, answer) => setTimeout(() => answer(x * 2), 300));
            assert.deepEqual(await emitAck(socket, 'request-ack', ['slow', 21]), [42]);
        });

        test('many questions in flight: each ack reaches its own request, in any order', async (t) => {
            const socket = await connectClient(server, setup, { t });
            const N = 20;
            // Answers in reverse order of arrival.
            socket.on('ordered', (i, answer) => setTimeout(() => answer({ i, square: i * i }), (N - i) * 10));
            const answers = await Promise.all(Array.from({ length: N }, (_, i) =>
                emitAck(socket, 'request-ack', ['ordered', i], 5_000)));
            answers.forEach((a, i) => assert.deepEqual(a, [{ i, square: i * i }], `request ${i}`));
        });

        test(`raw ${setup.raw} session: the server's EVENT carries an ack id; ACK packets are matched by id`, async (t) => {
            const raw = await RawSio.connected(server, setup.raw, { t });
            await raw.send('20["request-ack","question",2,3]');
            const question = await raw.next();
            const m = /^2(\d+)\["question",2,3\]$/.exec(question);
            assert.ok(m, `EVENT with an ack id: ${question}`);
            const id = m[1];
            // An ACK for an id the server never used is ignored (as in Node).
            await raw.send(`3${Number(id) + 1000}["wrong"]`);
            await raw.send(`3${id}[5]`);
            assert.equal(await raw.next(), '30[5]');
            // A second ACK for the same id is ignored too.
            await raw.send(`3${id}[6]`);
            // Two requests in flight, answered in reverse order.
            await raw.send('21["request-ack","q",1]', '22["request-ack","q",2]');
            const [q1, q2] = [await raw.next(), await raw.next()];
            const m1 = /^2(\d+)\["q",1\]$/.exec(q1);
            const m2 = /^2(\d+)\["q",2\]$/.exec(q2);
            assert.ok(m1 && m2, `${q1} ${q2}`);
            assert.notEqual(m1[1], m2[1], 'one ack id per emit');
            assert.notEqual(m1[1], id);
            await raw.send(`3${m2[1]}["two"]`, `3${m1[1]}["one"]`);
            const acks = [await raw.next(), await raw.next()];
            assert.deepEqual(acks, ['32["two"]', '31["one"]']);
            await raw.send('23["echo","still fine"]');
            assert.equal(await raw.next(), '33["still fine"]');
            assert.equal(raw.isClosed, false);
        });

        test(`raw ${setup.raw} session: a BINARY_ACK answer`, async (t) => {
            const raw = await RawSio.connected(server, setup.raw, { t });
            await raw.send('20["request-ack","bin"]');
            const m = /^2(\d+)\["bin"\]$/.exec(await raw.next());
            assert.ok(m);
            await raw.send(`61-${m[1]}[{"_placeholder":true,"num":0},"t"]`, Buffer.from([1, 2, 3]));
            const ack = await raw.next();
            assert.equal(ack, '61-0[{"_placeholder":true,"num":0},"t"]');
            assert.deepEqual(await raw.next(), Buffer.from([1, 2, 3]));
        });
    });
}

describe('Socket.IO server-to-client ack timeout over websocket', { timeout: SERVER_ACK_TIMEOUT_MS + TEST_TIMEOUT_MS }, () => {
    let server;
    before(async () => { server = await startServer(); });
    after(() => server?.close());

    test('a client that never answers makes the server\'s ack time out: ["timeout"]', async (t) => {
        const socket = await connectClient(server, TRANSPORT_SETUPS.find((s) => s.name === 'websocket'), { t });
        let asked = 0;
        socket.on('never', (x, answer) => {
            asked++;
            assert.equal(typeof answer, 'function', 'the server asked for an ack');
        });
        const start = Date.now();
        const answer = await emitAck(socket, 'request-ack', ['never', 1], SERVER_ACK_TIMEOUT_MS + 3_000);
        const elapsed = Date.now() - start;
        assert.deepEqual(answer, ['timeout']);
        assert.equal(asked, 1);
        assert.ok(elapsed >= SERVER_ACK_TIMEOUT_MS - 100, `timed out after ${elapsed} ms, not before ${SERVER_ACK_TIMEOUT_MS} ms`);
        assert.ok(elapsed < SERVER_ACK_TIMEOUT_MS + 2_000, `timed out after ${elapsed} ms`);
        // The socket is fine afterwards, and other requests still work.
        socket.on('question', (a, b, cb) => cb(a + b));
        assert.deepEqual(await emitAck(socket, 'request-ack', ['question', 2, 3]), [5]);
        assert.equal(socket.connected, true);
        await delay(10);
    });
});
