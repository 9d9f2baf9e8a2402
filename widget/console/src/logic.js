// Pure logic of the agent console: no DOM, no sockets, so `npm test` runs it
// under node:test. Payload shapes are those of docs/protocol.md.

export const MAX_TEXT_CHARS = 4000;
export const RESOLUTIONS = [
  { code: 'resolved', label: 'Resolved' },
  { code: 'not_resolved', label: 'Not resolved' },
  { code: 'follow_up', label: 'Follow-up needed' },
];

const REASONS = {
  requested: 'Asked for a person',
  complaint: 'Complaint',
  answer_not_helpful: 'Answer did not help',
  low_confidence: 'Bot did not understand',
};

const LANGUAGES = {
  en: 'English',
  bn: 'Bengali',
  ml: 'Malayalam',
  hi: 'Hindi',
  ta: 'Tamil',
  fr: 'French',
  es: 'Spanish',
  ar: 'Arabic',
};

const UNASSIGNED = {
  closed: 'Closed',
  transferred: 'Transferred to another agent',
  transfer: 'Transferred to another agent',
  handback: 'Handed back to the bot',
  handed_back: 'Handed back to the bot',
  requeued: 'Returned to the queue',
  visitor_left: 'The visitor left',
  taken_over: 'Taken over by a supervisor',
};

export function reasonLabel(reason) {
  if (!reason) return 'Unknown reason';
  return REASONS[reason] || String(reason).replace(/_/g, ' ');
}

export function languageLabel(code) {
  if (!code) return 'unknown language';
  const name = LANGUAGES[code];
  return name ? `${name} (${code})` : String(code);
}

export function unassignedLabel(reason) {
  if (!reason) return 'No longer assigned to you';
  return UNASSIGNED[reason] || `No longer assigned to you (${String(reason).replace(/_/g, ' ')})`;
}

/** "42 s", "3 min 05 s", "1 h 02 min"; negative or missing values show as 0 s. */
export function formatWait(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes} min ${String(total % 60).padStart(2, '0')} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/**
 * The wait of a queue entry now: the server's `wait_seconds` when the entry
 * arrived plus the time since, on the browser's own clock (no clock skew).
 */
export function liveWaitSeconds(entry, receivedAtMs, nowMs) {
  const base = Number(entry && entry.wait_seconds) || 0;
  return base + Math.max(0, (nowMs - receivedAtMs) / 1000);
}

/** Longest-waiting first; ties by conversation id, so the order is stable. */
export function sortQueue(entries) {
  return [...(entries || [])].sort((a, b) => {
    const wait = (Number(b.wait_seconds) || 0) - (Number(a.wait_seconds) || 0);
    if (wait !== 0) return wait;
    return String(a.conversation_id).localeCompare(String(b.conversation_id));
  });
}

/** 0.973 -> "97%"; anything that is not a number -> "–". */
export function formatConfidence(value) {
  const n = Number(value);
  if (value === null || value === undefined || Number.isNaN(n)) return '–';
  return `${Math.round(n * 100)}%`;
}

/** Seconds since the epoch (server clock) -> "14:05" today, else "2 Nov 14:05". */
export function formatTime(epochSeconds, now = new Date()) {
  if (epochSeconds === null || epochSeconds === undefined) return '';
  const date = new Date(Number(epochSeconds) * 1000);
  if (Number.isNaN(date.getTime())) return '';
  const hm = `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
  if (date.toDateString() === now.toDateString()) return hm;
  const month = date.toLocaleString('en', { month: 'short' });
  return `${date.getDate()} ${month} ${hm}`;
}

function seqOf(message) {
  const seq = Number(message && message.seq);
  return Number.isFinite(seq) ? seq : Infinity;
}

/**
 * Merge `incoming` messages into `existing` (both arrays of MESSAGE) and return
 * a new array sorted by `seq`. A message is the same message when its `id` or,
 * within one conversation, its `seq` matches. A server copy always wins over a
 * local stand-in (`local: true`, made from an ack before the server's own
 * `message` event arrived); a later server copy updates an earlier one.
 */
export function mergeMessages(existing, incoming) {
  const list = [...(existing || [])];
  for (const message of incoming || []) {
    if (!message || typeof message !== 'object') continue;
    const index = list.findIndex(
      (m) =>
        (message.id != null && m.id === message.id) ||
        (message.seq != null && m.seq === message.seq && m.conversation_id === message.conversation_id),
    );
    if (index === -1) {
      list.push(message);
    } else if (message.local && !list[index].local) {
      continue;
    } else {
      list[index] = { ...list[index], ...message, ...(message.local ? {} : { local: false }) };
    }
  }
  return list.sort((a, b) => seqOf(a) - seqOf(b));
}

/** The highest seq the console shows for a conversation (0 when none). */
export function lastSeq(messages) {
  return (messages || []).reduce((max, m) => (Number.isFinite(Number(m.seq)) ? Math.max(max, Number(m.seq)) : max), 0);
}

/**
 * A live `message` that shows messages of its conversation were missed (its `seq` jumps past the
 * last one held, or a hole is left below it, e.g. after a Redis blip): the `seq` after which the
 * console is missing messages (it then asks for the conversation again), else null. Agents see
 * every `seq` (notes included), so a hole is always a loss.
 */
export function seqGap(messages, message) {
  const seq = Number(message && message.seq);
  if (!Number.isFinite(seq)) return null;
  const held = new Set(
    (messages || []).filter((m) => m.conversation_id === message.conversation_id).map((m) => Number(m.seq)),
  );
  if (held.size === 0) return null;
  const first = Math.min(...held);
  for (let k = first + 1; k < seq; k += 1) if (!held.has(k)) return k - 1;
  return null;
}

/**
 * How one message is shown. `main` is what the agent reads first (the
 * translation made for the agent when there is one); `original` is the other
 * side of the translation, shown when the agent asks to see originals.
 */
export function messageView(message, { showOriginals = false } = {}) {
  const meta = (message && message.meta) || {};
  const view = {
    sender: message.sender,
    main: { text: String(message.text ?? ''), lang: message.lang || null },
    original: null,
    originalLabel: null,
    translatedLabel: null,
  };
  if (message.translation && typeof message.translation.text === 'string') {
    view.main = { text: message.translation.text, lang: message.translation.lang || null };
    view.translatedLabel = `machine translation from ${languageLabel(message.lang)}`;
    if (showOriginals) {
      view.original = { text: String(message.text ?? ''), lang: message.lang || null };
      view.originalLabel = `original (${languageLabel(message.lang)})`;
    }
  } else if (meta.translated && typeof meta.translated.text === 'string') {
    view.translatedLabel = `sent as a machine translation into ${languageLabel(meta.translated.lang)}`;
    if (showOriginals) {
      view.original = { text: meta.translated.text, lang: meta.translated.lang || null };
      view.originalLabel = `what the visitor got (${languageLabel(meta.translated.lang)})`;
    }
  } else if (meta.machine_translated && meta.original && typeof meta.original.text === 'string') {
    view.translatedLabel = `machine translation from ${languageLabel(meta.original.lang)}`;
    if (showOriginals) {
      view.original = { text: meta.original.text, lang: meta.original.lang || null };
      view.originalLabel = `original (${languageLabel(meta.original.lang)})`;
    }
  } else if (meta.machine_translated) {
    view.translatedLabel = 'machine translated';
  }
  return view;
}

export function senderLabel(message) {
  const meta = (message && message.meta) || {};
  switch (message && message.sender) {
    case 'visitor':
      return 'Visitor';
    case 'bot':
      return 'Bot';
    case 'agent':
      return (meta.agent && meta.agent.name) || 'Agent';
    case 'system':
      return 'System';
    case 'note':
      return `Note by ${(meta.agent && meta.agent.name) || 'an agent'} (agents only)`;
    default:
      return String((message && message.sender) || '');
  }
}

/** The agent's display name in a PACKET's `agent` (an AGENT, `{name}` or a plain string). */
export function agentName(agent) {
  if (!agent) return null;
  if (typeof agent === 'string') return agent;
  return agent.display_name || agent.name || agent.username || null;
}

/** Check the composer's text as the server would (docs/protocol.md limits). */
export function validateText(text) {
  const value = String(text ?? '');
  if (!value.trim()) return { ok: false, code: 'empty', message: 'Write a message first.' };
  if (value.length > MAX_TEXT_CHARS) {
    return { ok: false, code: 'too_long', message: `At most ${MAX_TEXT_CHARS} characters (${value.length}).` };
  }
  return { ok: true, text: value.trim() };
}

/** A client_id within the protocol's 1-64 characters of [A-Za-z0-9_.:-]. */
export function newClientId(uuid = () => globalThis.crypto.randomUUID()) {
  return `a-${uuid()}`;
}

/** Agents a conversation can be transferred to: online, not me, with free capacity. */
export function transferTargets(agents, myUsername) {
  return (agents || [])
    .filter((a) => a && a.online && a.username !== myUsername)
    .filter((a) => a.capacity == null || a.load == null || Number(a.load) < Number(a.capacity))
    .sort((a, b) => (Number(a.load) || 0) - (Number(b.load) || 0) || String(a.username).localeCompare(String(b.username)));
}

/**
 * Typing notifications with a throttle: `input()` on every keystroke sends
 * `typing: true` at most once per `interval` ms, and `typing: false` after
 * `idle` ms without input; `stop()` (on send or blur) sends false at once if
 * true was sent. The clock and timers are injectable for tests.
 */
export function createTypingThrottle(send, { interval = 2500, idle = 3000, now = () => Date.now(), setTimer = setTimeout, clearTimer = clearTimeout } = {}) {
  let lastSent = -Infinity;
  let typing = false;
  let timer = null;
  const stop = () => {
    if (timer !== null) clearTimer(timer);
    timer = null;
    if (typing) {
      typing = false;
      lastSent = -Infinity;
      send(false);
    }
  };
  const input = () => {
    const t = now();
    if (!typing || t - lastSent >= interval) {
      typing = true;
      lastSent = t;
      send(true);
    }
    if (timer !== null) clearTimer(timer);
    timer = setTimer(stop, idle);
  };
  return { input, stop };
}

/** Filter canned replies by a search string (title or text, case-insensitive). */
export function filterCanned(replies, query) {
  const q = String(query || '').trim().toLowerCase();
  if (!q) return [...(replies || [])];
  return (replies || []).filter((r) => `${r.title || ''} ${r.text || ''}`.toLowerCase().includes(q));
}

/** Intents tried, from a handoff event (docs/handoff-event.md), newest last. */
export function intentsTried(escalation) {
  const list = (escalation && Array.isArray(escalation.intents_tried) && escalation.intents_tried) || [];
  return list.map((item) => ({
    text: String(item.text ?? ''),
    intent: item.intent || '',
    confidence: formatConfidence(item.confidence),
    bestGuess:
      item.intent === 'nlu_fallback' && item.best_guess
        ? `${item.best_guess} (${formatConfidence(item.best_guess_confidence)})`
        : '',
    language: item.language || null,
  }));
}

/** The resolution of an earlier conversation, which may be a code or `{code, ...}`. */
export function resolutionLabel(resolution) {
  if (!resolution) return '';
  const code = typeof resolution === 'string' ? resolution : resolution.code;
  const known = RESOLUTIONS.find((r) => r.code === code);
  return known ? known.label : String(code || '').replace(/_/g, ' ');
}

/** `payload -> title` of every button offered in `messages` (a tapped button is stored as its payload). */
export function buttonTitles(messages) {
  const titles = new Map();
  for (const m of messages || []) {
    for (const b of (m && m.meta && m.meta.buttons) || []) {
      if (b && typeof b.payload === 'string' && typeof b.title === 'string' && b.title.trim()) titles.set(b.payload, b.title);
    }
  }
  return titles;
}

/** What the visitor tapped ("No") instead of the payload ("/deny"); null for typed text. */
export function tappedTitle(message, titles) {
  if (!message || message.sender !== 'visitor' || !titles) return null;
  return titles.get(String(message.text ?? '')) ?? null;
}

/** How agents name a visitor: the pre-chat name when given (unverified), else the visitor id. */
export function visitorName(packet) {
  const visitor = (packet && packet.visitor) || {};
  const name = visitor.info && typeof visitor.info.name === 'string' ? visitor.info.name.trim() : '';
  return name || visitor.visitor_id || (packet && packet.conversation_id) || 'Visitor';
}

const ENDED_MARKS = {
  transferred: 'transferred',
  transfer: 'transferred',
  handed_back: 'with the bot',
  handback: 'with the bot',
  requeued: 'back in queue',
  visitor_left: 'visitor left',
  taken_over: 'taken over',
  closed: 'closed',
};

/** The short mark of a conversation that is no longer mine, by why it left ("transferred", not "ended"). */
export function endedMark(reason) {
  return ENDED_MARKS[reason] || 'ended';
}

/** A warning when `target` (an AGENT) does not list the conversation's language, else ''. */
export function languageWarning(target, language) {
  if (!target || !language) return '';
  if ((target.languages || []).includes(language)) return '';
  const name = target.display_name || target.username;
  return `${name} does not speak ${languageLabel(language)}: the chat will be machine-translated for them.`;
}
