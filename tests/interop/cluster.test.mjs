// A mixed Socket.IO cluster on one Redis: two interop_servers (--redis, Node's
// @socket.io/redis-adapter wire format) and one Node socket.io 4.8 server on
// @socket.io/redis-adapter 8.3 (lib/cluster-server.mjs, same client events). Each server has a
// WebSocket and a polling socket.io-client client; every scenario is driven from each of the three
// servers in turn, so every direction is covered: ours -> ours, ours -> Node, Node -> ours.
//
// The client events are interop_server's (see addClusterHandlers() in interop_server.cpp and the
// header of lib/cluster-server.mjs): join, leave, to-room (the sender excluded), except-room,
// to-socket, volatile-to, sockets-join, sockets-leave, disconnect-sockets, fetch-sockets,
// set-data, server-side-emit, server-side-emit-with-ack, emit-with-ack-to.
//
// "Did not receive" / "received once only" is checked after a barrier: the sender's server
// broadcasts a marker to everyone (except-room with a room nobody is in) after the emit under
// test. A server publishes both on its one Redis connection and every server reads them from its
// one subscriber connection, in that order, so a client that got the marker got whatever came
// before it; a further 300 ms covers anything unexpected (a duplicate sent late).
//
// CLUSTER_QSIO_AS_NODE=1 runs Node servers in place of the two interop_servers: a check of the
// tests themselves against the reference implementation.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { startRedis, waitSubscribers } from './lib/redis.mjs';
import { startNodeClusterServer } from './lib/cluster-server.mjs';
import { closeManager, connectClient, emitAck, normalizeBinary } from './lib/sio.mjs';
import { byteRamp, delay, waitEvent } from './lib/util.mjs';

const NODE_ONLY = process.env.CLUSTER_QSIO_AS_NODE === '1';
const WAIT = 5_000; // every single wait
const QUIET_MS = 300; // how long "nothing more arrives" is watched, after a barrier
const NOBODY = '__room-nobody-joins__';

const WS = { name: 'websocket', transports: ['websocket'] };
const POLLING = { name: 'polling', transports: ['polling'] };

async function startMember(redis, serverId) {
    if (NODE_ONLY) {
        return startNodeClusterServer(redis.address, { serverId });
    }
    return startServer(['--redis', redis.address, '--server-id', serverId]);
}

/** The first ack argument of `event`, within WAIT. */
async function ack(client, event, ...args) {
    const [first] = await emitAck(client.socket, event, args, WAIT);
    return first;
}

/** Like ack() with a longer wait, and the time the answer took. */
async function timedAck(client, ms, event, ...args) {
    const started = Date.now();
    const [first] = await emitAck(client.socket, event, args, ms);
    return { answer: first, elapsed: Date.now() - started };
}

/** Polls `check` (async, returns truthy when done) every 50 ms for up to WAIT. */
async function waitUntil(check, what) {
    const deadline = Date.now() + WAIT;
    let last;
    for (;;) {
        last = await check();
        if (last === true) {
            return;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${WAIT} ms: ${what}${last ? ` (last: ${JSON.stringify(last)})` : ''}`);
        }
        await delay(50);
    }
}

describe('Redis cluster: two interop_servers and a Node server', { timeout: 60_000 }, () => {
    let redis;
    const servers = []; // [{name, server}]
    const clients = []; // [{label, server, serverName, socket}]
    let barrierCount = 0;

    before(async () => {
        redis = await startRedis();
        const a = await startMember(redis, 'qsio-a');
        servers.push({ name: NODE_ONLY ? 'node-as-a' : 'qsio-a', server: a });
        const b = await startMember(redis, 'qsio-b');
        servers.push({ name: NODE_ONLY ? 'node-as-b' : 'qsio-b', server: b });
        const n = await startNodeClusterServer(redis.address, { serverId: 'node' });
        servers.push({ name: 'node', server: n });
        // Every server subscribed: Node counts the servers by the subscribers of this channel.
        await waitSubscribers(redis.port, 3);
        for (const { name, server } of servers) {
            for (const setup of [WS, POLLING]) {
                const socket = await connectClient(server, setup, { timeout: WAIT });
                clients.push({ label: `${name}/${setup.name}`, server, serverName: name, socket });
            }
        }
    });

    after(async () => {
        for (const c of clients) {
            closeManager(c.socket.io);
        }
        const errors = [];
        for (const { server } of servers) {
            try {
                await server.close();
            } catch (err) {
                errors.push(err);
            }
        }
        await redis?.stop();
        if (errors.length) {
            throw errors[0];
        }
    });

    const wsOf = (name) => clients.find((c) => c.serverName === name && c.label.endsWith('/websocket'));
    const pollOf = (name) => clients.find((c) => c.serverName === name && c.label.endsWith('/polling'));
    const others = (name) => clients.filter((c) => c.serverName !== name);
    const name0 = () => servers[0].name;

    /**
     * `from` has its server broadcast a marker to every client; resolves once every client got
     * it and QUIET_MS more passed.
     */
    async function barrier(from) {
        const marker = `barrier ${++barrierCount} from ${from.label}`;
        from.socket.emit('except-room', NOBODY, 'barrier', marker);
        await Promise.all(clients.map(async (c) => {
            assert.deepEqual(await c.socket.log.next('barrier', WAIT), [marker], `${c.label} got the barrier`);
        }));
        await delay(QUIET_MS);
    }

    /** Every client in `targets` got `event` once with `args`; nobody else got it (after a barrier from `from`). */
    async function expectExactly(from, targets, event, args) {
        await Promise.all(targets.map(async (c) => {
            assert.deepEqual(normalizeBinary(await c.socket.log.next(event, WAIT)), args,
                `${c.label} got '${event}' from ${from.label}`);
        }));
        await barrier(from);
        for (const c of clients) {
            assert.deepEqual(c.socket.log.pending(event), [],
                `${c.label} got '${event}' from ${from.label} ${targets.includes(c) ? 'more than once' : 'but should not have'}`);
        }
    }

    test('the cluster: every server answers server-id; socket ids are 20 URL-safe characters', async () => {
        for (const c of clients) {
            assert.equal(await ack(c, 'server-id'), NODE_ONLY ? c.serverName.replace('node-as-', 'qsio-') : c.serverName);
        }
        assert.equal(clients.length, 6);
        assert.equal(new Set(clients.map((c) => c.socket.id)).size, 6);
        for (const c of clients) {
            assert.match(c.socket.id, /^[\w-]{20}$/, `${c.label}: a 20-character URL-safe socket id`);
        }
    });

    test('a) a broadcast from each server reaches every client of the cluster exactly once', async () => {
        for (const { name } of servers) {
            for (const from of [wsOf(name), pollOf(name)]) {
                const payload = { from: from.label, list: [1, 'two', null, true, 2.5], nested: { ü: 'ß' } };
                from.socket.emit('except-room', NOBODY, 'to-all', payload);
                await expectExactly(from, clients, 'to-all', [payload]);
            }
        }
    });

    test('g) fetch-sockets from each server lists every socket of the cluster, with data, rooms and handshake', async () => {
        for (const c of clients) {
            assert.equal(await ack(c, 'set-data', 'label', c.label), true);
        }
        // g-room: one client of each server.
        const members = [wsOf(servers[0].name), pollOf(servers[1].name), wsOf(servers[2].name)];
        for (const c of members) {
            assert.equal(await ack(c, 'join', 'g-room'), true);
        }
        const views = new Map();
        for (const { name } of servers) {
            const asker = pollOf(name);
            const answer = await ack(asker, 'fetch-sockets', null);
            assert.equal(answer.error, null, `fetch-sockets from ${name}: no error`);
            assert.equal(answer.sockets.length, clients.length,
                `fetch-sockets from ${name}: ${JSON.stringify(answer.sockets.map((s) => s.id))}`);
            const byId = new Map(answer.sockets.map((s) => [s.id, s]));
            for (const c of clients) {
                const s = byId.get(c.socket.id);
                assert.ok(s, `fetch-sockets from ${name} lists ${c.label} (${c.socket.id})`);
                assert.equal(s.local, c.serverName === name, `${c.label}: local seen from ${name}`);
                // interop_server's catch-all listeners keep counters in the data too.
                assert.equal(s.data?.label, c.label, `${c.label}: data seen from ${name}: ${JSON.stringify(s.data)}`);
                const rooms = [c.socket.id, ...(members.includes(c) ? ['g-room'] : [])];
                assert.deepEqual([...s.rooms].sort(), rooms.sort(), `${c.label}: rooms seen from ${name}`);
                const h = s.handshake;
                assert.equal(typeof h, 'object', `${c.label}: handshake seen from ${name}`);
                assert.equal(h.headers?.host, `127.0.0.1:${c.server.port}`,
                    `${c.label}: the handshake's Host header seen from ${name}: ${JSON.stringify(h)}`);
                assert.equal(h.query?.EIO, '4', `${c.label}: handshake query seen from ${name}`);
                assert.equal(h.query?.transport, c.label.endsWith('/websocket') ? 'websocket' : 'polling');
                assert.equal(typeof h.issued, 'number', `${c.label}: handshake.issued seen from ${name}`);
                assert.equal(h.address, '127.0.0.1', `${c.label}: handshake.address seen from ${name}`);
            }
            const inRoom = await ack(asker, 'fetch-sockets', 'g-room');
            assert.equal(inRoom.error, null);
            assert.deepEqual(inRoom.sockets.map((s) => s.id).sort(), members.map((c) => c.socket.id).sort(),
                `fetch-sockets('g-room') from ${name}`);
            for (const s of inRoom.sockets) {
                const c = clients.find((x) => x.socket.id === s.id);
                assert.equal(s.local, c.serverName === name);
            }
            const empty = await ack(asker, 'fetch-sockets', NOBODY);
            assert.deepEqual(empty, { sockets: [], error: null }, `fetch-sockets of an empty room from ${name}`);
            views.set(name, answer.sockets);
        }
        // A socket looks the same from every server (its own, where it is local, and the others,
        // which got it over Redis): id, rooms and handshake.
        for (const c of clients) {
            const seen = servers.map(({ name }) => {
                const s = views.get(name).find((x) => x.id === c.socket.id);
                return { from: name, id: s.id, rooms: [...s.rooms].sort(), handshake: s.handshake };
            });
            for (const other of seen.slice(1)) {
                assert.deepEqual({ ...other, from: undefined }, { ...seen[0], from: undefined },
                    `${c.label} seen from ${other.from} and from ${seen[0].from}`);
            }
            // Node's handshake.time is Date.toString(); whatever the format, a Node peer can parse it.
            const { time, issued } = seen[0].handshake;
            const parsed = Date.parse(time);
            assert.ok(Number.isFinite(parsed) && Math.abs(parsed - issued) < 2_000,
                `${c.label}: handshake.time ${JSON.stringify(time)} parses to about handshake.issued ${issued}`);
        }
        for (const c of members) {
            assert.equal(await ack(c, 'leave', 'g-room'), true);
        }
    });

    test('g) Node\'s adapter.allRooms() (request type 1) gets the rooms of every server', async () => {
        const joined = [[wsOf(servers[0].name), 'ar-a'], [pollOf(servers[1].name), 'ar-b'], [wsOf(servers[2].name), 'ar-n']];
        for (const [c, room] of joined) {
            assert.equal(await ack(c, 'join', room), true);
        }
        const rooms = await ack(pollOf('node'), 'all-rooms');
        assert.ok(Array.isArray(rooms), `all-rooms: ${JSON.stringify(rooms)}`);
        for (const want of [...joined.map(([, room]) => room), ...clients.map((c) => c.socket.id)]) {
            assert.ok(rooms.includes(want), `allRooms() lists ${want}: ${JSON.stringify(rooms)}`);
        }
        assert.equal(rooms.length, new Set(rooms).size, 'no room twice');
        assert.equal(rooms.length, joined.length + clients.length, `nothing else: ${JSON.stringify(rooms)}`);
        for (const [c, room] of joined) {
            assert.equal(await ack(c, 'leave', room), true);
        }
    });

    test('b) to-room, except-room and to-socket across servers', async () => {
        // Members of room-b: the WebSocket client of each server.
        const members = servers.map(({ name }) => wsOf(name));
        const nonMembers = clients.filter((c) => !members.includes(c));
        for (const c of members) {
            assert.equal(await ack(c, 'join', 'room-b'), true);
        }
        for (const { name } of servers) {
            // From a non-member: every member gets it.
            const from = pollOf(name);
            from.socket.emit('to-room', 'room-b', 'room-msg', { from: from.label }, [1, 2]);
            await expectExactly(from, members, 'room-msg', [{ from: from.label }, [1, 2]]);
            // From a member: the other members (socket.to() excludes the sender).
            const member = wsOf(name);
            member.socket.emit('to-room', 'room-b', 'room-msg', `from member ${member.label}`);
            await expectExactly(member, members.filter((c) => c !== member), 'room-msg', [`from member ${member.label}`]);
            // except-room: everyone outside room-b, the sender included.
            from.socket.emit('except-room', 'room-b', 'ex-msg', from.label);
            await expectExactly(from, nonMembers, 'ex-msg', [from.label]);
            member.socket.emit('except-room', 'room-b', 'ex-msg', member.label);
            await expectExactly(member, nonMembers, 'ex-msg', [member.label]);
        }
        // to-socket: from each server to a socket on each other server.
        for (const from of clients) {
            for (const target of others(from.serverName)) {
                from.socket.emit('to-socket', target.socket.id, 'direct', from.label, target.label);
                await target.socket.log.next('direct', WAIT).then((args) => {
                    assert.deepEqual(args, [from.label, target.label], `${from.label} -> ${target.label}`);
                });
            }
            await barrier(from);
            for (const c of clients) {
                assert.deepEqual(c.socket.log.pending('direct'), [], `${c.label}: no other 'direct' after ${from.label}'s`);
            }
        }
        // After leaving, a former member is not reached any more.
        const leaver = members[1];
        assert.equal(await ack(leaver, 'leave', 'room-b'), true);
        const from = pollOf(servers[2].name);
        from.socket.emit('to-room', 'room-b', 'room-msg', 'after leave');
        await expectExactly(from, members.filter((c) => c !== leaver), 'room-msg', ['after leave']);
        for (const c of members) {
            await ack(c, 'leave', 'room-b');
        }
    });

    test('c) binary nested in objects, broadcast from each server, arrives byte-identical everywhere', async () => {
        let i = 0;
        for (const { name } of servers) {
            for (const from of [wsOf(name), pollOf(name)]) {
                i++;
                const payload = {
                    from: from.label,
                    blob: Buffer.from(byteRamp(300, i)),
                    nested: { list: [Buffer.from([0, 0xff, i]), 'text', { deeper: Buffer.alloc(0) }] },
                };
                from.socket.emit('except-room', NOBODY, 'bin', payload, Buffer.from(`top-level ${i} ü`));
                await expectExactly(from, clients, 'bin', [payload, Buffer.from(`top-level ${i} ü`)]);
            }
        }
        // A room broadcast with binary too (a single room: its own Redis channel).
        const members = [pollOf(servers[0].name), wsOf(servers[1].name), pollOf(servers[2].name)];
        for (const c of members) {
            await ack(c, 'join', 'bin-room');
        }
        for (const { name } of servers) {
            const from = clients.find((c) => c.serverName === name && !members.includes(c));
            const bytes = Buffer.from(byteRamp(1024, 7));
            from.socket.emit('to-room', 'bin-room', 'bin-room-msg', { bytes });
            await expectExactly(from, members, 'bin-room-msg', [{ bytes }]);
        }
        for (const c of members) {
            await ack(c, 'leave', 'bin-room');
        }
    });

    test('c) msgpack size classes and number forms survive every direction', async () => {
        const ints = [0, 1, -1, 127, 128, 255, 256, -32, -33, -128, -129, 32767, 32768, 65535, 65536,
            -32768, -32769, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, -(2 ** 31), -(2 ** 31) - 1,
            2 ** 53 - 1, -(2 ** 53 - 1),
            // Beyond 2^53: uint64 / int64 on the wire (exact for doubles below 2^64).
            2 ** 53, 2 ** 60, -(2 ** 60), -1e18, 2 ** 63, -(2 ** 63), 2 ** 64 - 2048];
        const payload = {
            ints,
            // Not integral doubles of 2^64 or more: Node's own msgpack (notepack.io) writes those
            // as a wrapped uint64, so they do not even pass between two Node servers.
            floats: [0.5, -0.25, -2.5e-300, Math.PI, 10000001000.5, 1.5e-323],
            strings: ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(255), 'y'.repeat(256),
                'z'.repeat(65535), 'z'.repeat(65536), 'ü€😀 \u0000 \n "quoted" \\'],
            bins: [Buffer.alloc(0), Buffer.alloc(255, 1), Buffer.alloc(256, 2), Buffer.from(byteRamp(65535)),
                Buffer.from(byteRamp(65536, 5))],
            arrays: [[], Array.from({ length: 15 }, (_, i) => i), Array.from({ length: 16 }, (_, i) => `${i}`),
                Array.from({ length: 65536 }, (_, i) => i % 3)],
            maps: [{}, Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, i])),
                Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, [i]]))],
            literals: [null, true, false],
            nested: { a: { b: { c: [[], {}, [null, { d: Buffer.from('deep') }]] } } },
        };
        for (const { name } of servers) {
            const from = wsOf(name);
            from.socket.emit('except-room', NOBODY, 'edge', payload);
            await expectExactly(from, clients, 'edge', [payload]);
        }
    });

    test('b) room names with "#", digits and non-ASCII characters', async () => {
        const members = [pollOf(servers[0].name), wsOf(servers[1].name), pollOf(servers[2].name)];
        for (const room of ['a#b', '42', '007', 'ü room ✓', 'x#']) {
            for (const c of members) {
                assert.equal(await ack(c, 'join', room), true);
            }
            for (const { name } of servers) {
                const from = clients.find((c) => c.serverName === name && !members.includes(c));
                from.socket.emit('to-room', room, 'odd-room', room, from.label);
                await expectExactly(from, members, 'odd-room', [room, from.label]);
            }
            for (const c of members) {
                assert.equal(await ack(c, 'leave', room), true);
            }
        }
    });

    test('d) volatile-to a room reaches the connected WebSocket clients of every server', async () => {
        const members = servers.map(({ name }) => wsOf(name));
        for (const c of members) {
            assert.equal(await ack(c, 'join', 'vol-room'), true);
        }
        for (const { name } of servers) {
            for (const from of [wsOf(name), pollOf(name)]) {
                from.socket.emit('volatile-to', 'vol-room', 'vol-msg', from.label);
                await expectExactly(from, members, 'vol-msg', [from.label]);
            }
        }
        for (const c of members) {
            await ack(c, 'leave', 'vol-room');
        }
    });

    test('e) sockets-join / sockets-leave from one server move the sockets of every server', async () => {
        // e-src: the polling client of each server.
        const src = servers.map(({ name }) => pollOf(name));
        for (const c of src) {
            assert.equal(await ack(c, 'join', 'e-src'), true);
        }
        const roomsSeenFrom = async (asker, c) => {
            const { sockets, error } = await ack(asker, 'fetch-sockets', null);
            assert.equal(error, null);
            return sockets.find((s) => s.id === c.socket.id)?.rooms ?? [];
        };
        for (let k = 0; k < servers.length; k++) {
            const origin = wsOf(servers[k].name);
            const dst = `e-dst-${servers[k].name}`;
            assert.equal(await ack(origin, 'sockets-join', 'e-src', dst), true);
            // Applied asynchronously everywhere (the origin too): watch through every server.
            for (const { name } of servers) {
                const asker = wsOf(name);
                await waitUntil(async () => {
                    const { sockets, error } = await ack(asker, 'fetch-sockets', dst);
                    const ids = sockets.map((s) => s.id).sort();
                    return (error === null && JSON.stringify(ids) === JSON.stringify(src.map((c) => c.socket.id).sort()))
                        || { error, ids };
                }, `sockets-join('e-src', '${dst}') from ${origin.label}, seen from ${name}`);
            }
            for (const c of src) {
                assert.ok((await roomsSeenFrom(wsOf(servers[(k + 1) % 3].name), c)).includes(dst), `${c.label} in ${dst}`);
            }
            // A broadcast to the new room from each server reaches exactly the moved sockets.
            for (const { name } of servers) {
                const from = wsOf(name);
                from.socket.emit('to-room', dst, 'e-msg', dst, from.label);
                await expectExactly(from, src, 'e-msg', [dst, from.label]);
            }
            // sockets-leave from another server (null: every socket of the cluster).
            const leaveOrigin = pollOf(servers[(k + 1) % 3].name);
            assert.equal(await ack(leaveOrigin, 'sockets-leave', null, dst), true);
            for (const { name } of servers) {
                await waitUntil(async () => {
                    const { sockets, error } = await ack(wsOf(name), 'fetch-sockets', dst);
                    return (error === null && sockets.length === 0) || { error, ids: sockets.map((s) => s.id) };
                }, `sockets-leave(null, '${dst}') from ${leaveOrigin.label}, seen from ${name}`);
            }
            for (const c of src) {
                assert.ok(!(await roomsSeenFrom(wsOf(name0()), c)).includes(dst), `${c.label} left ${dst}`);
                assert.ok((await roomsSeenFrom(wsOf(name0()), c)).includes('e-src'), `${c.label} still in e-src`);
            }
            const from = wsOf(servers[k].name);
            from.socket.emit('to-room', dst, 'e-msg', 'after leave');
            await expectExactly(from, [], 'e-msg', ['after leave']);
        }
        // sockets-join(null): every socket of the cluster, then sockets-leave of a room only.
        assert.equal(await ack(wsOf(servers[2].name), 'sockets-join', null, 'e-all'), true);
        await waitUntil(async () => {
            const { sockets } = await ack(pollOf(servers[0].name), 'fetch-sockets', 'e-all');
            return sockets.length === clients.length || sockets.length;
        }, 'sockets-join(null, "e-all") from Node, seen from the first server');
        assert.equal(await ack(pollOf(servers[0].name), 'sockets-leave', 'e-src', 'e-all'), true);
        await waitUntil(async () => {
            const { sockets } = await ack(wsOf(servers[2].name), 'fetch-sockets', 'e-all');
            const ids = sockets.map((s) => s.id).sort();
            const want = clients.filter((c) => !src.includes(c)).map((c) => c.socket.id).sort();
            return JSON.stringify(ids) === JSON.stringify(want) || ids;
        }, 'sockets-leave("e-src", "e-all") from the first server, seen from Node');
        const from = pollOf(servers[1].name);
        from.socket.emit('to-room', 'e-all', 'e-all-msg', 1);
        await expectExactly(from, clients.filter((c) => !src.includes(c) && c !== from), 'e-all-msg', [1]);
        await ack(from, 'sockets-leave', null, 'e-all');
        await ack(from, 'sockets-leave', null, 'e-src');
        await waitUntil(async () => {
            const { sockets } = await ack(from, 'fetch-sockets', null);
            return sockets.every((s) => s.rooms.length === 1) || sockets.map((s) => s.rooms);
        }, 'every socket back in its own room only');
    });

    test('h) server-side-emit from each server reaches the other servers, not its own clients', async () => {
        for (const { name } of servers) {
            const from = wsOf(name);
            assert.equal(await ack(from, 'server-side-emit', 'hello', 1, { from: name }, ['x', null]), true);
            await expectExactly(from, others(name), 'sse-received', ['hello', 1, { from: name }, ['x', null]]);
        }
    });

    test('h) server-side-emit-with-ack "ping-sse" from each server: one "pong" from each other server', async () => {
        for (const { name } of servers) {
            const from = pollOf(name);
            const answer = await ack(from, 'server-side-emit-with-ack', 'ping-sse', 42);
            // Node's format carries the first argument of each answer only: our servers answer
            // ["pong", serverId, 42], Node's "pong"; both arrive as "pong".
            assert.deepEqual(answer, { timedOut: false, responses: ['pong', 'pong'] }, `from ${name}`);
            // The other servers' clients saw it as an ordinary server-side emit too.
            await expectExactly(from, others(name), 'sse-received', ['ping-sse', 42]);
        }
    });

    test('i) emit-with-ack-to: every client of every server acks, binary answers included', async () => {
        const binaryAnswerer = pollOf(servers[1].name);
        for (const c of clients) {
            c.socket.removeAllListeners('question');
            c.socket.on('question', (n, answer) => {
                if (c === binaryAnswerer) {
                    answer(Buffer.from([n, 0, 255]), 'ignored second argument');
                } else {
                    answer({ label: c.label, n }, 'ignored second argument');
                }
            });
        }
        const expected = (n, targets) => targets.map((c) => (c === binaryAnswerer ? Buffer.from([n, 0, 255]) : { label: c.label, n }));
        const sortKey = (r) => (Buffer.isBuffer(r) ? '~binary' : r.label);
        const sorted = (list) => [...list].sort((x, y) => sortKey(x).localeCompare(sortKey(y)));
        let n = 0;
        for (const { name } of servers) {
            for (const from of [wsOf(name), pollOf(name)]) {
                n++;
                const answer = await ack(from, 'emit-with-ack-to', null, 'question', n);
                assert.equal(answer.timedOut, false, `emit-with-ack-to(null) from ${from.label}: ${JSON.stringify(answer)}`);
                assert.equal(answer.responses.length, clients.length, `responses to ${from.label}`);
                assert.deepEqual(sorted(normalizeBinary(answer.responses)), sorted(expected(n, clients)),
                    `responses to ${from.label}`);
            }
        }
        // A room spread over the three servers.
        const members = [wsOf(servers[0].name), binaryAnswerer, pollOf(servers[2].name)];
        for (const c of members) {
            await ack(c, 'join', 'i-room');
        }
        for (const { name } of servers) {
            const from = wsOf(name);
            n++;
            const answer = await ack(from, 'emit-with-ack-to', 'i-room', 'question', n);
            assert.equal(answer.timedOut, false, `emit-with-ack-to('i-room') from ${from.label}`);
            assert.deepEqual(sorted(normalizeBinary(answer.responses)), sorted(expected(n, members)),
                `responses to ${from.label}`);
            // An empty room: no answers, no timeout.
            assert.deepEqual(await ack(from, 'emit-with-ack-to', NOBODY, 'question', n),
                { timedOut: false, responses: [] }, `emit-with-ack-to(empty room) from ${from.label}`);
        }
        for (const c of members) {
            await ack(c, 'leave', 'i-room');
        }
    });

    test('i/h) timeouts: silent clients and unanswered server-side emits, from each server at once', async () => {
        // One silent client on Node, one on an interop_server: every direction has a remote one.
        const silent = [wsOf(servers[2].name), pollOf(servers[1].name)];
        for (const c of clients) {
            c.socket.removeAllListeners('silent-q');
            c.socket.on('silent-q', (n, answer) => {
                if (!silent.includes(c)) {
                    answer({ label: c.label, n });
                }
            });
        }
        const answering = clients.filter((c) => !silent.includes(c));
        const byLabel = (list) => [...list].sort((x, y) => x.label.localeCompare(y.label));
        const results = await Promise.all(servers.flatMap(({ name }, k) => [
            timedAck(wsOf(name), 9_000, 'emit-with-ack-to', null, 'silent-q', k).then(({ answer, elapsed }) => {
                assert.equal(answer.timedOut, true, `emit-with-ack-to from ${name}: ${JSON.stringify(answer)}`);
                assert.ok(elapsed > 4_000, `emit-with-ack-to from ${name} timed out after ${elapsed} ms`);
                assert.deepEqual(byLabel(answer.responses), byLabel(answering.map((c) => ({ label: c.label, n: k }))),
                    `emit-with-ack-to from ${name}: the answers that came`);
            }),
            timedAck(pollOf(name), 9_000, 'server-side-emit-with-ack', 'no-answer', name).then(({ answer, elapsed }) => {
                assert.deepEqual(answer, { timedOut: true, responses: [] }, `server-side-emit-with-ack from ${name}`);
                assert.ok(elapsed > 4_000, `server-side-emit-with-ack from ${name} timed out after ${elapsed} ms`);
            }),
        ]));
        assert.equal(results.length, 6);
        // Each client saw the unanswered server-side emits of the two other servers.
        await Promise.all(clients.map(async (c) => {
            const got = (await c.socket.log.take('sse-received', 2, WAIT)).map((args) => args.join(' ')).sort();
            const want = servers.filter(({ name }) => name !== c.serverName).map(({ name }) => `no-answer ${name}`).sort();
            assert.deepEqual(got, want, `${c.label}: sse-received`);
        }));
        for (const { name } of servers) {
            await barrier(pollOf(name));
        }
        for (const c of clients) {
            assert.deepEqual(c.socket.log.pending('sse-received'), [], `${c.label}: no more sse-received`);
        }
    });

    test('a stopped server (SIGSTOP): requests time out with what the others answered; it catches up after SIGCONT', async (t) => {
        if (NODE_ONLY) {
            t.skip('needs interop_server processes');
            return;
        }
        const stopped = servers[1];
        const live = servers.filter((s) => s !== stopped);
        const liveClients = clients.filter((c) => c.serverName !== stopped.name);
        stopped.server.proc.kill('SIGSTOP');
        let resumed = false;
        t.after(() => {
            if (!resumed) {
                stopped.server.proc.kill('SIGCONT');
            }
        });
        try {
            await Promise.all(live.flatMap(({ name }) => [
                timedAck(wsOf(name), 9_000, 'fetch-sockets', null).then(({ answer }) => {
                    assert.equal(typeof answer.error, 'string', `fetch-sockets from ${name}: ${JSON.stringify(answer.error)}`);
                    // Node gives up with no sockets at all; ours may list what it got.
                    for (const s of answer.sockets) {
                        assert.ok(liveClients.some((c) => c.socket.id === s.id),
                            `fetch-sockets from ${name} lists ${s.id}, not a socket of a live server`);
                    }
                }),
                timedAck(pollOf(name), 9_000, 'server-side-emit-with-ack', 'ping-sse', 'stopped').then(({ answer }) => {
                    assert.deepEqual(answer, { timedOut: true, responses: ['pong'] },
                        `server-side-emit-with-ack from ${name} with ${stopped.name} stopped`);
                }),
            ]));
        } finally {
            stopped.server.proc.kill('SIGCONT');
            resumed = true;
        }
        // It got the two ping-sse emits while stopped: its clients see them now; the live
        // servers' clients got the other live server's.
        await Promise.all(clients.map(async (c) => {
            const got = await c.socket.log.take('sse-received', c.serverName === stopped.name ? 2 : 1, WAIT);
            for (const args of got) {
                assert.deepEqual(args, ['ping-sse', 'stopped'], `${c.label}: sse-received`);
            }
        }));
        for (const { name } of servers) {
            await barrier(wsOf(name));
        }
        for (const c of clients) {
            assert.deepEqual(c.socket.log.pending('sse-received'), [], `${c.label}: no more sse-received`);
            assert.ok(c.socket.connected, `${c.label} still connected`);
        }
        const { error, sockets } = await ack(wsOf(stopped.name), 'fetch-sockets', null);
        assert.equal(error, null);
        assert.equal(sockets.length, clients.length);
    });

    test('f) disconnect-sockets(room) from each server disconnects the room\'s sockets on every server', async (t) => {
        for (const [k, { name }] of servers.entries()) {
            for (const close of [false, true]) {
                const room = `doomed-${name}-${close}`;
                // Fresh clients, one per server, in the room; the base clients stay connected.
                const doomed = [];
                for (const { name: n2, server } of servers) {
                    const socket = await connectClient(server, k % 2 ? POLLING : WS, { t, timeout: WAIT });
                    doomed.push({ label: `${n2}/doomed`, socket });
                    assert.deepEqual(await emitAck(socket, 'join', [room], WAIT), [true]);
                }
                const gone = doomed.map((d) => waitEvent(d.socket, 'disconnect', WAIT));
                const origin = wsOf(name);
                assert.equal(await ack(origin, 'disconnect-sockets', room, close), true);
                const reasons = await Promise.all(gone);
                reasons.forEach((reason, i) => {
                    const r = [reason].flat()[0];
                    if (close) {
                        assert.ok(['io server disconnect', 'transport close'].includes(r),
                            `${doomed[i].label}: reason ${r} (disconnect-sockets with close from ${name})`);
                    } else {
                        assert.equal(r, 'io server disconnect', `${doomed[i].label} (disconnect-sockets from ${name})`);
                    }
                });
                for (const d of doomed) {
                    closeManager(d.socket.io);
                }
                // The others are still there.
                await barrier(pollOf(name));
                for (const c of clients) {
                    assert.ok(c.socket.connected, `${c.label} still connected`);
                }
                await waitUntil(async () => {
                    const { sockets } = await ack(wsOf(name), 'fetch-sockets', room);
                    return sockets.length === 0 || sockets.map((s) => s.id);
                }, `nobody left in ${room}`);
            }
        }
        for (const c of clients) {
            assert.ok(c.socket.connected, `${c.label} still connected`);
        }
    });

    test('after a Redis restart every server subscribes again and broadcasts flow in every direction', async () => {
        await redis.restart({ hard: true });
        // The servers reconnect with their own back-off; Node counts them again once subscribed.
        await waitSubscribers(redis.port, 3, { timeout: 15_000 });
        for (const { name } of servers) {
            const from = pollOf(name);
            from.socket.emit('except-room', NOBODY, 'after-restart', from.label);
            await expectExactly(from, clients, 'after-restart', [from.label]);
        }
        for (const { name } of servers) {
            const answer = await ack(wsOf(name), 'fetch-sockets', null);
            assert.equal(answer.error, null, `fetch-sockets from ${name} after the restart`);
            assert.equal(answer.sockets.length, clients.length, `fetch-sockets from ${name} after the restart`);
        }
    });
});

