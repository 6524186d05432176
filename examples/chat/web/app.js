// The chat page: plain DOM, no framework. Everything a user or the server supplies goes into the
// page as text (textContent) or as a blob: URL, never as HTML.
'use strict';

const MAX_IMAGE_BYTES = 512 * 1024;
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
const ACK_TIMEOUT_MS = 10000;
const TYPING_RENEW_MS = 2000; // while typing, tell the room again this often
const TYPING_PAUSE_MS = 2500; // a pause this long ends "typing"
const TYPING_EXPIRE_MS = 5000; // someone else's indicator goes away when not renewed
const LOBBY = 'lobby';

const $ = (id) => document.getElementById(id);

const state = {
  socket: null,
  me: null, // {id, name}
  users: [], // [{id, name}], from the server
  rooms: [], // [{name, count}], from the server
  joined: new Set(), // the rooms this page is in
  conversations: new Map(), // key ("room:NAME" or "user:ID") -> conversation
  active: null, // the key shown
  typing: new Map(), // room -> Map(user id -> {name, timer})
};

// ---- small helpers ----

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child); // strings become text nodes
  }
  return node;
}

function clock(time) {
  return new Date(time).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function setStatus(text, online = false) {
  $('status').textContent = text;
  $('status').classList.toggle('online', online);
}

function showError(id, text) {
  $(id).textContent = text;
  $(id).hidden = !text;
}

function nameOf(userId) {
  const user = state.users.find((u) => u.id === userId);
  return user ? user.name : null;
}

// ---- conversations: one message list per room or person ----

function conversation(key, title) {
  let conv = state.conversations.get(key);
  if (!conv) {
    const list = el('ol', { class: 'message-list', dataset: { key }, hidden: true });
    $('messages').append(list);
    conv = { key, title, list, unread: 0 };
    if (key.startsWith('room:')) conv.room = key.slice(5);
    else conv.userId = key.slice(5);
    state.conversations.set(key, conv);
  }
  return conv;
}

const roomConversation = (room) => conversation(`room:${room}`, `# ${room}`);
const userConversation = (user) => conversation(`user:${user.id}`, `@ ${user.name}`);

function select(key) {
  stopTyping();
  state.active = key;
  const conv = state.conversations.get(key);
  conv.unread = 0;
  for (const other of state.conversations.values()) other.list.hidden = other !== conv;
  const isRoom = conv.room !== undefined;
  $('message-input').placeholder = isRoom ? `Message # ${conv.room}` : `Private message to ${conv.title.slice(2)}`;
  $('image-input').disabled = !isRoom;
  document.querySelector('.image-button').classList.toggle('disabled', !isRoom);
  renderHeader();
  renderRooms();
  renderUsers();
  renderTyping();
  scrollDown(conv);
  $('message-input').focus();
}

function activeConversation() {
  return state.conversations.get(state.active);
}

function scrollDown(conv) {
  if (conv === activeConversation()) $('messages').scrollTop = $('messages').scrollHeight;
}

function added(conv) {
  if (conv === activeConversation()) {
    scrollDown(conv);
  } else {
    conv.unread += 1;
    renderRooms();
    renderUsers();
  }
}

// A message: {from, time, text} or {from, time, image: {url, name}}; `mine` adds a delivery mark.
function addMessage(conv, message, mine = false) {
  const body = message.image
    ? el('img', { class: 'picture', src: message.image.url, alt: message.image.name, title: message.image.name })
    : el('p', { class: 'text', textContent: message.text });
  const status = mine ? el('span', { class: 'status pending', textContent: '…', title: 'Sending' }) : null;
  const item = el('li', { class: mine ? 'msg mine' : 'msg' },
    el('div', { class: 'meta' },
      el('span', { class: 'author', textContent: message.from.name }),
      el('time', { class: 'time', textContent: clock(message.time) }),
      status),
    body);
  if (message.image) item.querySelector('img').addEventListener('load', () => scrollDown(conv));
  conv.list.append(item);
  added(conv);
  return item;
}

function addNotice(conv, text, isError = false) {
  conv.list.append(el('li', { class: isError ? 'notice error' : 'notice', textContent: text }));
  scrollDown(conv);
}

// Marks one of our messages with the server's answer: a check mark, or why it failed.
function settle(conv, item, err, answer) {
  const status = item.querySelector('.status');
  if (err || !answer || !answer.ok) {
    const why = err ? 'the server did not answer' : (answer && answer.error) || 'refused';
    status.className = 'status failed';
    status.textContent = '!';
    status.title = `Not delivered: ${why}`;
    addNotice(conv, `Not delivered: ${why}`, true);
    return;
  }
  status.className = 'status acked';
  status.textContent = '✓';
  status.title = `Delivered at ${clock(answer.time)} (message ${answer.id})`;
  item.dataset.id = answer.id;
}

// ---- rendering the side lists and header ----

function renderHeader() {
  const conv = activeConversation();
  if (!conv) return;
  $('conversation-title').textContent = conv.title;
  let info;
  if (conv.room !== undefined) {
    const room = state.rooms.find((r) => r.name === conv.room);
    const count = room ? room.count : 0;
    info = state.joined.has(conv.room) ? `${count} ${count === 1 ? 'member' : 'members'}` : 'you left this room';
  } else {
    info = nameOf(conv.userId) ? 'private conversation' : 'offline';
  }
  $('conversation-info').textContent = info;
}

function badge(conv) {
  return conv && conv.unread ? el('span', { class: 'badge', textContent: String(conv.unread) }) : null;
}

function renderRooms() {
  const names = state.rooms.map((r) => r.name);
  for (const room of state.joined) if (!names.includes(room)) names.push(room);
  const items = names.map((name) => {
    const info = state.rooms.find((r) => r.name === name);
    const joined = state.joined.has(name);
    const conv = state.conversations.get(`room:${name}`);
    const classes = ['room', joined ? 'joined' : '', conv && conv.key === state.active ? 'active' : ''];
    return el('li', { class: classes.join(' ').trim(), dataset: { room: name } },
      el('button', {
        class: 'entry', type: 'button', title: joined ? `Show # ${name}` : `Join # ${name}`,
        onclick: () => (joined ? select(`room:${name}`) : join(name)),
      }, el('span', { class: 'name', textContent: `# ${name}` }), badge(conv)),
      el('span', { class: 'count', title: 'members', textContent: String(info ? info.count : 0) }),
      joined
        ? (name === LOBBY ? null : el('button', { class: 'small', type: 'button', textContent: 'Leave', onclick: () => leave(name) }))
        : el('button', { class: 'small', type: 'button', textContent: 'Join', onclick: () => join(name) }));
  });
  $('room-list').replaceChildren(...items);
}

function renderUsers() {
  const items = state.users.map((user) => {
    if (state.me && user.id === state.me.id) {
      return el('li', { class: 'user me', dataset: { id: user.id } },
        el('span', { class: 'entry' }, el('span', { class: 'name', textContent: user.name }), el('span', { class: 'muted', textContent: ' (you)' })));
    }
    const conv = state.conversations.get(`user:${user.id}`);
    return el('li', { class: conv && conv.key === state.active ? 'user active' : 'user', dataset: { id: user.id } },
      el('button', {
        class: 'entry', type: 'button', title: `Write to ${user.name} privately`,
        onclick: () => select(userConversation(user).key),
      }, el('span', { class: 'name', textContent: user.name }), badge(conv)));
  });
  $('user-list').replaceChildren(...items);
}

function renderTyping() {
  const conv = activeConversation();
  const typers = conv && conv.room !== undefined ? [...(state.typing.get(conv.room) || new Map()).values()] : [];
  const names = typers.map((t) => t.name);
  let text = '';
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = `${names.length} people are typing…`;
  $('typing').textContent = text;
}

// ---- talking to the server ----

function join(room) {
  showError('room-error', '');
  state.socket.timeout(ACK_TIMEOUT_MS).emit('join', room, (err, answer) => {
    if (err || !answer || !answer.ok) {
      showError('room-error', err ? 'The server did not answer.' : `Cannot join: ${answer && answer.error}`);
      return;
    }
    const first = !state.joined.has(answer.room);
    state.joined.add(answer.room);
    const conv = roomConversation(answer.room);
    if (first) addNotice(conv, `You joined # ${answer.room}. Here: ${answer.members.join(', ')}`);
    select(conv.key);
  });
}

function leave(room) {
  showError('room-error', '');
  state.socket.timeout(ACK_TIMEOUT_MS).emit('leave', room, (err, answer) => {
    if (err || !answer || !answer.ok) {
      showError('room-error', err ? 'The server did not answer.' : `Cannot leave: ${answer && answer.error}`);
      return;
    }
    state.joined.delete(answer.room);
    state.typing.delete(answer.room);
    addNotice(roomConversation(answer.room), `You left # ${answer.room}.`);
    if (state.active === `room:${answer.room}`) select(`room:${LOBBY}`);
    else renderRooms();
  });
}

let typingRoom = null;
let typingSentAt = 0;
let typingPause = null;

function typed() {
  const conv = activeConversation();
  if (!conv || conv.room === undefined || !$('message-input').value.trim()) {
    stopTyping();
    return;
  }
  const now = Date.now();
  if (typingRoom !== conv.room || now - typingSentAt > TYPING_RENEW_MS) {
    if (typingRoom !== conv.room) stopTyping();
    state.socket.emit('typing', { room: conv.room, typing: true });
    typingRoom = conv.room;
    typingSentAt = now;
  }
  clearTimeout(typingPause);
  typingPause = setTimeout(stopTyping, TYPING_PAUSE_MS);
}

function stopTyping() {
  clearTimeout(typingPause);
  if (typingRoom !== null && state.socket && state.socket.connected && state.joined.has(typingRoom)) {
    state.socket.emit('typing', { room: typingRoom, typing: false });
  }
  typingRoom = null;
}

function someoneTyping({ room, user, typing }) {
  if (!state.typing.has(room)) state.typing.set(room, new Map());
  const typers = state.typing.get(room);
  const previous = typers.get(user.id);
  if (previous) clearTimeout(previous.timer);
  if (typing) {
    const timer = setTimeout(() => someoneTyping({ room, user, typing: false }), TYPING_EXPIRE_MS);
    typers.set(user.id, { name: user.name, timer });
  } else {
    typers.delete(user.id);
  }
  renderTyping();
}

function sendText(event) {
  event.preventDefault();
  const input = $('message-input');
  const text = input.value.trim();
  const conv = activeConversation();
  if (!text || !conv || !state.socket) return;
  input.value = '';
  stopTyping();
  const item = addMessage(conv, { from: state.me, time: Date.now(), text }, true);
  const [kind, payload] = conv.room !== undefined
    ? ['message', { room: conv.room, text }]
    : ['private', { to: conv.userId, text }];
  state.socket.timeout(ACK_TIMEOUT_MS).emit(kind, payload, (err, answer) => settle(conv, item, err, answer));
}

// The file's bytes go as binary (an ArrayBuffer), the server checks and passes them on.
async function sendImage() {
  const input = $('image-input');
  const file = input.files[0];
  input.value = ''; // the same file may be chosen again
  const conv = activeConversation();
  if (!file || !conv || conv.room === undefined) return;
  if (!IMAGE_TYPES.includes(file.type)) {
    addNotice(conv, `${file.name}: only PNG, JPEG, GIF and WebP images can be shared.`, true);
    return;
  }
  if (file.size > MAX_IMAGE_BYTES) {
    addNotice(conv, `${file.name} is larger than 512 KB.`, true);
    return;
  }
  const data = await file.arrayBuffer();
  const image = { url: URL.createObjectURL(file), name: file.name };
  const item = addMessage(conv, { from: state.me, time: Date.now(), image }, true);
  state.socket.timeout(ACK_TIMEOUT_MS).emit('image', { room: conv.room, type: file.type, name: file.name, data },
    (err, answer) => settle(conv, item, err, answer));
}

function connected(socket, name) {
  const first = state.me === null;
  state.me = { id: socket.id, name };
  setStatus(`connected as ${name}`, true);
  if (first) {
    $('login-view').hidden = true;
    $('chat-view').hidden = false;
    state.joined.add(LOBBY);
    select(roomConversation(LOBBY).key);
  } else {
    // A new connection starts in the lobby only: go back to the other rooms.
    for (const room of state.joined) if (room !== LOBBY) join(room);
    renderUsers();
  }
}

function loggedOut(message) {
  if (state.socket) state.socket.disconnect();
  state.socket = null;
  state.me = null;
  state.joined.clear();
  state.typing.clear();
  state.conversations.clear();
  state.active = null;
  $('messages').replaceChildren();
  $('chat-view').hidden = true;
  $('login-view').hidden = false;
  $('login-button').disabled = false;
  setStatus('not connected');
  showError('login-error', message);
  $('login-name').focus();
}

function login(name) {
  showError('login-error', '');
  $('login-button').disabled = true;
  setStatus('connecting…');
  // `io` comes from the socket.io client bundle the server embeds (vendor/socket.io.min.js).
  const socket = io({ auth: { name }, forceNew: true });
  state.socket = socket;

  socket.on('connect', () => connected(socket, name));
  socket.on('connect_error', (err) => {
    if (socket.active) {
      setStatus('cannot reach the server, retrying…');
      return;
    }
    // Refused by the server: the reason comes as err.data.
    const reason = err.data && err.data.reason;
    loggedOut(reason ? `${err.message}: ${reason}` : err.message);
  });
  socket.on('disconnect', (reason) => {
    if (socket.active) setStatus('connection lost, reconnecting…');
    else if (state.socket === socket) {
      loggedOut(reason === 'io server disconnect' ? 'The server closed the chat.' : `Disconnected (${reason}).`);
    }
  });

  socket.on('users', (users) => {
    state.users = users;
    renderUsers();
    renderHeader();
  });
  socket.on('rooms', (rooms) => {
    state.rooms = rooms;
    renderRooms();
    renderHeader();
  });
  socket.on('notice', ({ room, text }) => {
    if (state.joined.has(room)) addNotice(roomConversation(room), text);
  });
  socket.on('typing', someoneTyping);
  socket.on('message', (message) => {
    if (!state.joined.has(message.room)) return;
    someoneTyping({ room: message.room, user: message.from, typing: false });
    addMessage(roomConversation(message.room), message);
  });
  socket.on('private', (message) => {
    addMessage(userConversation(message.from), message);
  });
  socket.on('image', (message) => {
    if (!state.joined.has(message.room)) return;
    const blob = new Blob([message.data], { type: message.type });
    addMessage(roomConversation(message.room), { ...message, image: { url: URL.createObjectURL(blob), name: message.name } });
  });
}

// ---- wiring ----

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $('login-name').value.trim();
  if (name) login(name);
});
$('join-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const room = $('join-name').value.trim();
  if (!room) return;
  $('join-name').value = '';
  join(room);
});
$('composer').addEventListener('submit', sendText);
$('message-input').addEventListener('input', typed);
$('image-input').addEventListener('change', sendImage);
