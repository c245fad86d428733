/**
 * A minimal chat on the SDK's ESM build. Everything on screen is rendered from the SDK's store.
 *
 * Query string:
 *   token    user token (required)
 *   url      Natter base URL (default: this page's origin, i.e. serve.mjs's proxy)
 *   channel  channel id to open (default: the first of my channels)
 *
 * Stable hooks for browser tests: data-testid on every part (status, messages, message,
 * message-input, send, typing, channel-item…), data-state on the status, data-seq /
 * data-author / data-pending on messages, and `window.natter` (the client).
 */
import { createClient } from '@natter/client';

const params = new URLSearchParams(location.search);
const token = params.get('token');
const url = params.get('url') ?? location.origin;
const $ = (id) => document.getElementById(id);

function showError(text) {
  $('error').textContent = text;
  $('error').hidden = !text;
}

if (!token) {
  showError('Add ?token=<user token> to the address (and &url=<server> if the server is elsewhere).');
  throw new Error('no token');
}

const client = createClient({ url, getToken: () => token });
window.natter = client;
let current = params.get('channel');

client.on('error', (err) => showError(`${err.code}: ${err.message}`));
client.on('state', ({ newState, reason }) => {
  if (newState === 'disconnected' && reason === 'unauthorized') showError('The token was refused.');
});

function open(id) {
  current = id;
  history.replaceState(null, '', `?${new URLSearchParams({ ...Object.fromEntries(params), channel: id })}`);
  client
    .channel(id)
    .watch()
    .then(
      () => showError(''),
      (err) => showError(`${err.code}: ${err.message}`),
    );
  render();
}

function li(testid, attrs = {}) {
  const el = document.createElement('li');
  el.dataset.testid = testid;
  Object.assign(el.dataset, attrs);
  return el;
}

function renderMessage(m, pending) {
  const author = pending ? (client.user?.id ?? '') : (m.authorId ?? '');
  const el = li('message', { seq: String(m.seq ?? ''), author, pending: String(pending) });
  if (m.id) el.id = `message-${m.id}`;
  const name = document.createElement('span');
  name.className = 'author';
  name.textContent = author || 'system';
  const text = document.createElement('span');
  text.className = 'text';
  text.dataset.testid = 'message-text';
  text.textContent = m.deletedAt ? '(deleted)' : (m.text ?? '');
  el.append(name, text);
  return el;
}

let lastRendered = null;
let marked = null;
function render() {
  const snap = client.store.getSnapshot();
  if (snap === lastRendered) return;
  lastRendered = snap;
  $('status').textContent = snap.state;
  $('status').dataset.state = snap.state;
  $('me').textContent = snap.user ? `as ${snap.user.name ?? snap.user.id}` : '';

  const list = Object.values(snap.channels).map((c) => {
    const el = li('channel-item', { channelId: c.id });
    el.textContent = c.channel?.name ?? c.id;
    el.setAttribute('aria-current', String(c.id === current));
    if (c.unreadCount > 0 && c.id !== current) {
      const badge = document.createElement('span');
      badge.className = 'unread';
      badge.dataset.testid = 'unread';
      badge.textContent = String(c.unreadCount);
      el.append(badge);
    }
    el.onclick = () => open(c.id);
    return el;
  });
  $('channel-list').replaceChildren(...list);

  const state = current ? snap.channels[current] : undefined;
  $('channel-title').textContent = state?.channel?.name ?? current ?? '—';
  const messages = $('messages');
  const atBottom = messages.scrollTop + messages.clientHeight >= messages.scrollHeight - 4;
  messages.replaceChildren(
    ...(state?.messages ?? []).map((m) => renderMessage(m, false)),
    ...(state?.pending ?? []).filter((p) => p.parentId === null).map((p) => renderMessage(p, true)),
  );
  if (atBottom) messages.scrollTop = messages.scrollHeight;
  const typing = state?.typing ?? [];
  $('typing').textContent = typing.length ? `${typing.join(', ')} ${typing.length > 1 ? 'are' : 'is'} typing…` : '';

  // Read what is on screen while the page is visible (once per newest message).
  const last = state?.messages.at(-1);
  if (last && state.unreadCount > 0 && document.visibilityState === 'visible' && marked !== last.id) {
    marked = last.id;
    client
      .channel(current)
      .markRead(last.seq)
      .catch(() => {});
  }
}

client.store.subscribe(render);
$('message-input').addEventListener('input', () => current && client.channel(current).typing());
$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('message-input');
  const text = input.value.trim();
  if (!text || !current) return;
  input.value = '';
  client
    .channel(current)
    .send(text)
    .catch((err) => showError(`${err.code}: ${err.message}`));
});

client.connect();
client
  .channels({ limit: 200 })
  .then((page) => {
    // Watch every channel, so unread badges stay live; the open one is shown.
    for (const { channel } of page.items)
      client
        .channel(channel.id)
        .watch()
        .catch(() => {});
    const id = current ?? page.items[0]?.channel.id;
    if (id) open(id);
    else showError('You are in no channel yet.');
  })
  .catch((err) => showError(`${err.code}: ${err.message}`));
render();
