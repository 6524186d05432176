// A throw-away Redis server for the cluster tests (cluster*.test.mjs), and a few raw RESP
// commands to watch it.
//
// startRedis() runs /usr/bin/redis-server (or $REDIS_SERVER) on a free loopback port, without
// persistence, and resolves once it answers PING. It is killed when the test (with `t`) or the
// test process ends, whatever happened. There is no skip when the binary is missing: CI installs
// redis-server, so a missing one is an error with a clear message.
//
// redisCommand() speaks RESP over a fresh TCP connection (no client library): the tests use it
// for PUBSUB NUMSUB, to know when every server of a cluster subscribed (Node counts the servers
// of a cluster that way, so a test that publishes before then would see fewer servers).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import readline from 'node:readline';
import { delay } from './util.mjs';

const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
const STARTUP_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 3_000;
const PORT_ATTEMPTS = 5;

// Every redis-server still running when the test process exits is killed.
const running = new Set();
process.on('exit', () => {
    for (const proc of running) {
        try {
            proc.kill('SIGKILL');
        } catch {
            // already gone
        }
    }
});

/** A port that was free a moment ago on 127.0.0.1 (listen on 0, read it, close). */
export function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

// ---------------------------------------------------------------------------------------------
// RESP

function encodeCommand(args) {
    const parts = [`*${args.length}\r\n`];
    for (const arg of args) {
        const buf = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg), 'utf8');
        parts.push(`$${buf.length}\r\n`, buf, '\r\n');
    }
    return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p, 'utf8'))));
}

// Parses one RESP2 reply at `offset`; returns {value, end} or null when incomplete. Errors are
// returned as Error objects, bulk strings as utf8 strings.
function parseReply(buf, offset = 0) {
    const lineEnd = buf.indexOf('\r\n', offset);
    if (lineEnd < 0) {
        return null;
    }
    const kind = String.fromCharCode(buf[offset]);
    const line = buf.toString('utf8', offset + 1, lineEnd);
    const next = lineEnd + 2;
    switch (kind) {
    case '+':
        return { value: line, end: next };
    case '-':
        return { value: new Error(line), end: next };
    case ':':
        return { value: Number(line), end: next };
    case '$': {
        const len = Number(line);
        if (len < 0) {
            return { value: null, end: next };
        }
        if (buf.length < next + len + 2) {
            return null;
        }
        return { value: buf.toString('utf8', next, next + len), end: next + len + 2 };
    }
    case '*': {
        const n = Number(line);
        if (n < 0) {
            return { value: null, end: next };
        }
        const items = [];
        let at = next;
        for (let i = 0; i < n; i++) {
            const item = parseReply(buf, at);
            if (!item) {
                return null;
            }
            items.push(item.value);
            at = item.end;
        }
        return { value: items, end: at };
    }
    default:
        throw new Error(`unexpected RESP reply: ${JSON.stringify(buf.toString('utf8', offset))}`);
    }
}

/**
 * Sends one command to Redis on a new connection and resolves with the reply (rejects on an
 * error reply, a connection failure or after `timeout` ms).
 */
export function redisCommand(port, args, { host = '127.0.0.1', timeout = 2_000 } = {}) {
    return new Promise((resolve, reject) => {
        let data = Buffer.alloc(0);
        const sock = net.connect({ host, port });
        const timer = setTimeout(() => {
            sock.destroy();
            reject(new Error(`redis ${args[0]} on port ${port}: no reply within ${timeout} ms`));
        }, timeout);
        const finish = (err, value) => {
            clearTimeout(timer);
            sock.destroy();
            if (err) {
                reject(err);
            } else {
                resolve(value);
            }
        };
        sock.once('error', (err) => finish(new Error(`redis ${args[0]} on port ${port}: ${err.message}`)));
        sock.on('data', (chunk) => {
            data = Buffer.concat([data, chunk]);
            let reply;
            try {
                reply = parseReply(data);
            } catch (err) {
                finish(err);
                return;
            }
            if (reply) {
                finish(reply.value instanceof Error ? reply.value : null, reply.value);
            }
        });
        sock.write(encodeCommand(args));
    });
}

/** PUBSUB NUMSUB of one channel: how many connections are subscribed to it. */
export async function numSub(port, channel) {
    const [, count] = await redisCommand(port, ['PUBSUB', 'NUMSUB', channel]);
    return Number(count);
}

/**
 * Waits until exactly `n` connections are subscribed to `channel` (default: the request channel
 * of "/", which Node's redis-adapter uses to count the servers of a cluster). Rejects after
 * `timeout` ms with the last count seen, also when there are more than `n`.
 */
export async function waitSubscribers(port, n, { channel = 'socket.io-request#/#', timeout = 5_000 } = {}) {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
        last = await numSub(port, channel);
        if (last === n) {
            return;
        }
        if (Date.now() > deadline) {
            throw new Error(`PUBSUB NUMSUB ${channel}: expected ${n} subscriber(s), got ${last} `
                            + `after ${timeout} ms`);
        }
        await delay(20);
    }
}

// ---------------------------------------------------------------------------------------------
// redis-server

async function ping(port) {
    try {
        return (await redisCommand(port, ['PING'], { timeout: 500 })) === 'PONG';
    } catch {
        return false;
    }
}

/**
 * Starts redis-server on `port` and waits until it answers PING. Resolves with {proc, lines,
 * exited}; rejects (after killing it) when it exits first (e.g. the port was taken) or does not
 * answer in time, with its output in the message.
 */
async function launch(port) {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--protected-mode', 'no', '--daemonize', 'no'];
    const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(proc);
    const lines = [];
    for (const stream of [proc.stdout, proc.stderr]) {
        readline.createInterface({ input: stream }).on('line', (line) => {
            lines.push(line);
            if (lines.length > 200) {
                lines.shift();
            }
        });
    }
    let exitInfo = null;
    const exited = new Promise((resolve) => {
        proc.once('exit', (code, signal) => {
            exitInfo = { code, signal };
            running.delete(proc);
            resolve(exitInfo);
        });
    });
    let spawnError = null;
    proc.once('error', (err) => { spawnError = err; });

    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    for (;;) {
        if (spawnError) {
            throw new Error(`cannot start ${REDIS_SERVER}: ${spawnError.message}`);
        }
        if (exitInfo) {
            const err = new Error(`redis-server exited before answering PING (code ${exitInfo.code}, `
                                  + `signal ${exitInfo.signal}) on port ${port}:\n${lines.slice(-10).join('\n')}`);
            err.portInUse = lines.some((l) => /address already in use/i.test(l));
            throw err;
        }
        if (await ping(port)) {
            return { proc, lines, exited, exitInfo: () => exitInfo };
        }
        if (Date.now() > deadline) {
            proc.kill('SIGKILL');
            await exited;
            throw new Error(`redis-server did not answer PING on port ${port} within `
                            + `${STARTUP_TIMEOUT_MS} ms:\n${lines.slice(-10).join('\n')}`);
        }
        await delay(25);
    }
}

async function terminate(instance, signal) {
    if (!instance || instance.exitInfo()) {
        return;
    }
    instance.proc.kill(signal);
    let timer;
    const stopped = await Promise.race([
        instance.exited.then(() => true),
        new Promise((resolve) => { timer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS); }),
    ]);
    clearTimeout(timer);
    if (!stopped) {
        instance.proc.kill('SIGKILL');
        await instance.exited;
    }
}

/**
 * Starts a Redis server on a free loopback port.
 *
 * @param {object} [options]
 * @param {import('node:test').TestContext} [options.t] when given, stopped in t.after()
 * @returns {Promise<{host: string, port: number, address: string, url: string,
 *          stop: () => Promise<void>, kill: () => Promise<void>, restart: (opts?: {hard?: boolean}) => Promise<void>,
 *          alive: () => boolean, logTail: (n?: number) => string,
 *          command: (args: string[]) => Promise<any>}>}
 *          `address` is "127.0.0.1:PORT" (interop_server's --redis), `url` "redis://127.0.0.1:PORT"
 *          (node-redis). stop(): SIGTERM; kill(): SIGKILL; restart(): stops it (SIGKILL with
 *          {hard: true}, SIGTERM otherwise) and starts it again on the same port.
 */
export async function startRedis({ t } = {}) {
    if (!existsSync(REDIS_SERVER)) {
        throw new Error(`${REDIS_SERVER} is missing: the cluster tests need Redis `
                        + '(apt-get install redis-server, or set REDIS_SERVER to the binary)');
    }
    let instance;
    let port;
    for (let attempt = 1; ; attempt++) {
        port = await freePort();
        try {
            instance = await launch(port);
            break;
        } catch (err) {
            if (!err.portInUse || attempt >= PORT_ATTEMPTS) {
                throw err;
            }
        }
    }

    const host = '127.0.0.1';
    const redis = {
        host,
        port,
        address: `${host}:${port}`,
        url: `redis://${host}:${port}`,
        alive: () => instance !== null && instance.exitInfo() === null,
        logTail: (n = 20) => (instance ? instance.lines.slice(-n).join('\n') : ''),
        command: (args) => redisCommand(port, args),
        stop: async () => {
            await terminate(instance, 'SIGTERM');
        },
        kill: async () => {
            await terminate(instance, 'SIGKILL');
        },
        restart: async ({ hard = false } = {}) => {
            await terminate(instance, hard ? 'SIGKILL' : 'SIGTERM');
            // The same port: the servers of the cluster reconnect to it. redis-server binds with
            // SO_REUSEADDR, but retry briefly in case the port is not released yet.
            for (let attempt = 1; ; attempt++) {
                try {
                    instance = await launch(port);
                    return;
                } catch (err) {
                    if (!err.portInUse || attempt >= PORT_ATTEMPTS) {
                        throw err;
                    }
                    await delay(200);
                }
            }
        },
    };
    t?.after(() => redis.stop());
    return redis;
}
