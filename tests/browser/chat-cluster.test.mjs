// The chat example as a cluster, in a real browser: a private redis-server, two chat_server
// processes sharing it (--redis), one page on each. The users see each other, room messages
// and private messages cross servers, a name taken on one server is refused on the other, and
// a page that closes leaves the other server's user list. Screenshots of the two pages are
// left in $CHAT_SCREENSHOT_DIR (chat_cluster_a.png, chat_cluster_b.png).
//
// Needs CHAT_SERVER (the chat_server binary), /usr/bin/chromium and /usr/bin/redis-server
// (REDIS_SERVER to use another); CTest sets up the first.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { stopProcess } from './lib/process.mjs';

const SERVER = process.env.CHAT_SERVER;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const REDIS = process.env.REDIS_SERVER || '/usr/bin/redis-server';
const SHOTS = process.env.CHAT_SCREENSHOT_DIR || path.join(tmpdir(), 'qsio-browser-chat');
const STEP_MS = 10_000; // the longest any one wait may take
const WATCHDOG_MS = 55_000; // the whole file, whatever happens

const children = new Set(); // every process started here, until it exited
let redis;
let redisPort;
const servers = {}; // 'a', 'b' -> {child, url}
let stopping = false; // the servers' exits are expected from now on
let browser;
const pages = {}; // name -> page
const closing = new Set(); // pages being closed on purpose
const problems = []; // page errors, failed requests, unexpected exits

// No orphans: whatever ends this process (a failure, the watchdog) ends what it started.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

// Never hang: past the watchdog, kill what we started and fail.
const watchdog = setTimeout(() => {
  console.error(`browser test still running after ${WATCHDOG_MS} ms: giving up`);
  process.exit(1); // the exit handler kills the servers; playwright kills its browser
}, WATCHDOG_MS);
watchdog.unref();

// ---- processes ----

// Starts `command` and resolves once a line of its output matches every pattern, with the
// first pattern's match; rejects when it exits first or takes longer than STEP_MS.
function startProcess(name, command, args, patterns) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    child.on('exit', () => children.delete(child));
    let output = '';
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      child.kill('SIGKILL');
      reject(new Error(`${name} did not get ready in ${STEP_MS} ms:\n${output}`));
    }, STEP_MS);
    const onData = (data) => {
      output += data;
      if (done || !patterns.every((p) => p.test(output))) return;
      done = true;
      clearTimeout(timer);
      resolve({ child, match: patterns[0].exec(output) });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (data) => {
      for (const line of String(data).split('\n')) if (line) process.stderr.write(`${name}: ${line}\n`);
      onData(data);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      done = true;
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (done) return;
      done = true;
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// A redis-server of our own, in memory only, on a free loopback port. The port is free when
// asked for and taken a moment later: another process may get it first, so try again then.
async function startRedis() {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const { child } = await startProcess('redis-server', REDIS,
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
          '--dir', tmpdir()],
        [/Ready to accept connections/]);
      return { child, port };
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

async function startChatServer(name) {
  const { child, match } = await startProcess(`chat_server ${name}`, SERVER,
    ['--port', '0', '--redis', `127.0.0.1:${redisPort}`],
    [/chat demo on (http:\/\/\S+\/)/, /cluster: Redis at 127\.0\.0\.1:\d+/, /cluster: connected/]);
  child.on('exit', (code, signal) => {
    if (!stopping) problems.push(`chat_server ${name} exited: ${code ?? signal}`);
  });
  return { child, url: match[1] };
}

// ---- the browser ----

async function openPage(name, server) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
  context.setDefaultTimeout(STEP_MS);
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // A refused client closes its session at once, while its next long-polling GET may
    // already be on the way: that GET then meets an unknown session id, HTTP 400 (see
    // chat.test.mjs). Only that is expected, and only on the page that was refused.
    const source = message.location().url || '';
    if (name === 'refused' && /status of 400/.test(message.text())
        && /\/socket\.io\/\?EIO=4&transport=polling&t=[^&]+&sid=/.test(source)) return;
    problems.push(`${name}: console error: ${message.text()} (${source})`);
  });
  page.on('requestfailed', (request) => {
    // Closing a page cuts its long-polling request short: not a failure.
    if (closing.has(name)) return;
    problems.push(`${name}: request failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  // The page's Socket.IO connection has finished its upgrade once it sent the upgrade packet
  // ("5") on its WebSocket.
  page.upgraded = new Promise((resolve) => {
    page.on('websocket', (ws) => ws.on('framesent', ({ payload }) => {
      if (payload === '5') resolve();
    }));
  });
  await page.goto(servers[server].url);
  pages[name] = page;
  return page;
}

async function login(page, name) {
  await page.fill('#login-name', name);
  await page.click('#login-button');
}

async function joinRoom(page, room) {
  await page.fill('#join-name', room);
  await page.press('#join-name', 'Enter');
  await page.locator(`#room-list li.room.joined.active[data-room="${room}"]`).waitFor();
  await assertText(page, '#conversation-title', `# ${room}`);
}

async function assertText(page, selector, expected) {
  await page.waitForFunction(
    ([sel, text]) => document.querySelector(sel)?.textContent.includes(text),
    [selector, expected], { timeout: STEP_MS });
}

// Waits until the page's user list holds exactly these names, in this order.
async function assertUsers(page, names) {
  await page.waitForFunction(
    (expected) => JSON.stringify([...document.querySelectorAll('#user-list li.user .name')]
      .map((n) => n.textContent)) === JSON.stringify(expected),
    names, { timeout: STEP_MS });
}

const roomList = (room) => `.message-list[data-key="room:${room}"]`;
const DELIVERED = /^Delivered at .+ \(message [a-z0-9]{6}-\d+\)$/; // ids carry the server's tag

before(async () => {
  assert.ok(SERVER, 'CHAT_SERVER must name the chat_server binary');
  mkdirSync(SHOTS, { recursive: true });
  ({ child: redis, port: redisPort } = await startRedis());
  redis.on('exit', (code, signal) => {
    if (!stopping) problems.push(`redis-server exited: ${code ?? signal}`);
  });
  [servers.a, servers.b] = await Promise.all([startChatServer('a'), startChatServer('b')]);
  assert.notEqual(servers.a.url, servers.b.url);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: STEP_MS * 2,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

let screenshotsTaken = false;

async function saveScreenshots() {
  if (screenshotsTaken) return;
  screenshotsTaken = true;
  for (const name of ['a', 'b']) {
    const page = pages[name];
    if (!page || page.isClosed()) continue;
    const file = path.join(SHOTS, `chat_cluster_${name}.png`);
    try {
      await page.screenshot({ path: file, timeout: STEP_MS });
      console.log(`screenshot: ${file}`);
    } catch (error) {
      console.error(`no screenshot of ${name}: ${error.message}`);
    }
  }
}

after(async () => {
  await saveScreenshots(); // when a test failed before the last one took them
  await browser?.close().catch(() => {});
  stopping = true;
  await Promise.all(Object.values(servers).map(({ child }) => stopProcess(child)));
  await stopProcess(redis);
  clearTimeout(watchdog);
});

test('a user on each server: both see both in the user list', async () => {
  const a = await openPage('a', 'a');
  const b = await openPage('b', 'b');
  await login(a, 'alice');
  await assertText(a, '#status', 'connected as alice');
  await login(b, 'bob');
  await assertText(b, '#status', 'connected as bob');
  for (const page of [a, b]) {
    await assertUsers(page, ['alice', 'bob']);
    await assertText(page, '#room-list li[data-room="lobby"] .count', '2');
  }
  // Each sees itself marked, the other as someone to write to.
  await assertText(a, '#user-list li.user.me', 'alice (you)');
  await assertText(b, '#user-list li.user.me', 'bob (you)');
});

test('a room spans the servers: members, messages, typing and check marks', async () => {
  const { a, b } = pages;
  await joinRoom(a, 'qt');
  await joinRoom(b, 'qt');
  // The join ack names the members on both servers.
  await assertText(b, roomList('qt'), 'Here: alice, bob');
  await assertText(a, '#room-list li[data-room="qt"] .count', '2');
  await assertText(b, '#room-list li[data-room="qt"] .count', '2');

  await a.fill('#message-input', 'Hello from server A');
  await assertText(b, '#typing', 'alice is typing');
  await a.press('#message-input', 'Enter');
  await b.locator(`${roomList('qt')} .msg .text`, { hasText: 'Hello from server A' }).waitFor();
  await a.locator(`${roomList('qt')} .msg.mine .status.acked`).waitFor();
  assert.equal(await a.textContent(`${roomList('qt')} .msg.mine .status`), '✓');
  const titleA = await a.getAttribute(`${roomList('qt')} .msg.mine .status`, 'title');
  assert.match(titleA, DELIVERED);
  assert.equal(await b.textContent('#typing'), '', 'the indicator goes when the message comes');

  await b.fill('#message-input', 'Hello from server B');
  await b.press('#message-input', 'Enter');
  await a.locator(`${roomList('qt')} .msg .text`, { hasText: 'Hello from server B' }).waitFor();
  await b.locator(`${roomList('qt')} .msg.mine .status.acked`).waitFor();
  const titleB = await b.getAttribute(`${roomList('qt')} .msg.mine .status`, 'title');
  assert.match(titleB, DELIVERED);
  // Each server numbers its own messages: the tags keep the ids apart.
  const tagOf = (title) => /\(message ([a-z0-9]{6})-\d+\)$/.exec(title)[1];
  assert.notEqual(tagOf(titleA), tagOf(titleB));
  // Neither page shows a failed delivery.
  for (const page of [a, b]) assert.equal(await page.locator('.status.failed').count(), 0);
});

test('a private message reaches a user on the other server', async () => {
  const { a, b } = pages;
  await a.click('#user-list li.user button:has-text("bob")');
  await assertText(a, '#conversation-title', '@ bob');
  await a.fill('#message-input', 'just between us');
  await a.press('#message-input', 'Enter');
  await a.locator('.message-list[data-key^="user:"] .msg.mine .status.acked').waitFor();
  // Bob gets it in a conversation with alice, flagged unread while he looks at the room.
  await b.locator('.message-list[data-key^="user:"] .msg .text', { hasText: 'just between us' })
    .waitFor({ state: 'attached' });
  await b.locator('#user-list li.user .badge').waitFor();
  // And answers it the same way.
  await b.click('#user-list li.user button:has-text("alice")');
  await assertText(b, '#conversation-title', '@ alice');
  await b.fill('#message-input', 'agreed');
  await b.press('#message-input', 'Enter');
  await b.locator('.message-list[data-key^="user:"] .msg.mine .status.acked').waitFor();
  await a.locator('.message-list[data-key^="user:"] .msg .text', { hasText: 'agreed' }).waitFor();
  await b.click('#room-list li[data-room="qt"] button.entry');
  await assertText(b, '#conversation-title', '# qt');
});

test('a name taken on one server is refused on the other', async () => {
  const refused = await openPage('refused', 'b');
  await login(refused, 'ALICE'); // alice is on server A; names are compared without case
  await assertText(refused, '#login-error', 'Invalid name: the name ALICE is already taken');
  assert.equal(await refused.isVisible('#login-view'), true);
  assert.equal(await refused.isVisible('#chat-view'), false);
  closing.add('refused');
  await refused.context().close();
  delete pages.refused;
  await assertUsers(pages.b, ['alice', 'bob']);
});

test('a user who closes the page leaves the list of the other server', async () => {
  const { a, b } = pages;
  const carol = await openPage('carol', 'a');
  await login(carol, 'carol');
  await assertText(carol, '#status', 'connected as carol');
  await assertUsers(b, ['alice', 'bob', 'carol']);
  await assertText(b, '#room-list li[data-room="lobby"] .count', '3');
  // A client that vanishes in the middle of its upgrade (polling released, WebSocket probe
  // cut) is only noticed by the heartbeat, 45 s later, by Node as by us: close carol's page
  // once it is on its WebSocket, whose end the server sees at once.
  let timer;
  await Promise.race([carol.upgraded, new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error('carol\'s page did not upgrade to WebSocket')), STEP_MS);
  })]).finally(() => clearTimeout(timer));
  closing.add('carol');
  await carol.context().close();
  delete pages.carol;
  for (const page of [a, b]) {
    await assertUsers(page, ['alice', 'bob']);
    await assertText(page, '#room-list li[data-room="lobby"] .count', '2');
  }
  // Bob's lobby heard it, though he looks at another room.
  await b.locator(`${roomList('lobby')} .notice`, { hasText: 'carol left' })
    .waitFor({ state: 'attached' });
});

test('no page error, failed request or process exit', () => {
  assert.deepEqual(problems, []);
});

test('on SIGTERM both servers exit cleanly', async () => {
  await saveScreenshots(); // of the pages as they are, before the servers go
  stopping = true;
  const statuses = await Promise.all(['a', 'b'].map((name) => {
    const { child } = servers[name];
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
    child.kill('SIGTERM');
    let timer;
    return Promise.race([exited, new Promise((resolve) => {
      timer = setTimeout(resolve, STEP_MS, 'still running');
    })]).finally(() => clearTimeout(timer));
  }));
  assert.deepEqual(statuses, [0, 0], 'exit statuses of the two chat_servers');
});
