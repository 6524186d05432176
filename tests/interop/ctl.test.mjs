// qsocketio-ctl (from $QSOCKETIO_CTL) against interop_server --admin: every subcommand, its
// JSON and table output, the effect of the commands on socket.io-client sockets of "/", and
// the exit codes of the error paths (2 bad arguments, 3 refused, 1/4 unreachable, 5 not
// offered by the server: read-only, production mode). The same subcommands against Node's
// official @socket.io/admin-ui (lib/node-admin-server.mjs), which lacks our handlers/routes
// extensions. Transport, path and TLS options.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import { startServer } from './lib/server.mjs';
import { startNodeAdminServer } from './lib/node-admin-server.mjs';
import { delay, waitEvent } from './lib/util.mjs';

const WAIT_MS = 5_000;

// bcrypt of "secret" (made with Python's crypt.METHOD_BLOWFISH).
const SECRET_HASH = '$2b$12$c83X4zpa76TswTLN9S1D0.f/K8/S4dRV6Clzw9Dv72/hnQIGMlnra';

function ctlBinary() {
    const fromEnv = process.env.QSOCKETIO_CTL;
    if (fromEnv) {
        if (!existsSync(fromEnv)) {
            throw new Error(`QSOCKETIO_CTL=${fromEnv} does not exist (build qsocketio-ctl)`);
        }
        return fromEnv;
    }
    const here = path.dirname(fileURLToPath(import.meta.url));
    const fallback = path.resolve(here, '../../build/cli/qsocketio-ctl');
    if (existsSync(fallback)) {
        return fallback;
    }
    throw new Error('QSOCKETIO_CTL is not set: point it at the qsocketio-ctl binary');
}

/** Runs qsocketio-ctl; resolves {code, stdout, stderr}. */
function ctl(args, { env = {} } = {}) {
    return new Promise((resolve) => {
        execFile(ctlBinary(), args, { env: { ...process.env, ...env }, timeout: 15_000 },
            (error, stdout, stderr) => {
                resolve({ code: error ? (error.code ?? -1) : 0, stdout, stderr });
            });
    });
}

async function ctlJson(server, ...args) {
    const r = await ctl(['--url', server.url, '--json', ...args]);
    assert.equal(r.code, 0, `ctl ${args.join(' ')} failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
}

async function connectSocket(server) {
    const socket = io(server.url, { transports: ['websocket'], reconnection: false, forceNew: true });
    await waitEvent(socket, 'connect', WAIT_MS);
    return socket;
}

function joinRoom(socket, room) {
    return socket.timeout(WAIT_MS).emitWithAck('join', room);
}

/** Polls `sockets --json` until predicate(socket entry of id) holds. */
async function waitSocketState(server, id, predicate, what) {
    const until = Date.now() + WAIT_MS;
    let last;
    while (Date.now() < until) {
        const sockets = await ctlJson(server, 'sockets');
        last = sockets.find((s) => s.id === id && s.nsp === '/');
        if (predicate(last)) {
            return last;
        }
        await delay(100);
    }
    assert.fail(`${what}: last seen ${JSON.stringify(last)}`);
}

describe('qsocketio-ctl', { timeout: 30_000 }, () => {
    let server;
    let a;
    let b;

    before(async () => {
        server = await startServer(['--admin']);
        [a, b] = await Promise.all([connectSocket(server), connectSocket(server)]);
        await joinRoom(a, 'red');
        await joinRoom(b, 'blue');
    });
    after(async () => {
        a?.close();
        b?.close();
        await server?.close();
    });

    test('handlers lists the handlers of "/"', async () => {
        const handlers = await ctlJson(server, 'handlers');
        assert.ok(Array.isArray(handlers));
        assert.ok(handlers.some((h) => h.nsp === '/' && h.event === 'to-room'),
            JSON.stringify(handlers));
    });

    test('routes lists the socket.io mount', async () => {
        const routes = await ctlJson(server, 'routes');
        assert.ok(routes.some((r) => r.path === '/socket.io/'), JSON.stringify(routes));
    });

    test('sockets and rooms show the joined rooms', async () => {
        const sockets = await ctlJson(server, 'sockets');
        const sa = sockets.find((s) => s.id === a.id);
        assert.ok(sa, JSON.stringify(sockets));
        assert.equal(sa.nsp, '/');
        assert.ok(sa.rooms.includes('red'));
        const rooms = await ctlJson(server, 'rooms');
        const red = rooms.find((r) => r.nsp === '/' && r.name === 'red');
        assert.deepEqual(red, { nsp: '/', name: 'red', isPrivate: false, sockets: [a.id] });
        const own = rooms.find((r) => r.nsp === '/' && r.name === b.id);
        assert.equal(own?.isPrivate, true);
    });

    test('human-readable tables are aligned', async () => {
        const r = await ctl(['--url', server.url, 'rooms']);
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.trimEnd().split('\n');
        assert.match(lines[0], /^NAMESPACE\s+ROOM\s+PRIVATE\s+SOCKETS\s+MEMBERS$/);
        const column = lines[0].indexOf('ROOM');
        const redLine = lines.find((l) => l.startsWith('/ ') && l.includes(' red '));
        assert.ok(redLine, r.stdout);
        assert.equal(redLine.indexOf('red'), column, r.stdout);
        assert.ok(redLine.includes(a.id));
    });

    test('stats', async () => {
        const stats = await ctlJson(server, 'stats');
        assert.equal(typeof stats.pid, 'number');
        assert.ok(stats.clientsCount >= 2);
        assert.equal(stats.namespaces.find((n) => n.name === '/')?.socketsCount, 2);
        const r = await ctl(['--url', server.url, 'stats']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^clientsCount\s+\d+$/m);
    });

    test('emit reaches the targeted socket with JSON arguments', async () => {
        const gotA = waitEvent(a, 'hello', WAIT_MS);
        const r = await ctl(['--url', server.url, 'emit', '/', 'hello', '1', '{"x":[true,null]}',
            'plain', '--to', 'red']);
        assert.equal(r.code, 0, r.stderr);
        const args = await gotA;
        assert.deepEqual(args, [1, { x: [true, null] }, 'plain']);
    });

    test('emit to all reaches both sockets', async () => {
        const both = Promise.all([waitEvent(a, 'all', WAIT_MS), waitEvent(b, 'all', WAIT_MS)]);
        const r = await ctl(['--url', server.url, 'emit', '/', 'all', '"x"']);
        assert.equal(r.code, 0, r.stderr);
        await both;
    });

    test('join and leave change rooms', async () => {
        let r = await ctl(['--url', server.url, 'join', '/', 'green', '--filter', b.id]);
        assert.equal(r.code, 0, r.stderr);
        await waitSocketState(server, b.id, (s) => s?.rooms.includes('green'), 'b joins green');
        const sa = (await ctlJson(server, 'sockets')).find((s) => s.id === a.id);
        assert.ok(!sa.rooms.includes('green'));
        // The server's to-room now reaches b.
        const got = waitEvent(b, 'ping-green', WAIT_MS);
        a.emit('to-room', 'green', 'ping-green', 7);
        await got;

        r = await ctl(['--url', server.url, 'leave', '/', 'green']);
        assert.equal(r.code, 0, r.stderr);
        await waitSocketState(server, b.id, (s) => s && !s.rooms.includes('green'),
            'b leaves green');
    });

    test('arguments that start with a dash are arguments: ids, rooms, negative numbers', async () => {
        // Socket ids are base64url and one in 32 starts with "-"; the room name stands in
        // for such an id deterministically.
        let r = await ctl(['--url', server.url, 'join', '/', '-dash-room', '--filter', a.id]);
        assert.equal(r.code, 0, r.stderr);
        await waitSocketState(server, a.id, (s) => s?.rooms.includes('-dash-room'), 'a joins');
        const got = waitEvent(a, 'score', WAIT_MS);
        r = await ctl(['--url', server.url, 'emit', '/', 'score', '-5', '-x', '--to', '-dash-room']);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(await got, [-5, '-x']);
        r = await ctl(['--url', server.url, 'leave', '/', '--', '-dash-room', '--filter']);
        assert.equal(r.code, 2, 'after --, "--filter" is an argument too');
        r = await ctl(['--url', server.url, '--json', 'leave', '/', '--', '-dash-room']);
        assert.equal(r.code, 0, r.stderr);
        await waitSocketState(server, a.id, (s) => s && !s.rooms.includes('-dash-room'),
            'a leaves');
    });

    test('disconnect disconnects the filtered socket', async () => {
        const reason = waitEvent(b, 'disconnect', WAIT_MS);
        const r = await ctl(['--url', server.url, 'disconnect', '/', '--filter', 'blue']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal((await reason)[0], 'io server disconnect');
        assert.ok(a.connected);
    });

    test('bad arguments exit with 2 and a usage message', async () => {
        for (const args of [[], ['bogus'], ['emit', '/'], ['join', '/'], ['stats', 'extra'],
            ['--timeout', 'abc', 'stats'], ['--nope', 'stats'], ['sockets', '--to', 'x'],
            ['--path', 'socket.io', 'stats'], ['--transports', 'carrier-pigeon', 'stats'],
            ['--transports', '', 'stats'], ['--transports', 'websocket,websocket', 'stats'],
            ['--transports', 'websocket', '--websocket-only', 'stats'],
            ['--insecure', 'stats'], ['--ca', '/nonexistent/ca.pem', 'stats']]) {
            const r = await ctl(['--url', server.url, ...args]);
            assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
            assert.match(r.stderr, /^qsocketio-ctl: .+\n/);
            assert.match(r.stderr, /usage:/);
        }
    });

    test('unreachable URL fails with a message', async () => {
        const port = await new Promise((resolve) => {
            const s = net.createServer().listen(0, '127.0.0.1', () => {
                const p = s.address().port;
                s.close(() => resolve(p));
            });
        });
        const r = await ctl(['--url', `http://127.0.0.1:${port}`, '--timeout', '2000', 'stats']);
        assert.ok([1, 4].includes(r.code), `code ${r.code}: ${r.stderr}`);
        assert.match(r.stderr, /^qsocketio-ctl: .+/);
    });

    test('a server that never answers times out with 4', async () => {
        const silent = net.createServer(() => {});
        await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
        try {
            const r = await ctl(['--url', `http://127.0.0.1:${silent.address().port}`,
                '--timeout', '800', 'sockets']);
            assert.equal(r.code, 4, r.stderr);
            assert.match(r.stderr, /^qsocketio-ctl: timeout/);
        } finally {
            silent.close();
        }
    });
});

describe('qsocketio-ctl with admin auth', { timeout: 20_000 }, () => {
    let server;
    before(async () => {
        server = await startServer(['--admin-user', 'admin', '--admin-password-hash', SECRET_HASH]);
    });
    after(async () => {
        await server?.close();
    });

    test('wrong password is refused with 3', async () => {
        const r = await ctl(['--url', server.url, '--user', 'admin', 'stats'],
            { env: { QSOCKETIO_PASSWORD: 'wrong' } });
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, /invalid credentials/);
    });

    test('no credentials are refused with 3', async () => {
        const r = await ctl(['--url', server.url, 'stats']);
        assert.equal(r.code, 3, r.stderr);
    });

    test('right password works', async () => {
        const r = await ctl(['--url', server.url, '--user', 'admin', '--json', 'stats'],
            { env: { QSOCKETIO_PASSWORD: 'secret' } });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(typeof JSON.parse(r.stdout).pid, 'number');
    });
});

/**
 * The admin socket of the ctl run that listed `sockets`: the newest one of the admin namespace
 * (an earlier run's may not be gone yet).
 */
function ownAdminSocket(sockets) {
    const admins = sockets.filter((s) => s.nsp === '/admin');
    assert.ok(admins.length > 0, JSON.stringify(sockets));
    return admins.reduce((a, b) => (b.handshake.issued > a.handshake.issued ? b : a));
}

/** Runs ctl and also measures how long it took. */
async function timedCtl(args, options) {
    const started = Date.now();
    const r = await ctl(args, options);
    return { ...r, ms: Date.now() - started };
}

describe('qsocketio-ctl against Node\'s @socket.io/admin-ui', { timeout: 60_000 }, () => {
    let server;
    let a;
    let b;

    before(async () => {
        server = await startNodeAdminServer();
        [a, b] = await Promise.all([connectSocket(server), connectSocket(server)]);
        // Node's `join` handler does not ack: an echo round trip on the same socket follows it.
        a.emit('join', 'red');
        b.emit('join', 'blue');
        await Promise.all([a, b].map((s) => s.timeout(WAIT_MS).emitWithAck('echo', 'sync')));
    });
    after(async () => {
        a?.close();
        b?.close();
        await server?.close();
    });

    test('sockets', async () => {
        const sockets = await ctlJson(server, 'sockets');
        const sa = sockets.find((s) => s.id === a.id);
        assert.ok(sa, JSON.stringify(sockets));
        assert.equal(sa.nsp, '/');
        assert.equal(sa.transport, 'websocket');
        assert.ok(sa.rooms.includes('red'));
        const r = await ctl(['--url', server.url, 'sockets']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^ID\s+NAMESPACE\s+TRANSPORT\s+ADDRESS\s+ROOMS$/m);
        assert.ok(r.stdout.includes(b.id), r.stdout);
    });

    test('rooms', async () => {
        const rooms = await ctlJson(server, 'rooms');
        assert.deepEqual(rooms.find((r) => r.nsp === '/' && r.name === 'red'),
            { nsp: '/', name: 'red', isPrivate: false, sockets: [a.id] });
        assert.equal(rooms.find((r) => r.nsp === '/' && r.name === b.id)?.isPrivate, true);
    });

    test('stats (Node sends them every 2 s only)', async () => {
        const stats = await ctlJson(server, 'stats');
        assert.equal(stats.pid, server.proc.pid);
        assert.equal(stats.namespaces.find((n) => n.name === '/')?.socketsCount, 2);
    });

    test('emit', async () => {
        const gotA = waitEvent(a, 'hello', WAIT_MS);
        const r = await ctl(['--url', server.url, 'emit', '/', 'hello', '1', '{"x":[true,null]}',
            'plain', '--to', 'red']);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(await gotA, [1, { x: [true, null] }, 'plain']);
    });

    test('join and leave', async () => {
        let r = await ctl(['--url', server.url, 'join', '/', 'green', '--filter', b.id]);
        assert.equal(r.code, 0, r.stderr);
        await waitSocketState(server, b.id, (s) => s?.rooms.includes('green'), 'b joins green');
        const sa = (await ctlJson(server, 'sockets')).find((s) => s.id === a.id);
        assert.ok(!sa.rooms.includes('green'));
        r = await ctl(['--url', server.url, 'leave', '/', 'green']);
        assert.equal(r.code, 0, r.stderr);
        await waitSocketState(server, b.id, (s) => s && !s.rooms.includes('green'),
            'b leaves green');
    });

    test('handlers and routes: not offered, a clear message at once', async () => {
        for (const command of ['handlers', 'routes']) {
            const r = await timedCtl(['--url', server.url, '--timeout', '10000', command]);
            assert.equal(r.code, 5, `${command}: ${r.stderr}`);
            assert.match(r.stderr, new RegExp(`^qsocketio-ctl: ${command} needs the QSocketIo `
                + `extension qsio:${command}, which this server does not offer`));
            assert.equal(r.stdout, '');
            assert.ok(r.ms < 5_000, `${command} took ${r.ms} ms`);
        }
    });

    test('--websocket-only and --transports polling', async () => {
        let own = ownAdminSocket(await ctlJson(server, '--websocket-only', 'sockets'));
        assert.equal(own.transport, 'websocket');
        assert.equal(own.handshake.query.transport, 'websocket');
        own = ownAdminSocket(await ctlJson(server, '--transports', 'polling', 'sockets'));
        assert.equal(own.transport, 'polling');
        assert.equal(own.handshake.query.transport, 'polling');
    });

    test('disconnect', async () => {
        const reason = waitEvent(b, 'disconnect', WAIT_MS);
        const r = await ctl(['--url', server.url, 'disconnect', '/', '--filter', 'blue']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal((await reason)[0], 'io server disconnect');
        assert.ok(a.connected);
    });
});

describe('qsocketio-ctl against Node\'s @socket.io/admin-ui: auth, readonly, production', { timeout: 30_000 }, () => {
    const servers = [];
    after(async () => {
        await Promise.all(servers.map((s) => s.close()));
    });
    const start = async (flags) => {
        const server = await startNodeAdminServer(flags);
        servers.push(server);
        return server;
    };

    test('auth: wrong password refused with 3, right one works', async () => {
        const server = await start(['--auth', 'admin:secret']);
        let r = await ctl(['--url', server.url, '--user', 'admin', 'stats'],
            { env: { QSOCKETIO_PASSWORD: 'wrong' } });
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, /invalid credentials/);
        r = await ctl(['--url', server.url, '--user', 'admin', '--json', 'stats'],
            { env: { QSOCKETIO_PASSWORD: 'secret' } });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout).pid, server.proc.pid);
    });

    test('readonly: commands refused with 5, queries work', async () => {
        const server = await start(['--readonly']);
        for (const args of [['emit', '/', 'x'], ['join', '/', 'r'], ['leave', '/', 'r'],
            ['disconnect', '/']]) {
            const r = await ctl(['--url', server.url, ...args]);
            assert.equal(r.code, 5, `${args[0]}: ${r.stderr}`);
            assert.match(r.stderr, new RegExp(`the server refuses ${args[0]}: its admin namespace `
                + 'is read-only'));
        }
        const r = await ctl(['--url', server.url, '--json', 'sockets']);
        assert.equal(r.code, 0, r.stderr);
    });

    test('production: sockets and rooms refused with 5, stats works', async () => {
        const server = await start(['--mode', 'production']);
        for (const command of ['sockets', 'rooms']) {
            const r = await timedCtl(['--url', server.url, '--timeout', '10000', command]);
            assert.equal(r.code, 5, `${command}: ${r.stderr}`);
            assert.match(r.stderr, /production mode/);
            assert.ok(r.ms < 5_000, `${command} took ${r.ms} ms`);
        }
        const r = await ctl(['--url', server.url, '--json', 'stats']);
        assert.equal(r.code, 0, r.stderr);
    });
});

describe('qsocketio-ctl: what our server does not offer', { timeout: 30_000 }, () => {
    let readonly;
    let production;
    let user;
    before(async () => {
        [readonly, production] = await Promise.all([startServer(['--admin-readonly']),
            startServer(['--admin-production'])]);
        user = await connectSocket(readonly);
    });
    after(async () => {
        user?.close();
        await Promise.all([readonly?.close(), production?.close()]);
    });

    test('production mode: sockets and rooms refused with 5, stats works', async () => {
        for (const command of ['sockets', 'rooms']) {
            const r = await timedCtl(['--url', production.url, '--timeout', '10000', command]);
            assert.equal(r.code, 5, `${command}: ${r.stderr}`);
            assert.match(r.stderr, new RegExp(`^qsocketio-ctl: ${command} needs per-socket data, `
                + 'which this server does not report: its admin namespace runs in production mode'));
            assert.equal(r.stdout, '');
            assert.ok(r.ms < 5_000, `${command} took ${r.ms} ms`);
        }
        const stats = await ctlJson(production, 'stats');
        assert.equal(stats.pid, production.proc.pid);
        // Our extensions do not depend on the mode.
        assert.ok(Array.isArray(await ctlJson(production, 'handlers')));
    });

    test('readonly: emit, join, leave and disconnect refused with 5, nothing sent', async () => {
        const got = [];
        user.onAny((event) => got.push(event));
        for (const args of [['emit', '/', 'from-ctl'], ['join', '/', 'r', '--filter', user.id],
            ['leave', '/', user.id], ['disconnect', '/', '--close']]) {
            const r = await ctl(['--url', readonly.url, ...args]);
            assert.equal(r.code, 5, `${args[0]}: ${r.stderr}`);
            assert.match(r.stderr, new RegExp(`^qsocketio-ctl: the server refuses ${args[0]}: its `
                + 'admin namespace is read-only .*; nothing was sent'));
        }
        const sockets = await ctlJson(readonly, 'sockets');
        assert.deepEqual(sockets.find((s) => s.id === user.id)?.rooms, [user.id]);
        assert.ok(user.connected);
        assert.deepEqual(got, []);
    });
});

describe('qsocketio-ctl: --path, --transports and TLS against our server', { timeout: 30_000 }, () => {
    let server;
    let tls;
    let dir;
    let cert;
    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), 'qsio-ctl-tls-'));
        cert = path.join(dir, 'cert.pem');
        const key = path.join(dir, 'key.pem');
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256',
            '-days', '2', '-keyout', key, '-out', cert, '-subj', '/CN=127.0.0.1',
            '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
        { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
        [server, tls] = await Promise.all([startServer(['--admin']),
            startServer(['--admin', '--tls-cert', cert, '--tls-key', key])]);
    });
    after(async () => {
        try {
            await Promise.all([server?.close(), tls?.close()]);
        } finally {
            if (dir) {
                rmSync(dir, { recursive: true, force: true });
            }
        }
    });

    test('--path: the same path spelled without its slash works, another path does not', async () => {
        let r = await ctl(['--url', server.url, '--path', '/socket.io', '--json', 'stats']);
        assert.equal(r.code, 0, r.stderr);
        r = await ctl(['--url', server.url, '--path', '/elsewhere/', '--timeout', '3000', 'stats']);
        assert.ok([1, 4].includes(r.code), `code ${r.code}: ${r.stderr}`);
        assert.match(r.stderr, /^qsocketio-ctl: .+/);
    });

    test('--websocket-only: the admin socket never polls', async () => {
        const own = ownAdminSocket(await ctlJson(server, '--websocket-only', 'sockets'));
        assert.equal(own.transport, 'websocket');
        assert.equal(own.handshake.query.transport, 'websocket');
    });

    test('--transports polling: no upgrade', async () => {
        const own = ownAdminSocket(await ctlJson(server, '--transports', 'polling', 'sockets'));
        assert.equal(own.transport, 'polling');
        assert.equal(own.handshake.query.transport, 'polling');
    });

    test('a query leaves no admin socket behind', async () => {
        await ctlJson(server, '--transports', 'polling', 'stats');
        const sockets = await ctlJson(server, '--websocket-only', 'sockets');
        assert.equal(sockets.filter((s) => s.nsp === '/admin').length, 1, JSON.stringify(sockets));
    });

    test('https: refused without trust, works with --insecure or --ca', async () => {
        let r = await ctl(['--url', tls.url, '--timeout', '3000', 'stats']);
        assert.ok([1, 4].includes(r.code), `untrusted certificate accepted? code ${r.code}: ${r.stderr}`);
        for (const trust of [['--insecure'], ['--ca', cert]]) {
            for (const transports of [[], ['--websocket-only']]) {
                r = await ctl(['--url', tls.url, ...trust, ...transports, '--json', 'stats']);
                assert.equal(r.code, 0, `${trust} ${transports}: ${r.stderr}`);
                assert.equal(JSON.parse(r.stdout).pid, tls.proc.pid);
            }
        }
    });
});
