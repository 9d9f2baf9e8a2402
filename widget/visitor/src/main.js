// The visitor chat widget, running in an iframe served at /widget/ (the
// loader, ../../loader/loader.js, creates it). Wires the persisted state (state.js), the
// `/chat` socket (docs/protocol.md), the page (page.js), sending (sending.js), attachments
// (view-attachments.js) and the views. Server text is only ever set as text (dom.js).

import './widget.css';
import { el, nearBottom } from './dom.js';
import {
  autoSwitch,
  buttonTitles,
  createTypingThrottle,
  lastSeq,
  seqGap,
  mergeMessages,
  quickReplies,
  statusLines,
} from './logic.js';
import { buildPage } from './page.js';
import { createSender } from './sending.js';
import { ChatSocket } from './socket.js';
import { options, persist, post, state, t } from './state.js';
import { attachControl } from './view-attachments.js';
import { extraPanel } from './view-extra.js';
import { installFrame } from './frame.js';
import { relabelMessages, renderMessages } from './view-messages.js';

const AGENT_TYPING_MS = 8000;
const ATTACH_STATES = ['queued', 'assigned']; // the service takes files while a person is (to be) there

let socket = null;
const timers = {};
const token = () => state.token;

// --- the page -----------------------------------------------------------------

const root = document.getElementById('nw-app');
if (options.color) root.style.setProperty('--nw-accent', options.color);
if (options.textColor) root.style.setProperty('--nw-accent-text', options.textColor);

const attach = attachControl({ t, token });
const page = buildPage(root, {
  t,
  state,
  attach,
  on: {
    chooseLanguage,
    closePanel,
    inputKey: onInputKey,
    input: onInput,
    submit: onSubmit,
    requestHuman,
    confirmEnd,
    leave,
    scrollToEnd,
    request: (event, payload) => socket.request(event, payload),
  },
});
const { title, languageSelect, statusLine, connectionLine, list, typingLine, quick, extra, input } = page;
const { composer, humanButton, endButton, endConfirm, endNo, newHint, transcript, labelled } = page;
let stickToEnd = true; // the list follows new messages while the visitor is at its end

const { send, flush, retry } = createSender({
  state,
  persist,
  socket: () => socket,
  ensureSocket,
  render,
  renderStatus,
  renderMessageList,
  startedNew,
});
const extraView = extraPanel({ state, options, t, extra, composer, input, persist, render, socket: () => socket, requestHuman });
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
  attach.button.hidden = !ATTACH_STATES.includes(s);
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
  renderMessages(list, { messages: state.messages, pending, greeting, ui: state.ui, titles, onRetry: retry, token });
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


function render() {
  renderChrome();
  renderStatus();
  renderMessageList();
  extraView.render();
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
    extraView.reset();
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
    if (previous === 'closed' && status.state !== 'closed') extraView.reset();
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

installFrame({ root, openPanel, closePanel, closedByHost: () => {
  state.open = false;
  persist();
} });

window.addEventListener('offline', () => socket && socket.pause());
window.addEventListener('online', () => socket && socket.resume());

// A conversation in progress connects at once (messages arrive while the panel
// is closed, and its outbox is sent); a first-time visitor connects on opening.
if (state.token || state.outbox.items.length) ensureSocket();
render();
post('ready', { open: state.open, title: options.title || t('title') });
if (window.parent === window) openPanel(); // opened on its own page (not embedded)
