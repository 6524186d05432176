// engine.io-client (the official JavaScript client) connected to an interop_server.

import { Socket } from 'engine.io-client';
import { Inbox, waitEvent } from './util.mjs';

export const OPEN_TIMEOUT_MS = 5_000;

/**
 * Creates an engine.io-client Socket for `server` and waits for 'open'.
 * Resolves with the socket; `socket.handshakeData` is the server's open packet,
 * `socket.inbox` collects the received messages, `socket.closeEvents` the 'close' events
 * as [reason, description]. With `t`, the socket is closed in t.after().
 */
export async function connect(server, options = {}, { t, timeout = OPEN_TIMEOUT_MS } = {}) {
    const socket = createSocket(server, options);
    t?.after(() => socket.close());
    try {
        await waitEvent(socket, 'open', timeout, { failOn: ['error', 'close'] });
    } catch (err) {
        socket.close();
        throw err;
    }
    return socket;
}

/** Like connect() but does not wait for 'open'. */
export function createSocket(server, options = {}) {
    const socket = new Socket(server.url, {
        path: '/engine.io/',
        rejectUnauthorized: false,
        ...options,
    });
    socket.handshakeData = null;
    socket.closeEvents = [];
    socket.on('handshake', (data) => { socket.handshakeData = data; });
    socket.on('close', (reason, description) => socket.closeEvents.push([reason, description]));
    socket.inbox = new Inbox(socket, 'message');
    return socket;
}
