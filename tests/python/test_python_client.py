"""Interop with the python-socketio client (Debian's python3-socketio 5.7) against interop_server.

Run by CTest with /usr/bin/python3; INTEROP_SERVER names the server binary.
"""
import os
import re
import subprocess
import threading
import unittest

import socketio

TIMEOUT = 5


class Server:
    def __init__(self):
        self.proc = subprocess.Popen(
            [os.environ["INTEROP_SERVER"], "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        match = re.search(r"(http://\S+)", line)
        if not match:
            self.proc.kill()
            raise RuntimeError("interop_server did not start: %r %s" % (line, self.proc.stderr.read()))
        self.url = match.group(1)

    def close(self):
        self.proc.kill()
        self.proc.wait(TIMEOUT)


class Waiter:
    """Collects events from the client's thread; wait() returns the next one or fails."""

    def __init__(self):
        self.cond = threading.Condition()
        self.items = []

    def put(self, item):
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def wait(self, count=1):
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.items) >= count, TIMEOUT):
                raise AssertionError("timed out; got %r" % (self.items,))
            taken, self.items = self.items[:count], self.items[count:]
            return taken


class PythonClientTest:
    transports = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def connect(self, auth=None, namespaces=None):
        client = socketio.Client(reconnection=False)
        events = Waiter()
        client.on("auth", lambda data: events.put(("auth", data)))
        client.on("message-back", lambda *args: events.put(("message-back", list(args))))
        client.on("bcast", lambda data: events.put(("bcast", data)))
        client.on("room-event", lambda *args: events.put(("room-event", list(args))))
        client.connect(self.server.url, auth=auth, transports=self.transports,
                       namespaces=namespaces, wait_timeout=TIMEOUT)
        self.addCleanup(client.disconnect)
        return client, events

    def test_connect_with_auth(self):
        client, events = self.connect(auth={"token": "abc", "n": 1})
        self.assertEqual(events.wait(), [("auth", {"token": "abc", "n": 1})])
        self.assertEqual(len(client.get_sid()), 20)
        self.assertNotEqual(client.get_sid(), client.eio.sid)

    def test_connect_without_auth(self):
        _, events = self.connect()
        self.assertEqual(events.wait(), [("auth", {})])

    def test_refused_namespace(self):
        client = socketio.Client(reconnection=False)
        with self.assertRaises(socketio.exceptions.ConnectionError):
            client.connect(self.server.url, namespaces=["/nope"], transports=self.transports,
                           wait_timeout=TIMEOUT)
        client.disconnect()

    def test_events(self):
        client, events = self.connect()
        events.wait()
        args = [1, "two", {"three": [3, None, True]}, "ünï€ødé"]
        client.emit("message", tuple(args))
        self.assertEqual(events.wait(), [("message-back", args)])

    def test_acks_client_to_server(self):
        client, events = self.connect()
        events.wait()
        self.assertEqual(client.call("echo", {"a": 1}, timeout=TIMEOUT), {"a": 1})
        self.assertEqual(client.call("message-with-ack", ("x", 2), timeout=TIMEOUT), ("x", 2))

    def test_acks_server_to_client(self):
        client, events = self.connect()
        events.wait()
        client.on("question", lambda a, b: ("answer", a + b))
        self.assertEqual(client.call("request-ack", ("question", 2, 3), timeout=TIMEOUT),
                         ("answer", 5))

    def test_binary_both_ways(self):
        client, events = self.connect()
        events.wait()
        payload = {"blob": b"\x00\x01\xfe\xff", "list": [b"", b"abc"]}
        client.emit("message", (b"top", payload))
        (_, back), = events.wait()
        self.assertEqual(back, [b"top", payload])
        self.assertEqual(client.call("echo", b"\x10\x20", timeout=TIMEOUT), b"\x10\x20")

    def test_rooms(self):
        a, a_events = self.connect()
        b, b_events = self.connect()
        c, c_events = self.connect()
        for events in (a_events, b_events, c_events):
            events.wait()
        self.assertTrue(a.call("join", "py-room", timeout=TIMEOUT))
        self.assertTrue(b.call("join", "py-room", timeout=TIMEOUT))
        c.emit("to-room", ("py-room", "room-event", "hi", b"\x01"))
        self.assertEqual(a_events.wait(), [("room-event", ["hi", b"\x01"])])
        self.assertEqual(b_events.wait(), [("room-event", ["hi", b"\x01"])])
        self.assertTrue(b.call("leave", "py-room", timeout=TIMEOUT))
        a.emit("to-room", ("py-room", "room-event", "only-a-left"))
        c.emit("to-room", ("py-room", "room-event", "to-a"))
        self.assertEqual(a_events.wait(), [("room-event", ["to-a"])])
        self.assertEqual(b_events.items, [])
        self.assertEqual(c_events.items, [])


class Polling(PythonClientTest, unittest.TestCase):
    transports = ["polling"]


class WebSocket(PythonClientTest, unittest.TestCase):
    transports = ["websocket"]


class Upgrade(PythonClientTest, unittest.TestCase):
    transports = ["polling", "websocket"]


if __name__ == "__main__":
    unittest.main()
