// Pure logic of the visitor widget: no DOM, no sockets, so `npm test` runs it
// under node:test. Payload shapes are those of docs/protocol.md (/chat).

import { localDigits, supported, translate } from './i18n.js';

export const MAX_TEXT_CHARS = 4000;
export const STORAGE_KEY = 'nimbus-chat:v1';
export const MAX_CACHED_MESSAGES = 200;
const PRECHAT_FIELDS = ['name', 'email', 'phone'];
const POSITIONS = ['right', 'left'];

export function newClientId() {
  const random = globalThis.crypto && globalThis.crypto.randomUUID ? globalThis.crypto.randomUUID() : null;
  return `w-${random || `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`}`;
}

/** A CSS colour a site owner may pass (hex, rgb/rgba/hsl/hsla, or a plain name); else null. */
export function safeColor(value) {
  if (typeof value !== 'string') return null;
  const v = value.trim();
  if (/^#[0-9a-f]{3,8}$/i.test(v)) return v;
  if (/^(rgb|rgba|hsl|hsla)\([0-9.,%\s/]+\)$/i.test(v)) return v;
  if (/^[a-z]{3,20}$/i.test(v)) return v;
  return null;
}

/**
 * The options the loader passes (the snippet's data- attributes, as strings,
 * plus the host page's URL and browser languages) -> validated settings.
 */
export function parseOptions(raw = {}) {
  const text = (value, max = 200) => (typeof value === 'string' && value.trim() ? value.trim().slice(0, max) : null);
  const fields = String(raw.prechat || '')
    .split(',')
    .map((f) => f.trim().toLowerCase())
    .filter((f, i, all) => PRECHAT_FIELDS.includes(f) && all.indexOf(f) === i);
  const locales = [].concat(raw.locales || []).filter((l) => typeof l === 'string').slice(0, 10);
  return {
    title: text(raw.title, 80),
    color: safeColor(raw.color) || null,
    textColor: safeColor(raw.textColor) || null,
    position: POSITIONS.includes(raw.position) ? raw.position : 'right',
    language: supported(raw.lang || raw.language),
    greeting: text(raw.greeting, 500),
    prechat: fields,
    page: text(raw.page, 2000),
    locale: text(raw.locale, 35) || locales[0] || null,
    locales,
  };
}

function seqOf(message) {
  const seq = Number(message && message.seq);
  return Number.isFinite(seq) ? seq : Infinity;
}

/**
 * Merge `incoming` MESSAGEs into `existing` and return a new, ordered array.
 * The same message (same `id`, or same `seq` in the same conversation) is
 * kept once; a later copy replaces the earlier one. Order: by conversation
 * (in the order their first messages were sent), then by `seq`.
 */
export function mergeMessages(existing, incoming) {
  const list = [...(existing || [])];
  for (const message of incoming || []) {
    if (!message || typeof message !== 'object' || (message.id == null && message.seq == null)) continue;
    const index = list.findIndex(
      (m) =>
        (message.id != null && m.id === message.id) ||
        (message.seq != null && m.seq === message.seq && m.conversation_id === message.conversation_id),
    );
    if (index === -1) list.push(message);
    else list[index] = { ...list[index], ...message };
  }
  const started = new Map();
  for (const m of list) {
    const at = Number(m.at) || 0;
    const key = m.conversation_id || '';
    if (!started.has(key) || at < started.get(key)) started.set(key, at);
  }
  return list.sort((a, b) => {
    if ((a.conversation_id || '') !== (b.conversation_id || '')) {
      return started.get(a.conversation_id || '') - started.get(b.conversation_id || '');
    }
    return seqOf(a) - seqOf(b);
  });
}

/**
 * A live `message` whose `seq` jumps past the last one shown for its conversation (messages were
 * lost, e.g. during a Redis blip): the `after_seq` to ask `history` for, else null.
 */
export function seqGap(messages, message) {
  if (!message || !message.conversation_id || !Number.isFinite(Number(message.seq))) return null;
  const last = lastSeq(messages, message.conversation_id);
  return last > 0 && Number(message.seq) > last + 1 ? last : null;
}

/** The highest `seq` shown for `conversationId` (0 when none). */
export function lastSeq(messages, conversationId) {
  return (messages || []).reduce(
    (max, m) =>
      m.conversation_id === conversationId && Number.isFinite(Number(m.seq)) ? Math.max(max, Number(m.seq)) : max,
    0,
  );
}

/** "45 s", "4 min" (rounded up), in the UI language. */
export function formatEta(seconds, lang = 'en') {
  const total = Math.max(0, Math.round(Number(seconds) || 0));
  if (total < 60) return translate(lang, 'seconds', { n: localDigits(lang, total) });
  return translate(lang, 'minutes', { n: localDigits(lang, Math.ceil(total / 60)) });
}

/** The status line(s) for STATUS: what state the chat is in, queue position, wait, agent. */
export function statusLines(status, lang = 'en') {
  if (!status || !status.state) return [];
  const name = status.agent && status.agent.name;
  switch (status.state) {
    case 'queued': {
      const lines = [translate(lang, 'stateQueued')];
      // Offline (no one available): the offline form says so; a place in a queue no one serves means nothing.
      if (status.offline) return lines;
      if (Number.isFinite(Number(status.position)) && status.position !== null) {
        lines.push(translate(lang, 'position', { position: localDigits(lang, status.position) }));
      }
      if (status.eta_seconds !== null && status.eta_seconds !== undefined && !status.offline) {
        lines.push(translate(lang, 'eta', { eta: formatEta(status.eta_seconds, lang) }));
      }
      return lines;
    }
    case 'assigned':
      return [translate(lang, 'stateAssigned', { name: name || translate(lang, 'agent') })];
    case 'closed':
      return [translate(lang, 'stateClosed')];
    default:
      return [translate(lang, 'stateBot')];
  }
}

/** `payload -> title` of every button offered so far, so a clicked button shows its title, not `/affirm`. */
export function buttonTitles(messages) {
  const titles = new Map();
  for (const m of messages || []) {
    for (const b of (m.meta && m.meta.buttons) || []) {
      if (b && typeof b.payload === 'string' && typeof b.title === 'string') titles.set(b.payload, b.title);
    }
  }
  return titles;
}

/** The text shown for a message: a visitor's button payload shows as the button's title. */
export function displayText(message, titles) {
  const text = message && message.text != null ? String(message.text) : '';
  if (message && message.sender === 'visitor' && titles && titles.has(text)) return titles.get(text);
  return text;
}

/** The quick replies to show: the buttons of the latest message, unless the visitor has answered since. */
export function quickReplies(messages, state) {
  const list = messages || [];
  const last = list[list.length - 1];
  if (!last || last.sender === 'visitor' || state === 'closed') return [];
  return ((last.meta && last.meta.buttons) || []).filter(
    (b) => b && typeof b.title === 'string' && typeof b.payload === 'string',
  );
}

/** The machine-translation notice of a message: null, or {original: {text, lang} | null}. */
export function translationNotice(message) {
  const meta = (message && message.meta) || {};
  if (!meta.machine_translated) return null;
  const original = meta.original && typeof meta.original.text === 'string' ? meta.original : null;
  return { original };
}

/**
 * The UI language to switch to after `message` arrived, or null to stay. The
 * server's bot, agent and system messages carry the conversation's language
 * (`lang`); a language the visitor picked themselves is kept.
 */
export function autoSwitch(message, current, pinned) {
  if (pinned || !message || message.sender === 'visitor') return null;
  const lang = supported(message.lang);
  return lang && lang !== current ? lang : null;
}

/**
 * The outbox: messages the visitor wrote that the server has not acknowledged
 * yet (offline, or waiting for the ack). Each keeps its `client_id`, so a
 * retry is stored once by the server. Immutable: every method returns a copy.
 */
export class Outbox {
  constructor(items = []) {
    this.items = items
      .filter((i) => i && typeof i.client_id === 'string' && typeof i.text === 'string')
      .map((i) => ({ client_id: i.client_id, text: i.text, state: i.state === 'failed' ? 'failed' : 'queued', id: i.id || null }));
  }

  add(text, clientId = newClientId()) {
    return new Outbox([...this.items, { client_id: clientId, text, state: 'queued' }]);
  }

  update(clientId, changes) {
    return new Outbox(this.items.map((i) => (i.client_id === clientId ? { ...i, ...changes } : i)));
  }

  remove(clientId) {
    return new Outbox(this.items.filter((i) => i.client_id !== clientId));
  }

  /** Acknowledged items whose stored message the widget now shows are done. */
  settle(messages) {
    const ids = new Set((messages || []).map((m) => m.id));
    return new Outbox(this.items.filter((i) => !(i.id && ids.has(i.id))));
  }

  /** Items to (re)send, oldest first. */
  toSend() {
    return this.items.filter((i) => i.state === 'queued' && !i.id);
  }

  /** What persists across reloads: unacknowledged items only. */
  toJSON() {
    return this.items.filter((i) => !i.id).map(({ client_id, text }) => ({ client_id, text }));
  }
}

/** The persisted state (localStorage): visitor token, conversation, last seq, cached messages, outbox. */
export function loadState(storage, key = STORAGE_KEY) {
  const empty = { token: null, visitorId: null, conversationId: null, lastSeq: 0, messages: [], outbox: [], language: null, open: false, prechat: null, rated: null };
  try {
    const raw = storage && storage.getItem(key);
    if (!raw) return empty;
    const data = JSON.parse(raw);
    if (!data || typeof data !== 'object') return empty;
    const messages = Array.isArray(data.messages) ? data.messages.filter((m) => m && typeof m === 'object') : [];
    const conversationId = typeof data.conversationId === 'string' ? data.conversationId : null;
    return {
      token: typeof data.token === 'string' ? data.token : null,
      visitorId: typeof data.visitorId === 'string' ? data.visitorId : null,
      conversationId,
      // last_seq must describe the cached messages: no cache, no last_seq.
      lastSeq: messages.length ? lastSeq(messages, conversationId) : 0,
      messages,
      outbox: Array.isArray(data.outbox) ? data.outbox : [],
      language: supported(data.language),
      open: data.open === true,
      prechat: data.prechat && typeof data.prechat === 'object' ? data.prechat : null,
      rated: typeof data.rated === 'string' ? data.rated : null,
    };
  } catch {
    return empty;
  }
}

export function saveState(storage, state, key = STORAGE_KEY) {
  const messages = (state.messages || []).filter((m) => !m.local).slice(-MAX_CACHED_MESSAGES);
  const data = {
    token: state.token || null,
    visitorId: state.visitorId || null,
    conversationId: state.conversationId || null,
    messages,
    outbox: state.outbox instanceof Outbox ? state.outbox.toJSON() : state.outbox || [],
    language: state.language || null,
    open: !!state.open,
    prechat: state.prechat || null,
    rated: state.rated || null,
  };
  try {
    storage.setItem(key, JSON.stringify(data));
    return true;
  } catch {
    return false; // storage full or disabled: the chat still works for this page
  }
}

/** Calls `send(true)` at most once per `ms` while typing, and `send(false)` after `idleMs` of quiet. */
export function createTypingThrottle(send, { ms = 3000, idleMs = 4000, now = () => Date.now(), setTimer = setTimeout, clearTimer = clearTimeout } = {}) {
  let lastSent = -Infinity;
  let timer = null;
  let typing = false;
  const stop = () => {
    if (timer) clearTimer(timer);
    timer = null;
    if (typing) {
      typing = false;
      send(false);
    }
  };
  return {
    input() {
      if (!typing || now() - lastSent >= ms) {
        typing = true;
        lastSent = now();
        send(true);
      }
      if (timer) clearTimer(timer);
      timer = setTimer(stop, idleMs);
    },
    stop,
  };
}
