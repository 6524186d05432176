// Socket.IO dynamic namespaces with socket.io-client: the server registers the pattern
// ^/dyn-\d+$; a matching namespace is accepted (its sockets get `nsp` (name) on connect), any
// other name is refused with "Invalid namespace". Dynamic and static namespaces are multiplexed
// on one Engine.IO connection.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import {
    RawSio, TRANSPORT_SETUPS, TEST_TIMEOUT_MS, WAIT_MS, connectClient, createClient, createManager,
    emitAck, managerSocket, waitConnected, waitUpgraded,
} from './lib/sio.mjs';
import { delay, waitEvent } from './lib/util.mjs';

const SOCKET_ID_RE = /^[A-Za-z0-9_-]{20}$/;

/** Creates a client on `nsp` and resolves with its connect_error (fails on 'connect'). */
async function refusal(server, setup, nsp, t) {
    const socket = createClient(server, setup, { nsp });
    t.after(() => socket.io.engine?.close());
    t.after(() => socket.disconnect());
    const err = await waitEvent(socket, 'connect_error', WAIT_MS, { failOn: ['connect'] });
    return { socket, err };
}

for (const setup of TRANSPORT_SETUPS) {
    describe(`Socket.IO dynamic namespaces over ${setup.name}`, { timeout: TEST_TIMEOUT_MS }, () => {
        let server;
        before(async () => { server = await startServer(); });
        after(() => server?.close());

        test('/dyn-1 and /dyn-22 are accepted and each gets `nsp` with its own name', async (t) => {
            const one = await connectClient(server, setup, { nsp: '/dyn-1', t });
            const two = await connectClient(server, setup, { nsp: '/dyn-22', t });
            assert.equal(one.nsp, '/dyn-1');
            assert.equal(two.nsp, '/dyn-22');
            assert.deepEqual(await one.log.next('nsp'), ['/dyn-1']);
            assert.deepEqual(await two.log.next('nsp'), ['/dyn-22']);
            assert.match(one.id, SOCKET_ID_RE);
            assert.match(two.id, SOCKET_ID_RE);
            assert.notEqual(one.id, two.id);
            await waitUpgraded(one);
            await waitUpgraded(two);
            assert.equal(one.connected, true);
            assert.equal(two.connected, true);
            assert.equal(one.log.count('nsp'), 1, 'one `nsp` per connection');
            assert.equal(two.log.count('nsp'), 1, 'one `nsp` per connection');
        });

        test('two clients of the same dynamic namespace both get `nsp`', async (t) => {
            const [a, b] = await Promise.all([
                connectClient(server, setup, { nsp: '/dyn-5', t }),
                connectClient(server, setup, { nsp: '/dyn-5', t }),
            ]);
            assert.deepEqual(await a.log.next('nsp'), ['/dyn-5']);
            assert.deepEqual(await b.log.next('nsp'), ['/dyn-5']);
            assert.notEqual(a.id, b.id);
            // A later client of an already created child namespace is accepted the same way.
            const c = await connectClient(server, setup, { nsp: '/dyn-5', t });
            assert.deepEqual(await c.log.next('nsp'), ['/dyn-5']);
        });

        test('names outside ^/dyn-\\d+$ are refused with "Invalid namespace"', async (t) => {
            for (const nsp of ['/dyn-x', '/dyn-', '/dyn-1x', '/xdyn-1', '/dyn--1']) {
                const { socket, err } = await refusal(server, setup, nsp, t);
                assert.equal(err.message, 'Invalid namespace', nsp);
                await delay(50);
                assert.equal(socket.connected, false, nsp);
                assert.equal(socket.id, undefined, nsp);
                assert.equal(socket.log.count('nsp'), 0, `${nsp}: no nsp event`);
            }
        });

        test('a dynamic and a static namespace share one Manager and one Engine.IO session', async (t) => {
            const manager = createManager(server, setup, { t });
            const root = managerSocket(manager, '/');
            const dyn = managerSocket(manager, '/dyn-3');
            const custom = managerSocket(manager, '/custom', { auth: { which: 'custom' } });
            await Promise.all([waitConnected(root), waitConnected(dyn), waitConnected(custom)]);
            assert.equal(root.io, dyn.io, 'one Manager');
            assert.equal(custom.io, dyn.io, 'one Manager');
            const engineId = manager.engine.id;
            assert.ok(engineId);
            assert.equal(new Set([root.id, dyn.id, custom.id]).size, 3, 'one socket id per namespace');
            assert.deepEqual(await dyn.log.next('nsp'), ['/dyn-3']);
            assert.deepEqual(await root.log.next('auth'), [{}]);
            assert.deepEqual(await custom.log.next('auth'), [{ which: 'custom' }]);
            assert.equal(root.log.count('nsp'), 0, '`nsp` goes to the dynamic namespace only');
            assert.equal(custom.log.count('nsp'), 0, '`nsp` goes to the dynamic namespace only');
            assert.equal(dyn.log.count('auth'), 0, '`auth` goes to the static namespaces only');

            await waitUpgraded(root);
            assert.deepEqual(await emitAck(root, 'echo', ['multiplexed']), ['multiplexed']);
            assert.equal(manager.engine.id, engineId, 'same Engine.IO session throughout');

            // A second dynamic namespace on the same connection, then a refused one: the others stay.
            const dyn2 = managerSocket(manager, '/dyn-44');
            await waitConnected(dyn2);
            assert.deepEqual(await dyn2.log.next('nsp'), ['/dyn-44']);
            const bad = managerSocket(manager, '/dyn-x');
            const err = await waitEvent(bad, 'connect_error', WAIT_MS, { failOn: ['connect'] });
            assert.equal(err.message, 'Invalid namespace');
            for (const s of [root, dyn, custom, dyn2]) {
                assert.equal(s.connected, true, `${s.nsp} still connected`);
            }
            assert.deepEqual(await emitAck(root, 'echo', ['still here']), ['still here']);
            assert.equal(manager.engine.id, engineId);

            // Leaving the dynamic namespace keeps the connection; joining it again gets a new socket.
            const oldId = dyn.id;
            dyn.disconnect();
            assert.deepEqual(await emitAck(root, 'echo', ['after leaving']), ['after leaving']);
            dyn.connect();
            await waitConnected(dyn);
            assert.notEqual(dyn.id, oldId, 'a new socket');
            assert.deepEqual(await dyn.log.next('nsp'), ['/dyn-3']);
            assert.equal(manager.engine.id, engineId);
            assert.equal(manager.engine.readyState, 'open');
        });

        test(`raw ${setup.raw} session: CONNECT to dynamic namespaces on the wire`, async (t) => {
            const raw = await RawSio.open(server, setup.raw === 'upgrade' ? 'polling' : setup.raw, { t });
            if (setup.raw === 'upgrade') {
                await raw.upgrade();
            }
            await raw.send('0/dyn-7,');
            const answer = await raw.next();
            assert.match(answer, /^0\/dyn-7,\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
            assert.equal(await raw.next(), '2/dyn-7,["nsp","/dyn-7"]');
            await raw.send('0/dyn-x,');
            assert.deepEqual(JSON.parse((await raw.next()).slice('4/dyn-x,'.length)), { message: 'Invalid namespace' });
            await raw.send('0/dyn-008,{"token":"t"}');
            assert.match(await raw.next(), /^0\/dyn-008,\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
            assert.equal(await raw.next(), '2/dyn-008,["nsp","/dyn-008"]');
            // The static "/" joins the same session; the refusal closed nothing.
            await raw.send('0');
            assert.match(await raw.next(), /^0\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
            assert.equal(await raw.next(), '2["auth",{}]');
            await raw.send('20["echo","ok"]');
            assert.equal(await raw.next(), '30["ok"]');
            assert.equal(raw.isClosed, false);
        });
    });
}
