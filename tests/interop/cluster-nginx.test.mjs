// Sticky sessions behind nginx: two interop servers in one Redis cluster (--redis, distinct
// --server-id) behind nginx configured by examples/nginx/nginx.conf (lib/nginx.mjs), driven by
// socket.io-client over HTTP long-polling.
//
// A polling session is a stream of separate HTTP requests that must all reach the server
// holding the session. The example pins clients with `hash $remote_addr consistent`, so the
// clients here need distinct source addresses: each gets its own http.Agent with
// `localAddress: '127.0.0.X'`. engine.io-client passes `agent` to its Node XMLHttpRequest
// (xmlhttprequest-ssl, into http.request()) for polling and to `ws` for WebSocket, and Node's
// Agent applies its own `localAddress` to every connection it opens; nginx's access log (kept
// here, unlike the other test-only settings) shows each client's 127.0.0.X as $remote_addr.
//
// The access log is also the witness of stickiness: for every session id, every request went to
// one upstream and none was answered 400 ("Session ID unknown").
//
// (a) eight or more polling clients spread over both servers keep their sessions through a
//     sustained exchange (acked round trips, server-initiated events and acks, pings);
// (b) a room broadcast from a client on one server reaches the room's clients on the other
//     server through Redis, all on polling through nginx;
// (c) default clients (polling, then WebSocket) upgrade through nginx and keep working;
// (d) negative control: the same polling clients through nginx without stickiness (round robin)
//     fail, so this file can fail;
// (e) the example's Host / X-Forwarded-* headers keep the server's default same-origin CORS
//     check working for a page served through nginx (polling and WebSocket).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { startServer } from './lib/server.mjs';
import { startRedis, waitSubscribers } from './lib/redis.mjs';
import { nginxBinary, startNginx } from './lib/nginx.mjs';
import { emitAck, waitConnected, waitUpgraded } from './lib/sio.mjs';
import { delay, waitEvent, withTimeout } from './lib/util.mjs';

const WAIT_MS = 5_000;
const TEST_TIMEOUT_MS = 15_000;
// A short ping interval, so that held long-polls are answered with pings (and pongs are POSTed)
// through nginx several times during a scenario. The long ping timeout keeps the servers' idle
// timeout for kept-alive connections (pingInterval + pingTimeout) above the example's upstream
// keepalive_timeout (30 s), as the example requires: nginx closes an idle upstream connection
// before the server would.
const SERVER_FLAGS = ['--ping-interval', '300', '--ping-timeout', '40000'];
const ROUND_TRIPS = 20;

const skip = nginxBinary() ? false : 'no nginx (Debian package nginx or nginx-light; or set $NGINX)';

// Source addresses 127.0.0.X handed out once each, so that clients of different scenarios never
// share an address (nor an entry in nginx's per-address hash).
let nextOctet = 10;
const nextAddress = () => `127.0.0.${nextOctet++}`;

/**
 * One socket.io-client socket through nginx from its own source address, with its own Manager
 * (no reconnection) and a record of every trouble: `troubles` lists each 'connect_error',
 * 'disconnect' (before close()), Manager 'error' and 'reconnect_attempt'.
 */
function createClient(url, { transports, address = nextAddress() } = {}) {
    const agent = new http.Agent({ localAddress: address, keepAlive: true });
    const options = { path: '/socket.io/', agent, reconnection: false, forceNew: true, timeout: WAIT_MS };
    if (transports) {
        options.transports = transports;
    }
    const socket = io(url, options);
    const client = { socket, agent, address, troubles: [], pings: 0, closed: false };
    socket.on('connect_error', (err) => client.troubles.push(`connect_error: ${err.message}`));
    socket.on('disconnect', (reason, details) => {
        if (!client.closed) {
            const why = details?.description?.message ?? details?.message;
            client.troubles.push(`disconnect: ${reason}${why ? ` (${why})` : ''}`);
        }
    });
    socket.io.on('error', (err) => client.troubles.push(`manager error: ${err.message}`));
    socket.io.on('reconnect_attempt', () => client.troubles.push('reconnect_attempt'));
    socket.io.on('ping', () => { client.pings++; });
    client.close = () => {
        client.closed = true;
        socket.disconnect();
        socket.io.engine?.close();
        agent.destroy();
    };
    return client;
}

async function connectClients(url, n, { transports, t }) {
    const clients = Array.from({ length: n }, () => createClient(url, { transports }));
    t.after(() => clients.forEach((c) => c.close()));
    await Promise.all(clients.map((c) => waitConnected(c.socket, WAIT_MS)));
    return clients;
}

async function serverIdOf(client) {
    const [id] = await emitAck(client.socket, 'server-id', [], WAIT_MS);
    return id;
}

/** nginx access log lines (the example's "upstream" format) as {client, upstream, method, url, sid, status}. */
function parseAccessLog(text) {
    const re = /^(\S+) -> (.+?) \[[^\]]*\] "(\S+) (\S+)[^"]*" (\d{3}) /;
    return text.split('\n').filter((l) => l).map((line) => {
        const m = re.exec(line);
        assert.ok(m, `unexpected access log line: ${line}`);
        const url = new URL(m[4], 'http://x');
        return { client: m[1], upstream: m[2], method: m[3], url: m[4], transport: url.searchParams.get('transport'),
            sid: url.searchParams.get('sid'), status: Number(m[5]), line };
    });
}

/**
 * Checks the access log for the sessions of `clients`: every request of a session (its sid)
 * came from the client's address, went to one upstream and was not answered 400; the
 * handshake of that address went there too. Returns the upstream of each client.
 */
function assertSticky(nginx, clients) {
    const entries = parseAccessLog(nginx.accessLog());
    const upstreams = [];
    for (const c of clients) {
        const sid = c.sid;
        assert.ok(sid, `client ${c.address} has a session id`);
        const mine = entries.filter((e) => e.sid === sid);
        assert.ok(mine.length >= 3, `several requests of session ${sid} in the access log (${mine.length})`);
        for (const e of mine) {
            assert.equal(e.client, c.address, `request from the client's own source address: ${e.line}`);
            assert.notEqual(e.status, 400, `no 400 (Session ID unknown): ${e.line}`);
        }
        const used = new Set(mine.map((e) => e.upstream));
        assert.equal(used.size, 1, `every request of session ${sid} (${c.address}) went to one upstream: `
                     + `${[...used].join(' | ')}`);
        const handshakes = entries.filter((e) => e.client === c.address && !e.sid && e.transport === 'polling');
        assert.ok(handshakes.length >= 1, `the handshake of ${c.address} is in the access log`);
        assert.deepEqual(new Set(handshakes.map((e) => e.upstream)), used, `handshake of ${c.address} went there too`);
        upstreams.push([...used][0]);
    }
    return upstreams;
}

/**
 * Opens an Engine.IO polling session by hand through nginx (optionally with an Origin header);
 * resolves with {status, body, sid}.
 */
async function rawHandshake(url, headers = {}) {
    const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`,
        { headers, signal: AbortSignal.timeout(WAIT_MS) });
    const body = await res.text();
    return { status: res.status, body, sid: res.status === 200 ? JSON.parse(body.slice(1)).sid : null };
}

/**
 * Ends a session opened by hand with a close packet, so that the server does not keep it (a
 * server stopping with a session whose client never polls again waits for that poll, up to
 * 3 s). Without stickiness the POST may reach the other server (400): it is sent again.
 */
async function rawClose(url, sid) {
    for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
            method: 'POST', body: '1', headers: { 'content-type': 'text/plain;charset=UTF-8' },
            signal: AbortSignal.timeout(WAIT_MS),
        });
        await res.text();
        if (res.status === 200) {
            return;
        }
    }
    assert.fail(`could not close session ${sid}`);
}

/**
 * nginx's error log holds nothing above [info] (which notes clients closing connections): no
 * "upstream prematurely closed connection", "upstream sent invalid header", 502/504, ...
 */
function assertNoNginxErrors(nginx) {
    const bad = nginx.errorLog().split('\n').filter((l) => /\[(warn|error|crit|alert|emerg)\]/.test(l));
    assert.deepEqual(bad, [], 'nginx logged no warnings or errors');
}

describe('cluster behind nginx (examples/nginx/nginx.conf): sticky polling sessions', { skip }, () => {
    let redis;
    let servers = [];
    const serverIdAt = {}; // upstream address (as nginx logs it) -> --server-id
    let sticky;
    let roundRobin;

    before(async () => {
        redis = await startRedis();
        servers = await Promise.all(['nginx-a', 'nginx-b'].map(async (id) => {
            const server = await startServer(['--redis', redis.address, '--server-id', id, ...SERVER_FLAGS]);
            serverIdAt[`127.0.0.1:${server.port}`] = id;
            return server;
        }));
        // Both servers subscribed: a broadcast published from now on reaches both.
        await waitSubscribers(redis.port, 2);
        const upstreams = Object.keys(serverIdAt);
        [sticky, roundRobin] = await Promise.all([
            startNginx({ upstreams, sticky: true, accessLog: true }),
            startNginx({ upstreams, sticky: false, accessLog: true }),
        ]);
    });

    after(async () => {
        // nginx first, then the servers (a crash of one fails the suite), then Redis.
        const results = [
            ...await Promise.allSettled([sticky?.close(), roundRobin?.close()]),
            ...await Promise.allSettled(servers.map((s) => s.close())),
        ];
        await redis?.stop();
        for (const r of results) {
            if (r.status === 'rejected') {
                throw r.reason;
            }
        }
    });

    test('the config is the example with only the test-only differences', () => {
        assert.match(sticky.config, /^\s*hash \$remote_addr consistent;$/m);
        assert.doesNotMatch(roundRobin.config, /^\s*hash /m);
        for (const conf of [sticky.config, roundRobin.config]) {
            assert.match(conf, /^daemon off;$/m);
            assert.match(conf, /proxy_http_version 1\.1;/);
            assert.match(conf, /proxy_set_header Connection \$connection_upgrade;/);
            assert.match(conf, /proxy_buffering off;/);
        }
    });

    test('(a) polling clients spread over both servers keep their sessions', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const clients = await connectClients(sticky.url, 8, { transports: ['polling'], t });
        for (const c of clients) {
            c.serverId = await serverIdOf(c);
        }
        // The hash of eight addresses almost always hits both servers; if not, add clients
        // until one lands on the other server (bounded), as the spread is the point here.
        while (new Set(clients.map((c) => c.serverId)).size < 2 && clients.length < 32) {
            const [extra] = await connectClients(sticky.url, 1, { transports: ['polling'], t });
            extra.serverId = await serverIdOf(extra);
            clients.push(extra);
        }
        const perServer = clients.reduce((acc, c) => ({ ...acc, [c.serverId]: (acc[c.serverId] ?? 0) + 1 }), {});
        t.diagnostic(`clients per server: ${JSON.stringify(perServer)}`);
        assert.deepEqual(Object.keys(perServer).sort(), ['nginx-a', 'nginx-b'], 'clients on both servers');

        // A sustained exchange, all clients at once (a held GET and a POST of one client are two
        // concurrent requests through nginx, both must reach its server): acked round trips,
        // server-initiated events ("message" -> "message-back") and server-to-client acks
        // ("request-ack"), while the servers ping every 300 ms.
        for (const c of clients) {
            c.socket.on('question', (x, ack) => ack(x * 2));
        }
        await Promise.all(clients.map(async (c, ci) => {
            for (let i = 0; i < ROUND_TRIPS; i++) {
                assert.deepEqual(await emitAck(c.socket, 'message-with-ack', [ci, i, 'x'.repeat(i * 50)], WAIT_MS),
                    [ci, i, 'x'.repeat(i * 50)]);
                if (i % 4 === 0) {
                    const back = waitEvent(c.socket, 'message-back', WAIT_MS);
                    c.socket.emit('message', 'hello', ci, i);
                    assert.deepEqual(await back, ['hello', ci, i]);
                    assert.deepEqual(await emitAck(c.socket, 'request-ack', ['question', ci * 100 + i], WAIT_MS),
                        [2 * (ci * 100 + i)]);
                }
            }
        }));
        // Long-polls held and answered with pings through nginx, several times per client.
        await withTimeout((async () => {
            while (clients.some((c) => c.pings < 3)) {
                await delay(50);
            }
        })(), WAIT_MS, 'three pings per client');

        for (const c of clients) {
            assert.equal(await serverIdOf(c), c.serverId, `${c.address} stayed on its server`);
            assert.equal(c.socket.io.engine.transport.name, 'polling');
            assert.ok(c.socket.connected);
            c.sid = c.socket.io.engine.id;
        }
        assert.deepEqual(clients.flatMap((c) => c.troubles.map((x) => `${c.address}: ${x}`)), [],
            'no connect_error, disconnect or reconnect');
        const upstreams = assertSticky(sticky, clients);
        clients.forEach((c, i) => assert.equal(serverIdAt[upstreams[i]], c.serverId,
            `the access log's upstream of ${c.address} is the server that answered "server-id"`));
        assertNoNginxErrors(sticky);
    });

    test('(b) a room broadcast crosses servers through Redis, on polling through nginx', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const clients = await connectClients(sticky.url, 8, { transports: ['polling'], t });
        for (const c of clients) {
            c.serverId = await serverIdOf(c);
        }
        while (new Set(clients.map((c) => c.serverId)).size < 2 && clients.length < 32) {
            const [extra] = await connectClients(sticky.url, 1, { transports: ['polling'], t });
            extra.serverId = await serverIdOf(extra);
            clients.push(extra);
        }
        const onA = clients.filter((c) => c.serverId === 'nginx-a');
        const onB = clients.filter((c) => c.serverId === 'nginx-b');
        assert.ok(onA.length > 0 && onB.length > 0, 'clients on both servers');

        for (const c of clients) {
            assert.deepEqual(await emitAck(c.socket, 'join', ['nginx-room'], WAIT_MS), [true]);
        }
        // From a client on each server: everybody else in the room gets it (to() excludes the
        // sender), on both servers.
        for (const sender of [onA[0], onB[0]]) {
            const others = clients.filter((c) => c !== sender);
            const got = Promise.all(others.map((c) => waitEvent(c.socket, 'room-msg', WAIT_MS)));
            sender.socket.emit('to-room', 'nginx-room', 'room-msg', 'from', sender.serverId, { n: 1 });
            for (const args of await got) {
                assert.deepEqual(args, ['from', sender.serverId, { n: 1 }]);
            }
        }
        for (const c of clients) {
            c.sid = c.socket.io.engine.id;
            assert.equal(c.socket.io.engine.transport.name, 'polling');
        }
        assert.deepEqual(clients.flatMap((c) => c.troubles.map((x) => `${c.address}: ${x}`)), []);
        assertSticky(sticky, clients);
        assertNoNginxErrors(sticky);
    });

    test('(c) default clients upgrade from polling to WebSocket through nginx', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const clients = await connectClients(sticky.url, 4, { transports: undefined, t });
        for (const c of clients) {
            c.sid = c.socket.io.engine.id;
            // Asked at once: usually still on polling, the upgrade going on meanwhile.
            c.serverId = await serverIdOf(c);
        }
        await Promise.all(clients.map((c) => waitUpgraded(c.socket, WAIT_MS)));
        await Promise.all(clients.map(async (c, ci) => {
            assert.equal(c.socket.io.engine.transport.name, 'websocket');
            assert.equal(c.socket.io.engine.id, c.sid, 'the same session after the upgrade');
            for (let i = 0; i < 10; i++) {
                assert.deepEqual(await emitAck(c.socket, 'message-with-ack', [ci, i], WAIT_MS), [ci, i]);
            }
            assert.equal(await serverIdOf(c), c.serverId);
        }));
        // Pings on the WebSocket through nginx too.
        const pingsNow = clients.map((c) => c.pings);
        await withTimeout((async () => {
            while (clients.some((c, i) => c.pings < pingsNow[i] + 2)) {
                await delay(50);
            }
        })(), WAIT_MS, 'two more pings per client on WebSocket');
        assert.deepEqual(clients.flatMap((c) => c.troubles.map((x) => `${c.address}: ${x}`)), []);
        // nginx logs a request when it ends: the WebSocket (101) once it is closed.
        clients.forEach((c) => c.close());
        const upgradeLines = () => parseAccessLog(sticky.accessLog())
            .filter((e) => e.transport === 'websocket' && clients.some((c) => c.sid === e.sid));
        await withTimeout((async () => {
            while (upgradeLines().length < clients.length) {
                await delay(20);
            }
        })(), WAIT_MS, 'the WebSocket requests in the access log');
        // The upgrade request went through nginx to the session's server, like its polling.
        assertSticky(sticky, clients);
        for (const c of clients) {
            const upgrades = upgradeLines().filter((e) => e.sid === c.sid);
            assert.deepEqual(upgrades.map((e) => e.status), [101], `one WebSocket upgrade of ${c.address}`);
        }
        assertNoNginxErrors(sticky);
    });

    test('(d) negative control: without stickiness (round robin) polling sessions fail', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        // One client at a time: nginx alternates the upstreams per request, so the handshake
        // goes to one server and one of the next two requests (POST CONNECT, GET) to the other.
        const outcomes = [];
        for (let i = 0; i < 3; i++) {
            const c = createClient(roundRobin.url, { transports: ['polling'] });
            t.after(() => c.close());
            let outcome;
            try {
                await waitConnected(c.socket, WAIT_MS);
                for (let k = 0; k < 5; k++) {
                    await emitAck(c.socket, 'message-with-ack', [k], 1_000);
                }
                outcome = 'survived';
            } catch (err) {
                outcome = `failed: ${err.message}`;
            }
            // Whatever broke shows up as a recorded trouble.
            await delay(50);
            outcomes.push({ address: c.address, outcome, troubles: c.troubles });
            c.close();
        }
        t.diagnostic(JSON.stringify(outcomes));
        for (const o of outcomes) {
            assert.ok(o.outcome.startsWith('failed') && o.troubles.length > 0,
                `${o.address} failed without stickiness: ${JSON.stringify(o)}`);
        }
        const unknown = parseAccessLog(roundRobin.accessLog()).filter((e) => e.status === 400 && e.sid);
        assert.ok(unknown.length >= outcomes.length, `400 answers to requests with a sid (${unknown.length})`);

        // By hand: a handshake, then two polls of that session; round robin sends one of the
        // three requests to the other server, which does not know the session.
        const { status, sid } = await rawHandshake(roundRobin.url);
        assert.equal(status, 200);
        const polls = [];
        for (let i = 0; i < 2; i++) {
            const res = await fetch(`${roundRobin.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`,
                { signal: AbortSignal.timeout(WAIT_MS) });
            polls.push({ status: res.status, body: await res.text() });
        }
        await rawClose(roundRobin.url, sid);
        t.diagnostic(`polls of one session through round robin: ${JSON.stringify(polls)}`);
        assert.ok(polls.some((p) => p.status === 400 && p.body === '{"code":1,"message":"Session ID unknown"}'),
            `one poll answered 400 "Session ID unknown": ${JSON.stringify(polls)}`);

        // The contrast: WebSocket-only clients need no stickiness, their session is one TCP
        // connection; through the same round-robin nginx they work.
        const wsClients = await connectClients(roundRobin.url, 3, { transports: ['websocket'], t });
        await Promise.all(wsClients.map(async (c, ci) => {
            for (let k = 0; k < 5; k++) {
                assert.deepEqual(await emitAck(c.socket, 'message-with-ack', [ci, k], WAIT_MS), [ci, k]);
            }
        }));
        assert.deepEqual(wsClients.flatMap((c) => c.troubles.map((x) => `${c.address}: ${x}`)), []);
    });

    test('(e) same-origin CORS holds through the proxy (Host and X-Forwarded-* of the example)', { timeout: TEST_TIMEOUT_MS }, async () => {
        // interop_server keeps the default CORS policy, same origin: a browser page served by
        // nginx sends nginx's origin, host:port included.
        for (const [origin, status] of [[sticky.url, 200], ['http://other.example', 403],
            [`http://127.0.0.1:${sticky.port + 1}`, 403]]) {
            const res = await rawHandshake(sticky.url, { origin });
            assert.equal(res.status, status, `Origin ${origin}: ${res.body}`);
            if (res.sid) {
                await rawClose(sticky.url, res.sid);
            }
        }
        // The WebSocket handshake too (Origin through nginx's Upgrade path).
        const wsUrl = `ws://127.0.0.1:${sticky.port}/socket.io/?EIO=4&transport=websocket`;
        const ws = new WebSocket(wsUrl, { origin: sticky.url });
        try {
            const [data] = await waitEvent(ws, 'message', WAIT_MS, { failOn: ['error', 'unexpected-response', 'close'] });
            assert.match(String(data), /^0\{"sid":/);
        } finally {
            ws.terminate();
        }
        const foreign = new WebSocket(wsUrl, { origin: 'http://other.example' });
        foreign.on('error', () => {}); // terminate() before an open reports one
        try {
            const [, res] = await waitEvent(foreign, 'unexpected-response', WAIT_MS, { failOn: ['open'] });
            assert.equal(res.statusCode, 403);
        } finally {
            foreign.terminate();
        }
    });
});
