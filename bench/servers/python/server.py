#!/usr/bin/python3
"""The benchmark contract on python-socketio (AsyncServer on aiohttp), the second reference
QSocketIo is measured against.

Namespace "/": echo (data, ack), broadcast (data, ack?), join (room, ack),
room-broadcast (room, data, ack); see bench/README.md. Listens on 127.0.0.1:$PORT.
Run it with Debian's /usr/bin/python3, which has python3-socketio and python3-aiohttp.
"""

import asyncio
import os
import signal
import sys

import socketio
from aiohttp import web

PORT = int(os.environ.get("PORT", "3000"))
# The same limit the runner gives every server, so that no payload of a scenario is refused
# by one and taken by another.
MAX_HTTP_BUFFER_SIZE = int(os.environ.get("MAX_HTTP_BUFFER_SIZE", str(16 * 1024 * 1024)))

sio = socketio.AsyncServer(
    async_mode="aiohttp",
    max_http_buffer_size=MAX_HTTP_BUFFER_SIZE,
    # QSocketIo compresses nothing; the comparison is of the servers, not of zlib.
    http_compression=False,
)


def room_size(room):
    # python-socketio keeps every socket of a namespace in the room None as well.
    return len(sio.manager.rooms.get("/", {}).get(room, {}))


@sio.on("echo")
async def echo(sid, data=None):
    # A handler's return value is the ack; it is dropped when the client asked for none.
    return data


@sio.on("broadcast")
async def broadcast(sid, data=None):
    await sio.emit("bcast", data)
    return room_size(None)


@sio.on("join")
async def join(sid, room):
    sio.enter_room(sid, room)
    return True


@sio.on("room-broadcast")
async def room_broadcast(sid, room, data=None):
    await sio.emit("bcast", data, room=room)
    return room_size(room)


async def main():
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", PORT)
    try:
        await site.start()
    except OSError as error:
        print(f"cannot listen: {error}", file=sys.stderr)
        return 1
    print(f"listening on http://127.0.0.1:{PORT}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    # Closing thousands of sessions one by one can take long; the runner only needs the
    # process gone, so give the clean-up a bound.
    try:
        await asyncio.wait_for(runner.cleanup(), timeout=2)
    except asyncio.TimeoutError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
