// The C++ SocketClient against Node's own socket.io 4.8 server: qtclient_probe (from
// $QTCLIENT_PROBE) connects to a socket.io Server started here in-process, reports what it sees
// as JSON lines and takes commands on stdin (see qtclient_probe.cpp). Each behaviour runs on
// polling only, WebSocket only, and polling upgraded to WebSocket.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Server } from 'socket.io';
import { delay, waitEvent, withTimeout } from './lib/util.mjs';

const WAIT_MS = 5_000;
const TEST_TIMEOUT_MS = 20_000;

const SETUPS = [
    { name: 'polling', transports: 'polling', final: 'polling' },
    { name: 'websocket', transports: 'websocket', final: 'websocket' },
    { name: 'polling+upgrade', transports: 'polling,websocket', final: 'websocket' },
];

function probeBinary() {
    const fromEnv = process.env.QTCLIENT_PROBE;
    if (fromEnv) {
        if (!existsSync(fromEnv)) {
            throw new Error(`QTCLIENT_PROBE=${fromEnv} does not exist (build the qtclient_probe target)`);
        }
        return fromEnv;
    }
    const here = path.dirname(fileURLToPath(import.meta.url));
    const fallback = path.resolve(here, '../../build/tests/qtclient_probe');
    if (existsSync(fallback)) {
        return fallback;
    }
    throw new Error('QTCLIENT_PROBE is not set: point it at the qtclient_probe binary');
}

/** A socket.io Server on 127.0.0.1, a free port; closed after the test. */
async function startIo(t, options = {}) {
    const httpServer = http.createServer();
    const io = new Server(httpServer, options);
    await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => io.close(() => resolve())));
    return { io, url: `http://127.0.0.1:${httpServer.address().port}` };
}

/** Binary as the probe writes it. */
const bin = (buffer) => ({ $binary: Buffer.from(buffer).toString('base64') });

/** qtclient_probe, its output lines as objects, and a way to send it commands. */
class Probe {
    constructor(t, url, setup, { auth, extraArgs = [] } = {}) {
        const args = ['--url', url, '--transports', setup.transports, '--reconnection-delay', '100'];
        if (auth) {
            args.push('--auth', JSON.stringify(auth));
        }
        this.proc = spawn(probeBinary(), [...args, ...extraArgs], {
            stdio: ['pipe', 'pipe', 'pipe'],
            env: { ...process.env, QT_QPA_PLATFORM: 'offscreen' },
        });
        this.lines = [];
        this.stderr = [];
        this.waiters = [];
        this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
        readline.createInterface({ input: this.proc.stderr }).on('line', (line) => this.stderr.push(line));
        readline.createInterface({ input: this.proc.stdout }).on('line', (line) => {
            let message;
            try {
                message = JSON.parse(line);
            } catch {
                message = { type: 'unparsed', line };
            }
            this.lines.push(message);
            this.#check();
        });
        t.after(() => this.stop());
    }

    #check() {
        for (const waiter of [...this.waiters]) {
            const index = this.lines.findIndex((m, i) => i >= waiter.from && waiter.match(m));
            if (index >= 0) {
                this.waiters.splice(this.waiters.indexOf(waiter), 1);
                waiter.resolve(this.lines[index]);
            }
        }
    }

    /** The first line (from index `from`) matching `match`, a type name or a predicate. */
    next(match, { from = 0, ms = WAIT_MS } = {}) {
        const predicate = typeof match === 'string' ? (m) => m.type === match : match;
        const found = new Promise((resolve) => {
            this.waiters.push({ match: predicate, from, resolve });
            this.#check();
        });
        return withTimeout(found, ms, `probe line ${match}; got ${JSON.stringify(this.lines)}; `
            + `stderr: ${this.stderr.slice(-10).join('\n')}`);
    }

    count(type) {
        return this.lines.filter((m) => m.type === type).length;
    }

    send(command) {
        this.proc.stdin.write(`${JSON.stringify(command)}\n`);
    }

    /** Asks the probe to quit; throws when it does not end cleanly (a crash, a sanitizer report). */
    async stop() {
        if (this.proc.exitCode === null && this.proc.signalCode === null) {
            this.send({ cmd: 'quit' });
            this.proc.stdin.end();
        }
        const ended = await Promise.race([this.exited, delay(5_000).then(() => null)]);
        if (!ended) {
            this.proc.kill('SIGKILL');
            await this.exited;
            throw new Error(`qtclient_probe did not quit; stderr: ${this.stderr.slice(-20).join('\n')}`);
        }
        if (ended.code !== 0) {
            throw new Error(`qtclient_probe ended with code ${ended.code}, signal ${ended.signal}; `
                            + `stderr: ${this.stderr.slice(-20).join('\n')}`);
        }
    }
}

/** Waits for the probe's connection and the server's socket; checks the final transport. */
async function connected(io, probe, setup) {
    const socket = await waitEvent(io, 'connection', WAIT_MS);
    const connect = await probe.next('connect');
    assert.equal(connect.id, socket.id);
    assert.equal(connect.engineId, socket.conn.id);
    if (setup.final === 'websocket' && setup.transports !== 'websocket') {
        await probe.next((m) => m.type === 'transport' && m.name === 'websocket');
        await withTimeout(new Promise((resolve) => {
            if (socket.conn.transport.name === 'websocket') {
                resolve();
            } else {
                socket.conn.once('upgrade', resolve);
            }
        }), WAIT_MS, 'server-side upgrade');
    }
    assert.equal(socket.conn.transport.name, setup.final);
    return { socket, connect };
}

for (const setup of SETUPS) {
    test(`${setup.name}: connect with auth`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const { io, url } = await startIo(t);
        const connecting = waitEvent(io, 'connection', WAIT_MS);
        const probe = new Probe(t, url, setup, { auth: { token: 'qt-token', n: 7 } });
        const socket = await connecting;
        assert.deepEqual(socket.handshake.auth, { token: 'qt-token', n: 7 });
        const connect = await probe.next('connect');
        assert.equal(connect.id, socket.id);
        assert.equal(connect.engineId, socket.conn.id);
        assert.equal(probe.count('connect_error'), 0);
    });

    test(`${setup.name}: events both ways with binary`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const { io, url } = await startIo(t);
        const probe = new Probe(t, url, setup);
        const { socket } = await connected(io, probe, setup);

        // Server to client: binary at the top level and nested.
        socket.emit('hello', 'world', Buffer.from([0, 1, 2, 255]),
            { nested: { buf: Buffer.from('xyz') }, list: [1, Buffer.from([9])] }, null, true);
        const hello = await probe.next((m) => m.type === 'event' && m.event === 'hello');
        assert.equal(hello.ack, false);
        assert.deepEqual(hello.args, [
            'world', bin([0, 1, 2, 255]),
            { nested: { buf: bin('xyz') }, list: [1, bin([9])] }, null, true,
        ]);

        // Client to server.
        const received = new Promise((resolve) => socket.on('from-qt', (...args) => resolve(args)));
        probe.send({
            cmd: 'emit', event: 'from-qt',
            args: ['text é', 42, { deep: [bin([7, 8]), { more: bin('abc') }] }, bin([])],
        });
        const args = await withTimeout(received, WAIT_MS, 'from-qt at the server');
        assert.equal(args.length, 4);
        assert.equal(args[0], 'text é');
        assert.equal(args[1], 42);
        assert.ok(Buffer.isBuffer(args[2].deep[0]));
        assert.deepEqual([...args[2].deep[0]], [7, 8]);
        assert.equal(args[2].deep[1].more.toString(), 'abc');
        assert.ok(Buffer.isBuffer(args[3]));
        assert.equal(args[3].length, 0);

        // Many in a row keep their order.
        const order = [];
        const all = new Promise((resolve) => socket.on('seq', (n) => {
            order.push(n);
            if (order.length === 20) {
                resolve();
            }
        }));
        for (let i = 0; i < 20; i++) {
            probe.send({ cmd: 'emit', event: 'seq', args: [i] });
        }
        await withTimeout(all, WAIT_MS, '20 seq events');
        assert.deepEqual(order, [...Array(20).keys()]);
    });

    test(`${setup.name}: acks both ways`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const { io, url } = await startIo(t);
        io.on('connection', (socket) => {
            socket.on('double', (n, buffer, callback) => callback(n * 2, Buffer.from(buffer).reverse()));
        });
        const probe = new Probe(t, url, setup);
        const { socket } = await connected(io, probe, setup);

        // Client asks, server answers.
        probe.send({ cmd: 'emitWithAck', tag: 'a1', event: 'double', args: [21, bin([1, 2, 3])] });
        const answer = await probe.next((m) => m.type === 'ack' && m.tag === 'a1');
        assert.equal(answer.timedOut, false);
        assert.deepEqual(answer.args, [42, bin([3, 2, 1])]);

        // Client times out on an event nobody answers.
        probe.send({ cmd: 'emitWithAck', tag: 'a2', event: 'nobody', args: [], timeout: 200 });
        const late = await probe.next((m) => m.type === 'ack' && m.tag === 'a2');
        assert.equal(late.timedOut, true);

        // Server asks, client answers (the probe echoes the arguments).
        // (emitWithAck() would resolve with the first argument only.)
        const reply = await new Promise((resolve, reject) => {
            socket.timeout(WAIT_MS).emit('ask-qt', 'q', Buffer.from('bin'), { k: [Buffer.from([5])] },
                (err, ...args) => (err ? reject(err) : resolve(args)));
        });
        assert.equal(reply.length, 3);
        assert.equal(reply[0], 'q');
        assert.equal(reply[1].toString(), 'bin');
        assert.deepEqual([...reply[2].k[0]], [5]);
        const asked = await probe.next((m) => m.type === 'event' && m.event === 'ask-qt');
        assert.equal(asked.ack, true);
    });

    test(`${setup.name}: server-side disconnect`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const { io, url } = await startIo(t);
        const probe = new Probe(t, url, setup);
        const { socket } = await connected(io, probe, setup);
        socket.disconnect();
        const gone = await probe.next('disconnect');
        assert.equal(gone.reason, 'io server disconnect');
        // No reconnection follows (the probe's first reconnection delay is 100 ms).
        await delay(700);
        assert.equal(probe.count('reconnecting'), 0);
        assert.equal(probe.count('connect'), 1);
        assert.equal(io.of('/').sockets.size, 0);
    });

    test(`${setup.name}: client-side disconnect`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const { io, url } = await startIo(t);
        const probe = new Probe(t, url, setup);
        const { socket } = await connected(io, probe, setup);
        const reason = new Promise((resolve) => socket.on('disconnect', resolve));
        probe.send({ cmd: 'disconnect' });
        assert.equal(await withTimeout(reason, WAIT_MS, 'server-side disconnect'), 'client namespace disconnect');
        assert.equal((await probe.next('disconnect')).reason, 'io client disconnect');
    });

    test(`${setup.name}: reconnection after the transport closes`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const { io, url } = await startIo(t);
        const probe = new Probe(t, url, setup);
        const { socket } = await connected(io, probe, setup);
        const reconnection = waitEvent(io, 'connection', WAIT_MS);
        socket.conn.close(); // the Engine.IO connection, without a Socket.IO DISCONNECT
        const gone = await probe.next('disconnect');
        assert.equal(gone.reason, 'transport close');
        await probe.next('reconnecting');
        const again = await reconnection;
        const connect = await probe.next('connect', { from: probe.lines.indexOf(gone) });
        assert.equal(connect.id, again.id);
        assert.notEqual(again.id, socket.id);
    });

    test(`${setup.name}: heartbeat, then ping timeout`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const { io, url } = await startIo(t, { pingInterval: 200, pingTimeout: 200 });
        const probe = new Probe(t, url, setup);
        const { socket } = await connected(io, probe, setup);
        // Several ping intervals pass with the client answering every ping.
        await delay(900);
        assert.equal(probe.count('disconnect'), 0);
        assert.ok(socket.connected);
        // The server stops pinging (its timer is cleared; a pong cannot re-arm a cleared timer):
        // the client gives up after pingInterval + pingTimeout.
        clearTimeout(socket.conn.pingIntervalTimer);
        const gone = await probe.next('disconnect', { ms: 3_000 });
        assert.equal(gone.reason, 'ping timeout');
    });
}

test('connect refusal carries message and data', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { io, url } = await startIo(t);
    io.use((socket, next) => {
        const error = new Error('not authorized');
        error.data = { hint: 'send a token', code: 4 };
        next(socket.handshake.auth.token === 'ok' ? undefined : error);
    });
    const probe = new Probe(t, url, SETUPS[1], { auth: { token: 'wrong' } });
    const refused = await probe.next('connect_error');
    assert.equal(refused.message, 'not authorized');
    assert.deepEqual(refused.data, { hint: 'send a token', code: 4 });
    await delay(500);
    assert.equal(probe.count('connect'), 0);
    assert.equal(probe.count('reconnecting'), 0);
});
