// The chat example in a real browser: Debian's chromium, headless, driven by playwright-core.
// Two pages (two browser contexts) log in, join a room, exchange a message, a private message
// and an image; a third page is refused a name already taken. Screenshots of the pages are
// left in $CHAT_SCREENSHOT_DIR.
//
// Needs CHAT_SERVER (the chat_server binary) and /usr/bin/chromium; CTest sets both up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { stopProcess } from './lib/process.mjs';

const SERVER = process.env.CHAT_SERVER;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.CHAT_SCREENSHOT_DIR || path.join(tmpdir(), 'qsio-browser-chat');
const STEP_MS = 10_000; // the longest any one wait may take
const WATCHDOG_MS = 55_000; // the whole file, whatever happens

let server;
let stopping = false; // the server's exit is expected from now on
let browser;
let url;
const pages = {}; // name -> page
const problems = []; // page errors, failed requests

// Never hang: past the watchdog, kill what we started and fail.
const watchdog = setTimeout(() => {
  console.error(`browser test still running after ${WATCHDOG_MS} ms: giving up`);
  server?.kill('SIGKILL');
  process.exit(1); // playwright kills the browser it launched when the process exits
}, WATCHDOG_MS);
watchdog.unref();

// ---- a PNG made here: 24x16, two coloured halves ----

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function makePng(width, height) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3); // each row starts with filter type 0
    for (let x = 0; x < width; x++) {
      const [r, g, b] = x < width / 2 ? [47, 111, 222] : [52, 211, 153];
      rows.set([r, g, b], row + 1 + x * 3);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- the server and the browser ----

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(SERVER, ['--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chat_server printed no URL in ${STEP_MS} ms:\n${output}`));
    }, STEP_MS);
    const onData = (data) => {
      output += data;
      const match = /chat demo on (http:\/\/\S+\/)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (data) => {
      output += data;
      for (const line of String(data).split('\n')) if (line) process.stderr.write(`chat_server: ${line}\n`);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`chat_server exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
}

async function openPage(name) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
  context.setDefaultTimeout(STEP_MS);
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // A refused client closes its session at once, while its next long-polling GET may
    // already be on the way: that GET then meets an unknown session id, HTTP 400, as it would
    // with Node's server. Only that is expected, and only on the page that was refused.
    const source = message.location().url || '';
    if (name === 'refused' && /status of 400/.test(message.text())
        && /\/socket\.io\/\?EIO=4&transport=polling&t=[^&]+&sid=/.test(source)) return;
    problems.push(`${name}: console error: ${message.text()} (${source})`);
  });
  page.on('requestfailed', (request) => {
    problems.push(`${name}: request failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  await page.goto(url);
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

const roomList = (room) => `.message-list[data-key="room:${room}"]`;

before(async () => {
  assert.ok(SERVER, 'CHAT_SERVER must name the chat_server binary');
  mkdirSync(SHOTS, { recursive: true });
  ({ child: server, url } = await startServer());
  server.on('exit', (code, signal) => {
    if (!stopping) problems.push(`chat_server exited: ${code ?? signal}`);
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: STEP_MS * 2,
    // launch() runs chromium on a fresh, temporary user-data dir of its own.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

let screenshotsTaken = false;

async function saveScreenshots() {
  if (screenshotsTaken) return;
  screenshotsTaken = true;
  for (const [name, page] of Object.entries(pages)) {
    const file = path.join(SHOTS, `browser_chat_${name}.png`);
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
  await stopProcess(server);
  clearTimeout(watchdog);
});

test('two users log in and join room qt', async () => {
  const alice = await openPage('alice');
  const bob = await openPage('bob');
  await login(alice, 'alice');
  await assertText(alice, '#status', 'connected as alice');
  await login(bob, 'bob');
  await assertText(bob, '#status', 'connected as bob');
  // Each sees both in the user list, the lobby first in the rooms.
  for (const page of [alice, bob]) {
    await page.waitForFunction(() => document.querySelectorAll('#user-list li.user').length === 2);
    await assertText(page, '#conversation-title', '# lobby');
  }
  await joinRoom(alice, 'qt');
  await joinRoom(bob, 'qt');
  // The join ack's member names, shown by the page.
  await assertText(bob, roomList('qt'), 'Here: alice, bob');
  await assertText(alice, '#room-list li[data-room="qt"] .count', '2');
});

test('a message reaches the other page, and the sender gets its check mark', async () => {
  const { alice, bob } = pages;
  await alice.fill('#message-input', 'Hello from alice');
  // Typing shows on the other page before the message is sent.
  await assertText(bob, '#typing', 'alice is typing');
  await alice.press('#message-input', 'Enter');
  await bob.locator(`${roomList('qt')} .msg .text`, { hasText: 'Hello from alice' }).waitFor();
  await alice.locator(`${roomList('qt')} .msg.mine .status.acked`).waitFor();
  assert.equal(await alice.textContent(`${roomList('qt')} .msg.mine .status`), '✓');
  assert.match(await alice.getAttribute(`${roomList('qt')} .msg.mine .status`, 'title'),
    /^Delivered at .+ \(message \d+\)$/);
  assert.equal(await bob.textContent('#typing'), '', 'the indicator goes when the message comes');

  await bob.fill('#message-input', 'Hi alice!');
  await bob.press('#message-input', 'Enter');
  await alice.locator(`${roomList('qt')} .msg .text`, { hasText: 'Hi alice!' }).waitFor();
  await bob.locator(`${roomList('qt')} .msg.mine .status.acked`).waitFor();
});

test('a private message goes to that user only', async () => {
  const { alice, bob } = pages;
  await alice.click('#user-list li.user button:has-text("bob")');
  await assertText(alice, '#conversation-title', '@ bob');
  await alice.fill('#message-input', 'just between us');
  await alice.press('#message-input', 'Enter');
  await alice.locator('.message-list[data-key^="user:"] .msg.mine .status.acked').waitFor();
  // Bob gets it in a conversation with alice, flagged unread while he looks at the room.
  await bob.locator('.message-list[data-key^="user:"] .msg .text', { hasText: 'just between us' })
    .waitFor({ state: 'attached' });
  await bob.locator('#user-list li.user .badge').waitFor();
  await alice.click('#room-list li[data-room="qt"] button.entry');
  await assertText(alice, '#conversation-title', '# qt');
});

test('an image sent as binary shows on the other page', async () => {
  const { alice, bob } = pages;
  const png = makePng(24, 16);
  await bob.setInputFiles('#image-input', { name: 'squares.png', mimeType: 'image/png', buffer: png });
  await bob.locator(`${roomList('qt')} .msg.mine img.picture`).waitFor();
  await bob.locator(`${roomList('qt')} .msg.mine:has(img) .status.acked`).waitFor();
  const image = alice.locator(`${roomList('qt')} .msg img.picture`);
  await image.waitFor();
  await alice.waitForFunction(
    (sel) => {
      const img = document.querySelector(sel);
      return img && img.complete && img.naturalWidth > 0;
    }, `${roomList('qt')} .msg img.picture`, { timeout: STEP_MS });
  const size = await image.evaluate((img) => [img.naturalWidth, img.naturalHeight, img.src.slice(0, 5)]);
  assert.deepEqual(size, [24, 16, 'blob:']);
});

test('a name already taken is refused with the reason', async () => {
  const carol = await openPage('refused');
  await login(carol, 'Alice'); // names are compared without case
  await assertText(carol, '#login-error', 'Invalid name: the name Alice is already taken');
  assert.equal(await carol.isVisible('#login-view'), true);
  assert.equal(await carol.isVisible('#chat-view'), false);
  assert.equal(await carol.isEnabled('#login-button'), true);
});

test('no page error, failed request or server exit', () => {
  assert.deepEqual(problems, []);
});

// The shutdown comes after a client (the refused page) already left: the server must still
// tell the others and exit cleanly.
test('on SIGTERM the server closes the chat and exits cleanly', async () => {
  await saveScreenshots(); // of the pages as they are, before the server goes
  const exited = new Promise((resolve) => server.once('exit', (code, signal) => resolve(code ?? signal)));
  stopping = true;
  server.kill('SIGTERM');
  let timer;
  const status = await Promise.race([exited, new Promise((resolve) => {
    timer = setTimeout(resolve, STEP_MS, 'still running');
  })]);
  clearTimeout(timer);
  assert.equal(status, 0, 'exit status of chat_server');
  // As with Node's io.close(), the connection just ends: the pages keep their chat and try to
  // reconnect, so a restarted server gets them back.
  for (const name of ['alice', 'bob']) {
    await assertText(pages[name], '#status', 'connection lost, reconnecting…');
    assert.equal(await pages[name].isVisible('#chat-view'), true);
  }
});
