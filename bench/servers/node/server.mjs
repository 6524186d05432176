// The benchmark contract on Node's socket.io, the reference QSocketIo is measured against.
// Namespace "/": echo (data, ack), broadcast (data, ack?), join (room, ack),
// room-broadcast (room, data, ack); see bench/README.md. Listens on 127.0.0.1:$PORT.

import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.env.PORT ?? 3000);
// The same limit the runner gives every server, so that no payload of a scenario is refused
// by one and taken by another.
const maxHttpBufferSize = Number(process.env.MAX_HTTP_BUFFER_SIZE ?? 16 * 1024 * 1024);

const httpServer = createServer();
const io = new Server(httpServer, {
  maxHttpBufferSize,
  // QSocketIo compresses nothing; the comparison is of the servers, not of zlib.
  perMessageDeflate: false,
  httpCompression: false,
});

const root = io.of('/');
root.on('connection', (socket) => {
  socket.on('echo', (data, ack) => {
    if (typeof ack === 'function') ack(data);
  });
  socket.on('broadcast', (data, ack) => {
    root.emit('bcast', data);
    if (typeof ack === 'function') ack(root.sockets.size);
  });
  socket.on('join', (room, ack) => {
    socket.join(room);
    if (typeof ack === 'function') ack(true);
  });
  socket.on('room-broadcast', (room, data, ack) => {
    root.to(room).emit('bcast', data);
    if (typeof ack === 'function') ack(root.adapter.rooms.get(room)?.size ?? 0);
  });
});

httpServer.on('error', (err) => {
  console.error(`cannot listen: ${err.message}`);
  process.exit(1);
});
httpServer.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${httpServer.address().port}`);
});

process.on('SIGTERM', () => {
  // io.close() waits for every client to go; thousands of them may take a while, and the
  // runner only needs the process gone.
  setTimeout(() => process.exit(0), 2000).unref();
  io.close(() => process.exit(0));
});
