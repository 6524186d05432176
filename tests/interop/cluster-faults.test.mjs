// Redis going away under a cluster of two interop_server --redis: down when the servers start,
// killed and restarted while they run. Each server must keep serving its own clients, say
// clearly what did not reach the cluster (false, an error, timedOut: never a silent success),
// and reconnect and resubscribe by itself once Redis is back.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startRedis, waitSubscribers } from './lib/redis.mjs';
import { startServer } from './lib/server.mjs';
import { connectClient, emitAck as emitAckAll } from './lib/sio.mjs';
import { delay } from './lib/util.mjs';

const WAIT = 5_000;
const emitAck = async (...a) => (await emitAckAll(...a))[0];

// The arguments of every `event` the socket gets from now on.
function collect(socket, event) {
    const got = [];
    socket.on(event, (...args) => got.push(args));
    return got;
}

async function until(check, what, ms = WAIT) {
    const deadline = Date.now() + ms;
    while (!check()) {
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}`);
        }
        await delay(20);
    }
}

describe('cluster faults', () => {
    let redis;
    let a;
    let b;
    let a1;
    let a2;
    let b1;
    const disconnects = [];

    before(async () => {
        redis = await startRedis();
        await redis.stop(); // down when the servers start
        const flags = ['--redis', redis.address, '--redis-requests-timeout', '1500'];
        a = await startServer([...flags, '--server-id', 'fault-a']);
        b = await startServer([...flags, '--server-id', 'fault-b']);
        a1 = await connectClient(a, 'websocket');
        a2 = await connectClient(a, 'polling');
        b1 = await connectClient(b, 'websocket');
        for (const s of [a1, a2, b1]) {
            s.on('disconnect', (reason) => disconnects.push(reason));
        }
    });

    after(async () => {
        for (const s of [a1, a2, b1]) {
            s?.close();
        }
        await a?.close();
        await b?.close();
        await redis?.stop();
    });

    async function assertCut(why) {
        // Local delivery goes on.
        const gotA2 = collect(a2, 'news');
        const gotB1 = collect(b1, 'news');
        a1.emit('except-room', 'nobody', 'news', `${why}-local`);
        await until(() => gotA2.length === 1, `${why}: the local broadcast`);
        // The cluster operations say they did not reach the other server.
        assert.equal(await emitAck(a1, 'server-side-emit', ['hello', why]), false);
        const fetched = await emitAck(a1, 'fetch-sockets', [null]);
        assert.match(fetched.error, /not connected to Redis/);
        assert.deepEqual(fetched.sockets.map((s) => s.id).sort(), [a1.id, a2.id].sort());
        assert.deepEqual(await emitAck(a1, 'server-side-emit-with-ack', ['ping-sse']),
            { timedOut: true, responses: [] });
        a1.once('ask', (cb) => cb('a1'));
        a2.once('ask', (cb) => cb('a2'));
        const ewa = await emitAck(a1, 'emit-with-ack-to', [null, 'ask'], 10_000);
        assert.equal(ewa.timedOut, true, 'the other server\'s clients were not reached');
        assert.deepEqual(ewa.responses.sort(), ['a1', 'a2']);
        await delay(200);
        assert.deepEqual(gotB1, [], 'nothing crossed');
        // And the servers said why, in words.
        await until(() => a.stderrLines.some((l) => /not sent to the other servers: not connected to Redis/.test(l)),
            `${why}: the server's warning`);
        a2.off('news');
        b1.off('news');
    }

    async function assertJoined(why) {
        await waitSubscribers(redis.port, 2, { timeout: 10_000 });
        const gotB1 = collect(b1, 'news');
        const gotA2 = collect(a2, 'news');
        a1.emit('except-room', 'nobody', 'news', `${why}-a`);
        b1.emit('except-room', 'nobody', 'news', `${why}-b`);
        await until(() => gotB1.length === 2 && gotA2.length === 2, `${why}: broadcasts both ways`);
        const fetched = await emitAck(b1, 'fetch-sockets', [null]);
        assert.equal(fetched.error, null);
        assert.deepEqual(fetched.sockets.map((s) => s.id).sort(), [a1.id, a2.id, b1.id].sort());
        assert.deepEqual(await emitAck(b1, 'server-side-emit-with-ack', ['ping-sse']),
            { timedOut: false, responses: ['pong'] });
        // ping-sse shows up there too: wait for this one.
        const sse = collect(a2, 'sse-received');
        assert.equal(await emitAck(b1, 'server-side-emit', ['hello', why]), true);
        await until(() => sse.some((x) => x[0] === 'hello' && x[1] === why), `${why}: the server-side emit`);
        a2.off('sse-received');
        a2.off('news');
        b1.off('news');
    }

    test('Redis down at start: the servers serve their own clients and say what did not cross', async () => {
        assert.ok(a.alive() && b.alive());
        await assertCut('down-at-start');
        assert.ok(a.stderrLines.some((l) => /Connection refused/.test(l)), a.stderrLines.join('\n'));
    });

    test('Redis comes up: both servers connect and subscribe by themselves', async () => {
        await redis.restart();
        await assertJoined('came-up');
    });

    test('Redis killed mid-run: same clear failures, then reconnect and resubscribe', async () => {
        await redis.kill();
        await until(() => a.stderrLines.some((l) => /lost|closed|refused/i.test(l)), 'the lost connection to be reported');
        await assertCut('killed');
        await redis.restart();
        await assertJoined('restarted');
    });

    test('a clean Redis restart (SIGTERM) too; no client was ever disconnected', async () => {
        await redis.restart();
        await assertJoined('clean-restart');
        assert.ok(a.alive() && b.alive());
        assert.deepEqual(disconnects, []);
    });
});
