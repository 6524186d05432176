// Socket.IO namespace middlewares with socket.io-client: a middleware of /guarded wants the auth
// {token: "secret"}; anything else is refused with a CONNECT_ERROR whose message is
// "not authorized" and whose data is {reason: "no token"} (err.message and err.data on the
// client). A refused socket can try again with other auth.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import {
    RawSio, TRANSPORT_SETUPS, TEST_TIMEOUT_MS, WAIT_MS, connectClient, createClient, createManager,
    emitAck, managerSocket, waitConnected, waitUpgraded,
} from './lib/sio.mjs';
import { delay, waitEvent } from './lib/util.mjs';

const SOCKET_ID_RE = /^[A-Za-z0-9_-]{20}$/;
const GUARDED = '/guarded';

function assertRefused(err, what) {
    assert.ok(err instanceof Error, `${what}: connect_error gives an Error`);
    assert.equal(err.message, 'not authorized', what);
    assert.deepEqual(err.data, { reason: 'no token' }, what);
    assert.equal(err.data.reason, 'no token', what);
}

for (const setup of TRANSPORT_SETUPS) {
    describe(`Socket.IO middlewares over ${setup.name}`, { timeout: TEST_TIMEOUT_MS }, () => {
        let server;
        before(async () => { server = await startServer(); });
        after(() => server?.close());

        for (const [what, auth] of [
            ['without auth', undefined],
            ['with an empty auth object', {}],
            ['with a wrong token', { token: 'wrong' }],
            ['with a token of the wrong case', { token: 'SECRET' }],
            ['with a token that is not a string', { token: 42 }],
        ]) {
            test(`/guarded refuses a client ${what} with message and data`, async (t) => {
                const socket = createClient(server, setup, { nsp: GUARDED, auth });
                t.after(() => socket.io.engine?.close());
                t.after(() => socket.disconnect());
                const err = await waitEvent(socket, 'connect_error', WAIT_MS, { failOn: ['connect'] });
                assertRefused(err, what);
                await delay(50);
                assert.equal(socket.connected, false);
                assert.equal(socket.id, undefined);
                assert.equal(socket.log.order.length, 0, 'no event on a refused socket');
            });
        }

        test('/guarded accepts the token "secret"', async (t) => {
            const socket = await connectClient(server, setup, { nsp: GUARDED, auth: { token: 'secret', extra: [1] }, t });
            assert.equal(socket.connected, true);
            assert.equal(socket.nsp, GUARDED);
            assert.match(socket.id, SOCKET_ID_RE);
            await waitUpgraded(socket);
            await delay(50);
            assert.equal(socket.connected, true, 'stays connected');
            assert.deepEqual(socket.disconnects, []);
        });

        test('a refused socket retries with the right auth (socket.auth = ...; socket.connect())', async (t) => {
            const socket = createClient(server, setup, { nsp: GUARDED, auth: { token: 'nope' } });
            t.after(() => socket.io.engine?.close());
            t.after(() => socket.disconnect());
            assertRefused(await waitEvent(socket, 'connect_error', WAIT_MS, { failOn: ['connect'] }), 'first try');
            socket.auth = { token: 'secret' };
            socket.connect();
            await waitConnected(socket);
            assert.equal(socket.connected, true);
            assert.match(socket.id, SOCKET_ID_RE);
            // Back to bad auth: a new attempt after leaving is refused again.
            socket.disconnect();
            socket.auth = {};
            socket.connect();
            assertRefused(await waitEvent(socket, 'connect_error', WAIT_MS, { failOn: ['connect'] }), 'third try');
            assert.equal(socket.connected, false);
        });

        test('a refusal keeps the connection; the retry joins on the same Engine.IO session', async (t) => {
            const manager = createManager(server, setup, { t });
            const root = managerSocket(manager, '/');
            await waitConnected(root);
            const engineId = manager.engine.id;
            const guarded = managerSocket(manager, GUARDED);
            assertRefused(await waitEvent(guarded, 'connect_error', WAIT_MS, { failOn: ['connect'] }), 'no auth');
            assert.equal(root.connected, true, 'the other namespace is untouched');
            assert.deepEqual(await emitAck(root, 'echo', ['after refusal']), ['after refusal']);
            guarded.auth = { token: 'secret' };
            guarded.connect();
            await waitConnected(guarded);
            assert.notEqual(guarded.id, root.id);
            assert.equal(manager.engine.id, engineId, 'same Engine.IO session');
            await waitUpgraded(root);
            assert.deepEqual(await emitAck(root, 'echo', ['both joined']), ['both joined']);
            assert.equal(guarded.connected, true);
            assert.equal(manager.engine.id, engineId);
        });

        test(`raw ${setup.raw} session: CONNECT_ERROR with data, then CONNECT with the token`, async (t) => {
            const raw = await RawSio.open(server, setup.raw === 'upgrade' ? 'polling' : setup.raw, { t });
            if (setup.raw === 'upgrade') {
                await raw.upgrade();
            }
            for (const payload of ['', '{}', '{"token":"x"}']) {
                await raw.send(`0/guarded,${payload}`);
                const refused = await raw.next();
                assert.ok(refused.startsWith('4/guarded,'), `CONNECT_ERROR for ${payload}: ${refused}`);
                assert.deepEqual(JSON.parse(refused.slice('4/guarded,'.length)),
                    { message: 'not authorized', data: { reason: 'no token' } });
            }
            await raw.send('0/guarded,{"token":"secret"}');
            assert.match(await raw.next(), /^0\/guarded,\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
            assert.equal(raw.isClosed, false);
            // Still a usable session: "/" joins too.
            await raw.send('0');
            assert.match(await raw.next(), /^0\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
            assert.equal(await raw.next(), '2["auth",{}]');
            await raw.send('20["echo","ok"]');
            assert.equal(await raw.next(), '30["ok"]');
        });
    });
}
