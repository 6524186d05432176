// Node's side of the cluster tests (cluster*.test.mjs): a socket.io 4.8 server on
// @socket.io/redis-adapter 8.3 (classic variant, node-redis v4 clients), running in the test
// process, with the same client events as interop_server's cluster mode (addClusterHandlers()
// and the few addSocketIoHandlers() events the cluster tests use), same semantics and same ack
// shapes, so that a test can drive either server the same way. On namespace "/":
//
// - join (room) -> ack true; leave (room) -> ack true;
// - to-room (room, event, ...args): socket.to(room): the room, the sender excluded;
// - except-room (room, event, ...args): every socket of "/" outside the room (sender included);
// - to-socket (sid, event, ...args): to that socket id, on whatever server it is;
// - sockets-join / sockets-leave (room or null, target) -> ack true;
// - disconnect-sockets (room or null, close) -> ack true, sent before the disconnection;
// - fetch-sockets (room or null) -> ack {sockets: [{id, rooms, data, local, handshake}],
//   error: null | message};
// - set-data (key, value) -> ack true: socket.data[key] = value;
// - server-side-emit (event, ...args) -> ack true, false when Node refused it;
// - server-side-emit-with-ack (event, ...args) -> ack {timedOut, responses};
// - emit-with-ack-to (room or null, event, ...args) -> ack {timedOut, responses} (5 s):
//   responses are the first ack argument of each client, as Node's adapter carries them;
// - volatile-to (room, event, ...args);
// - server-id -> ack with the id given to startNodeClusterServer().
// Node only (interop_server has no such event): all-rooms -> ack with Node's
// adapter.allRooms() (request type 1, every server answers), or {error: message}.
// Every server-side emit from another server is re-emitted to this server's own clients as
// "sse-received" (event, ...args); "ping-sse" is also acknowledged with "pong" (Node's
// serverSideEmit carries only the first argument of an answer). Connecting sockets get an
// "auth" event with their auth payload, as interop_server sends.
//
// One server = one pub and one sub Redis connection: Node counts the servers of a cluster with
// PUBSUB NUMSUB on "socket.io-request#/#", so there must be one subscriber per server.
//
// createEmitterClient() wraps @socket.io/redis-emitter 5.1 on its own node-redis client.

import { createRequire } from 'node:module';
import http from 'node:http';

const require = createRequire(import.meta.url);
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { Emitter } = require('@socket.io/redis-emitter');
const { createClient } = require('redis');

const SUBSCRIBE_TIMEOUT_MS = 5_000;
const ACK_TIMEOUT_MS = 5_000;

function redisUrl(address) {
    return address.startsWith('redis://') ? address : `redis://${address}`;
}

/** A connected node-redis v4 client that never throws an unhandled 'error' (it reconnects). */
async function connectRedis(url, name) {
    const client = createClient({ url, name });
    client.errors = [];
    client.on('error', (err) => {
        client.errors.push(err);
    });
    await client.connect();
    return client;
}

async function closeRedis(client) {
    if (!client?.isOpen) {
        return;
    }
    try {
        await client.quit();
    } catch {
        try {
            await client.disconnect();
        } catch {
            // already gone
        }
    }
}

/** What fetch-sockets reports of a Socket (local) or RemoteSocket. */
function describeSocket(socket, nsp) {
    return {
        id: socket.id,
        rooms: [...socket.rooms],
        data: socket.data,
        local: nsp.sockets.get(socket.id) === socket,
        handshake: socket.handshake,
    };
}

/**
 * Resolves once the adapter of `nsp` subscribed to its channels: its own response channel
 * (socket.io-response#NSP#UID#) is the last one it subscribes to, on the same connection as the
 * others, so once Redis counts a subscriber there, the other subscriptions are in place too.
 */
async function waitAdapterSubscribed(pubClient, nsp) {
    const channel = nsp.adapter.specificResponseChannel;
    const deadline = Date.now() + SUBSCRIBE_TIMEOUT_MS;
    for (;;) {
        const counts = await pubClient.pubSubNumSub(channel);
        if (Number(counts[channel]) >= 1) {
            return;
        }
        if (Date.now() > deadline) {
            throw new Error(`the redis adapter of ${nsp.name} did not subscribe within ${SUBSCRIBE_TIMEOUT_MS} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}

function addClusterHandlers(io, serverId) {
    const root = io.of('/');
    const select = (room) => (room === null || room === undefined || room === '' ? io : io.in(String(room)));
    const ackOf = (args) => (typeof args[args.length - 1] === 'function' ? args.pop() : () => {});

    for (const nsp of [root, io.of('/custom')]) {
        nsp.on('connection', (socket) => socket.emit('auth', socket.handshake.auth ?? {}));
    }

    root.on('connection', (socket) => {
        socket.on('join', (room, cb) => {
            socket.join(String(room));
            cb?.(true);
        });
        socket.on('leave', (room, cb) => {
            socket.leave(String(room));
            cb?.(true);
        });
        socket.on('to-room', (room, event, ...args) => {
            ackOf(args);
            socket.to(String(room)).emit(event, ...args);
        });
        socket.on('except-room', (room, event, ...args) => {
            ackOf(args);
            io.except(String(room)).emit(event, ...args);
        });
        socket.on('to-socket', (sid, event, ...args) => {
            ackOf(args);
            io.to(String(sid)).emit(event, ...args);
        });
        socket.on('sockets-join', (room, target, cb) => {
            select(room).socketsJoin(String(target));
            cb?.(true);
        });
        socket.on('sockets-leave', (room, target, cb) => {
            select(room).socketsLeave(String(target));
            cb?.(true);
        });
        socket.on('disconnect-sockets', (room, close, cb) => {
            cb?.(true);
            select(room).disconnectSockets(Boolean(close));
        });
        socket.on('fetch-sockets', async (room, cb) => {
            try {
                const sockets = await select(room).fetchSockets();
                cb?.({ sockets: sockets.map((s) => describeSocket(s, root)), error: null });
            } catch (err) {
                cb?.({ sockets: [], error: err.message });
            }
        });
        socket.on('set-data', (key, value, cb) => {
            socket.data[String(key)] = value;
            cb?.(true);
        });
        socket.on('server-side-emit', (event, ...args) => {
            const cb = ackOf(args);
            try {
                cb(io.serverSideEmit(event, ...args));
            } catch {
                cb(false);
            }
        });
        socket.on('server-side-emit-with-ack', async (event, ...args) => {
            const cb = ackOf(args);
            try {
                // The adapter's requestsTimeout (5 s) bounds it.
                const responses = await io.serverSideEmitWithAck(event, ...args);
                cb({ timedOut: false, responses });
            } catch (err) {
                cb({ timedOut: true, responses: err.responses ?? [] });
            }
        });
        socket.on('emit-with-ack-to', async (room, event, ...args) => {
            const cb = ackOf(args);
            try {
                const responses = await select(room).timeout(ACK_TIMEOUT_MS).emitWithAck(event, ...args);
                cb({ timedOut: false, responses });
            } catch (err) {
                cb({ timedOut: true, responses: err.responses ?? [] });
            }
        });
        socket.on('volatile-to', (room, event, ...args) => {
            ackOf(args);
            io.in(String(room)).volatile.emit(event, ...args);
        });
        socket.on('server-id', (cb) => cb?.(serverId));
        socket.on('all-rooms', async (cb) => {
            try {
                cb?.([...await root.adapter.allRooms()]);
            } catch (err) {
                cb?.({ error: err.message });
            }
        });
    });

    // Server-side emits from other servers: Node hands them to the namespace's own listeners
    // (_onServerSideEmit -> nsp.emit(event, ...args[, ack])). Every one is passed on to this
    // server's clients, whatever its name; "ping-sse" is answered.
    const onServerSideEmit = root._onServerSideEmit.bind(root);
    root._onServerSideEmit = (args) => {
        onServerSideEmit(args);
        io.local.emit('sse-received', ...args.filter((a) => typeof a !== 'function'));
    };
    root.on('ping-sse', (...args) => {
        const cb = args.pop();
        if (typeof cb === 'function') {
            cb('pong');
        }
    });
}

/**
 * Starts a Node socket.io server on the Redis adapter, in this process, on 127.0.0.1 (any free
 * port). Resolves once its adapters ("/" and "/custom") subscribed.
 *
 * @param {string} redisAddress "HOST:PORT" or "redis://HOST:PORT"
 * @param {object} [options]
 * @param {import('node:test').TestContext} [options.t] when given, closed in t.after()
 * @param {string} [options.serverId] what the server-id event answers (default "node")
 * @returns {Promise<{url: string, port: number, host: string, serverId: string, io: import('socket.io').Server,
 *          pubClient: object, subClient: object, close: () => Promise<void>}>}
 */
export async function startNodeClusterServer(redisAddress, { t, serverId = 'node' } = {}) {
    const url = redisUrl(redisAddress);
    const pubClient = await connectRedis(url, `${serverId}-pub`);
    let subClient;
    try {
        subClient = pubClient.duplicate({ name: `${serverId}-sub` });
        subClient.errors = [];
        subClient.on('error', (err) => subClient.errors.push(err));
        await subClient.connect();
    } catch (err) {
        await closeRedis(pubClient);
        throw err;
    }

    const httpServer = http.createServer();
    const io = new Server(httpServer, { adapter: createAdapter(pubClient, subClient) });
    addClusterHandlers(io, serverId);

    let closed = false;
    const close = async () => {
        if (closed) {
            return;
        }
        closed = true;
        // io.close() disconnects this server's own sockets (io.disconnectSockets() would
        // disconnect those of the whole cluster).
        await new Promise((resolve) => {
            io.close(() => resolve());
        });
        await closeRedis(subClient);
        await closeRedis(pubClient);
    };

    try {
        await Promise.all([io.of('/'), io.of('/custom')].map((nsp) => waitAdapterSubscribed(pubClient, nsp)));
        await new Promise((resolve, reject) => {
            httpServer.once('error', reject);
            httpServer.listen(0, '127.0.0.1', () => {
                httpServer.off('error', reject);
                resolve();
            });
        });
    } catch (err) {
        await close();
        throw err;
    }

    const { port } = httpServer.address();
    const server = {
        url: `http://127.0.0.1:${port}`,
        origin: `http://127.0.0.1:${port}`,
        host: '127.0.0.1',
        port,
        secure: false,
        serverId,
        io,
        pubClient,
        subClient,
        alive: () => !closed,
        close,
    };
    t?.after(close);
    return server;
}

/**
 * An @socket.io/redis-emitter Emitter on its own node-redis client (it publishes only; it never
 * subscribes, so it is not counted as a server).
 *
 * @returns {Promise<{emitter: import('@socket.io/redis-emitter').Emitter, client: object, close: () => Promise<void>}>}
 */
export async function createEmitterClient(redisAddress, { t } = {}) {
    const client = await connectRedis(redisUrl(redisAddress), 'emitter');
    const emitter = new Emitter(client);
    const result = { emitter, client, close: () => closeRedis(client) };
    t?.after(result.close);
    return result;
}
