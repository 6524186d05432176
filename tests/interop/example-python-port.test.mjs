// examples/python_port (the Python plugin's README examples in C++) driven by socket.io-client.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { io } from 'socket.io-client';

const WAIT = 5000;

function once(socket, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${WAIT} ms`)), WAIT);
    socket.once(event, (...args) => { clearTimeout(timer); resolve(args); });
  });
}

describe('python_port example', () => {
  let proc;
  let url;
  const sockets = [];
  const client = (path = '', options = {}) => {
    const s = io(url + path, { transports: ['websocket'], reconnection: false, forceNew: true, ...options });
    sockets.push(s);
    return s;
  };

  before(async () => {
    assert.ok(process.env.PYTHON_PORT, 'PYTHON_PORT names the example binary');
    proc = spawn(process.env.PYTHON_PORT, ['--port', '0']);
    url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('example did not start')), WAIT);
      proc.stdout.on('data', (d) => {
        const m = String(d).match(/http:\/\/\S+/);
        if (m) { clearTimeout(timer); resolve(m[0]); }
      });
      proc.on('exit', (code) => reject(new Error(`example exited with ${code}`)));
    });
  });
  after(() => { sockets.forEach((s) => s.close()); proc?.kill(); });

  test('the connect handler refuses a bad token with data', async () => {
    const s = client('', { query: { token: 'wrong' } });
    const [err] = await once(s, 'connect_error');
    assert.equal(err.message, 'authentication failed');
    assert.deepEqual(err.data, { reason: 'bad token' });
  });

  test('welcome, authenticated, and message broadcast to everyone', async () => {
    const a = client('', { query: { token: 'let-me-in' } });
    const welcomed = once(a, 'welcome');
    const authenticated = once(a, 'authenticated');
    assert.deepEqual(await welcomed, [{ msg: 'Welcome!' }]);
    await authenticated;
    const b = client('', { query: { token: 'let-me-in' } });
    await once(b, 'authenticated');
    const toA = once(a, 'response');
    const toB = once(b, 'response');
    a.emit('message', 'hi all');
    assert.deepEqual(await toA, [{ message: 'hi all', from: a.id }]);
    assert.deepEqual(await toB, [{ message: 'hi all', from: a.id }]);
  });

  test('rooms: join_room, send_to_room, leave_room', async () => {
    const a = client('', { query: { token: 'let-me-in' } });
    const b = client('', { query: { token: 'let-me-in' } });
    await Promise.all([once(a, 'authenticated'), once(b, 'authenticated')]);
    const joined = once(a, 'joined_room');
    a.emit('join_room', 'lobby');
    assert.deepEqual(await joined, [{ room: 'lobby' }]);
    const inRoom = once(a, 'room_message');
    let bGot = false;
    b.on('room_message', () => { bGot = true; });
    b.emit('send_to_room', { room: 'lobby', message: 'hello lobby' });
    assert.deepEqual(await inRoom, [{ from: b.id, message: 'hello lobby' }]);
    const left = once(a, 'left_room');
    a.emit('leave_room', 'lobby');
    assert.deepEqual(await left, [{ room: 'lobby' }]);
    assert.equal(bGot, false);
  });

  test('the /chat namespace: join and message to the room', async () => {
    const a = client('/chat', { query: { token: 'let-me-in' } });
    const b = client('/chat', { query: { token: 'let-me-in' } });
    await Promise.all([once(a, 'connect'), once(b, 'connect')]);
    for (const s of [a, b]) {
      const joined = once(s, 'joined');
      s.emit('join', { room: 'general' });
      assert.deepEqual(await joined, [{ room: 'general' }]);
    }
    const got = once(b, 'new_message');
    a.emit('message', { room: 'general', message: 'hey' });
    assert.deepEqual(await got, [{ user: a.id, message: 'hey' }]);
  });
});
