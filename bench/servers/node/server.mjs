// The benchmark contract on Node's socket.io, the reference QSocketIo is measured against.
// Namespace "/": echo (data, ack), broadcast (data, ack?), join (room, ack),
// room-broadcast (room, data, ack); see bench/README.md. Listens on 127.0.0.1:$PORT.
//
// With --redis HOST:PORT it joins a cluster through @socket.io/redis-adapter 8 (its classic
// pub/sub variant, the format QSocketIo's RedisAdapter speaks) on node-redis 4: one publishing
// connection and exactly one subscribed one, as QSocketIo's servers have (bench/cluster.py).
// The acks' counts stay this server's own sockets, as in QSocketIo's interop_server.

import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Server } from 'socket.io';

const port = Number(process.env.PORT ?? 3000);
// The same limit the runner gives every server, so that no payload of a scenario is refused
// by one and taken by another.
const maxHttpBufferSize = Number(process.env.MAX_HTTP_BUFFER_SIZE ?? 16 * 1024 * 1024);
const { values: args } = parseArgs({ options: { redis: { type: 'string' } } });

// The Redis adapter's two connections, connected before the server listens.
async function redisAdapter(address) {
  const { createClient } = await import('redis');
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const url = address.startsWith('redis://') ? address : `redis://${address}`;
  const pubClient = createClient({ url });
  const subClient = pubClient.duplicate();
  for (const client of [pubClient, subClient]) {
    // node-redis reconnects by itself; an unhandled 'error' event would end the process.
    client.on('error', (err) => console.error(`redis: ${err.message}`));
  }
  await Promise.all([pubClient.connect(), subClient.connect()]);
  return createAdapter(pubClient, subClient);
}

const httpServer = createServer();
const io = new Server(httpServer, {
  maxHttpBufferSize,
  // QSocketIo compresses nothing; the comparison is of the servers, not of zlib.
  perMessageDeflate: false,
  httpCompression: false,
  ...(args.redis ? { adapter: await redisAdapter(args.redis) } : {}),
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
