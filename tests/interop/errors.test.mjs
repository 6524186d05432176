// Engine.IO error answers, checked with raw HTTP requests:
//   400 {"code":0,"message":"Transport unknown"}
//   400 {"code":1,"message":"Session ID unknown"}
//   400 {"code":2,"message":"Bad handshake method"}
//   400 {"code":3,"message":"Bad request"}
//   403 {"code":4,"message":"Forbidden"}
//   400 {"code":5,"message":"Unsupported protocol version"}

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { connect } from './lib/client.mjs';
import {
    eioPath, errorBody, handshake, poll, post, request, tryWebSocketUpgrade, openWebSocket,
    pollMessages, rawExchange,
} from './lib/raw.mjs';
import { delay, withTimeout } from './lib/util.mjs';

const ERR = {
    UNKNOWN_TRANSPORT: { code: 0, message: 'Transport unknown' },
    UNKNOWN_SID: { code: 1, message: 'Session ID unknown' },
    BAD_HANDSHAKE_METHOD: { code: 2, message: 'Bad handshake method' },
    BAD_REQUEST: { code: 3, message: 'Bad request' },
    FORBIDDEN: { code: 4, message: 'Forbidden' },
    UNSUPPORTED_PROTOCOL_VERSION: { code: 5, message: 'Unsupported protocol version' },
};
const UNKNOWN_SID = 'AAAAAAAAAAAAAAAAAAAA';

function assertError(res, status, expected, what) {
    assert.equal(res.status, status, `${what}: HTTP status (body ${JSON.stringify(res.text)})`);
    assert.match(res.headers['content-type'] ?? '', /^application\/json/i, `${what}: content type`);
    assert.deepEqual(errorBody(res), expected, `${what}: body`);
}

async function assertSessionGone(server, sid, what) {
    let res;
    try {
        ({ res } = await poll(server, sid, { timeout: 2000 }));
    } catch (err) {
        assert.fail(`${what}: the session is still open (a GET on it was parked: ${err.message})`);
    }
    assertError(res, 400, ERR.UNKNOWN_SID, `${what}: session is gone afterwards`);
}

describe('errors', () => {
    let server;
    before(async () => { server = await startServer(); });
    after(() => server?.close());

    describe('HTTP', () => {
        test('unknown transport', async () => {
            assertError(await request(server, { path: eioPath({ transport: 'carrier-pigeon' }) }),
                400, ERR.UNKNOWN_TRANSPORT, 'transport=carrier-pigeon');
            assertError(await request(server, { path: eioPath({ transport: undefined }) }),
                400, ERR.UNKNOWN_TRANSPORT, 'no transport');
            assertError(await request(server, { path: eioPath({ transport: 'webtransport' }) }),
                400, ERR.UNKNOWN_TRANSPORT, 'transport=webtransport');
        });

        test('unknown sid', async () => {
            assertError(await request(server, { path: eioPath({ sid: UNKNOWN_SID }) }),
                400, ERR.UNKNOWN_SID, 'GET with unknown sid');
            assertError(await request(server, { method: 'POST', path: eioPath({ sid: UNKNOWN_SID }), body: '4x' }),
                400, ERR.UNKNOWN_SID, 'POST with unknown sid');
        });

        test('handshake with POST', async () => {
            assertError(await request(server, { method: 'POST', path: eioPath(), body: '4x' }),
                400, ERR.BAD_HANDSHAKE_METHOD, 'POST without sid');
        });

        test('WebSocket transport without upgrade and without sid', async () => {
            assertError(await request(server, { path: eioPath({ transport: 'websocket' }) }),
                400, ERR.BAD_REQUEST, 'GET transport=websocket without Upgrade');
        });

        test('transport mismatch for an existing session', async () => {
            const { sid } = await handshake(server);
            assertError(await request(server, { path: eioPath({ transport: 'websocket', sid }) }),
                400, ERR.BAD_REQUEST, 'GET transport=websocket without Upgrade on a polling session');
        });

        test('unsupported protocol version', async () => {
            assertError(await request(server, { path: eioPath({ EIO: '3' }) }),
                400, ERR.UNSUPPORTED_PROTOCOL_VERSION, 'EIO=3');
            assertError(await request(server, { path: eioPath({ EIO: undefined }) }),
                400, ERR.UNSUPPORTED_PROTOCOL_VERSION, 'no EIO');
        });

        test('a malformed POST body closes the session', async () => {
            const { sid } = await handshake(server);
            const res = await post(server, sid, 'xyz not a packet');
            // engine.io answers 200 "ok" and closes the session; a 400 Bad request is fine too.
            if (res.status !== 200) {
                assertError(res, 400, ERR.BAD_REQUEST, 'malformed POST body');
            } else {
                assert.equal(res.text, 'ok');
            }
            await assertSessionGone(server, sid, 'malformed POST body');
        });

        test('a malformed packet after valid ones closes the session', async () => {
            const { sid } = await handshake(server);
            const res = await post(server, sid, '4fine\x1e\x1e4also fine');
            assert.ok(res.status === 200 || res.status === 400, `status ${res.status}`);
            await assertSessionGone(server, sid, 'empty packet in a payload');
        });

        test('an empty POST body closes the session', async () => {
            const { sid } = await handshake(server);
            const res = await post(server, sid, '');
            assert.ok(res.status === 200 || res.status === 400, `status ${res.status}`);
            await assertSessionGone(server, sid, 'empty POST body');
        });

        test('a second concurrent GET closes the session', async () => {
            const { sid } = await handshake(server);
            const first = poll(server, sid, { timeout: 3000 }).then(
                (r) => r, (err) => ({ err }));
            await delay(100);
            const { res } = await poll(server, sid, { timeout: 3000 });
            assert.equal(res.status, 400, `second GET: HTTP ${res.status} ${JSON.stringify(res.text)}`);
            // engine.io answers the overlapping GET with an empty 400; a JSON "Bad request" is
            // accepted as well.
            if (res.text !== '') {
                assert.deepEqual(errorBody(res), ERR.BAD_REQUEST);
            }
            // The parked GET is released (engine.io sends it the close packet).
            const firstResult = await withTimeout(first, 3000, 'first GET released');
            if (firstResult.res?.status === 200) {
                assert.ok(firstResult.packets.every((p) => p.type === '1' || p.type === '6'),
                    `first GET got ${JSON.stringify(firstResult.res.text)}`);
            }
            await assertSessionGone(server, sid, 'overlapping GET');
        });

        test('a POST with a close packet and more data closes the session', async () => {
            const { sid } = await handshake(server);
            assert.equal((await post(server, sid, '4bye\x1e1')).status, 200);
            await assertSessionGone(server, sid, 'close packet');
        });
    });

    describe('protocol violations close the session', () => {
        test('a ping from the client (wrong heartbeat direction in v4)', async () => {
            const { sid } = await handshake(server);
            const res = await post(server, sid, '2');
            assert.ok(res.status === 200 || res.status === 400, `status ${res.status}`);
            await assertSessionGone(server, sid, 'client ping');
        });

        test('a second concurrent POST', async () => {
            const { sid } = await handshake(server);
            // The first POST announces a 100-byte body and sends none of it: it stays open on
            // the server while the second one comes.
            const first = request(server, {
                method: 'POST', path: eioPath({ sid }), contentLength: 100, writeBody: false, timeout: 3000,
            }).catch((err) => ({ err }));
            await delay(100);
            const second = await post(server, sid, '4second');
            assert.equal(second.status, 400, `second POST: HTTP ${second.status} ${JSON.stringify(second.text)}`);
            if (second.text !== '') {
                assert.deepEqual(errorBody(second), ERR.BAD_REQUEST);
            }
            await assertSessionGone(server, sid, 'overlapping POST');
            await first;
        });

        test('aborting a parked GET', async () => {
            const { sid } = await handshake(server);
            // engine.io treats a poll whose connection is closed before the answer as a
            // transport error.
            await request(server, { path: eioPath({ sid }), timeout: 200 }).catch(() => {});
            await delay(200);
            await assertSessionGone(server, sid, 'aborted GET');
        });
    });

    describe('garbage on the wire', () => {
        test('non-HTTP bytes, truncated requests and odd methods do not hurt the server', async () => {
            const send = (bytes) => rawExchange(server, bytes, { timeout: 1000 });
            await send(Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 13, 10, 13, 10]));
            await send('GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n');
            await send('POST /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n');
            await send('GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
            await send(`${'A'.repeat(100_000)}\r\n\r\n`);
            const put = await request(server, { method: 'PUT', path: eioPath(), body: 'x' });
            assert.ok(put.status >= 400, `PUT answered ${put.status}`);
            const del = await request(server, { method: 'DELETE', path: eioPath({ sid: (await handshake(server)).sid }) });
            assert.ok(del.status >= 400, `DELETE answered ${del.status}`);
            assert.ok(server.alive());
            await handshake(server);
        });
    });

    describe('WebSocket upgrade', () => {
        test('unknown sid is answered with an HTTP error', async () => {
            const r = await tryWebSocketUpgrade(server, { sid: UNKNOWN_SID });
            assert.equal(r.upgraded, false, 'upgrade refused');
            assert.equal(r.status, 400);
            // engine.io sends the plain message; a JSON error body is accepted as well
            assert.match(r.text, /Session ID unknown/);
        });

        test('unknown transport is answered with an HTTP error', async () => {
            const r = await tryWebSocketUpgrade(server, { transport: 'carrier-pigeon' });
            assert.equal(r.upgraded, false, 'upgrade refused');
            assert.equal(r.status, 400);
            assert.match(r.text, /Transport unknown/);
        });

        test('unsupported protocol version is refused', async () => {
            // engine.io completes the upgrade and then kills the connection without an open
            // packet; an HTTP 400 before the upgrade is fine too. What must not happen is a
            // session: no open packet may arrive.
            let opened;
            try {
                opened = await openWebSocket(server, { EIO: '3' }, { timeout: 3000 });
            } catch (err) {
                const m = /HTTP (\d+)/.exec(err.message);
                if (m) {
                    assert.equal(Number(m[1]), 400);
                }
                return;
            }
            const { ws, inbox } = opened;
            const closed = await withTimeout(ws.closed, 3000, 'EIO=3 WebSocket closed by the server')
                .finally(() => ws.terminate());
            assert.ok(closed);
            assert.ok(inbox.items.every((f) => f.isBinary || f.text[0] !== '0'),
                `no open packet: ${JSON.stringify(inbox.items.map((f) => f.text))}`);
        });
    });

    test('the server is still alive and serving after all of that', async (t) => {
        assert.ok(server.alive(), `server exited: ${JSON.stringify(server.exitInfo())}`);
        const socket = await connect(server, {}, { t });
        socket.send('alive');
        assert.equal(await socket.inbox.next(3000), 'alive');
        const { sid } = await handshake(server);
        assert.equal((await post(server, sid, '4raw alive')).status, 200);
        assert.deepEqual((await pollMessages(server, sid, 1)).map((p) => p.raw), ['4raw alive']);
        const { ws, inbox } = await openWebSocket(server);
        t.after(() => ws.terminate());
        assert.equal((await inbox.next(3000)).text[0], '0');
    });
});

describe('forbidden origin (--cors-origin http://allowed.example)', () => {
    let server;
    before(async () => { server = await startServer(['--cors-origin', 'http://allowed.example']); });
    after(() => server?.close());

    test('polling handshake from a refused origin gets 403', async () => {
        const res = await request(server, { headers: { Origin: 'http://evil.example' } });
        assertError(res, 403, ERR.FORBIDDEN, 'refused Origin');
    });

    test('polling handshake from the allowed origin works', async () => {
        const { open } = await handshake(server, { headers: { Origin: 'http://allowed.example' } });
        assert.match(open.sid, /^[A-Za-z0-9_-]{20}$/);
    });

    test('WebSocket handshake from a refused origin is answered with an HTTP error', async () => {
        const r = await tryWebSocketUpgrade(server, {}, { headers: { Origin: 'http://evil.example' } });
        assert.equal(r.upgraded, false, 'upgrade refused');
        // engine.io answers every refused upgrade with 400 and the plain message; 403 and/or
        // a JSON body are accepted as well.
        assert.ok(r.status === 400 || r.status === 403, `HTTP ${r.status}`);
        assert.match(r.text, /Forbidden/);
    });

    test('WebSocket handshake from the allowed origin works', async (t) => {
        const { ws, inbox } = await openWebSocket(server, {}, { headers: { Origin: 'http://allowed.example' } });
        t.after(() => ws.terminate());
        assert.equal((await inbox.next(3000)).text[0], '0');
    });

    test('server still alive', async () => {
        assert.ok(server.alive());
        await handshake(server);
    });
});
