// Socket.IO helpers for the sio-*.test.mjs interop tests, which drive the Socket.IO server that
// interop_server serves at /socket.io/:
// - socket.io-client sockets on the three transport setups, with every wait bounded;
// - EventLog, a per-event queue of what a socket.io-client socket received;
// - RawSio, an Engine.IO + Socket.IO session spoken by hand (over WebSocket, over HTTP
//   long-polling, or over polling upgraded to WebSocket) for the tests that put exact packets on
//   the wire.

import { EventEmitter } from 'node:events';
import http from 'node:http';
import WebSocket from 'ws';
import { io, Manager } from 'socket.io-client';
import { Socket as EngineSocket } from 'engine.io-client';
import { Inbox, waitEvent, withTimeout } from './util.mjs';

export const SIO_PATH = '/socket.io/';
/** Default bound of every wait in the Socket.IO tests. */
export const WAIT_MS = 3_000;
/** node:test timeout of one test, so that a test that hangs anyway fails instead. */
export const TEST_TIMEOUT_MS = 15_000;

/**
 * The three transport setups every behaviour is run on. `transports: undefined` leaves the
 * client at its default (HTTP long-polling first, then an upgrade to WebSocket).
 */
export const TRANSPORT_SETUPS = [
    { name: 'polling', transports: ['polling'], raw: 'polling' },
    { name: 'websocket', transports: ['websocket'], raw: 'websocket' },
    { name: 'polling+upgrade (default)', transports: undefined, raw: 'upgrade' },
];

/** socket.io-client Manager options for a setup: no reconnection, no shared Manager cache. */
export function clientOptions(setup, extra = {}) {
    const options = { path: SIO_PATH, reconnection: false, forceNew: true, timeout: WAIT_MS, ...extra };
    if (setup.transports) {
        options.transports = setup.transports;
    }
    return options;
}

/** Closes every socket of a Manager and its Engine.IO connection. */
export function closeManager(manager) {
    for (const socket of Object.values(manager.nsps ?? {})) {
        socket.disconnect();
    }
    manager.engine?.close();
}

/** Attaches an EventLog as `socket.log` and a list of 'disconnect' reasons as `socket.disconnects`. */
function withLog(socket) {
    if (!socket.log) {
        socket.log = new EventLog(socket);
        socket.disconnects = [];
        socket.on('disconnect', (reason) => socket.disconnects.push(reason));
    }
    return socket;
}

/** Waits for 'connect' on a socket.io-client socket; rejects on 'connect_error' or timeout. */
export async function waitConnected(socket, timeout = WAIT_MS) {
    if (socket.connected) {
        return socket;
    }
    await waitEvent(socket, 'connect', timeout, { failOn: ['connect_error', 'disconnect'] });
    return socket;
}

/**
 * Creates a socket.io-client socket on namespace `nsp` (own Manager, no reconnection) and waits
 * until it is connected. `socket.log` records every event it receives (attached before the
 * connection, so the server's `auth` event on connect is kept). With `t`, the socket and its
 * connection are closed in t.after().
 */
export async function connectClient(server, setup, { nsp = '/', auth, options = {}, t, timeout = WAIT_MS } = {}) {
    const socket = createClient(server, setup, { nsp, auth, options });
    t?.after(() => closeManager(socket.io));
    try {
        await waitConnected(socket, timeout);
    } catch (err) {
        closeManager(socket.io);
        throw err;
    }
    return socket;
}

/** Like connectClient() but does not wait. */
export function createClient(server, setup, { nsp = '/', auth, options = {} } = {}) {
    const opts = clientOptions(setup, options);
    if (auth !== undefined) {
        opts.auth = auth;
    }
    return withLog(io(server.url + (nsp === '/' ? '' : nsp), opts));
}

/** A Manager (one Engine.IO connection) for multiplexing namespaces; closed in t.after(). */
export function createManager(server, setup, { options = {}, t } = {}) {
    const manager = new Manager(server.url, clientOptions(setup, options));
    t?.after(() => closeManager(manager));
    return manager;
}

/** A socket of `manager` on `nsp`, with `socket.log`; does not wait for the connection. */
export function managerSocket(manager, nsp, { auth } = {}) {
    return withLog(manager.socket(nsp, auth === undefined ? {} : { auth }));
}

/**
 * A raw engine.io-client Socket on the Socket.IO path (it never sends a Socket.IO CONNECT
 * unless the test does). Resolves once open; closed in t.after().
 */
export async function connectEngine(server, setup, { options = {}, t, timeout = WAIT_MS } = {}) {
    const opts = { path: SIO_PATH, ...options };
    if (setup.transports) {
        opts.transports = setup.transports;
    }
    const socket = new EngineSocket(server.url, opts);
    socket.closeEvents = [];
    socket.on('close', (reason, description) => socket.closeEvents.push({ reason, description, at: Date.now() }));
    t?.after(() => socket.close());
    await waitEvent(socket, 'open', timeout, { failOn: ['error', 'close'] });
    return socket;
}

/**
 * Waits until the default setup's client moved to WebSocket (no-op for the others), so that a
 * test of the upgrade setup really exercises both transports.
 */
export async function waitUpgraded(socket, timeout = WAIT_MS) {
    const engine = socket.io.engine;
    if (engine.transport.name === 'websocket' || !engine.upgrades?.includes?.('websocket')) {
        return;
    }
    await waitEvent(engine, 'upgrade', timeout, { failOn: ['upgradeError', 'close'] });
}

/**
 * Emits `event` with `args` and an acknowledgement callback; resolves with ALL the ack
 * arguments (emitWithAck() only gives the first), rejects if no ack came within `ms`.
 */
export function emitAck(socket, event, args = [], ms = WAIT_MS) {
    return new Promise((resolve, reject) => {
        socket.timeout(ms).emit(event, ...args, (err, ...ackArgs) => {
            if (err) {
                reject(new Error(`no ack for '${event}' within ${ms} ms`));
            } else {
                resolve(ackArgs);
            }
        });
    });
}

/** Deep copy of `value` with every ArrayBuffer / typed array / DataView turned into a Buffer. */
export function normalizeBinary(value) {
    if (Buffer.isBuffer(value)) {
        return value;
    }
    if (value instanceof ArrayBuffer) {
        return Buffer.from(value);
    }
    if (ArrayBuffer.isView(value)) {
        return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
    if (Array.isArray(value)) {
        return value.map(normalizeBinary);
    }
    if (value !== null && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeBinary(v)]));
    }
    return value;
}

/**
 * Every event a socket.io-client socket receives (via onAny), queued per event name. Entries are
 * the argument arrays (binary normalised to Buffers).
 */
export class EventLog {
    constructor(socket) {
        this.queues = new Map();
        this.counts = new Map();
        this.waiters = new Map();
        this.order = [];
        socket.onAny((event, ...args) => {
            const entry = normalizeBinary(args);
            this.order.push(event);
            this.counts.set(event, (this.counts.get(event) ?? 0) + 1);
            this.#queue(event).push(entry);
            this.#check(event);
        });
    }

    #queue(event) {
        if (!this.queues.has(event)) {
            this.queues.set(event, []);
        }
        return this.queues.get(event);
    }

    #check(event) {
        const waiter = this.waiters.get(event);
        const queue = this.#queue(event);
        if (waiter && queue.length >= waiter.n) {
            this.waiters.delete(event);
            waiter.resolve(queue.splice(0, waiter.n));
        }
    }

    /** How many `event`s arrived in total (taken or not). */
    count(event) {
        return this.counts.get(event) ?? 0;
    }

    /** The `event`s received and not taken yet (argument arrays); does not remove them. */
    pending(event) {
        return [...this.#queue(event)];
    }

    /** Resolves with the next `n` `event`s (argument arrays, removed from the queue). */
    take(event, n, ms = WAIT_MS) {
        if (this.waiters.has(event)) {
            throw new Error(`EventLog.take('${event}') is already waiting`);
        }
        const got = new Promise((resolve) => {
            this.waiters.set(event, { n, resolve });
            this.#check(event);
        });
        return withTimeout(got, ms, `${n} '${event}' event(s) (got ${this.#queue(event).length})`)
            .finally(() => this.waiters.delete(event));
    }

    /** Resolves with the arguments of the next `event`. */
    async next(event, ms = WAIT_MS) {
        const [args] = await this.take(event, 1, ms);
        return args;
    }
}

// ---------------------------------------------------------------------------------------------
// Raw Engine.IO v4 + Socket.IO v5 sessions.

const SEPARATOR = '\x1e';

function sioQuery(query) {
    return `${SIO_PATH}?${new URLSearchParams({ EIO: '4', ...query })}`;
}

/** One HTTP request on a fresh connection; aborted by `signal` or after `timeout` ms. */
function httpRequest(server, { method = 'GET', path, body, timeout = WAIT_MS, signal } = {}) {
    return new Promise((resolve, reject) => {
        const headers = {};
        if (body !== undefined) {
            headers['Content-Type'] = 'text/plain;charset=UTF-8';
            headers['Content-Length'] = Buffer.byteLength(body);
        }
        const req = http.request({
            host: server.host, port: server.port, method, path, headers, agent: false, signal,
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                clearTimeout(timer);
                resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') });
            });
            res.on('error', (err) => { clearTimeout(timer); reject(err); });
        });
        const timer = setTimeout(() => req.destroy(new Error(`timed out after ${timeout} ms: ${method} ${path}`)),
            timeout);
        req.on('error', (err) => { clearTimeout(timer); reject(err); });
        req.end(body);
    });
}

/** Engine.IO packets of a polling payload: strings ("4abc", "2", ...) and Buffers ("b..."). */
function decodePollingPayload(text) {
    if (text === '') {
        return [];
    }
    return text.split(SEPARATOR).map((p) => (p[0] === 'b' ? Buffer.from(p.slice(1), 'base64') : p));
}

/**
 * An Engine.IO + Socket.IO session spoken by hand. `mode` is 'websocket', 'polling' or
 * 'upgrade' (opened over polling, upgraded to WebSocket by connected()).
 *
 * - `messages` is an Inbox of the Engine.IO messages received: strings (the Socket.IO packet,
 *   without the Engine.IO "4") and Buffers (binary attachments);
 * - pings are answered unless `autoPong` is false (`pings` counts them);
 * - `closed` resolves with {how, at} when the server closed the session (WebSocket closed, close
 *   packet or HTTP error on a poll), `isClosed` tells whether it happened.
 */
export class RawSio {
    constructor(server, mode, { autoPong = true } = {}) {
        if (server.secure) {
            throw new Error('RawSio speaks plain HTTP / WebSocket only');
        }
        this.server = server;
        this.mode = mode;
        this.autoPong = autoPong;
        this.transport = mode === 'websocket' ? 'websocket' : 'polling';
        this.events = new EventEmitter();
        this.messages = new Inbox(this.events, 'message');
        this.pings = 0;
        this.sid = null;
        this.isClosed = false;
        this.stopped = false;
        this.pollAbort = new AbortController();
        this.polling = null;
        this.ws = null;
        this.closed = new Promise((resolve) => { this.resolveClosed = resolve; });
        this.opened = new Promise((resolve) => { this.resolveOpened = resolve; });
    }

    /** Opens the Engine.IO session; resolves with the session once the open packet arrived. */
    static async open(server, mode, { autoPong = true, t, timeout = WAIT_MS } = {}) {
        const raw = new RawSio(server, mode, { autoPong });
        t?.after(() => raw.close());
        if (mode === 'websocket') {
            raw.ws = await raw.#openWebSocket({}, timeout);
        } else {
            const res = await httpRequest(server, { path: sioQuery({ transport: 'polling' }), timeout });
            if (res.status !== 200) {
                throw new Error(`polling handshake: HTTP ${res.status} ${res.text}`);
            }
            for (const p of decodePollingPayload(res.text)) {
                raw.#onPacket(p);
            }
            if (!raw.sid) {
                throw new Error(`polling handshake without an open packet: ${JSON.stringify(res.text)}`);
            }
            raw.polling = raw.#pollLoop();
        }
        raw.open = await withTimeout(raw.opened, timeout, 'Engine.IO open packet');
        return raw;
    }

    /**
     * Opens a session, joins namespace "/" (CONNECT, waits for the CONNECT answer and the `auth`
     * event) and, in 'upgrade' mode, then upgrades it to WebSocket.
     */
    static async connected(server, mode, options = {}) {
        const raw = await RawSio.open(server, mode, options);
        await raw.connect('/', options.timeout);
        if (mode === 'upgrade') {
            await raw.upgrade(options.timeout);
        }
        return raw;
    }

    async #openWebSocket(query, timeout) {
        const url = `ws://${this.server.host}:${this.server.port}${sioQuery({ transport: 'websocket', ...query })}`;
        const ws = new WebSocket(url);
        ws.on('message', (data, isBinary) => this.#onPacket(isBinary ? Buffer.from(data) : data.toString('utf8')));
        ws.on('error', () => { /* reported through 'close' or the open failure */ });
        const opened = new Promise((resolve, reject) => {
            ws.once('open', resolve);
            ws.once('unexpected-response', (req, res) => {
                req.destroy();
                reject(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`));
            });
            ws.once('error', reject);
        });
        try {
            await withTimeout(opened, timeout, `WebSocket open ${url}`);
        } catch (err) {
            ws.terminate();
            throw err;
        }
        ws.on('close', (code, reason) => {
            if (this.ws === ws) {
                this.#markClosed(`WebSocket closed (code ${code}${reason.length ? `, ${reason}` : ''})`);
            }
        });
        return ws;
    }

    #onPacket(p) {
        if (Buffer.isBuffer(p)) {
            this.events.emit('message', p);
            return;
        }
        switch (p[0]) {
        case '0': {
            const open = JSON.parse(p.slice(1));
            this.sid ??= open.sid;
            this.resolveOpened(open);
            break;
        }
        case '1':
            this.#markClosed('close packet');
            break;
        case '2':
            this.pings++;
            this.events.emit('ping');
            if (this.autoPong && !this.isClosed) {
                this.sendEngine('3').catch(() => { /* the session may be going away */ });
            }
            break;
        case '3':
            this.events.emit('pong', p.slice(1));
            break;
        case '4':
            this.events.emit('message', p.slice(1));
            break;
        default:
            break; // noop ("6") and anything else
        }
    }

    #markClosed(how) {
        if (!this.isClosed) {
            this.isClosed = true;
            this.resolveClosed({ how, at: Date.now() });
        }
    }

    async #pollLoop() {
        while (!this.stopped && !this.isClosed) {
            let res;
            try {
                res = await httpRequest(this.server, {
                    path: sioQuery({ transport: 'polling', sid: this.sid ?? '' }),
                    timeout: 120_000,
                    signal: this.pollAbort.signal,
                });
            } catch (err) {
                if (!this.stopped) {
                    this.#markClosed(`poll failed: ${err.message}`);
                }
                return;
            }
            if (res.status !== 200) {
                this.#markClosed(`poll answered HTTP ${res.status} ${res.text}`);
                return;
            }
            for (const p of decodePollingPayload(res.text)) {
                this.#onPacket(p);
            }
        }
    }

    /** Sends Engine.IO packets as they are ("40", "3", "5", ...): strings only. */
    async sendEngine(...packets) {
        if (this.transport === 'websocket') {
            for (const p of packets) {
                this.ws.send(p);
            }
            return;
        }
        const res = await httpRequest(this.server, {
            method: 'POST', path: sioQuery({ transport: 'polling', sid: this.sid }), body: packets.join(SEPARATOR),
        });
        if (res.status !== 200) {
            this.#markClosed(`POST answered HTTP ${res.status} ${res.text}`);
        }
        return res;
    }

    /**
     * Sends Engine.IO messages: a string is a Socket.IO packet (sent as "4" + string), a Buffer a
     * binary message (a binary frame, or "b" + base64 in a polling payload). Over polling, all
     * of them go in one POST.
     */
    async send(...items) {
        if (this.transport === 'websocket') {
            for (const item of items) {
                if (Buffer.isBuffer(item)) {
                    this.ws.send(item, { binary: true });
                } else {
                    this.ws.send(`4${item}`);
                }
            }
            return undefined;
        }
        return this.sendEngine(...items.map((item) => (Buffer.isBuffer(item) ? `b${item.toString('base64')}` : `4${item}`)));
    }

    /** The next Engine.IO message: a Socket.IO packet (string) or a binary attachment (Buffer). */
    async next(ms = WAIT_MS, what = 'Socket.IO packet') {
        return this.messages.next(ms, what);
    }

    /**
     * Joins namespace `nsp` ("40" or "40/nsp,"), resolves with the CONNECT answer's payload
     * ({sid}) once the answer and the `auth` event arrived.
     */
    async connect(nsp = '/', ms = WAIT_MS, auth) {
        const prefix = nsp === '/' ? '' : `${nsp},`;
        await this.send(`0${prefix}${auth === undefined ? '' : JSON.stringify(auth)}`);
        const answer = await this.next(ms, `CONNECT answer for ${nsp}`);
        if (typeof answer !== 'string' || !answer.startsWith(`0${prefix}`)) {
            throw new Error(`expected a CONNECT answer for ${nsp}, got ${JSON.stringify(String(answer))}`);
        }
        const payload = JSON.parse(answer.slice(1 + prefix.length));
        const authEvent = await this.next(ms, `auth event for ${nsp}`);
        if (typeof authEvent !== 'string' || !authEvent.startsWith(`2${prefix}["auth",`)) {
            throw new Error(`expected the auth event for ${nsp}, got ${JSON.stringify(String(authEvent))}`);
        }
        return payload;
    }

    /** Upgrades a polling session to WebSocket: probe, wait for the poll to be released, "5". */
    async upgrade(ms = WAIT_MS) {
        if (this.transport !== 'polling') {
            throw new Error('upgrade() needs a polling session');
        }
        const ws = await this.#openWebSocket({ sid: this.sid }, ms);
        const probe = new Promise((resolve, reject) => {
            ws.on('message', (data, isBinary) => {
                if (!isBinary && data.toString('utf8') === '3probe') {
                    resolve();
                }
            });
            ws.once('close', () => reject(new Error('WebSocket closed during the upgrade probe')));
        });
        // The "3probe" answer reaches #onPacket too, which reports "3" packets as 'pong' events
        // only, never as messages.
        ws.send('2probe');
        await withTimeout(probe, ms, '3probe');
        this.stopped = true;
        // The server releases the pending poll (noop) once it got the probe; wait for it.
        if (this.polling) {
            await withTimeout(this.polling, ms, 'the pending poll to be released during the upgrade');
        }
        this.transport = 'websocket';
        this.ws = ws;
        ws.send('5');
    }

    /** Resolves with {how, at} once the server closed the session, or null after `ms`. */
    async waitClosed(ms = WAIT_MS) {
        let timer;
        const res = await Promise.race([
            this.closed,
            new Promise((resolve) => { timer = setTimeout(() => resolve(null), ms); }),
        ]);
        clearTimeout(timer);
        return res;
    }

    /** Ends the session on the client side (no assertions). */
    close() {
        this.stopped = true;
        this.pollAbort.abort();
        this.ws?.terminate();
    }
}
