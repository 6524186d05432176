// The admin instrumentation of a cluster: two interop_server --redis --admin and one Node server
// instrumented by @socket.io/admin-ui, all on one Redis. An admin client on any server sees one
// server_stats row per server id, every server's sockets (all_sockets, socket_connected), and
// its commands act on sockets of the other servers.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { io as ioClient } from 'socket.io-client';
import { createClient as createRedisClient } from 'redis';

import { startRedis, waitSubscribers } from './lib/redis.mjs';
import { startServer } from './lib/server.mjs';
import { connectClient } from './lib/sio.mjs';
import { delay } from './lib/util.mjs';

const require = createRequire(import.meta.url);
const WAIT = 8_000; // Node's admin-ui sends server_stats every 2 s

async function startNodeServer(redisUrl, serverId) {
    const { Server } = require('socket.io');
    const { createAdapter } = require('@socket.io/redis-adapter');
    const { instrument } = require('@socket.io/admin-ui');
    const pubClient = createRedisClient({ url: redisUrl });
    const subClient = pubClient.duplicate();
    pubClient.on('error', () => {});
    subClient.on('error', () => {});
    await Promise.all([pubClient.connect(), subClient.connect()]);
    const httpServer = http.createServer();
    const io = new Server(httpServer, { adapter: createAdapter(pubClient, subClient) });
    instrument(io, { auth: false, serverId, mode: 'development' });
    await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const { port } = httpServer.address();
    return {
        url: `http://127.0.0.1:${port}`,
        close: async () => {
            await new Promise((resolve) => io.close(() => resolve()));
            // admin-ui's stats timer outlives io.close() and would publish on a closed client.
            pubClient.publish = async () => 0;
            await Promise.all([pubClient.quit(), subClient.quit()]).catch(() => {});
        },
    };
}

class AdminClient {
    constructor(url) {
        this.events = [];
        this.socket = ioClient(`${url}/admin`, { transports: ['websocket'], auth: {} });
        this.socket.onAny((event, ...args) => this.events.push({ event, args }));
    }

    async until(check, what, ms = WAIT) {
        const deadline = Date.now() + ms;
        for (;;) {
            const found = check(this.events);
            if (found) {
                return found;
            }
            if (Date.now() > deadline) {
                throw new Error(`timed out waiting for ${what}; got ${[...new Set(this.events.map((e) => e.event))]}`);
            }
            await delay(25);
        }
    }

    serverIds() {
        return new Set(this.events.filter((e) => e.event === 'server_stats').map((e) => e.args[0].serverId));
    }
}

describe('admin instrumentation across a Redis cluster', () => {
    let redis;
    let a;
    let b;
    let node;
    const clients = [];
    const admins = [];

    before(async () => {
        redis = await startRedis();
        const flags = ['--redis', redis.address, '--admin'];
        a = await startServer([...flags, '--server-id', 'adm-a']);
        b = await startServer([...flags, '--server-id', 'adm-b']);
        node = await startNodeServer(redis.url, 'adm-node');
        // Node subscribes to a namespace's channels on first use: "/" is used by now.
        await waitSubscribers(redis.port, 3);
    });

    after(async () => {
        for (const c of [...clients, ...admins.map((x) => x.socket)]) {
            c.close();
        }
        await node?.close();
        await a?.close();
        await b?.close();
        await redis?.stop();
    });

    test('one server_stats row per server, seen from every server', async () => {
        const onA = new AdminClient(a.url);
        const onNode = new AdminClient(node.url);
        admins.push(onA, onNode);
        for (const admin of [onA, onNode]) {
            await admin.until((events) => ['adm-a', 'adm-b', 'adm-node'].every((id) => admin.serverIds().has(id)) && events,
                'server_stats of all three servers');
            assert.deepEqual([...admin.serverIds()].sort(), ['adm-a', 'adm-b', 'adm-node']);
        }
    });

    test('all_sockets and socket_connected cover the other servers\' sockets', async () => {
        const onB = await connectClient(b, 'websocket');
        const onNodeUser = ioClient(node.url, { transports: ['websocket'] });
        clients.push(onB, onNodeUser);
        await new Promise((resolve) => onNodeUser.on('connect', resolve));
        // A new admin on A: its all_sockets lists the sockets of B and of the Node server.
        const admin = new AdminClient(a.url);
        admins.push(admin);
        const all = await admin.until((events) => events.find((e) => e.event === 'all_sockets'), 'all_sockets');
        const ids = all.args[0].map((s) => `${s.nsp} ${s.id}`);
        assert.ok(ids.includes(`/ ${onB.id}`), `B's socket in ${ids}`);
        assert.ok(ids.includes(`/ ${onNodeUser.id}`), `Node's socket in ${ids}`);
        const fromNode = all.args[0].find((s) => s.id === onNodeUser.id);
        assert.equal(fromNode.transport, 'websocket', 'Node keeps transport in data._admin');
        assert.equal(fromNode.data._admin, undefined);
        // A socket connecting to B is announced to the admin on A.
        const late = await connectClient(b, 'polling');
        clients.push(late);
        await admin.until((events) => events.find((e) => e.event === 'socket_connected' && e.args[0].id === late.id),
            'socket_connected of a socket on B');
    });

    test('admin commands on A act on the other servers\' sockets', async () => {
        const admin = admins[0];
        const onB = clients[0];
        const onNodeUser = clients[1];
        admin.socket.emit('join', '/', 'picked', onB.id);
        admin.socket.emit('join', '/', 'picked', onNodeUser.id);
        await admin.until((events) => events.find((e) => e.event === 'room_joined' && e.args[1] === 'picked' && e.args[2] === onB.id),
            'room_joined from B');
        await admin.until((events) => events.find((e) => e.event === 'room_joined' && e.args[1] === 'picked' && e.args[2] === onNodeUser.id),
            'room_joined from the Node server');
        const got = [];
        onB.on('from-admin', (x) => got.push(`b:${x}`));
        onNodeUser.on('from-admin', (x) => got.push(`node:${x}`));
        admin.socket.emit('emit', '/', 'picked', 'from-admin', 42);
        const deadline = Date.now() + WAIT;
        while (got.length < 2 && Date.now() < deadline) {
            await delay(20);
        }
        assert.deepEqual(got.sort(), ['b:42', 'node:42']);
        const gone = new Promise((resolve) => onB.once('disconnect', resolve));
        admin.socket.emit('_disconnect', '/', false, onB.id);
        assert.equal(await gone, 'io server disconnect');
    });
});
