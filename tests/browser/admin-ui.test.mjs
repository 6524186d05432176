// The official Socket.IO Admin UI (npm @socket.io/admin-ui, its built web app) in Debian's
// headless chromium, served by chat_server itself at /admin-ui/ with its web fonts from local npm
// packages, monitoring that same server through our AdminInstrumentation (basic auth). Two
// socket.io-client connections from Node play chat users; the UI must show them, their rooms and
// their events, and its join, leave and disconnect buttons must act on them. No request may
// leave the machine. Screenshots land in $ADMIN_UI_SCREENSHOT_DIR.
//
// Needs CHAT_SERVER (the chat_server binary) and /usr/bin/chromium; CTest sets both up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { chromium } from 'playwright-core';
import { stopProcess } from './lib/process.mjs';
import { io } from 'socket.io-client';

const here = path.dirname(fileURLToPath(import.meta.url));
const SERVER = process.env.CHAT_SERVER;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.ADMIN_UI_SCREENSHOT_DIR || path.join(tmpdir(), 'qsio-browser-admin-ui');
const UI_DIR = path.join(here, 'node_modules/@socket.io/admin-ui/ui/dist');
const FONTS_DIR = path.join(here, 'node_modules'); // @mdi/font and @fontsource/roboto
const STEP_MS = 10_000; // the longest any one wait may take
const WATCHDOG_MS = 55_000; // the whole file, whatever happens

const ADMIN_USER = 'admin';
const ADMIN_PASSWORD = 'correct horse battery staple';

let server;
let stopping = false; // the server's exit is expected from now on
let browser;
let page;
let url; // http://127.0.0.1:PORT/
const clients = {}; // name -> socket.io-client socket
const ids = {}; // name -> socket id (a socket forgets its id once disconnected)
const problems = []; // page errors, failed requests, server exit
const offMachine = []; // requests the page tried to send anywhere but the server
const responses = new Map(); // URL path -> status, for the page's requests to the server

const watchdog = setTimeout(() => {
  console.error(`admin UI test still running after ${WATCHDOG_MS} ms: giving up`);
  server?.kill('SIGKILL');
  process.exit(1); // playwright kills the browser it launched when the process exits
}, WATCHDOG_MS);
watchdog.unref();

function startServer(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(SERVER, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chat_server printed no URL in ${STEP_MS} ms:\n${output}`));
    }, STEP_MS);
    child.stdout.on('data', (data) => {
      output += data;
      const match = /chat demo on (http:\/\/\S+\/)/.exec(output);
      if (match && /admin UI on /.test(output)) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    });
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

// A chat user from Node: WebSocket only, no reconnection, so a server-side disconnect stays one.
function connectUser(name) {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      auth: { name }, transports: ['websocket'], reconnection: false, timeout: STEP_MS,
    });
    socket.received = []; // chat messages, in order
    socket.on('message', (message) => socket.received.push(message));
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => reject(new Error(`${name}: ${error.message}`)));
  });
}

function emitAck(socket, event, ...args) {
  return socket.timeout(STEP_MS).emitWithAck(event, ...args);
}

async function waitUntil(what, predicate) {
  const deadline = Date.now() + STEP_MS;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// The text of the page's main area (router view), for checks that do not depend on markup.
async function waitForMainText(expected, { timeout = STEP_MS } = {}) {
  await page.waitForFunction(
    (texts) => {
      const text = document.querySelector('main')?.innerText ?? '';
      return texts.every((t) => text.includes(t));
    },
    [expected].flat(), { timeout });
}

// The data-table row whose text contains `text`.
const row = (text) => page.locator('main .v-data-table tbody tr', { hasText: text });

// Until a data-table row's text matches `pattern` (cells are separated by white space).
async function waitForRow(pattern) {
  await page.waitForFunction(
    ([source, flags]) => {
      const re = new RegExp(source, flags);
      return [...document.querySelectorAll('main .v-data-table tbody tr')]
        .some((tr) => re.test(tr.innerText));
    },
    [pattern.source, pattern.flags]);
}

// Opens a top-level page by its hash route; done once the page's transition is over, the
// previous page gone, and its breadcrumb (`title`) shown alone.
async function goTo(hash, title) {
  await page.evaluate((h) => { window.location.hash = h; }, hash);
  await page.waitForFunction(([h, t]) => {
    const crumbs = document.querySelectorAll('main .v-breadcrumbs');
    return window.location.hash === h && crumbs.length === 1
      && crumbs[0].innerText.trim() === t;
  }, [hash, title]);
}

async function screenshot(name) {
  const file = path.join(SHOTS, `browser_admin_ui_${name}.png`);
  await page.screenshot({ path: file, timeout: STEP_MS });
  console.log(`screenshot: ${file}`);
}

before(async () => {
  assert.ok(SERVER, 'CHAT_SERVER must name the chat_server binary');
  mkdirSync(SHOTS, { recursive: true });
  // bcryptjs makes $2a$ hashes, which the server verifies with libxcrypt; cost 4 keeps it quick.
  const hash = bcrypt.hashSync(ADMIN_PASSWORD, 4);
  ({ child: server, url } = await startServer([
    '--admin-user', ADMIN_USER, '--admin-password-hash', hash,
    '--admin-ui', UI_DIR, '--admin-fonts', FONTS_DIR,
  ]));
  server.on('exit', (code, signal) => {
    if (!stopping) problems.push(`chat_server exited: ${code ?? signal}`);
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: STEP_MS * 2,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  context.setDefaultTimeout(STEP_MS);
  // Everything must come from the server under test: count and refuse anything else.
  await context.route('**/*', (route) => {
    const target = new URL(route.request().url());
    if (target.hostname !== '127.0.0.1') {
      offMachine.push(target.href);
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
  page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    const target = new URL(response.url());
    if (target.hostname === '127.0.0.1') responses.set(target.pathname, response.status());
  });
  page.on('requestfailed', (request) => {
    if (new URL(request.url()).hostname !== '127.0.0.1') return; // counted in offMachine
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
  });

  clients.alice = await connectUser('alice');
  clients.bob = await connectUser('bob');
  for (const [name, socket] of Object.entries(clients)) ids[name] = socket.id;
  assert.deepEqual((await emitAck(clients.alice, 'join', 'kitchen')).ok, true);
});

after(async () => {
  for (const socket of Object.values(clients)) socket.disconnect();
  await browser?.close().catch(() => {});
  stopping = true;
  await stopProcess(server);
  clearTimeout(watchdog);
});

test('the server serves the UI, and its fonts from this machine', async () => {
  const prefix = new URL('admin-ui/', url).href;
  const redirect = await fetch(new URL('admin-ui', url), { redirect: 'manual' });
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.get('location'), '/admin-ui/');

  await page.goto(prefix);
  await page.locator('.v-dialog--active').waitFor();
  assert.equal(responses.get('/admin-ui/'), 200);
  // The index page's two CDN stylesheets were replaced by ours.
  const links = await page.$$eval('link[rel="stylesheet"]', (all) => all.map((l) => l.href));
  assert.ok(links.includes(`${prefix}fonts/mdi/css/materialdesignicons.min.css`), links.join());
  assert.ok(links.includes(`${prefix}fonts/roboto/roboto.css`), links.join());
  assert.ok(links.every((href) => href.startsWith(prefix)), links.join());
  assert.equal(responses.get('/admin-ui/fonts/mdi/css/materialdesignicons.min.css'), 200);
  assert.equal(responses.get('/admin-ui/fonts/roboto/roboto.css'), 200);
});

test('a wrong password is refused', async () => {
  const dialog = page.locator('.v-dialog--active');
  await dialog.getByLabel('Server URL').fill(url.replace(/\/$/, ''));
  await dialog.getByLabel('Username').fill(ADMIN_USER);
  await dialog.getByLabel('Password').fill('not the password');
  // WebSocket only: the UI then needs no CORS, whatever origin it was served from.
  const toggle = (label) => dialog.locator('.v-input--switch', { hasText: label })
    .locator('.v-input--selection-controls__input').click();
  await toggle('Advanced options');
  await toggle('WebSocket only?');
  assert.equal(await dialog.getByLabel('Admin namespace').inputValue(), '/admin');
  assert.equal(await dialog.getByLabel('Path').inputValue(), '/socket.io');
  await dialog.getByRole('button', { name: 'Connect' }).click();
  await dialog.locator('.red--text', { hasText: 'Invalid credentials' }).waitFor();
  assert.ok(await dialog.isVisible(), 'the form stays');
  await screenshot('refused');
});

test('the right password logs in and the dashboard shows the real counts', async () => {
  const dialog = page.locator('.v-dialog--active');
  await dialog.getByLabel('Password').fill(ADMIN_PASSWORD);
  await dialog.getByRole('button', { name: 'Connect' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.locator('.v-dialog').waitFor({ state: 'hidden' }); // its closing transition
  await page.waitForFunction(() => [...document.querySelectorAll('header .v-chip')]
    .some((chip) => chip.innerText.trim().toLowerCase() === 'connected'));
  // Namespaces card: "/" holds alice and bob, "/admin" this page.
  await page.waitForFunction(() => {
    const counts = {};
    for (const tr of document.querySelectorAll('main tr')) {
      const name = tr.querySelector('td.key-column code')?.textContent.trim();
      if (name) counts[name] = tr.querySelectorAll('td')[1]?.textContent.trim();
    }
    return counts['/'] === '2' && counts['/admin'] === '1';
  });
  // Clients card: three Engine.IO connections, all on WebSocket.
  await page.waitForFunction(() => [...document.querySelectorAll('main h2')]
    .some((h) => h.textContent.trim() === '3'));
  // Icons render: the MDI font (served here) is loaded and the menu icons have a width. So is
  // Roboto. (document.fonts.check() would also pass with no such font at all.)
  await page.waitForFunction(() => ['Material Design Icons', 'Roboto'].every((family) =>
    [...document.fonts].some((f) => f.family.replace(/"/g, '') === family
      && f.status === 'loaded')));
  const iconWidth = await page.locator('nav .mdi-view-dashboard, nav .v-icon').first()
    .evaluate((el) => el.getBoundingClientRect().width);
  assert.ok(iconWidth > 0, 'the icons have a width');
  assert.ok([...responses.keys()].some((p) => p.startsWith('/admin-ui/fonts/mdi/fonts/')
    && responses.get(p) === 200), 'the icon font file came from the server');
  await screenshot('dashboard');
});

test('the sockets page lists both users', async () => {
  await goTo('#/sockets/', 'Sockets');
  await waitForMainText([ids.alice, ids.bob]);
  assert.equal(await row(ids.alice).count(), 1);
  await screenshot('sockets');
});

test('the rooms page shows the chat room', async () => {
  await goTo('#/rooms/', 'Rooms');
  // "# of sockets": alice alone in kitchen, both in the lobby.
  await waitForRow(/^\s*kitchen\s+public\s+1\s*$/i);
  await waitForRow(/^\s*lobby\s+public\s+2\s*$/i);
  await screenshot('rooms');
});

test('the events page shows a chat message a client sent', async () => {
  await goTo('#/events/', 'Events');
  const ack = await emitAck(clients.alice, 'message', { room: 'kitchen', text: 'soup is ready' });
  assert.equal(ack.ok, true);
  const received = row('Event received').filter({ hasText: 'message' });
  await received.first().waitFor();
  assert.match(await received.first().innerText(), new RegExp(ids.alice));
  await screenshot('events');
});

test('the socket page joins a room and leaves it, on the real connection', async () => {
  const { alice, bob } = clients;
  await goTo('#/sockets/', 'Sockets');
  await row(ids.bob).click(); // the row opens the socket's page
  await page.waitForFunction((id) => window.location.hash.endsWith(`/sockets/${id}`), ids.bob);
  await waitForMainText(['lobby', ids.bob]);

  // Join "garden" through the UI's form.
  const roomsCard = page.locator('main .v-card', { hasText: 'Join a room' });
  await roomsCard.getByLabel('Join a room').fill('garden');
  await roomsCard.locator('button:has(.mdi-tag-plus-outline)').click();
  await roomsCard.locator('tbody tr', { hasText: 'garden' }).waitFor();
  // The server really put bob in the room: a chat message there reaches him.
  assert.equal((await emitAck(alice, 'join', 'garden')).ok, true);
  assert.equal((await emitAck(alice, 'message', { room: 'garden', text: 'tomatoes' })).ok, true);
  await waitUntil('bob to get the garden message',
    () => bob.received.some((m) => m.room === 'garden' && m.text === 'tomatoes'));
  await screenshot('socket');

  // Leave it with the row's button: messages there no longer reach him.
  await roomsCard.locator('tbody tr', { hasText: 'garden' })
    .locator('button:has(.mdi-tag-off-outline)').click();
  await roomsCard.locator('tbody tr', { hasText: 'garden' }).waitFor({ state: 'detached' });
  assert.equal((await emitAck(alice, 'message', { room: 'garden', text: 'weeds' })).ok, true);
  // A later message to the lobby overtakes nothing: once bob has it, "weeds" would be in too.
  assert.equal((await emitAck(alice, 'message', { room: 'lobby', text: 'marker' })).ok, true);
  await waitUntil('bob to get the lobby marker',
    () => bob.received.some((m) => m.room === 'lobby' && m.text === 'marker'));
  assert.ok(!bob.received.some((m) => m.text === 'weeds'), 'bob left the garden');
});

test('the disconnect button ends the real connection', async () => {
  const { bob } = clients;
  const reason = new Promise((resolve) => bob.once('disconnect', resolve));
  await goTo('#/sockets/', 'Sockets');
  await row(ids.bob).locator('button:has(.mdi-logout)').click();
  assert.equal(await reason, 'io server disconnect');
  // The click reaches the row too, which opens the socket's page: back to the list.
  await goTo('#/sockets/', 'Sockets');
  await row(ids.bob).waitFor({ state: 'detached' });
  await row(ids.alice).waitFor();
  await screenshot('disconnected');
});

test('nothing left the machine; no page error, failed request or server exit', () => {
  assert.deepEqual(offMachine, []);
  assert.deepEqual(problems, []);
});
