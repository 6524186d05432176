// Upgrade from HTTP long-polling to WebSocket (probe 2probe/3probe, then 5).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { createSocket } from './lib/client.mjs';
import { handshake, openWebSocket, poll, post, errorBody, pollMessages } from './lib/raw.mjs';
import { byteRamp, delay, toBuffer, waitEvent, withTimeout } from './lib/util.mjs';

describe('upgrade', () => {
    let server;
    before(async () => { server = await startServer(); });
    after(() => server?.close());

    describe('engine.io-client', () => {
        test('polling upgrades to websocket and echo still works', async (t) => {
            const socket = createSocket(server);
            t.after(() => socket.close());
            const upgraded = waitEvent(socket, 'upgrade', 5000, { failOn: ['upgradeError', 'close'] });
            await waitEvent(socket, 'open', 5000, { failOn: ['error', 'close'] });
            assert.equal(socket.transport.name, 'polling', 'starts with polling');
            const sid = socket.id;
            const transport = await upgraded;
            assert.equal(transport.name, 'websocket');
            assert.equal(socket.transport.name, 'websocket');
            assert.equal(socket.id, sid, 'same session after the upgrade');
            socket.send('after upgrade');
            socket.send(Buffer.from([1, 2, 3]));
            const [text, bin] = await socket.inbox.take(2, 3000);
            assert.equal(text, 'after upgrade');
            assert.deepEqual(toBuffer(bin), Buffer.from([1, 2, 3]));
        });

        test('messages sent before, during and after the upgrade are neither lost nor reordered', async (t) => {
            const socket = createSocket(server);
            t.after(() => socket.close());
            const sent = [];
            let n = 0;
            const burst = (count, tag) => {
                for (let i = 0; i < count; i++, n++) {
                    const m = n % 4 === 3 ? Buffer.from(`${tag} ${n}`) : `${tag} ${n}`;
                    sent.push(m);
                    socket.send(m);
                }
            };
            // Keep sending while the upgrade is in flight so that messages cross it both ways.
            const ticker = setInterval(() => burst(5, 'tick'), 5);
            t.after(() => clearInterval(ticker));
            socket.on('open', () => burst(50, 'open'));
            socket.on('upgrading', () => burst(50, 'upgrading'));
            const upgraded = waitEvent(socket, 'upgrade', 5000, { failOn: ['upgradeError', 'close'] });
            await waitEvent(socket, 'open', 5000, { failOn: ['error', 'close'] });
            await upgraded;
            burst(50, 'upgraded');
            await delay(50);
            clearInterval(ticker);
            burst(10, 'last');
            const got = await socket.inbox.take(sent.length, 8000, `${sent.length} echoes`);
            assert.equal(socket.transport.name, 'websocket');
            got.forEach((m, i) => {
                if (typeof sent[i] === 'string') {
                    assert.equal(m, sent[i], `message ${i}`);
                } else {
                    assert.deepEqual(toBuffer(m), sent[i], `message ${i}`);
                }
            });
            // Nothing more than what was sent.
            await delay(100);
            assert.equal(socket.inbox.items.length, 0, 'no duplicated echoes');
        });

        test('server messages queued during the upgrade arrive over the new transport', async (t) => {
            const socket = createSocket(server);
            t.after(() => socket.close());
            const upgraded = waitEvent(socket, 'upgrade', 5000, { failOn: ['upgradeError', 'close'] });
            await waitEvent(socket, 'open', 5000, { failOn: ['error', 'close'] });
            const bytes = Buffer.from(byteRamp(1000));
            socket.send(bytes);
            socket.send('text right after open');
            await upgraded;
            const [bin, text] = await socket.inbox.take(2, 3000);
            assert.deepEqual(toBuffer(bin), bytes);
            assert.equal(text, 'text right after open');
        });
    });

    describe('raw', () => {
        test('probe, pending GET released with noop, then 5 switches to websocket', async (t) => {
            const { sid } = await handshake(server);
            // A GET parked on the server before the probe.
            const pending = poll(server, sid, { timeout: 4000 });
            await delay(100);
            const { ws, inbox } = await openWebSocket(server, { sid });
            t.after(() => ws.terminate());
            ws.send('2probe');
            const probe = await inbox.next(3000, '3probe');
            assert.equal(probe.text, '3probe');
            const { res, packets } = await withTimeout(pending, 3000, 'parked GET released during upgrade');
            assert.equal(res.status, 200);
            assert.deepEqual(packets.map((p) => p.raw), ['6'], 'parked GET is released with a noop');

            // A message posted during the upgrade (before 5) is echoed exactly once: engine.io
            // answers it over polling while the upgrade is pending; a server that keeps it for
            // the WebSocket (sent after 5) is fine too.
            assert.equal((await post(server, sid, '4during upgrade')).status, 200);
            const viaPolling = await pollMessages(server, sid, 1, { timeout: 3000 }).catch(() => []);
            ws.send('5');
            ws.send('4after upgrade');
            const expected = viaPolling.length ? ['4after upgrade'] : ['4during upgrade', '4after upgrade'];
            const frames = await inbox.take(expected.length, 3000, 'echoes over the WebSocket');
            if (viaPolling.length) {
                assert.deepEqual(viaPolling.map((p) => p.raw), ['4during upgrade']);
            }
            assert.deepEqual(frames.map((f) => f.text), expected);

            // The polling transport is gone: polling with this sid now is a transport mismatch.
            const after = await poll(server, sid, { timeout: 3000 });
            assert.equal(after.res.status, 400);
            assert.deepEqual(errorBody(after.res), { code: 3, message: 'Bad request' });
        });

        test('a second WebSocket for a session already on websocket does not disturb it', async (t) => {
            const { ws, inbox } = await openWebSocket(server);
            t.after(() => ws.terminate());
            const open = JSON.parse((await inbox.next(3000)).text.slice(1));
            // engine.io may accept or refuse this upgrade; either way the session keeps working.
            try {
                const second = await openWebSocket(server, { sid: open.sid });
                second.ws.terminate();
            } catch {
                // refused: fine
            }
            await delay(100);
            ws.send('4still here');
            assert.equal((await inbox.next(3000)).text, '4still here');
        });
    });
});
