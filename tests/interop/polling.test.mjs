// HTTP long-polling only: engine.io-client with transports ['polling'], and raw payloads.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { connect } from './lib/client.mjs';
import http from 'node:http';
import { eioPath, errorBody, handshake, poll, post, pollMessages, rawExchange, request } from './lib/raw.mjs';
import { byteRamp, delay, toBuffer, withTimeout } from './lib/util.mjs';

describe('polling', () => {
    let server;
    before(async () => { server = await startServer(); });
    after(() => server?.close());

    describe('engine.io-client', () => {
        test('text echo', async (t) => {
            const socket = await connect(server, { transports: ['polling'] }, { t });
            assert.equal(socket.transport.name, 'polling');
            socket.send('hello');
            socket.send('héllo wörld ✓ 😀');
            assert.deepEqual(await socket.inbox.take(2, 3000), ['hello', 'héllo wörld ✓ 😀']);
            assert.equal(socket.transport.name, 'polling');
        });

        test('binary echo (Uint8Array and Buffer)', async (t) => {
            const socket = await connect(server, { transports: ['polling'] }, { t });
            const bytes = byteRamp(300);
            socket.send(bytes);
            socket.send(Buffer.from([0, 1, 2, 0xfe, 0xff]));
            socket.send(new Uint8Array(0));
            const [a, b, c] = await socket.inbox.take(3, 3000);
            assert.ok(Buffer.isBuffer(a), 'binary comes back as binary');
            assert.deepEqual(toBuffer(a), Buffer.from(bytes));
            assert.deepEqual(toBuffer(b), Buffer.from([0, 1, 2, 0xfe, 0xff]));
            assert.ok(Buffer.isBuffer(c), 'empty binary comes back as binary');
            assert.equal(toBuffer(c).length, 0);
        });

        test('text and binary interleaved keep their order and kinds', async (t) => {
            const socket = await connect(server, { transports: ['polling'] }, { t });
            const sent = [];
            for (let i = 0; i < 20; i++) {
                sent.push(i % 2 ? `text ${i}` : Buffer.from([i, 255 - i]));
            }
            sent.forEach((m) => socket.send(m));
            const got = await socket.inbox.take(sent.length, 5000);
            got.forEach((m, i) => {
                if (typeof sent[i] === 'string') {
                    assert.equal(m, sent[i]);
                } else {
                    assert.deepEqual(toBuffer(m), sent[i]);
                }
            });
        });

        test('many messages sent synchronously arrive in order', async (t) => {
            const socket = await connect(server, { transports: ['polling'] }, { t });
            const sent = Array.from({ length: 500 }, (_, i) => `message ${i}`);
            for (const m of sent) {
                socket.send(m);
            }
            assert.deepEqual(await socket.inbox.take(sent.length, 8000), sent);
        });

        test('close() ends the session on the server', async (t) => {
            const socket = await connect(server, { transports: ['polling'] }, { t });
            const sid = socket.id;
            socket.send('before close');
            assert.equal(await socket.inbox.next(3000), 'before close');
            socket.close();
            // The close packet travels in a POST; give it time to arrive (a GET of ours while
            // the client's own GET may still be parked would be an overlap).
            await delay(500);
            const { res } = await poll(server, sid, { timeout: 2000 });
            assert.equal(res.status, 400);
            assert.deepEqual(errorBody(res), { code: 1, message: 'Session ID unknown' });
        });
    });

    describe('HTTP details', () => {
        test('requests of a session can share one keep-alive connection', async (t) => {
            const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
            t.after(() => agent.destroy());
            const first = await request(server, { agent });
            assert.equal(first.status, 200);
            const sid = JSON.parse(first.text.slice(1)).sid;
            for (let i = 0; i < 5; i++) {
                const p = await request(server, { method: 'POST', path: eioPath({ sid }), body: `4ka${i}`, agent });
                assert.equal(p.status, 200);
                assert.equal(p.reusedSocket, true, 'POST reused the connection');
                const g = await request(server, { path: eioPath({ sid }), agent });
                assert.equal(g.status, 200);
                assert.equal(g.text, `4ka${i}`);
                assert.equal(g.reusedSocket, true, 'GET reused the connection');
            }
        });

        test('a request arriving in small pieces is understood', async () => {
            const r = await rawExchange(server,
                'GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
                { pieces: 30, gap: 10 });
            assert.match(r.text, /^HTTP\/1\.1 200 /);
            assert.match(r.text, /\r\n\r\n0\{"sid":"[A-Za-z0-9_-]{20}"/);
        });

        test('a chunked POST body is accepted', async () => {
            const { sid } = await handshake(server);
            const r = await rawExchange(server,
                `POST ${eioPath({ sid })} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n`
                + 'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\n4ab\r\n2\r\ncd\r\n0\r\n\r\n');
            assert.match(r.text, /^HTTP\/1\.1 200 /);
            assert.deepEqual((await pollMessages(server, sid, 1)).map((p) => p.raw), ['4abcd']);
        });

        test('query parameters in any order, with extra ones', async () => {
            const { sid } = await handshake(server, { query: { t: 'Pq1x-Z', b64: '1', foo: 'a b' } });
            const res = await request(server, {
                method: 'POST', body: '4order',
                path: `/engine.io/?sid=${sid}&t=abc%20d&transport=polling&foo=bar&EIO=4`,
            });
            assert.equal(res.status, 200);
            assert.deepEqual((await pollMessages(server, sid, 1)).map((p) => p.raw), ['4order']);
        });
    });

    describe('raw payloads', () => {
        test('a POST with 3 packets gets 3 echoes', async () => {
            const { sid } = await handshake(server);
            const res = await post(server, sid, '4one\x1e4two\x1e4three');
            assert.equal(res.status, 200);
            assert.equal(res.text, 'ok');
            const got = await pollMessages(server, sid, 3);
            assert.deepEqual(got.map((p) => p.raw), ['4one', '4two', '4three']);
        });

        test('the echoes come back in one payload', async () => {
            const { sid } = await handshake(server);
            assert.equal((await post(server, sid, '4a\x1e4b\x1e4c')).status, 200);
            const { res, packets } = await poll(server, sid);
            assert.equal(res.status, 200);
            assert.match(res.headers['content-type'] ?? '', /^text\/plain/i);
            assert.equal(res.text, '4a\x1e4b\x1e4c');
            assert.equal(packets.length, 3);
        });

        test('binary over polling is b<base64> both ways', async () => {
            const { sid } = await handshake(server);
            const bytes = Buffer.from(byteRamp(256));
            assert.equal((await post(server, sid, `b${bytes.toString('base64')}\x1e4text\x1ebAQID`)).status, 200);
            const got = await pollMessages(server, sid, 3);
            assert.deepEqual(got.map((p) => p.raw),
                [`b${bytes.toString('base64')}`, '4text', 'bAQID']);
            assert.deepEqual(got[0].data, bytes);
        });

        test('an empty text message round-trips', async () => {
            const { sid } = await handshake(server);
            assert.equal((await post(server, sid, '4\x1e4x\x1e4')).status, 200);
            const got = await pollMessages(server, sid, 3);
            assert.deepEqual(got.map((p) => p.raw), ['4', '4x', '4']);
        });

        test('utf-8 text round-trips unchanged', async () => {
            const { sid } = await handshake(server);
            const text = 'ünïcödé ✓ 😀 \u0000 end';
            assert.equal((await post(server, sid, `4${text}`)).status, 200);
            const [msg] = await pollMessages(server, sid, 1);
            assert.equal(msg.data, text);
        });

        test('a pending GET is answered as soon as a message arrives', async () => {
            const { sid } = await handshake(server);
            const pending = poll(server, sid, { timeout: 3000 });
            // Give the GET time to be parked on the server before the POST.
            await delay(100);
            const started = Date.now();
            assert.equal((await post(server, sid, '4wake up')).status, 200);
            const { res, packets } = await withTimeout(pending, 3000, 'pending GET');
            assert.equal(res.status, 200);
            assert.deepEqual(packets.map((p) => p.raw), ['4wake up']);
            assert.ok(Date.now() - started < 1000, 'answered promptly');
        });

        test('noop and pong packets from the client are accepted', async () => {
            const { sid } = await handshake(server);
            assert.equal((await post(server, sid, '6\x1e4after noop\x1e3')).status, 200);
            const got = await pollMessages(server, sid, 1);
            assert.deepEqual(got.map((p) => p.raw), ['4after noop']);
            assert.equal((await post(server, sid, '4still open')).status, 200);
            assert.deepEqual((await pollMessages(server, sid, 1)).map((p) => p.raw), ['4still open']);
        });

        test('large messages both ways', async () => {
            const { sid } = await handshake(server);
            const text = 'λ'.repeat(150_000); // 300 kB of UTF-8
            const bytes = Buffer.from(byteRamp(200_000));
            assert.equal((await post(server, sid, `4${text}`)).status, 200);
            assert.equal((await post(server, sid, `b${bytes.toString('base64')}`)).status, 200);
            const got = await pollMessages(server, sid, 2);
            assert.equal(got[0].data, text);
            assert.deepEqual(got[1].data, bytes);
        });

        test('a close packet from the client ends the session', async () => {
            const { sid } = await handshake(server);
            const res = await post(server, sid, '1');
            assert.equal(res.status, 200);
            const after = await poll(server, sid);
            assert.equal(after.res.status, 400);
            assert.deepEqual(errorBody(after.res), { code: 1, message: 'Session ID unknown' });
        });
    });
});
