// The Redis adapter's wire format, request by request, against raw Redis clients: what Node's
// @socket.io/redis-adapter 8.x sends (and older adapters' single-socket forms, and the request
// types Node 8 no longer sends but still answers) must be answered as Node answers it, what we
// publish must be what Node reads, malformed messages must not hurt, and our own requests must
// time out when a counted server stays silent.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient as createRedisClient } from 'redis';
import { encode, decode } from 'notepack.io';

import { startRedis, waitSubscribers } from './lib/redis.mjs';
import { startServer } from './lib/server.mjs';
import { connectClient, emitAck as emitAckAll } from './lib/sio.mjs';
import { delay, waitEvent } from './lib/util.mjs';

const REQUEST = 'socket.io-request#/#';
const RESPONSE = 'socket.io-response#/#';
const WAIT = 5_000;

// The first argument of the ack.
const emitAck = async (...a) => (await emitAckAll(...a))[0];

// Subscribes a raw client and queues what arrives, so that a test can wait for the message
// that matches.
class Tap {
    static async open(url, { channels = [], patterns = [] } = {}) {
        const tap = new Tap();
        tap.client = createRedisClient({ url });
        tap.client.on('error', () => {});
        await tap.client.connect();
        for (const channel of channels) {
            await tap.client.subscribe(channel, (message, ch) => tap.push(ch, message), true);
        }
        for (const pattern of patterns) {
            await tap.client.pSubscribe(pattern, (message, ch) => tap.push(ch, message), true);
        }
        return tap;
    }

    constructor() {
        this.items = [];
        this.waiters = [];
    }

    push(channel, message) {
        const item = { channel: channel.toString(), raw: message, value: parse(message) };
        this.items.push(item);
        for (const w of [...this.waiters]) {
            if (w.match(item)) {
                this.waiters.splice(this.waiters.indexOf(w), 1);
                this.items.splice(this.items.indexOf(item), 1);
                w.resolve(item);
                return;
            }
        }
    }

    next(match, ms = WAIT) {
        const found = this.items.find(match);
        if (found) {
            this.items.splice(this.items.indexOf(found), 1);
            return Promise.resolve(found);
        }
        return new Promise((resolve, reject) => {
            const waiter = { match, resolve };
            this.waiters.push(waiter);
            setTimeout(() => {
                const i = this.waiters.indexOf(waiter);
                if (i >= 0) {
                    this.waiters.splice(i, 1);
                    reject(new Error(`no matching message in ${ms} ms; got ${this.items.length} others: `
                        + this.items.map((x) => `${x.channel} ${JSON.stringify(x.value)}`).join(' | ')));
                }
            }, ms);
        });
    }

    async close() {
        await this.client.quit().catch(() => {});
    }
}

function parse(message) {
    // As Node: a payload starting with '{' is JSON, anything else msgpack. A listener that
    // throws breaks node-redis' connection, and the tests publish garbage on purpose.
    try {
        return message[0] === 0x7b ? JSON.parse(message.toString()) : decode(message);
    } catch {
        return undefined;
    }
}

describe('cluster wire protocol (raw Redis peer against interop_server --redis)', () => {
    let redis;
    let server;
    let pub;
    let responses;
    let inRoom;
    let other;

    before(async () => {
        redis = await startRedis();
        // Warnings come at most one a second; the debug lines show every message ignored.
        process.env.QT_LOGGING_RULES = 'qsocketio.redis.debug=true';
        server = await startServer(['--redis', redis.address, '--server-id', 'qsio-proto',
            '--redis-requests-timeout', '1500']);
        delete process.env.QT_LOGGING_RULES;
        await waitSubscribers(redis.port, 1);
        pub = createRedisClient({ url: redis.url });
        pub.on('error', () => {});
        await pub.connect();
        responses = await Tap.open(redis.url, { channels: [RESPONSE] });
        inRoom = await connectClient(server, 'websocket');
        other = await connectClient(server, 'polling');
        assert.equal(await emitAck(inRoom, 'join', ['room1']), true);
    });

    after(async () => {
        inRoom?.close();
        other?.close();
        await responses?.close();
        await pub?.quit().catch(() => {});
        await server?.close();
        await redis?.stop();
    });

    const answer = (requestId) => responses.next((m) => m.value?.requestId === requestId);

    test('SOCKETS (0) is answered with the ids of the sockets in the rooms', async () => {
        await pub.publish(REQUEST, JSON.stringify({ uid: 'tester', requestId: 'r0', type: 0, rooms: ['room1'] }));
        const { value } = await answer('r0');
        assert.deepEqual(value, { requestId: 'r0', sockets: [inRoom.id] });
    });

    test('ALL_ROOMS (1) lists the rooms, socket-id rooms included', async () => {
        await pub.publish(REQUEST, JSON.stringify({ uid: 'tester', requestId: 'r1', type: 1 }));
        const { value } = await answer('r1');
        assert.deepEqual(value.rooms.sort(), ['room1', inRoom.id, other.id].sort());
        assert.equal(value.type, undefined);
    });

    test('REMOTE_JOIN (2) and REMOTE_LEAVE (3) with options move the selected sockets', async () => {
        await pub.publish(REQUEST, JSON.stringify({ type: 2, opts: { rooms: [other.id], except: [] }, rooms: ['joined'] }));
        await pub.publish(REQUEST, JSON.stringify({ uid: 'tester', requestId: 'j', type: 0, rooms: ['joined'] }));
        assert.deepEqual((await answer('j')).value.sockets, [other.id]);
        await pub.publish(REQUEST, encode({ uid: 'tester', type: 3, opts: { rooms: ['joined'], except: [] }, rooms: ['joined'] }));
        await pub.publish(REQUEST, JSON.stringify({ uid: 'tester', requestId: 'l', type: 0, rooms: ['joined'] }));
        assert.deepEqual((await answer('l')).value.sockets, []);
    });

    test('the single-socket forms of 2 and 3 are answered by the server that has the socket', async () => {
        await pub.publish(REQUEST, JSON.stringify({ uid: 'tester', requestId: 'sj', type: 2, sid: other.id, room: 'solo' }));
        assert.deepEqual((await answer('sj')).value, { requestId: 'sj' });
        await pub.publish(REQUEST, JSON.stringify({ uid: 'tester', requestId: 'sj2', type: 0, rooms: ['solo'] }));
        assert.deepEqual((await answer('sj2')).value.sockets, [other.id]);
        await pub.publish(REQUEST, JSON.stringify({ uid: 'tester', requestId: 'sl', type: 3, sid: other.id, room: 'solo' }));
        assert.deepEqual((await answer('sl')).value, { requestId: 'sl' });
        // A socket this server does not have: no answer (another server may have it).
        await pub.publish(REQUEST, JSON.stringify({ uid: 'tester', requestId: 'nobody', type: 2, sid: 'x'.repeat(20), room: 'solo' }));
        await pub.publish(REQUEST, JSON.stringify({ uid: 'tester', requestId: 'sl2', type: 0, rooms: ['solo'] }));
        assert.deepEqual((await answer('sl2')).value.sockets, []);
        assert.equal(responses.items.some((m) => m.value?.requestId === 'nobody'), false);
    });

    test('REMOTE_FETCH (5), sent as msgpack, is answered with each socket\'s id, handshake, rooms and data', async () => {
        assert.equal(await emitAck(inRoom, 'set-data', ['colour', 'blue']), true);
        await pub.publish(REQUEST, encode({ uid: 'tester', requestId: 'f', type: 5, opts: { rooms: ['room1'], except: [] } }));
        const { raw, value } = await answer('f');
        assert.equal(raw[0], 0x7b, 'answered in JSON, as Node answers');
        assert.equal(value.sockets.length, 1);
        const [s] = value.sockets;
        assert.equal(s.id, inRoom.id);
        assert.deepEqual(s.rooms.sort(), [inRoom.id, 'room1'].sort());
        assert.equal(s.data.colour, 'blue');
        assert.equal(s.handshake.address, '127.0.0.1');
        assert.equal(typeof s.handshake.headers, 'object');
        assert.equal(s.handshake.query.EIO, '4');
        assert.equal(typeof s.handshake.issued, 'number');
        assert.equal(s.handshake.secure, false);
        assert.match(s.handshake.url, /^\/socket\.io\/\?/);
    });

    test('SERVER_SIDE_EMIT (6) reaches the handlers; with a requestId the first ack argument comes back', async () => {
        const seen = waitEvent(inRoom, 'sse-received', WAIT);
        await pub.publish(REQUEST, JSON.stringify({ uid: 'tester', type: 6, data: ['hello', 1, { a: 2 }] }));
        assert.deepEqual(await seen, ['hello', 1, { a: 2 }]);
        await pub.publish(REQUEST, JSON.stringify({ uid: 'tester', requestId: 's', type: 6, data: ['ping-sse', 'x'] }));
        assert.deepEqual((await answer('s')).value, { type: 6, requestId: 's', data: 'pong' });
        // Binary travels as msgpack.
        const bin = waitEvent(other, 'sse-received', WAIT);
        await pub.publish(REQUEST, encode({ uid: 'tester', type: 6, data: ['blob', Buffer.from([0, 1, 255])] }));
        const [event, blob] = await bin;
        assert.equal(event, 'blob');
        assert.deepEqual(Buffer.from(blob), Buffer.from([0, 1, 255]));
    });

    test('BROADCAST with acks (7): the client count in JSON, then each client\'s ack in msgpack', async () => {
        inRoom.once('ask', (n, cb) => cb({ got: n, bin: Buffer.from('ok') }));
        await pub.publish(REQUEST, encode({
            uid: 'tester', requestId: 'b', type: 7,
            packet: { type: 2, data: ['ask', 41], nsp: '/' },
            opts: { rooms: ['room1'], except: [], flags: { timeout: 2000 } },
        }));
        const count = await responses.next((m) => m.value?.requestId === 'b' && m.value.type === 8);
        assert.equal(count.raw[0], 0x7b);
        assert.deepEqual(count.value, { type: 8, requestId: 'b', clientCount: 1 });
        const ack = await responses.next((m) => m.value?.requestId === 'b' && m.value.type === 9);
        assert.notEqual(ack.raw[0], 0x7b, 'acks travel as msgpack');
        assert.equal(ack.value.packet.got, 41);
        assert.deepEqual(Buffer.from(ack.value.packet.bin), Buffer.from('ok'));
        // Nobody selected: the count is still sent (0), or Node would wait for it.
        await pub.publish(REQUEST, encode({
            uid: 'tester', requestId: 'b0', type: 7,
            packet: { type: 2, data: ['ask', 1], nsp: '/' }, opts: { rooms: ['empty-room'], except: [], flags: {} },
        }));
        assert.deepEqual((await responses.next((m) => m.value?.requestId === 'b0')).value,
            { type: 8, requestId: 'b0', clientCount: 0 });
    });

    test('broadcasts from a raw peer: rooms, except, binary, another namespace ignored', async () => {
        const got = [];
        const gotOther = [];
        inRoom.on('raw', (...a) => got.push(a));
        other.on('raw', (...a) => gotOther.push(a));
        const send = (channel, packet, opts) => pub.publish(channel, encode(['peer01', packet, opts]));
        await send('socket.io#/#room1#', { type: 2, data: ['raw', 1, Buffer.from([7, 8])], nsp: '/' },
            { rooms: ['room1'], except: [] });
        await send('socket.io#/#', { type: 2, data: ['raw', 2] }, { rooms: [], except: ['room1'] });
        await send('socket.io#/custom#', { type: 2, data: ['raw', 3], nsp: '/custom' }, { rooms: [], except: [] });
        await send('socket.io#/#', { type: 2, data: ['raw', 4], nsp: '/' }, { rooms: [], except: [], flags: { volatile: true } });
        await send('socket.io#/#', { type: 2, data: ['raw', 5], nsp: '/' }, { rooms: [], except: [] });
        const deadline = Date.now() + WAIT;
        while ((got.length < 3 || gotOther.length < 3) && Date.now() < deadline) {
            await delay(20);
        }
        await delay(100);
        assert.deepEqual(got.map((a) => a[0]), [1, 4, 5]);
        assert.deepEqual(Buffer.from(got[0][1]), Buffer.from([7, 8]));
        assert.deepEqual(gotOther.map((a) => a[0]), [2, 4, 5]);
    });

    test('what we publish is what Node reads: channel per room, [uid, packet, opts] in msgpack', async () => {
        const tap = await Tap.open(redis.url, { patterns: ['socket.io#/#*'] });
        try {
            inRoom.emit('to-room', 'room1', 'news', { n: 1, bin: Buffer.from([1, 2, 3]) });
            const m = await tap.next((x) => Array.isArray(x.value) && x.value[1]?.data?.[0] === 'news');
            assert.equal(m.channel, 'socket.io#/#room1#');
            const [uid, packet, opts] = m.value;
            assert.match(uid, /^[A-Za-z0-9]{6}$/);
            assert.equal(packet.type, 2);
            assert.equal(packet.nsp, '/');
            assert.equal(packet.data[1].n, 1);
            assert.ok(Buffer.isBuffer(packet.data[1].bin), 'binary as msgpack bin');
            assert.deepEqual(opts.rooms, ['room1']);
            // socket.to(room) leaves the sender out, wherever it is.
            assert.deepEqual(opts.except, [inRoom.id]);
            other.emit('except-room', 'room1', 'all-but');
            const all = await tap.next((x) => Array.isArray(x.value) && x.value[1]?.data?.[0] === 'all-but');
            assert.equal(all.channel, 'socket.io#/#');
            assert.deepEqual(all.value[2].except, ['room1']);
        } finally {
            await tap.close();
        }
    });

    test('malformed messages are reported and ignored; the server goes on', async () => {
        await pub.publish(REQUEST, Buffer.from([0xc1, 0xff, 0x00]));
        await pub.publish(REQUEST, '{"type": 5, "requestId": ');
        await pub.publish(REQUEST, encode([1, 2, 3]));
        await pub.publish('socket.io#/#', Buffer.from([0x93, 0xa1]));
        await pub.publish('socket.io#/#', encode(['x', 'not a packet', {}]));
        await pub.publish(RESPONSE, Buffer.from('garbage'));
        assert.deepEqual(await emitAck(inRoom, 'message-with-ack', ['still here']), 'still here');
        const deadline = Date.now() + WAIT;
        while (server.stderrLines.filter((l) => /malformed|ignored/.test(l)).length < 5 && Date.now() < deadline) {
            await delay(20);
        }
        const warnings = server.stderrLines.filter((l) => /malformed|ignored/.test(l));
        assert.ok(warnings.length >= 5, `warnings: ${warnings.join('\n')}`);
    });

    test('our requests time out when a counted server stays silent', async () => {
        // A second subscriber of the request channel counts as a server that never answers.
        const silent = await Tap.open(redis.url, { channels: [REQUEST] });
        try {
            await waitSubscribers(redis.port, 2);
            const started = Date.now();
            const [fetched, sse, ewa] = await Promise.all([
                emitAck(inRoom, 'fetch-sockets', [null], 10_000),
                emitAck(inRoom, 'server-side-emit-with-ack', ['ping-sse'], 10_000),
                emitAck(inRoom, 'emit-with-ack-to', ['room1', 'nothing-answers'], 10_000),
            ]);
            const took = Date.now() - started;
            assert.match(fetched.error, /timeout reached: only 0 of 1 other servers answered/);
            assert.deepEqual(fetched.sockets.map((s) => s.id).sort(), [inRoom.id, other.id].sort());
            assert.deepEqual(sse, { timedOut: true, responses: [] });
            assert.equal(ewa.timedOut, true);
            assert.ok(took >= 1400 && took < 8000, `took ${took} ms`);
            // The requests went out in Node's shapes.
            const fetchReq = silent.items.find((m) => m.value?.type === 5);
            assert.equal(fetchReq.raw[0], 0x7b);
            assert.deepEqual(fetchReq.value.opts, { rooms: [], except: [] });
            assert.match(fetchReq.value.uid, /^[A-Za-z0-9]{6}$/);
            const sseReq = silent.items.find((m) => m.value?.type === 6);
            assert.deepEqual(sseReq.value.data, ['ping-sse']);
            assert.equal(typeof sseReq.value.requestId, 'string');
            const ackReq = silent.items.find((m) => m.value?.type === 7);
            assert.notEqual(ackReq.raw[0], 0x7b, 'a broadcast with acks goes as msgpack');
            assert.deepEqual(ackReq.value.packet.data, ['nothing-answers']);
            assert.deepEqual(ackReq.value.opts.rooms, ['room1']);
        } finally {
            await silent.close();
        }
    });
});
