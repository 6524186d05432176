// maxPayload (engine.io's maxHttpBufferSize): the server runs with --max-payload 1000.
// Over polling it limits the POST body (HTTP 413 when larger), over WebSocket one message
// (the connection is closed when larger).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { connect } from './lib/client.mjs';
import { handshake, post, pollMessages, openWebSocket, request, eioPath } from './lib/raw.mjs';
import { byteRamp, toBuffer, waitEvent } from './lib/util.mjs';

const MAX = 1000;

function closedWithin(ws, ms) {
    let timer;
    return Promise.race([
        ws.closed,
        new Promise((r) => { timer = setTimeout(() => r(null), ms); }),
    ]).finally(() => clearTimeout(timer));
}

describe('payload', () => {
    let server;
    before(async () => { server = await startServer(['--max-payload', String(MAX)]); });
    after(() => server?.close());

    test('open packet advertises maxPayload', async () => {
        const { open } = await handshake(server);
        assert.equal(open.maxPayload, MAX);
    });

    describe('polling (raw)', () => {
        test('a POST body one byte over the limit gets HTTP 413', async () => {
            const { sid } = await handshake(server);
            const res = await post(server, sid, `4${'x'.repeat(MAX)}`);
            assert.equal(res.status, 413);
        });

        test('a much larger POST body gets HTTP 413', async () => {
            const { sid } = await handshake(server);
            const res = await post(server, sid, `4${'x'.repeat(200_000)}`).catch((err) => ({ err }));
            // The server may answer 413 and close before reading the whole body; a reset while
            // still sending is acceptable only if a 413 could not be read.
            assert.ok(res.err === undefined, `request failed without an HTTP answer: ${res.err?.message}`);
            assert.equal(res.status, 413);
        });

        test('413 is sent from Content-Length, before the body is received', async () => {
            const { sid } = await handshake(server);
            const res = await request(server, {
                method: 'POST', path: eioPath({ sid }), contentLength: 5_000_000, writeBody: false,
                timeout: 3000,
            });
            assert.equal(res.status, 413);
        });

        test('a POST body exactly at the limit is accepted', async () => {
            const { sid } = await handshake(server);
            const body = `4${'y'.repeat(MAX - 1)}`;
            assert.equal(Buffer.byteLength(body), MAX);
            const res = await post(server, sid, body);
            assert.equal(res.status, 200);
            const [msg] = await pollMessages(server, sid, 1);
            assert.equal(msg.raw, body);
        });

        test('the limit counts bytes, not characters', async () => {
            const { sid } = await handshake(server);
            // 'é' is two bytes in UTF-8: 1 + 2 * 500 = 1001 bytes, 501 characters
            const res = await post(server, sid, `4${'é'.repeat(MAX / 2)}`);
            assert.equal(res.status, 413);
        });
    });

    describe('polling (engine.io-client)', () => {
        test('a message just under the limit passes', async (t) => {
            const socket = await connect(server, { transports: ['polling'] }, { t });
            const msg = 'a'.repeat(MAX - 10);
            socket.send(msg);
            assert.equal(await socket.inbox.next(3000), msg);
        });

        test('many small messages exceeding the limit together all arrive', async (t) => {
            // The client splits its POSTs according to the advertised maxPayload.
            const socket = await connect(server, { transports: ['polling'] }, { t });
            const sent = Array.from({ length: 60 }, (_, i) => `${i}:${'m'.repeat(95)}`);
            sent.forEach((m) => socket.send(m));
            assert.deepEqual(await socket.inbox.take(sent.length, 5000), sent);
        });

        test('an oversized message closes the connection', async (t) => {
            const socket = await connect(server, { transports: ['polling'] }, { t });
            const closed = waitEvent(socket, 'close', 3000);
            socket.send('z'.repeat(MAX * 2));
            const [reason] = await closed;
            assert.equal(reason, 'transport error');
        });
    });

    describe('websocket', () => {
        test('text and binary messages just under and at the limit pass', async (t) => {
            const socket = await connect(server, { transports: ['websocket'] }, { t });
            const under = 'a'.repeat(MAX - 10);
            const at = 'b'.repeat(MAX - 1); // "4" + 999 = 1000 bytes on the wire
            const bin = Buffer.from(byteRamp(MAX)); // binary frames carry no type byte
            socket.send(under);
            socket.send(at);
            socket.send(bin);
            const [a, b, c] = await socket.inbox.take(3, 3000);
            assert.equal(a, under);
            assert.equal(b, at);
            assert.deepEqual(toBuffer(c), bin);
            assert.deepEqual(socket.closeEvents, []);
        });

        test('an oversized message closes the connection (engine.io-client)', async (t) => {
            const socket = await connect(server, { transports: ['websocket'] }, { t });
            const closed = waitEvent(socket, 'close', 3000);
            socket.send('z'.repeat(MAX * 2));
            const [reason] = await closed;
            assert.equal(reason, 'transport close');
        });

        test('an oversized binary message closes the connection (engine.io-client)', async (t) => {
            const socket = await connect(server, { transports: ['websocket'] }, { t });
            const closed = waitEvent(socket, 'close', 3000);
            socket.send(Buffer.alloc(MAX + 1));
            const [reason] = await closed;
            assert.equal(reason, 'transport close');
        });

        test('one byte over the limit closes the raw WebSocket', async (t) => {
            const { ws, inbox } = await openWebSocket(server);
            t.after(() => ws.terminate());
            await inbox.next(3000, 'open packet');
            ws.send(`4${'x'.repeat(MAX)}`);
            const closed = await closedWithin(ws, 3000);
            assert.ok(closed, 'server closed the WebSocket');
        });
    });
});
