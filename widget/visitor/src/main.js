// The visitor chat widget, running in an iframe served at /widget/ (the
// loader, ../../loader/loader.js, creates it). Wires the persisted state, the
// `/chat` socket (docs/protocol.md) and the views. Server text is only ever
// set as text (dom.js).

import './widget.css';
import { el, nearBottom } from './dom.js';
import { LANGUAGES, LANGUAGE_NAMES, pickLanguage, translate } from './i18n.js';
import {
  MAX_TEXT_CHARS,
  Outbox,
  autoSwitch,
  buttonTitles,
  createTypingThrottle,
  lastSeq,
  seqGap,
  loadState,
  mergeMessages,
  newClientId,
  parseOptions,
  quickReplies,
  saveState,
  statusLines,
} from './logic.js';
import { ChatSocket } from './socket.js';
import { offlineForm, prechatForm, ratingForm } from './view-forms.js';
import { transcriptBox } from './view-transcript.js';
import { relabelMessages, renderMessages } from './view-messages.js';

const AGENT_TYPING_MS = 8000;
const BOT_TYPING_MS = 15000;
const RETRY_MS = 3000;

// --- options and state --------------------------------------------------------

function readOptions() {
  try {
    return parseOptions(JSON.parse(decodeURIComponent(location.hash.slice(1)) || '{}'));
  } catch {
    return parseOptions({});
  }
}

const options = readOptions();
const storage = (() => {
  try {
    return window.localStorage;
  } catch {
    return null; // storage blocked: the chat works, without persistence
  }
})();
const saved = loadState(storage);
const state = {
  token: saved.token,
  visitorId: saved.visitorId,
  conversationId: saved.conversationId,
  messages: mergeMessages([], saved.messages),
  outbox: new Outbox(saved.outbox),
  language: saved.language, // the visitor's own choice (pinned), or null
  ui: pickLanguage({ chosen: saved.language, browser: options.locales, siteDefault: options.language }),
  open: saved.open,
  prechat: saved.prechat,
  rated: saved.rated,
  status: null,
  connection: 'idle',
  sessionReady: false,
  agentTyping: null,
  botWaiting: false,
  offlineSent: false,
};
for (const m of state.messages) state.ui = autoSwitch(m, state.ui, state.language) || state.ui;

let socket = null;
let flushing = false;
let retryTimer = null;
const timers = {};
const parentOrigin = (() => {
  try {
    return options.page ? new URL(options.page).origin : '*';
  } catch {
    return '*';
  }
})();

const persist = () => saveState(storage, state);
const t = (key, values) => translate(state.ui, key, values);

function post(type, data = {}) {
  if (window.parent !== window) window.parent.postMessage({ source: 'nimbus-chat', type, ...data }, parentOrigin);
}

// --- the page -----------------------------------------------------------------

const root = document.getElementById('nw-app');
const labelled = []; // [node, key, attribute or null]
const tx = (node, key, attr = null) => {
  labelled.push([node, key, attr]);
  return node;
};

if (options.color) root.style.setProperty('--nw-accent', options.color);
if (options.textColor) root.style.setProperty('--nw-accent-text', options.textColor);

const title = el('h1', { class: 'nw-title', attrs: { id: 'nw-title' } });
const languageSelect = tx(
  el('select', {
    class: 'nw-language',
    on: { change: (e) => chooseLanguage(e.target.value) },
  }, LANGUAGES.map((code) => el('option', { text: LANGUAGE_NAMES[code], attrs: { value: code, lang: code } }))),
  'language',
  'aria-label',
);
const closeButton = tx(el('button', { class: 'nw-close', text: '×', attrs: { type: 'button' }, on: { click: () => closePanel() } }), 'close', 'aria-label');
const statusLine = el('div', { class: 'nw-status', attrs: { role: 'status', 'aria-live': 'polite' } });
const connectionLine = el('div', { class: 'nw-connection', attrs: { role: 'status', 'aria-live': 'polite', hidden: true } });
const list = tx(el('ol', { class: 'nw-messages', attrs: { role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0' } }), 'messages', 'aria-label');
const typingLine = el('div', { class: 'nw-typing', attrs: { hidden: true } }, [
  el('span', { class: 'nw-dots', attrs: { 'aria-hidden': 'true' } }, [el('span'), el('span'), el('span')]),
  el('span', { class: 'nw-typing-text' }),
]);
const quick = el('div', { class: 'nw-quick', attrs: { role: 'group' } });
const extra = el('div', { class: 'nw-extra' });
const inputId = 'nw-input';
const input = tx(tx(el('textarea', {
  class: 'nw-input',
  attrs: { id: inputId, rows: 1, maxlength: MAX_TEXT_CHARS, autocomplete: 'off', dir: 'auto' },
  on: { keydown: onInputKey, input: onInput },
}), 'placeholder', 'placeholder'), 'inputLabel', 'aria-label');
const sendButton = tx(el('button', { class: ['nw-btn', 'nw-send'], attrs: { type: 'submit' } }), 'send');
const composer = el('form', { class: 'nw-composer', on: { submit: onSubmit } }, [
  tx(el('label', { class: 'nw-sr-only', attrs: { for: inputId } }), 'inputLabel'),
  input,
  sendButton,
]);
const humanButton = tx(el('button', { class: 'nw-link', attrs: { type: 'button' }, on: { click: requestHuman } }), 'talkToPerson');
const endButton = tx(el('button', { class: 'nw-link', attrs: { type: 'button' }, on: { click: () => confirmEnd(true) } }), 'endChat');
// "End chat" asks first (a tap meant for the message field must not end the chat).
const endYes = tx(el('button', { class: ['nw-btn', 'nw-end-yes'], attrs: { type: 'button' }, on: { click: leave } }), 'endYes');
const endNo = tx(el('button', { class: 'nw-link', attrs: { type: 'button' }, on: { click: () => confirmEnd(false) } }), 'endNo');
const endConfirm = el('div', { class: 'nw-end-confirm', attrs: { role: 'group', hidden: true } }, [
  tx(el('span', { class: 'nw-end-question', attrs: { id: 'nw-end-question' } }), 'endConfirm'),
  endYes,
  endNo,
]);
endConfirm.setAttribute('aria-labelledby', 'nw-end-question');
const footer = el('div', { class: 'nw-footer' }, [humanButton, endButton]);
// Shown when new messages arrive while the visitor reads further up.
const newHint = tx(el('button', {
  class: ['nw-btn', 'nw-new-hint'],
  attrs: { type: 'button', hidden: true },
  on: { click: () => scrollToEnd() },
}), 'newMessages');
let stickToEnd = true; // the list follows new messages while the visitor is at its end
const transcript = transcriptBox({
  tx,
  t,
  prechatEmail: () => (state.prechat && state.prechat.email) || '',
  request: (event, payload) => socket.request(event, payload),
});

root.replaceChildren(
  el('section', { class: 'nw-panel', attrs: { 'aria-labelledby': 'nw-title' } }, [
    el('header', { class: 'nw-header' }, [title, languageSelect, closeButton]),
    statusLine,
    connectionLine,
    list,
    newHint,
    typingLine,
    quick,
    extra,
    transcript.node,
    footer,
    endConfirm,
    composer,
  ]),
);

const typingThrottle = createTypingThrottle((typing) => socket && socket.notify('typing', { typing }));

// --- rendering ----------------------------------------------------------------

function renderChrome() {
  document.documentElement.lang = state.ui;
  root.setAttribute('lang', state.ui);
  title.textContent = options.title || t('title');
  document.title = options.title || t('title');
  languageSelect.value = state.ui;
  for (const [node, key, attr] of labelled) {
    if (attr) node.setAttribute(attr, t(key));
    else node.textContent = t(key);
  }
  quick.setAttribute('aria-label', t('talkToPerson'));
}

function renderStatus() {
  const lines = state.status ? statusLines(state.status, state.ui) : [];
  const text = lines.join(' ');
  if (statusLine.textContent !== text) statusLine.textContent = text;
  let connection = '';
  if (state.connection === 'offline') connection = t('offlineNet');
  else if (state.connection === 'connecting') connection = t('connecting');
  connectionLine.hidden = !connection;
  if (connectionLine.textContent !== connection) connectionLine.textContent = connection;
  root.dataset.state = (state.status && state.status.state) || 'new';
  root.dataset.connection = state.connection;

  const typingName = state.agentTyping;
  const typing = !!typingName || state.botWaiting;
  typingLine.hidden = !typing;
  typingLine.querySelector('.nw-typing-text').textContent = typingName ? t('agentTyping', { name: typingName }) : t('typing');

  const s = state.status && state.status.state;
  humanButton.hidden = !(s === 'bot' || (!s && state.messages.length));
  transcript.show(Boolean(state.conversationId && s === 'closed'));
  const canEnd = Boolean(state.conversationId && s && s !== 'closed');
  if (!canEnd) endConfirm.hidden = true;
  endButton.hidden = !canEnd || !endConfirm.hidden;
}

function confirmEnd(show) {
  endConfirm.hidden = !show;
  renderStatus();
  (show ? endNo : input).focus();
}

function scrollToEnd() {
  list.scrollTop = list.scrollHeight;
  stickToEnd = true;
  newHint.hidden = true;
}

function renderMessageList() {
  const before = list.querySelectorAll('.nw-msg:not(.nw-msg--visitor)').length;
  const shown = new Set(state.messages.map((m) => m.id));
  const pending = state.outbox.items.filter((i) => !(i.id && shown.has(i.id)));
  const titles = buttonTitles(state.messages);
  const greeting = options.greeting && !state.messages.length ? options.greeting : null;
  renderMessages(list, { messages: state.messages, pending, greeting, ui: state.ui, titles, onRetry: retry });
  const buttons = quickReplies(state.messages, state.status && state.status.state);
  quick.replaceChildren(
    ...buttons.map((b) => el('button', { class: 'nw-chip', text: b.title, attrs: { type: 'button', dir: 'auto' }, on: { click: () => send(b.payload) } })),
  );
  quick.hidden = !buttons.length;
  if (stickToEnd) scrollToEnd();
  else if (list.querySelectorAll('.nw-msg:not(.nw-msg--visitor)').length > before) newHint.hidden = false;
}

list.addEventListener('scroll', () => {
  stickToEnd = nearBottom(list);
  if (stickToEnd) newHint.hidden = true;
});
// The panel was hidden (a reload with the chat open, the iframe still laid out): once the list
// has a size, show its end, where the latest reply is.
new ResizeObserver(() => stickToEnd && scrollToEnd()).observe(list);

let extraMode = null;
function renderExtra() {
  const s = state.status;
  let mode = null;
  const lastSystem = [...state.messages].reverse().find((m) => m.sender === 'system');
  const closedOffline = lastSystem && lastSystem.meta && lastSystem.meta.kind === 'offline';
  if (options.prechat.length && !state.prechat && !state.messages.length && !state.outbox.items.length) mode = 'prechat';
  else if (s && s.state === 'queued' && s.offline && !state.offlineSent) mode = 'offline';
  else if (s && s.state === 'closed' && state.offlineSent) mode = 'offline-done';
  else if (s && s.state === 'closed' && closedOffline) mode = 'offline-done';
  else if (s && s.state === 'closed' && state.conversationId && state.rated !== state.conversationId) mode = 'rate';
  else if (s && s.state === 'closed' && state.conversationId) mode = 'rated';
  const key = `${mode}|${state.ui}`;
  composer.hidden = mode === 'prechat';
  if (key === extraMode) return;
  const active = document.activeElement;
  // Move the focus into a new form when it was in the old one, or on nothing (the button that was
  // pressed went away); never away from the message field.
  const hadFocus = extra.contains(active) || !active || active === document.body || !active.offsetParent;
  extraMode = key;
  const ctx = { ui: state.ui, options, prechat: state.prechat || {} };
  let node = null;
  if (mode === 'prechat') node = prechatForm(ctx, submitPrechat);
  else if (mode === 'offline') node = offlineForm(ctx, submitOffline);
  else if (mode === 'offline-done') node = el('p', { class: 'nw-note', text: t('offlineDone'), attrs: { role: 'status' } });
  else if (mode === 'rate') node = ratingForm(ctx, submitRating);
  else if (mode === 'rated') node = el('p', { class: 'nw-note', text: `${t('rateDone')} ${t('newChat')}`, attrs: { role: 'status' } });
  extra.replaceChildren(...(node ? [node] : []));
  if (hadFocus || mode === 'prechat') {
    const first = extra.querySelector('input, textarea, button');
    if (first && state.open) first.focus();
  }
}

function render() {
  renderChrome();
  renderStatus();
  renderMessageList();
  renderExtra();
}

// --- language -----------------------------------------------------------------

function setUi(lang) {
  if (lang === state.ui) return;
  state.ui = lang;
  relabelMessages(list, lang);
  render();
}

function chooseLanguage(lang) {
  state.language = lang;
  setUi(lang);
  persist();
  if (socket && socket.connected) socket.request('set_language', { language: lang }).catch(() => {});
}

// --- messages in ----------------------------------------------------------------

function addMessages(incoming, { live = false } = {}) {
  const before = new Set(state.messages.map((m) => m.id));
  state.messages = mergeMessages(state.messages, incoming);
  state.outbox = state.outbox.settle(state.messages);
  const fresh = incoming.filter((m) => m && !before.has(m.id));
  for (const m of fresh) {
    if (m.conversation_id && m.conversation_id !== state.conversationId) startedNew(m.conversation_id);
    const next = autoSwitch(m, state.ui, state.language);
    if (next) setUi(next);
    if (m.sender === 'bot' || m.sender === 'system') state.botWaiting = false;
    if (m.sender === 'agent') state.agentTyping = null;
  }
  persist();
  render();
  if (live && !state.open) {
    const unread = fresh.filter((m) => m.sender !== 'visitor').length;
    if (unread) post('unread', { count: unread });
  }
}

/** A message opened a new conversation: the closed one's rating form and "ended" are behind us
 * (the service's own `status` follows and overrules this). */
function startedNew(conversationId) {
  const had = state.conversationId;
  state.conversationId = conversationId;
  if (had && state.status && state.status.state === 'closed') {
    state.status = { state: 'bot', position: null, eta_seconds: null, agent: null, offline: false };
    state.offlineSent = false;
    extraMode = null;
  }
}

const handlers = {
  session(session) {
    if (state.visitorId && session.visitor_id && session.visitor_id !== state.visitorId) {
      // The service did not recognise the token (a new visitor): what is cached is someone else's past.
      state.messages = [];
      state.conversationId = null;
      state.rated = null;
      list.replaceChildren();
    }
    if (state.conversationId && !session.conversation_id && !(session.messages || []).length) {
      // The service no longer has any conversation of this visitor (erased on request): what is
      // cached here is gone there too, so it is not shown as a live chat.
      state.messages = [];
      state.conversationId = null;
      state.rated = null;
      list.replaceChildren();
    }
    state.visitorId = session.visitor_id || state.visitorId;
    state.token = session.visitor_token || state.token;
    const changed = session.conversation_id !== state.conversationId;
    const sentSeq = state.lastSentSeq || 0;
    state.sessionReady = true;
    if (changed && session.conversation_id) {
      // The latest conversation is not the one cached here (a new chat began
      // in another tab): `last_seq` was about another conversation.
      state.conversationId = session.conversation_id;
      if (sentSeq > 0) {
        socket.request('history', { after_seq: 0 }).then((ack) => addMessages(ack.messages || [])).catch(() => {});
      }
    }
    state.status = session.status || null;
    addMessages(session.messages || []);
    if (state.language && socket) socket.request('set_language', { language: state.language }).catch(() => {});
    flush();
  },
  message(message) {
    const gap = seqGap(state.messages, message);
    addMessages([message], { live: true });
    if (gap !== null && socket) {
      // a jump in `seq`: fetch what was missed, no reload needed
      socket.request('history', { after_seq: gap }).then((ack) => addMessages(ack.messages || [])).catch(() => {});
    }
  },
  status(status) {
    const previous = state.status && state.status.state;
    state.status = status;
    if (status.state !== 'queued' || !status.offline) {
      if (status.state !== 'closed') state.offlineSent = false;
    }
    if (status.state !== 'bot') state.botWaiting = false;
    if (status.state !== 'assigned') state.agentTyping = null;
    if (previous === 'closed' && status.state !== 'closed') extraMode = null;
    render();
  },
  typing(payload) {
    if (!payload || payload.sender !== 'agent') return;
    const agent = state.status && state.status.agent;
    state.agentTyping = payload.typing ? (agent && agent.name) || t('agent') : null;
    clearTimeout(timers.agentTyping);
    if (payload.typing) {
      timers.agentTyping = setTimeout(() => {
        state.agentTyping = null;
        renderStatus();
      }, AGENT_TYPING_MS);
    }
    renderStatus();
  },
  error() {},
  onConnection(value) {
    const was = state.connection;
    state.connection = value;
    if (value !== 'online') state.sessionReady = false;
    if (value === 'offline' && was === 'online') state.botWaiting = false;
    renderStatus();
  },
};

function ensureSocket() {
  if (socket) return;
  state.connection = 'connecting';
  socket = new ChatSocket(() => {
    state.lastSentSeq = lastSeq(state.messages, state.conversationId);
    const auth = { last_seq: state.lastSentSeq, page: options.page, locale: options.locale };
    if (state.token) auth.visitor_token = state.token;
    if (state.conversationId) auth.conversation_id = state.conversationId;
    if (state.language) auth.language = state.language;
    if (state.prechat) auth.visitor_info = state.prechat;
    return auth;
  }, handlers);
  socket.connect();
  renderStatus();
}

// --- messages out ---------------------------------------------------------------

function send(text) {
  const value = String(text || '').trim();
  if (!value) return;
  state.outbox = state.outbox.add(value.slice(0, MAX_TEXT_CHARS), newClientId());
  if (!state.status || state.status.state === 'bot' || state.status.state === 'closed') state.botWaiting = true;
  clearTimeout(timers.bot);
  timers.bot = setTimeout(() => {
    state.botWaiting = false;
    renderStatus();
  }, BOT_TYPING_MS);
  persist();
  render();
  ensureSocket();
  flush();
}

/** Send every queued message, oldest first, each with its own client_id (a retry is stored once). */
async function flush() {
  if (flushing || !socket || !socket.connected || !state.sessionReady) return;
  flushing = true;
  try {
    for (const item of state.outbox.toSend()) {
      state.outbox = state.outbox.update(item.client_id, { state: 'sending' });
      renderMessageList();
      try {
        const ack = await socket.request('visitor_message', { text: item.text, client_id: item.client_id });
        state.outbox = state.outbox.update(item.client_id, { state: 'sent', id: ack.id });
        if (ack.conversation_id && ack.conversation_id !== state.conversationId) startedNew(ack.conversation_id);
        state.outbox = state.outbox.settle(state.messages);
      } catch (error) {
        if (['offline', 'timeout', 'unavailable', 'rate_limited'].includes(error.code)) {
          state.outbox = state.outbox.update(item.client_id, { state: 'queued' });
          scheduleRetry(error.code === 'rate_limited' ? error.retryAfter * 1000 : RETRY_MS);
          break; // keep the order: later messages wait for this one
        }
        state.outbox = state.outbox.update(item.client_id, { state: 'failed' });
      } finally {
        persist();
        renderMessageList();
      }
    }
  } finally {
    flushing = false;
  }
}

function scheduleRetry(delay = RETRY_MS) {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(flush, Math.max(RETRY_MS, delay || 0)); // rate_limited: its retry_after
}

function retry(clientId) {
  state.outbox = state.outbox.update(clientId, { state: 'queued' });
  renderMessageList();
  flush();
}

function onSubmit(event) {
  event.preventDefault();
  const text = input.value;
  if (!text.trim()) return;
  input.value = '';
  input.style.height = '';
  typingThrottle.stop();
  send(text);
  input.focus();
}

/** Grow the field with its text (up to the CSS max-height), and tell the agent the visitor is typing. */
function onInput() {
  input.style.height = 'auto';
  input.style.height = `${input.scrollHeight + 2}px`;
  typingThrottle.input();
}

function onInputKey(event) {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    composer.requestSubmit();
  }
}

async function requestHuman() {
  ensureSocket();
  try {
    await socket.request('request_human', {});
  } catch (error) {
    showError(error);
  }
}

async function leave() {
  endConfirm.hidden = true;
  try {
    await socket.request('leave', {});
  } catch (error) {
    showError(error);
  }
}

function submitPrechat(values) {
  state.prechat = values;
  if (socket) socket.request('visitor_info', values).catch(() => {}); // also sent on every (re)connect
  persist();
  render();
  input.focus();
}

async function submitOffline({ text, contact, clientId }) {
  await socket.request('offline_message', { text, contact, client_id: clientId });
  state.offlineSent = true;
  render();
}

async function submitRating({ score, comment, resolved }) {
  const payload = { score };
  if (comment) payload.comment = comment;
  if (resolved !== null) payload.resolved = resolved;
  let ack;
  try {
    ack = await socket.request('rate', payload);
  } catch (error) {
    if (error.code !== 'invalid_state') throw error;
    ack = { conversation_id: state.conversationId }; // a new chat began meanwhile: nothing to rate here
  }
  state.rated = ack.conversation_id || state.conversationId;
  persist();
  render();
  input.focus();
}

function showError(error) {
  connectionLine.hidden = false;
  connectionLine.textContent = t('error', { message: error.message });
}

// --- open and close (messages with the loader in the host page) -----------------

function openPanel({ focus = true } = {}) {
  state.open = true;
  persist();
  ensureSocket();
  render();
  if (focus) {
    const target = extra.querySelector('input, textarea') || input;
    target.focus();
  }
}

function closePanel() {
  state.open = false;
  persist();
  typingThrottle.stop();
  post('close');
}

window.addEventListener('message', (event) => {
  if (event.source !== window.parent || !event.data || event.data.source !== 'nimbus-chat') return;
  if (event.data.type === 'open') openPanel({ focus: event.data.focus !== false });
  if (event.data.type === 'close') {
    state.open = false;
    persist();
  }
});

// Full screen (a phone; the loader's media query): the panel covers the page, so Tab cycles
// inside it instead of wandering onto the hidden page behind.
const fullScreen = window.matchMedia('(max-width: 520px), (max-height: 560px)');

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') {
    event.preventDefault();
    closePanel();
  } else if (event.key === 'Tab' && fullScreen.matches && window.parent !== window) {
    const focusable = [...root.querySelectorAll('button, input, textarea, select, [tabindex="0"]')].filter(
      (node) => !node.disabled && node.offsetParent !== null,
    );
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }
});

window.addEventListener('offline', () => socket && socket.pause());
window.addEventListener('online', () => socket && socket.resume());

// A conversation in progress connects at once (messages arrive while the panel
// is closed, and its outbox is sent); a first-time visitor connects on opening.
if (state.token || state.outbox.items.length) ensureSocket();
render();
post('ready', { open: state.open, title: options.title || t('title') });
if (window.parent === window) openPanel(); // opened on its own page (not embedded)
