// WebSocket only: engine.io-client with transports ['websocket'], and raw frames.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { connect } from './lib/client.mjs';
import { errorBody, openWebSocket, poll } from './lib/raw.mjs';
import { byteRamp, delay, toBuffer, waitEvent } from './lib/util.mjs';

describe('websocket', () => {
    let server;
    before(async () => { server = await startServer(); });
    after(() => server?.close());

    describe('engine.io-client', () => {
        test('text echo', async (t) => {
            const socket = await connect(server, { transports: ['websocket'] }, { t });
            assert.equal(socket.transport.name, 'websocket');
            socket.send('hello');
            socket.send('héllo wörld ✓ 😀');
            socket.send('x'.repeat(100_000));
            assert.deepEqual(await socket.inbox.take(3, 3000), ['hello', 'héllo wörld ✓ 😀', 'x'.repeat(100_000)]);
        });

        test('binary echo (Uint8Array and Buffer)', async (t) => {
            const socket = await connect(server, { transports: ['websocket'] }, { t });
            const bytes = byteRamp(70_000);
            socket.send(bytes);
            socket.send(Buffer.from([0, 1, 2, 0xfe, 0xff]));
            socket.send(bytes.buffer);
            const [a, b, c] = await socket.inbox.take(3, 3000);
            assert.ok(Buffer.isBuffer(a), 'binary comes back as binary');
            assert.deepEqual(toBuffer(a), Buffer.from(bytes));
            assert.deepEqual(toBuffer(b), Buffer.from([0, 1, 2, 0xfe, 0xff]));
            assert.deepEqual(toBuffer(c), Buffer.from(bytes));
        });

        test('many messages sent synchronously arrive in order', async (t) => {
            const socket = await connect(server, { transports: ['websocket'] }, { t });
            const sent = [];
            for (let i = 0; i < 1000; i++) {
                sent.push(i % 3 === 0 ? Buffer.from(`binary ${i}`) : `text ${i}`);
            }
            sent.forEach((m) => socket.send(m));
            const got = await socket.inbox.take(sent.length, 8000);
            got.forEach((m, i) => {
                if (typeof sent[i] === 'string') {
                    assert.equal(m, sent[i], `message ${i}`);
                } else {
                    assert.deepEqual(toBuffer(m), sent[i], `message ${i}`);
                }
            });
        });

        test('close() ends the session on the server', async (t) => {
            const socket = await connect(server, { transports: ['websocket'] }, { t });
            socket.send('ping?');
            assert.equal(await socket.inbox.next(3000), 'ping?');
            const sid = socket.id;
            socket.close();
            assert.deepEqual(socket.closeEvents.map(([reason]) => reason), ['forced close']);
            // Once the WebSocket is closed the session is gone (and not merely a transport
            // mismatch for a polling request).
            await delay(300);
            const { res } = await poll(server, sid, { timeout: 2000 });
            assert.equal(res.status, 400);
            assert.deepEqual(errorBody(res), { code: 1, message: 'Session ID unknown' });
        });
    });

    describe('raw frames', () => {
        test('text packets are text frames "4..."', async (t) => {
            const { ws, inbox } = await openWebSocket(server);
            t.after(() => ws.terminate());
            const open = await inbox.next(3000, 'open packet');
            assert.equal(open.text[0], '0');
            ws.send('4hello');
            const echo = await inbox.next(3000, 'echo');
            assert.equal(echo.isBinary, false);
            assert.equal(echo.text, '4hello');
        });

        test('fragmented messages are reassembled', async (t) => {
            const { ws, inbox } = await openWebSocket(server);
            t.after(() => ws.terminate());
            await inbox.next(3000, 'open packet');
            ws.send('4frag', { fin: false });
            ws.send('men', { fin: false });
            ws.send('ted', { fin: true });
            ws.send(Buffer.from([1, 2]), { binary: true, fin: false });
            ws.send(Buffer.from([3]), { binary: true, fin: true });
            const [text, bin] = await inbox.take(2, 3000, 'echoes');
            assert.equal(text.text, '4fragmented');
            assert.equal(bin.isBinary, true);
            assert.deepEqual(Buffer.from(bin.data), Buffer.from([1, 2, 3]));
        });

        test('WebSocket ping control frames are answered with pong', async (t) => {
            const { ws, inbox } = await openWebSocket(server);
            t.after(() => ws.terminate());
            await inbox.next(3000, 'open packet');
            const pong = waitEvent(ws, 'pong', 3000);
            ws.ping(Buffer.from('are you there'));
            assert.equal((await pong).toString(), 'are you there');
        });

        test('binary packets are binary frames without a type byte', async (t) => {
            const { ws, inbox } = await openWebSocket(server);
            t.after(() => ws.terminate());
            await inbox.next(3000, 'open packet');
            const bytes = Buffer.from(byteRamp(512));
            ws.send(bytes, { binary: true });
            const echo = await inbox.next(3000, 'echo');
            assert.equal(echo.isBinary, true, 'binary echo is a binary frame');
            assert.deepEqual(Buffer.from(echo.data), bytes);
        });
    });
});
