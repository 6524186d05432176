// CORS and the Origin check (--cors-origin; without it only same-origin requests pass).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { eioPath, errorBody, handshake, post, request } from './lib/raw.mjs';

const ALLOWED = 'http://allowed.example';
const EVIL = 'http://evil.example';

function headerList(value) {
    return (value ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
}

function preflight(server, origin, { method = 'POST', headers = 'content-type, x-custom-header' } = {}) {
    return request(server, {
        method: 'OPTIONS',
        path: eioPath(),
        headers: {
            Origin: origin,
            'Access-Control-Request-Method': method,
            'Access-Control-Request-Headers': headers,
        },
    });
}

describe('--cors-origin http://allowed.example', () => {
    let server;
    before(async () => { server = await startServer(['--cors-origin', ALLOWED]); });
    after(() => server?.close());

    test('handshake from the allowed origin gets ACAO + credentials', async () => {
        const { res } = await handshake(server, { headers: { Origin: ALLOWED } });
        assert.equal(res.headers['access-control-allow-origin'], ALLOWED);
        assert.equal(res.headers['access-control-allow-credentials'], 'true');
    });

    test('GET and POST on a session from the allowed origin get the CORS headers', async () => {
        const { sid } = await handshake(server, { headers: { Origin: ALLOWED } });
        const p = await post(server, sid, '4cors', { headers: { Origin: ALLOWED } });
        assert.equal(p.status, 200);
        assert.equal(p.headers['access-control-allow-origin'], ALLOWED);
        assert.equal(p.headers['access-control-allow-credentials'], 'true');
        const g = await request(server, { path: eioPath({ sid }), headers: { Origin: ALLOWED } });
        assert.equal(g.status, 200);
        assert.equal(g.text, '4cors');
        assert.equal(g.headers['access-control-allow-origin'], ALLOWED);
        assert.equal(g.headers['access-control-allow-credentials'], 'true');
    });

    test('preflight from the allowed origin', async () => {
        const res = await preflight(server, ALLOWED);
        assert.equal(res.status, 204);
        assert.equal(res.headers['access-control-allow-origin'], ALLOWED);
        assert.equal(res.headers['access-control-allow-credentials'], 'true');
        const methods = headerList(res.headers['access-control-allow-methods']);
        assert.ok(methods.includes('get') && methods.includes('post'),
            `Access-Control-Allow-Methods: ${res.headers['access-control-allow-methods']}`);
        assert.deepEqual(headerList(res.headers['access-control-allow-headers']),
            ['content-type', 'x-custom-header'], 'Access-Control-Allow-Headers echoes the request');
        assert.equal(res.text, '', 'no body');
    });

    test('error answers to the allowed origin carry ACAO too (so the page can read them)', async () => {
        const res = await request(server, { path: eioPath({ sid: 'AAAAAAAAAAAAAAAAAAAA' }), headers: { Origin: ALLOWED } });
        assert.equal(res.status, 400);
        assert.deepEqual(errorBody(res), { code: 1, message: 'Session ID unknown' });
        assert.equal(res.headers['access-control-allow-origin'], ALLOWED);
    });

    test('a refused origin gets 403 and no ACAO', async () => {
        const res = await request(server, { headers: { Origin: EVIL } });
        assert.equal(res.status, 403);
        assert.deepEqual(errorBody(res), { code: 4, message: 'Forbidden' });
        assert.equal(res.headers['access-control-allow-origin'], undefined);
    });

    test('a preflight from a refused origin does not allow it', async () => {
        const res = await preflight(server, EVIL);
        const acao = res.headers['access-control-allow-origin'];
        assert.ok(acao === undefined, `ACAO ${acao} for a refused origin`);
    });

    test('a request without Origin (not a browser) is allowed', async () => {
        const { res } = await handshake(server);
        assert.equal(res.status, 200);
    });
});

describe('--cors-origin with several origins', () => {
    test('each listed origin is allowed, others refused', async (t) => {
        const other = 'https://second.example:8443';
        const server = await startServer(['--cors-origin', ALLOWED, '--cors-origin', other], { t });
        for (const origin of [ALLOWED, other]) {
            const { res } = await handshake(server, { headers: { Origin: origin } });
            assert.equal(res.headers['access-control-allow-origin'], origin);
        }
        const res = await request(server, { headers: { Origin: EVIL } });
        assert.equal(res.status, 403);
    });
});

describe("--cors-origin '*'", () => {
    let server;
    before(async () => { server = await startServer(['--cors-origin', '*']); });
    after(() => server?.close());

    test('any origin is allowed', async () => {
        for (const origin of [EVIL, 'https://anything.example:1234', 'null']) {
            const { res } = await handshake(server, { headers: { Origin: origin } });
            const acao = res.headers['access-control-allow-origin'];
            assert.ok(acao === '*' || acao === origin, `ACAO ${acao} for ${origin}`);
        }
    });

    test('preflight from any origin', async () => {
        const res = await preflight(server, EVIL, { method: 'GET', headers: 'x-one' });
        assert.equal(res.status, 204);
        const acao = res.headers['access-control-allow-origin'];
        assert.ok(acao === '*' || acao === EVIL, `ACAO ${acao}`);
        const methods = headerList(res.headers['access-control-allow-methods']);
        assert.ok(methods.includes('get') && methods.includes('post'));
        assert.deepEqual(headerList(res.headers['access-control-allow-headers']), ['x-one']);
    });
});

describe('--no-cors-credentials', () => {
    test('no Access-Control-Allow-Credentials', async (t) => {
        const server = await startServer(['--cors-origin', ALLOWED, '--no-cors-credentials'], { t });
        const { res } = await handshake(server, { headers: { Origin: ALLOWED } });
        assert.equal(res.headers['access-control-allow-origin'], ALLOWED);
        assert.equal(res.headers['access-control-allow-credentials'], undefined);
        const pre = await preflight(server, ALLOWED);
        assert.equal(pre.status, 204);
        assert.equal(pre.headers['access-control-allow-credentials'], undefined);
    });
});

describe('no --cors-origin: same origin only', () => {
    let server;
    before(async () => { server = await startServer(); });
    after(() => server?.close());

    test('the server\'s own origin is allowed', async () => {
        const { res } = await handshake(server, { headers: { Origin: server.origin } });
        assert.equal(res.status, 200);
    });

    test('another origin is refused with 403', async () => {
        for (const origin of [EVIL, `http://127.0.0.1:${server.port + 1}`, `https://127.0.0.1:${server.port}`]) {
            const res = await request(server, { headers: { Origin: origin } });
            assert.equal(res.status, 403, `Origin ${origin}`);
            assert.deepEqual(errorBody(res), { code: 4, message: 'Forbidden' });
            assert.equal(res.headers['access-control-allow-origin'], undefined);
        }
    });

    test('a request without Origin is allowed', async () => {
        const { res } = await handshake(server);
        assert.equal(res.status, 200);
    });
});
