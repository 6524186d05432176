// Many engine.io-client sockets at once on one server: each gets exactly its own echoes.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { connect } from './lib/client.mjs';
import { toBuffer } from './lib/util.mjs';

const CLIENTS_PER_KIND = 10;
const MESSAGES = 30;

describe('concurrency', () => {
    let server;
    before(async () => { server = await startServer(); });
    after(() => server?.close());

    test(`${CLIENTS_PER_KIND * 3} clients (polling, websocket, upgrading) echo at the same time`, async (t) => {
        const kinds = [['polling'], ['websocket'], ['polling', 'websocket']];
        const sockets = await Promise.all(kinds.flatMap((transports) =>
            Array.from({ length: CLIENTS_PER_KIND }, () => connect(server, { transports }, { t }))));
        const sids = new Set(sockets.map((s) => s.id));
        assert.equal(sids.size, sockets.length, 'every client has its own session');

        const expected = sockets.map((socket, c) => {
            const sent = [];
            for (let i = 0; i < MESSAGES; i++) {
                const m = i % 5 === 4 ? Buffer.from(`client ${c} binary ${i}`) : `client ${c} text ${i}`;
                sent.push(m);
                socket.send(m);
            }
            return sent;
        });
        const received = await Promise.all(sockets.map((socket) => socket.inbox.take(MESSAGES, 10_000)));
        received.forEach((got, c) => {
            got.forEach((m, i) => {
                const want = expected[c][i];
                if (typeof want === 'string') {
                    assert.equal(m, want);
                } else {
                    assert.deepEqual(toBuffer(m), want);
                }
            });
        });
        for (const socket of sockets) {
            assert.deepEqual(socket.closeEvents, []);
        }
    });
});
