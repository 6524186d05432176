// Raw Engine.IO v4 over HTTP long-polling and WebSocket, without engine.io-client, for the
// tests that need to see (or send) exactly what is on the wire.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import WebSocket from 'ws';
import { Inbox, withTimeout } from './util.mjs';

export const EIO_PATH = '/engine.io/';
export const SEPARATOR = '\x1e';
const REQUEST_TIMEOUT_MS = 5_000;

/** Path + query string of an Engine.IO request; `query` values of undefined are left out. */
export function eioPath(query = {}) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ EIO: '4', transport: 'polling', ...query })) {
        if (v !== undefined) {
            q.set(k, String(v));
        }
    }
    return `${EIO_PATH}?${q}`;
}

/**
 * One HTTP request, on a fresh connection unless an `agent` is given. Resolves with
 * {status, headers, body (Buffer), text, reusedSocket}, rejects on a network error or after
 * `timeout` ms.
 *
 * `contentLength` overrides the Content-Length header; with `writeBody: false` the body is not
 * sent at all (to see whether the server answers before reading it).
 */
export function request(server, {
    method = 'GET', path = eioPath(), headers = {}, body, timeout = REQUEST_TIMEOUT_MS,
    contentLength, writeBody = true, agent = false,
} = {}) {
    const mod = server.secure ? https : http;
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    const allHeaders = { ...headers };
    if (payload !== undefined || contentLength !== undefined) {
        allHeaders['Content-Length'] = contentLength ?? payload.length;
        if (!Object.keys(allHeaders).some((h) => h.toLowerCase() === 'content-type')) {
            allHeaders['Content-Type'] = 'text/plain;charset=UTF-8';
        }
    }
    let req;
    const done = new Promise((resolve, reject) => {
        req = mod.request({
            host: server.host,
            port: server.port,
            method,
            path,
            headers: allHeaders,
            agent,
            rejectUnauthorized: false,
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const buf = Buffer.concat(chunks);
                resolve({
                    status: res.statusCode, headers: res.headers, body: buf, text: buf.toString('utf8'),
                    reusedSocket: req.reusedSocket,
                });
            });
            res.on('error', reject);
        });
        req.on('error', reject);
        if (payload !== undefined && writeBody) {
            req.end(payload);
        } else if (writeBody) {
            req.end();
        } else {
            req.flushHeaders();
        }
    });
    return withTimeout(done, timeout, `${method} ${path}`).catch((err) => {
        req.destroy();
        throw err;
    });
}

/** Splits a polling payload into packets: {type, data} with type the packet type digit or 'b'. */
export function decodePayload(text) {
    if (text === '') {
        return [];
    }
    return text.split(SEPARATOR).map((p) => {
        if (p[0] === 'b') {
            return { type: 'b', data: Buffer.from(p.slice(1), 'base64'), raw: p };
        }
        return { type: p[0], data: p.slice(1), raw: p };
    });
}

/** Asserts nothing: parses the JSON error body of a 4xx answer, or returns null if it isn't JSON. */
export function errorBody(res) {
    try {
        return JSON.parse(res.text);
    } catch {
        return null;
    }
}

/**
 * GET handshake over polling. Resolves with {sid, open (the parsed open packet), res}.
 * Throws if the answer is not 200 + an open packet.
 */
export async function handshake(server, { headers = {}, query = {} } = {}) {
    const res = await request(server, { path: eioPath(query), headers });
    if (res.status !== 200 || res.text[0] !== '0') {
        throw new Error(`handshake failed: HTTP ${res.status} ${JSON.stringify(res.text)}`);
    }
    const open = JSON.parse(res.text.slice(1).split(SEPARATOR)[0]);
    return { sid: open.sid, open, res };
}

/** GET on a session: resolves with {res, packets}. */
export async function poll(server, sid, { timeout = REQUEST_TIMEOUT_MS, headers = {} } = {}) {
    const res = await request(server, { path: eioPath({ sid }), headers, timeout });
    return { res, packets: res.status === 200 ? decodePayload(res.text) : [] };
}

/** POST on a session. */
export function post(server, sid, body, { headers = {}, timeout = REQUEST_TIMEOUT_MS } = {}) {
    return request(server, { method: 'POST', path: eioPath({ sid }), body, headers, timeout });
}

/**
 * Polls until `count` message packets ('4' or 'b') arrived; other packets (noop, ping) are
 * skipped (pings are not answered). Resolves with the message packets.
 */
export async function pollMessages(server, sid, count, { timeout = REQUEST_TIMEOUT_MS } = {}) {
    const deadline = Date.now() + timeout;
    const messages = [];
    while (messages.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) {
            throw new Error(`timed out: got ${messages.length} of ${count} messages by polling`);
        }
        const { res, packets } = await poll(server, sid, { timeout: left });
        if (res.status !== 200) {
            throw new Error(`poll answered HTTP ${res.status} ${JSON.stringify(res.text)} `
                            + `after ${messages.length} of ${count} messages`);
        }
        messages.push(...packets.filter((p) => p.type === '4' || p.type === 'b'));
    }
    return messages;
}

/** The ws:// or wss:// URL of an Engine.IO WebSocket request. */
export function wsUrl(server, query = {}) {
    const scheme = server.secure ? 'wss' : 'ws';
    return `${scheme}://${server.host}:${server.port}${eioPath({ transport: 'websocket', ...query })}`;
}

/**
 * Opens a raw WebSocket; resolves with {ws, inbox} once open. inbox collects
 * {data, isBinary, text} for each message; `ws.closed` resolves with {code, reason} on close.
 */
export async function openWebSocket(server, query = {}, { headers = {}, timeout = REQUEST_TIMEOUT_MS } = {}) {
    const ws = new WebSocket(wsUrl(server, query), { headers, rejectUnauthorized: false });
    const inbox = new Inbox(ws, 'packet');
    ws.on('message', (data, isBinary) => {
        ws.emit('packet', { data, isBinary, text: isBinary ? null : data.toString('utf8') });
    });
    ws.closed = new Promise((resolve) => {
        ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), at: Date.now() }));
    });
    ws.on('error', () => { /* reported through 'close' or the open failure */ });
    await withTimeout(new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('unexpected-response', (req, res) => {
            reject(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`));
            req.destroy();
        });
        ws.once('error', reject);
    }), timeout, `WebSocket open ${wsUrl(server, query)}`);
    return { ws, inbox };
}

/**
 * Tries a WebSocket upgrade that is expected to be refused. Resolves with
 * {upgraded: false, status, headers, text} for an HTTP answer, or {upgraded: true} if the
 * server accepted the upgrade (the socket is then closed).
 */
export function tryWebSocketUpgrade(server, query = {}, { headers = {}, timeout = REQUEST_TIMEOUT_MS } = {}) {
    const ws = new WebSocket(wsUrl(server, query), { headers, rejectUnauthorized: false });
    const done = new Promise((resolve, reject) => {
        ws.once('open', () => {
            ws.terminate();
            resolve({ upgraded: true });
        });
        ws.once('unexpected-response', (req, res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            const finish = () => resolve({
                upgraded: false, status: res.statusCode, headers: res.headers,
                text: Buffer.concat(chunks).toString('utf8'),
            });
            res.on('end', finish);
            res.on('close', finish);
            res.on('error', finish);
        });
        ws.once('error', reject);
    });
    return withTimeout(done, timeout, `WebSocket upgrade ${wsUrl(server, query)}`).finally(() => {
        ws.terminate();
    });
}

/**
 * Writes `data` on a plain TCP connection in `pieces` writes `gap` ms apart and resolves with
 * everything the server sent until it closed the connection (or `timeout` ms passed).
 */
export function rawExchange(server, data, { pieces = 1, gap = 5, timeout = 3000 } = {}) {
    return new Promise((resolve) => {
        const chunks = [];
        const sock = net.connect(server.port, server.host, async () => {
            const buf = Buffer.from(data);
            const step = Math.max(1, Math.ceil(buf.length / pieces));
            for (let i = 0; i < buf.length && !sock.destroyed; i += step) {
                sock.write(buf.subarray(i, i + step));
                if (gap) {
                    await new Promise((r) => setTimeout(r, gap));
                }
            }
        });
        const finish = (how) => {
            clearTimeout(timer);
            sock.destroy();
            resolve({ how, text: Buffer.concat(chunks).toString('utf8') });
        };
        const timer = setTimeout(() => finish('timeout'), timeout);
        sock.on('data', (d) => chunks.push(d));
        sock.on('close', () => finish('closed'));
        sock.on('error', (err) => finish(`error: ${err.message}`));
    });
}
