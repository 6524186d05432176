// Malformed Socket.IO packets, sent by hand over a raw Engine.IO session (WebSocket, polling, and
// polling upgraded to WebSocket). Like Node's socket.io 4.8 (socket.io-parser throws, the client
// connection is closed), the server must close the Engine.IO connection that sent a packet it
// cannot decode, and keep serving every other client.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { RawSio, TRANSPORT_SETUPS, TEST_TIMEOUT_MS, WAIT_MS, connectClient, emitAck } from './lib/sio.mjs';
import { delay } from './lib/util.mjs';

const CLOSE_WITHIN_MS = 1000;
const placeholders = (n) => Array.from({ length: n }, (_, num) => ({ _placeholder: true, num }));

// Each case: what to send after joining "/" (strings are Socket.IO packets, Buffers binary
// Engine.IO messages).
const MALFORMED = [
    { name: 'unknown packet type "9"', send: ['9'] },
    { name: 'unknown packet type "9" with a payload', send: ['9["x"]'] },
    { name: 'bad JSON 2["x",', send: ['2["x",'] },
    { name: 'bad JSON with an ack id 21["x",', send: ['21["x",'] },
    { name: 'EVENT payload not an array 2{}', send: ['2{}'] },
    { name: 'EVENT payload a string 2"x"', send: ['2"x"'] },
    { name: 'EVENT with an empty array 2[]', send: ['2[]'] },
    { name: 'EVENT name not a string or number 2[{}]', send: ['2[{"a":1}]'] },
    { name: 'reserved event name 2["connect"]', send: ['2["connect"]'] },
    { name: 'reserved event name 2["connect_error"]', send: ['2["connect_error"]'] },
    { name: 'reserved event name 2["disconnect"]', send: ['2["disconnect"]'] },
    { name: 'reserved event name 2["disconnecting"]', send: ['2["disconnecting"]'] },
    { name: 'reserved event name 2["newListener"]', send: ['2["newListener"]'] },
    { name: 'reserved event name 2["removeListener"]', send: ['2["removeListener"]'] },
    { name: 'ACK payload not an array 30{}', send: ['30{}'] },
    { name: 'CONNECT payload a string 0/custom,"x"', send: ['0/custom,"x"'] },
    { name: 'CONNECT payload an array 0/custom,[1]', send: ['0/custom,[1]'] },
    { name: 'DISCONNECT with a payload 1{}', send: ['1{}'] },
    { name: 'namespace without a comma 2/custom["x"]', send: ['2/custom["x"]'] },
    {
        name: 'BINARY_EVENT with too many attachments 511-[...]',
        send: [`511-${JSON.stringify(['x', ...placeholders(11)])}`],
    },
    {
        name: 'BINARY_EVENT with a bad attachment count 5x-[...]',
        send: [`5x-${JSON.stringify(['x', ...placeholders(1)])}`],
    },
    { name: 'a binary attachment that no packet announced', send: [Buffer.from([1, 2, 3])] },
    {
        name: 'a placeholder index out of range',
        send: ['51-["x",{"_placeholder":true,"num":5}]', Buffer.from([1])],
    },
    {
        name: 'a placeholder index that is not a number',
        send: ['51-["x",{"_placeholder":true,"num":"0"}]', Buffer.from([1])],
    },
    {
        name: 'a text packet while the attachments of a BINARY_EVENT are awaited',
        send: [`51-${JSON.stringify(['x', ...placeholders(1)])}`, '2["y"]'],
    },
];

// Well-formed packets in a state where they make no sense: Node's socket.io 4.8
// (Client.ondecoded, "invalid state") closes the connection for a non-CONNECT packet to a
// namespace the client has not joined, and for a CONNECT / CONNECT_ERROR to a namespace it has.
const INVALID_STATE = [
    { name: 'EVENT to a namespace not joined 2/custom,["x"]', send: ['2/custom,["x"]'] },
    { name: 'EVENT with an ack id to a namespace not joined 2/custom,5["echo","x"]', send: ['2/custom,5["echo","x"]'] },
    { name: 'ACK to a namespace not joined 3/custom,1["x"]', send: ['3/custom,1["x"]'] },
    { name: 'DISCONNECT from a namespace not joined 1/custom,', send: ['1/custom,'] },
    { name: 'EVENT after leaving the namespace (1, then 2["x"])', send: ['1'], then: ['2["x"]'] },
    { name: 'CONNECT to a namespace already joined (0 again)', send: ['0'] },
    { name: 'CONNECT_ERROR from the client to a joined namespace 4{...}', send: ['4{"message":"x"}'] },
    { name: 'CONNECT_ERROR from the client to a namespace not joined 4/custom,{...}', send: ['4/custom,{"message":"x"}'] },
];

// Well-formed packets the server has no use for: ignored, the connection stays open (as in
// Node's socket.io 4.8).
const IGNORED = [
    { name: 'an event without a handler', send: ['2["no-such-handler",1]'] },
    { name: 'an event without a handler, with an ack id', send: ['27["no-such-handler"]'] },
    { name: 'a numeric event name', send: ['2[42,"x"]'] },
    { name: 'an empty event name', send: ['2[""]'] },
    { name: 'an ACK for an id the server never used', send: ['39["x"]'] },
    { name: 'a BINARY_EVENT with 0 attachments', send: ['50-["no-such-handler","x"]'] },
];

for (const setup of TRANSPORT_SETUPS) {
    // The tests of a setup run concurrently: each has its own raw session, and a failing one
    // waits CLOSE_WITHIN_MS for nothing.
    describe(`Socket.IO malformed packets over raw ${setup.raw}`, { timeout: TEST_TIMEOUT_MS, concurrency: true }, () => {
        let server;
        let bystander;
        before(async () => {
            server = await startServer();
            bystander = await connectClient(server, setup);
        });
        after(async () => {
            bystander?.io.engine?.close();
            bystander?.disconnect();
            await server?.close();
        });

        /** The server still serves the client that was there before, and new ones. */
        async function assertStillServing(t, what) {
            assert.ok(server.alive(), `the server is still running after ${what}${server.stderrTail(5)}`);
            assert.deepEqual(await emitAck(bystander, 'echo', [`after ${what}`]), [`after ${what}`],
                `the other client is still served after ${what}`);
            const fresh = await RawSio.connected(server, setup.raw, { t });
            await fresh.send('22["echo","fresh"]');
            assert.equal(await fresh.next(), '32["fresh"]', `a new session is served after ${what}`);
        }

        test('control: a well-formed exchange on a raw session', async (t) => {
            const raw = await RawSio.connected(server, setup.raw, { t });
            await raw.send('21["echo",{"a":[1,"b"]}]');
            assert.equal(await raw.next(), '31[{"a":[1,"b"]}]');
            await raw.send('51-3["echo",{"_placeholder":true,"num":0}]', Buffer.from([7, 8, 9]));
            assert.equal(await raw.next(), '61-3[{"_placeholder":true,"num":0}]');
            assert.deepEqual(await raw.next(), Buffer.from([7, 8, 9]));
            assert.equal(await raw.waitClosed(200), null, 'the session stays open');
        });

        for (const { name, send } of MALFORMED) {
            test(`${name}: the connection is closed`, async (t) => {
                const raw = await RawSio.connected(server, setup.raw, { t });
                // The session works before the bad packet.
                await raw.send('20["echo","before"]');
                assert.equal(await raw.next(), '30["before"]');
                await raw.send(...send);
                const closed = await raw.waitClosed(CLOSE_WITHIN_MS);
                assert.ok(closed, `the server closed the connection within ${CLOSE_WITHIN_MS} ms after `
                    + `${JSON.stringify(send.map(String))} (it did not; `
                    + `received since: ${JSON.stringify(raw.messages.items.map(String))})`);
                await assertStillServing(t, name);
            });
        }

        // One test for all of them (they share one cause), each case on its own session.
        test('packets in an invalid state close the connection (as socket.io 4.8 does)', async (t) => {
            const outcomes = await Promise.all(INVALID_STATE.map(async ({ name, send, then }) => {
                const raw = await RawSio.connected(server, setup.raw, { t });
                await raw.send('20["echo","before"]');
                assert.equal(await raw.next(), '30["before"]', `${name}: the session works before`);
                await raw.send(...send);
                if (then) {
                    await delay(50);
                    assert.equal(raw.isClosed, false, `${name}: ${JSON.stringify(send)} alone does not close`);
                    await raw.send(...then);
                }
                const closed = await raw.waitClosed(CLOSE_WITHIN_MS);
                return closed ? null : `${name}: sent ${JSON.stringify([...send, ...(then ?? [])])}, `
                    + `still open after ${CLOSE_WITHIN_MS} ms (received since: `
                    + `${JSON.stringify(raw.messages.items.map(String))})`;
            }));
            const open = outcomes.filter(Boolean);
            if (open.length) {
                assert.fail(`the server did not close the connection for ${open.length} of `
                    + `${INVALID_STATE.length} cases:\n  ${open.join('\n  ')}`);
            }
            await assertStillServing(t, 'packets in an invalid state');
        });

        test('well-formed packets without a use are ignored', async (t) => {
            const raw = await RawSio.connected(server, setup.raw, { t });
            for (const { name, send } of IGNORED) {
                await raw.send(...send);
                await raw.send('20["echo","still open"]');
                assert.equal(await raw.next(WAIT_MS, `echo after ${name}`), '30["still open"]', name);
                assert.equal(raw.isClosed, false, `still open after ${name}`);
            }
            assert.equal(await raw.waitClosed(100), null);
        });

        test('a malformed packet before any namespace was joined closes the connection', async (t) => {
            const raw = await RawSio.open(server, setup.raw === 'upgrade' ? 'polling' : setup.raw, { t });
            await raw.send('2["x",');
            const closed = await raw.waitClosed(CLOSE_WITHIN_MS);
            assert.ok(closed, `closed within ${CLOSE_WITHIN_MS} ms`);
            await assertStillServing(t, 'a malformed packet before CONNECT');
        });
    });
}
