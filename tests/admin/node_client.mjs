// The monitored application of tst_adminapp: a socket.io-client on namespace "/" that prints what
// happens to it as JSON lines on stdout ({"type":"connect","id"}, {"type":"event","event","args"},
// {"type":"disconnect","reason"}) and exits after a disconnect. Usage:
//   node node_client.mjs URL NODE_MODULES_DIR
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [url, modules] = process.argv.slice(2);
const require = createRequire(join(modules, 'noop.js'));
const { io } = require('socket.io-client');

const print = (line) => process.stdout.write(JSON.stringify(line) + '\n');
const socket = io(url, { reconnection: false, transports: ['websocket'] });
socket.on('connect', () => print({ type: 'connect', id: socket.id }));
socket.on('connect_error', (err) => print({ type: 'connect_error', message: err.message }));
socket.onAny((event, ...args) => print({ type: 'event', event, args }));
socket.on('disconnect', (reason) => {
    print({ type: 'disconnect', reason });
    setTimeout(() => process.exit(0), 50);
});
// The test may ask for an event of the client's own, to see it in the event log.
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
        const { event, args } = JSON.parse(line);
        socket.emit(event, ...(args || []));
    }
});
