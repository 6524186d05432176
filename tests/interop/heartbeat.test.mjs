// Heartbeat (Engine.IO v4: the server pings every pingInterval, the client must pong within
// pingTimeout). The server runs with --ping-interval 300 --ping-timeout 200.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { connect } from './lib/client.mjs';
import { handshake, openWebSocket, poll, post, errorBody } from './lib/raw.mjs';
import { delay } from './lib/util.mjs';

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
const STAY_UP_MS = 2200;
// How far from pingInterval + pingTimeout the close of a silent client may be.
const EARLY_SLACK = 100;
const LATE_SLACK = 1000;

describe('heartbeat', { concurrency: true }, () => {
    let server;
    before(async () => {
        server = await startServer(['--ping-interval', String(PING_INTERVAL),
                                    '--ping-timeout', String(PING_TIMEOUT)]);
    });
    after(() => server?.close());

    for (const transports of [['polling'], ['websocket'], ['polling', 'websocket']]) {
        test(`engine.io-client (${transports.join('+')}) stays connected for ${STAY_UP_MS} ms`, async (t) => {
            const socket = await connect(server, { transports }, { t });
            assert.equal(socket.handshakeData.pingInterval, PING_INTERVAL);
            assert.equal(socket.handshakeData.pingTimeout, PING_TIMEOUT);
            let pings = 0;
            socket.on('ping', () => { pings++; });
            await delay(STAY_UP_MS);
            assert.deepEqual(socket.closeEvents, [], 'no close while the client answers pings');
            assert.equal(socket.readyState, 'open');
            assert.ok(pings >= 4, `server pinged regularly (${pings} pings in ${STAY_UP_MS} ms)`);
            socket.send('still alive');
            assert.equal(await socket.inbox.next(2000), 'still alive');
        });
    }

    test('raw polling client that answers pings stays connected', async () => {
        const { sid } = await handshake(server);
        const end = Date.now() + 1500;
        let pings = 0;
        while (Date.now() < end) {
            const { res, packets } = await poll(server, sid, { timeout: 2000 });
            assert.equal(res.status, 200, `poll answered ${res.status} ${res.text}`);
            if (packets.some((p) => p.raw === '2')) {
                pings++;
                assert.equal((await post(server, sid, '3')).status, 200);
            }
        }
        assert.ok(pings >= 2, `got ${pings} pings`);
        assert.equal((await post(server, sid, '4alive')).status, 200);
    });

    test('raw polling client that never answers pings is closed', async () => {
        const { sid } = await handshake(server);
        const start = Date.now();
        let firstPingAt = null;
        let closedAt = null;
        let how = '';
        while (closedAt === null && Date.now() - start < 4000) {
            let res;
            let packets;
            try {
                ({ res, packets } = await poll(server, sid, { timeout: 3000 }));
            } catch (err) {
                closedAt = Date.now();
                how = `request failed: ${err.message}`;
                break;
            }
            if (res.status !== 200) {
                closedAt = Date.now();
                how = `HTTP ${res.status} ${res.text}`;
            } else if (packets.some((p) => p.raw === '1')) {
                closedAt = Date.now();
                how = 'close packet';
            } else if (firstPingAt === null && packets.some((p) => p.raw === '2')) {
                firstPingAt = Date.now();
            }
        }
        assert.ok(firstPingAt !== null, 'server sent a ping before closing');
        assert.ok(firstPingAt - start >= PING_INTERVAL - EARLY_SLACK
                  && firstPingAt - start <= PING_INTERVAL + LATE_SLACK,
        `first ping after ${firstPingAt - start} ms (pingInterval ${PING_INTERVAL})`);
        assert.ok(closedAt !== null, 'session closed within 4 s');
        const elapsed = closedAt - start;
        assert.ok(elapsed >= PING_INTERVAL + PING_TIMEOUT - EARLY_SLACK
                  && elapsed <= PING_INTERVAL + PING_TIMEOUT + LATE_SLACK,
        `closed after ${elapsed} ms (${how}); expected about ${PING_INTERVAL + PING_TIMEOUT}`);

        const { res } = await poll(server, sid, { timeout: 2000 });
        assert.equal(res.status, 400);
        assert.deepEqual(errorBody(res), { code: 1, message: 'Session ID unknown' });
    });

    test('raw polling client that never polls is closed too', async () => {
        const { sid } = await handshake(server);
        await delay(PING_INTERVAL + PING_TIMEOUT + LATE_SLACK);
        const { res } = await poll(server, sid, { timeout: 2000 });
        assert.equal(res.status, 400);
        assert.deepEqual(errorBody(res), { code: 1, message: 'Session ID unknown' });
    });

    test('raw WebSocket client that never answers pings is closed', async (t) => {
        const { ws, inbox } = await openWebSocket(server);
        t.after(() => ws.terminate());
        const open = await inbox.next(2000, 'open packet');
        const start = Date.now();
        assert.equal(open.text[0], '0');
        const ping = await inbox.next(PING_INTERVAL + LATE_SLACK, 'ping');
        assert.equal(ping.text, '2');
        let timer;
        const closed = await Promise.race([
            ws.closed,
            new Promise((r) => { timer = setTimeout(() => r(null), 4000); }),
        ]);
        clearTimeout(timer);
        assert.ok(closed, 'server closed the WebSocket');
        const elapsed = closed.at - start;
        assert.ok(elapsed >= PING_INTERVAL + PING_TIMEOUT - EARLY_SLACK
                  && elapsed <= PING_INTERVAL + PING_TIMEOUT + LATE_SLACK,
        `closed after ${elapsed} ms; expected about ${PING_INTERVAL + PING_TIMEOUT}`);
    });

    test('raw WebSocket client that answers pings stays connected', async (t) => {
        const { ws, inbox } = await openWebSocket(server);
        t.after(() => ws.terminate());
        await inbox.next(2000, 'open packet');
        let pings = 0;
        const end = Date.now() + 1500;
        while (Date.now() < end) {
            const frame = await inbox.next(PING_INTERVAL + LATE_SLACK, 'ping');
            assert.equal(frame.text, '2');
            pings++;
            ws.send('3');
        }
        assert.ok(pings >= 3, `got ${pings} pings`);
        ws.send('4alive');
        // Skip a ping that may come first.
        let frame = await inbox.next(2000, 'echo');
        if (frame.text === '2') {
            frame = await inbox.next(2000, 'echo');
        }
        assert.equal(frame.text, '4alive');
    });
});
