// The Engine.IO v4 open packet: 0{"sid","upgrades","pingInterval","pingTimeout","maxPayload"}.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { handshake, openWebSocket, request, eioPath } from './lib/raw.mjs';
import { connect } from './lib/client.mjs';

const SID_RE = /^[A-Za-z0-9_-]{20}$/;
const FLAGS = ['--ping-interval', '1234', '--ping-timeout', '567', '--max-payload', '4321'];
const OPEN_FIELDS = ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades'];

describe('handshake', () => {
    let server;
    before(async () => { server = await startServer(FLAGS); });
    after(() => server?.close());

    test('polling open packet carries the configured values', async () => {
        const { open, res } = await handshake(server);
        assert.match(res.headers['content-type'] ?? '', /^text\/plain/i,
            'polling responses are text/plain');
        assert.equal(res.text.includes('\x1e'), false, 'the handshake answer is the open packet alone');
        assert.deepEqual(Object.keys(open).sort(), OPEN_FIELDS);
        assert.match(open.sid, SID_RE);
        assert.deepEqual(open.upgrades, ['websocket']);
        assert.equal(open.pingInterval, 1234);
        assert.equal(open.pingTimeout, 567);
        assert.equal(open.maxPayload, 4321);
    });

    test('every handshake gets a new sid', async () => {
        const sids = new Set();
        for (let i = 0; i < 10; i++) {
            const { sid } = await handshake(server);
            assert.match(sid, SID_RE);
            sids.add(sid);
        }
        assert.equal(sids.size, 10);
    });

    test('WebSocket open packet has no upgrades', async (t) => {
        const { ws, inbox } = await openWebSocket(server);
        t.after(() => ws.terminate());
        const first = await inbox.next(3000, 'open packet over WebSocket');
        assert.equal(first.isBinary, false);
        assert.equal(first.text[0], '0', `first frame is the open packet: ${first.text}`);
        const open = JSON.parse(first.text.slice(1));
        assert.deepEqual(Object.keys(open).sort(), OPEN_FIELDS);
        assert.match(open.sid, SID_RE);
        assert.deepEqual(open.upgrades, []);
        assert.equal(open.pingInterval, 1234);
        assert.equal(open.pingTimeout, 567);
        assert.equal(open.maxPayload, 4321);
    });

    test('engine.io-client sees the same values (polling)', async (t) => {
        const socket = await connect(server, { transports: ['polling'] }, { t });
        const data = socket.handshakeData;
        assert.ok(data, 'handshake event received');
        assert.match(data.sid, SID_RE);
        assert.equal(socket.id, data.sid);
        assert.deepEqual(data.upgrades, ['websocket']);
        assert.equal(data.pingInterval, 1234);
        assert.equal(data.pingTimeout, 567);
        assert.equal(data.maxPayload, 4321);
        assert.equal(socket.transport.name, 'polling');
    });

    test('engine.io-client sees the same values (websocket)', async (t) => {
        const socket = await connect(server, { transports: ['websocket'] }, { t });
        const data = socket.handshakeData;
        assert.match(data.sid, SID_RE);
        assert.deepEqual(data.upgrades, []);
        assert.equal(data.pingInterval, 1234);
        assert.equal(data.pingTimeout, 567);
        assert.equal(data.maxPayload, 4321);
        assert.equal(socket.transport.name, 'websocket');
    });
});

describe('handshake cookie', () => {
    test('no Set-Cookie without --cookie', async (t) => {
        const server = await startServer([], { t });
        const { res } = await handshake(server);
        assert.equal(res.headers['set-cookie'], undefined);
    });

    test('--cookie io: the sid is set as cookie on the polling handshake', async (t) => {
        const server = await startServer(['--cookie', 'io'], { t });
        const { sid, res } = await handshake(server);
        const cookies = res.headers['set-cookie'] ?? [];
        assert.equal(cookies.length, 1, `Set-Cookie: ${JSON.stringify(cookies)}`);
        const [pair, ...attributes] = cookies[0].split(';').map((s) => s.trim());
        assert.equal(pair, `io=${sid}`);
        assert.ok(attributes.some((a) => a.toLowerCase() === 'path=/'), `attributes ${attributes}`);
        assert.ok(attributes.some((a) => a.toLowerCase() === 'httponly'), `attributes ${attributes}`);
    });
});

describe('handshake with restricted transports', () => {
    test('--no-upgrades: polling open packet has no upgrades', async (t) => {
        const server = await startServer(['--no-upgrades'], { t });
        const { open } = await handshake(server);
        assert.deepEqual(open.upgrades, []);
    });

    test('--transports polling: no upgrades, WebSocket transport unknown', async (t) => {
        const server = await startServer(['--transports', 'polling'], { t });
        const { open } = await handshake(server);
        assert.deepEqual(open.upgrades, []);
        const res = await request(server, { path: eioPath({ transport: 'websocket' }) });
        assert.equal(res.status, 400);
        assert.deepEqual(JSON.parse(res.text), { code: 0, message: 'Transport unknown' });
    });

    test('--transports websocket: polling is an unknown transport', async (t) => {
        const server = await startServer(['--transports', 'websocket'], { t });
        const res = await request(server);
        assert.equal(res.status, 400);
        assert.deepEqual(JSON.parse(res.text), { code: 0, message: 'Transport unknown' });
        const socket = await connect(server, { transports: ['websocket'] }, { t });
        assert.deepEqual(socket.handshakeData.upgrades, []);
    });
});
