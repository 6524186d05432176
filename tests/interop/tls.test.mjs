// HTTPS / WSS with a self-signed certificate made by the openssl command line tool.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from './lib/server.mjs';
import { connect, createSocket } from './lib/client.mjs';
import { handshake, post, pollMessages, openWebSocket, rawExchange } from './lib/raw.mjs';
import { byteRamp, toBuffer, waitEvent } from './lib/util.mjs';

function makeCertificate(dir) {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
        '-keyout', key, '-out', cert, '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    return { cert, key };
}

describe('tls', () => {
    let server;
    let dir;
    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), 'qsio-interop-tls-'));
        const { cert, key } = makeCertificate(dir);
        server = await startServer(['--tls-cert', cert, '--tls-key', key]);
    });
    after(async () => {
        try {
            await server?.close();
        } finally {
            if (dir) {
                rmSync(dir, { recursive: true, force: true });
            }
        }
    });

    test('server announces https', () => {
        assert.equal(server.secure, true);
        assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    });

    test('raw HTTPS handshake and polling echo', async () => {
        const { sid, open } = await handshake(server);
        assert.deepEqual(open.upgrades, ['websocket']);
        assert.equal((await post(server, sid, '4over tls\x1ebAQID')).status, 200);
        const got = await pollMessages(server, sid, 2);
        assert.deepEqual(got.map((p) => p.raw), ['4over tls', 'bAQID']);
    });

    test('engine.io-client: polling, then upgrade to wss, echo text + binary', async (t) => {
        const socket = createSocket(server);
        t.after(() => socket.close());
        const upgraded = waitEvent(socket, 'upgrade', 5000, { failOn: ['upgradeError', 'close'] });
        await waitEvent(socket, 'open', 5000, { failOn: ['error', 'close'] });
        assert.equal(socket.transport.name, 'polling');
        socket.send('before upgrade');
        socket.send(Buffer.from([9, 8, 7]));
        await upgraded;
        assert.equal(socket.transport.name, 'websocket');
        const bytes = byteRamp(5000);
        socket.send('after upgrade');
        socket.send(bytes);
        const [a, b, c, d] = await socket.inbox.take(4, 5000);
        assert.equal(a, 'before upgrade');
        assert.deepEqual(toBuffer(b), Buffer.from([9, 8, 7]));
        assert.equal(c, 'after upgrade');
        assert.deepEqual(toBuffer(d), Buffer.from(bytes));
    });

    test('engine.io-client: polling only over https', async (t) => {
        const socket = await connect(server, { transports: ['polling'] }, { t });
        socket.send('https text');
        socket.send(new Uint8Array([1, 2, 3, 255]));
        const [a, b] = await socket.inbox.take(2, 5000);
        assert.equal(a, 'https text');
        assert.deepEqual(toBuffer(b), Buffer.from([1, 2, 3, 255]));
    });

    test('engine.io-client: websocket only over wss', async (t) => {
        const socket = await connect(server, { transports: ['websocket'] }, { t });
        assert.equal(socket.transport.name, 'websocket');
        socket.send('wss text');
        socket.send(Buffer.from(byteRamp(70_000)));
        const [a, b] = await socket.inbox.take(2, 5000);
        assert.equal(a, 'wss text');
        assert.deepEqual(toBuffer(b), Buffer.from(byteRamp(70_000)));
    });

    test('raw wss frames', async (t) => {
        const { ws, inbox } = await openWebSocket(server);
        t.after(() => ws.terminate());
        assert.equal((await inbox.next(3000)).text[0], '0');
        ws.send('4raw wss');
        assert.equal((await inbox.next(3000)).text, '4raw wss');
    });

    test('plain HTTP and garbage on the TLS port do not hurt the server', async () => {
        await rawExchange(server, 'GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n');
        await rawExchange(server, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]));
        await rawExchange(server, Buffer.from([0x16, 0x03, 0x01]), { timeout: 500 });
        assert.ok(server.alive());
        await handshake(server);
    });

    test('certificate verification is real: a verifying client refuses the self-signed certificate', async (t) => {
        const socket = createSocket(server, { transports: ['websocket'], rejectUnauthorized: true });
        t.after(() => socket.close());
        await waitEvent(socket, 'close', 5000, { failOn: ['open'] });
    });
});
