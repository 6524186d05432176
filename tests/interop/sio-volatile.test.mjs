// Socket.IO volatile emits: `volatile` (data...) is answered with a volatile `volatile-back`
// (data...). As in Node, a volatile packet is sent only when the transport can take it at once
// (WebSocket: not backed up; polling: a GET is waiting and nothing is buffered) and is dropped
// otherwise. The socket.io-client tests therefore send one `volatile` at a time on a quiet
// connection (upgrade finished, the client's next GET already waiting at the server); the raw
// polling test checks the other side: with no GET waiting, the volatile answer is dropped while
// a normal one is kept for the next GET.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer } from './lib/server.mjs';
import {
    RawSio, SIO_PATH, TRANSPORT_SETUPS, TEST_TIMEOUT_MS, WAIT_MS, connectClient, emitAck, normalizeBinary,
    waitUpgraded,
} from './lib/sio.mjs';
import { byteRamp, delay } from './lib/util.mjs';

// Time for the client's next long-polling GET to reach the server after it got a response.
const SETTLE_MS = 100;

/** One plain HTTP request on the Socket.IO path, bounded; resolves with {status, text}. */
function request(server, method, query, body) {
    const path = `${SIO_PATH}?${new URLSearchParams({ EIO: '4', transport: 'polling', ...query })}`;
    return new Promise((resolve, reject) => {
        const headers = body === undefined ? {} : { 'Content-Type': 'text/plain;charset=UTF-8' };
        const req = http.request({ host: server.host, port: server.port, method, path, headers, agent: false }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
        });
        req.setTimeout(WAIT_MS, () => req.destroy(new Error(`timed out after ${WAIT_MS} ms: ${method} ${path}`)));
        req.on('error', reject);
        req.end(body);
    });
}

/**
 * A polling session driven one request at a time, so that the test decides when a GET is
 * waiting at the server. Joins "/" and takes the CONNECT answer and the `auth` event.
 */
async function manualPollingSession(server) {
    const open = await request(server, 'GET', {});
    assert.equal(open.status, 200);
    assert.equal(open.text[0], '0', `open packet: ${open.text}`);
    const { sid } = JSON.parse(open.text.slice(1));
    const session = {
        sid,
        async post(...packets) {
            const res = await request(server, 'POST', { sid }, packets.join('\x1e'));
            assert.equal(res.status, 200, `POST: ${res.text}`);
        },
        /** One GET; resolves with its Engine.IO packets. */
        async get() {
            const res = await request(server, 'GET', { sid });
            assert.equal(res.status, 200, `GET: ${res.text}`);
            return res.text === '' ? [] : res.text.split('\x1e');
        },
    };
    await session.post('40');
    const seen = [];
    while (!seen.some((p) => p.startsWith('42["auth"'))) {
        seen.push(...await session.get());
    }
    assert.match(seen[0], /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
    return session;
}

for (const setup of TRANSPORT_SETUPS) {
    describe(`Socket.IO volatile emits over ${setup.name}`, { timeout: TEST_TIMEOUT_MS }, () => {
        let server;
        before(async () => { server = await startServer(); });
        after(() => server?.close());

        /** A connected client on a quiet connection: `auth` received, upgrade done. */
        async function quietClient(t) {
            const socket = await connectClient(server, setup, { t });
            await socket.log.next('auth');
            await waitUpgraded(socket);
            await delay(SETTLE_MS);
            return socket;
        }

        test('volatile is answered with volatile-back on a writable connection', async (t) => {
            const socket = await quietClient(t);
            socket.emit('volatile', { n: 1, text: 'ü✓' });
            assert.deepEqual(await socket.log.next('volatile-back'), [{ n: 1, text: 'ü✓' }]);
        });

        test('one volatile at a time: every one is answered, in order, with its own data', async (t) => {
            const socket = await quietClient(t);
            const payloads = [['text'], [1, 2, 3], [null], [], [{ nested: { list: [true, false] } }], ['x'.repeat(5000)]];
            for (const args of payloads) {
                await delay(SETTLE_MS);
                socket.emit('volatile', ...args);
                assert.deepEqual(await socket.log.next('volatile-back'), args, JSON.stringify(args).slice(0, 60));
            }
            assert.equal(socket.log.count('volatile-back'), payloads.length);
            // The connection is fine afterwards.
            assert.deepEqual(await emitAck(socket, 'echo', ['after']), ['after']);
        });

        test('volatile-back with binary attachments', async (t) => {
            const socket = await quietClient(t);
            const args = [Buffer.from(byteRamp(300)), { inner: Buffer.from('inner'), list: [Buffer.alloc(0)] }];
            socket.emit('volatile', ...args);
            assert.deepEqual(normalizeBinary(await socket.log.next('volatile-back')), args);
        });

        test(`raw ${setup.raw} session: a volatile EVENT on the wire`, async (t) => {
            const raw = await RawSio.connected(server, setup.raw, { t });
            await delay(SETTLE_MS);
            await raw.send('2["volatile","raw",7]');
            assert.equal(await raw.next(), '2["volatile-back","raw",7]');
            await delay(SETTLE_MS);
            await raw.send('2["volatile"]');
            assert.equal(await raw.next(), '2["volatile-back"]');
        });
    });
}

describe('Socket.IO volatile emits over polling without a waiting GET', { timeout: TEST_TIMEOUT_MS }, () => {
    let server;
    before(async () => { server = await startServer(); });
    after(() => server?.close());

    test('the volatile answer is dropped, a normal emit waits for the next GET', async () => {
        const session = await manualPollingSession(server);
        // No GET is waiting now: the transport is not writable.
        await session.post('42["volatile","dropped"]', '42["message","kept"]');
        assert.deepEqual(await session.get(), ['42["message-back","kept"]']);
        // With a GET waiting, the volatile answer goes out.
        const polling = session.get();
        await delay(SETTLE_MS);
        await session.post('42["volatile","sent"]');
        assert.deepEqual(await polling, ['42["volatile-back","sent"]']);
    });
});
