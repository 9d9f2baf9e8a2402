// Unit tests of the console's pure logic (node:test; `npm test`).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  agentName,
  createTypingThrottle,
  filterCanned,
  formatConfidence,
  formatWait,
  intentsTried,
  lastSeq,
  liveWaitSeconds,
  mergeMessages,
  messageView,
  newClientId,
  resolutionLabel,
  seqGap,
  sortQueue,
  transferTargets,
  validateText,
} from '../console/src/logic.js';

const msg = (seq, extra = {}) => ({
  id: `c_1:${seq}`,
  seq,
  conversation_id: 'c_1',
  sender: 'visitor',
  text: `m${seq}`,
  lang: 'bn',
  meta: {},
  ...extra,
});

describe('seqGap (console)', () => {
  it('is null for the next seq, a repeat, an earlier one, or nothing held yet', () => {
    const held = [msg(1), msg(2), msg(3)];
    assert.equal(seqGap(held, msg(4)), null);
    assert.equal(seqGap(held, msg(3)), null);
    assert.equal(seqGap([], msg(7)), null);
    assert.equal(seqGap(held, { ...msg(9), seq: undefined }), null);
  });

  it('names the last seq before the first missing one', () => {
    assert.equal(seqGap([msg(1), msg(2), msg(3)], msg(6)), 3);
    // my own message came back first (seq 5 from its ack); 4 never arrived live
    assert.equal(seqGap([msg(1), msg(2), msg(3), msg(5, { sender: 'agent', local: true })], msg(6)), 3);
  });

  it('only looks at the message\'s own conversation', () => {
    const other = { ...msg(4), id: 'c_2:4', conversation_id: 'c_2' };
    assert.equal(seqGap([msg(1), other], msg(2)), null);
  });
});

describe('mergeMessages', () => {
  it('sorts by seq and drops duplicates by id', () => {
    const merged = mergeMessages([msg(2), msg(1)], [msg(3), msg(2), msg(1)]);
    assert.deepEqual(
      merged.map((m) => m.seq),
      [1, 2, 3],
    );
  });

  it('treats the same seq in the same conversation as the same message', () => {
    const merged = mergeMessages([msg(1)], [{ ...msg(1), id: undefined, text: 'again' }]);
    assert.equal(merged.length, 1);
    assert.equal(merged[0].text, 'again');
  });

  it('keeps the same seq of another conversation', () => {
    const merged = mergeMessages([msg(1)], [{ ...msg(1), id: 'c_2:1', conversation_id: 'c_2' }]);
    assert.equal(merged.length, 2);
  });

  it('never lets a local stand-in from an ack overwrite the server copy', () => {
    const server = msg(4, { sender: 'agent', meta: { translated: { text: 'অনুবাদ', lang: 'bn' } } });
    const local = msg(4, { sender: 'agent', meta: {}, local: true });
    const merged = mergeMessages([server], [local]);
    assert.deepEqual(merged[0].meta, server.meta);
    assert.equal(merged[0].local, undefined);
  });

  it('replaces a local stand-in when the server copy arrives', () => {
    const local = msg(4, { sender: 'agent', meta: {}, local: true });
    const server = msg(4, { sender: 'agent', meta: { agent: { name: 'Asha' } } });
    const [merged] = mergeMessages([local], [server]);
    assert.equal(merged.local, false);
    assert.equal(merged.meta.agent.name, 'Asha');
  });

  it('ignores junk and does not mutate its inputs', () => {
    const existing = [msg(1)];
    const merged = mergeMessages(existing, [null, 'x', msg(2)]);
    assert.equal(existing.length, 1);
    assert.equal(merged.length, 2);
  });

  it('lastSeq is the highest seq shown', () => {
    assert.equal(lastSeq([msg(3), msg(7), { text: 'pending' }]), 7);
    assert.equal(lastSeq([]), 0);
  });
});

describe('queue', () => {
  it('sorts longest-waiting first, ties by conversation id', () => {
    const sorted = sortQueue([
      { conversation_id: 'c_b', wait_seconds: 10 },
      { conversation_id: 'c_c', wait_seconds: 90 },
      { conversation_id: 'c_a', wait_seconds: 10 },
    ]);
    assert.deepEqual(
      sorted.map((e) => e.conversation_id),
      ['c_c', 'c_a', 'c_b'],
    );
  });

  it('live wait adds the local time since the entry arrived', () => {
    assert.equal(liveWaitSeconds({ wait_seconds: 42 }, 1000, 6000), 47);
    assert.equal(liveWaitSeconds({ wait_seconds: 42 }, 6000, 1000), 42);
    assert.equal(liveWaitSeconds({}, 0, 0), 0);
  });

  it('formats waits', () => {
    assert.equal(formatWait(0), '0 s');
    assert.equal(formatWait(59.9), '59 s');
    assert.equal(formatWait(65), '1 min 05 s');
    assert.equal(formatWait(3600 + 120), '1 h 02 min');
    assert.equal(formatWait(-5), '0 s');
    assert.equal(formatWait(undefined), '0 s');
  });
});

describe('messageView', () => {
  it('shows the translation first and the original on request', () => {
    const m = msg(1, { text: 'আমার অর্ডার কোথায়?', translation: { text: 'Where is my order?', lang: 'en' } });
    const hidden = messageView(m);
    assert.equal(hidden.main.text, 'Where is my order?');
    assert.equal(hidden.original, null);
    assert.match(hidden.translatedLabel, /Bengali/);
    const shown = messageView(m, { showOriginals: true });
    assert.equal(shown.original.text, 'আমার অর্ডার কোথায়?');
    assert.equal(shown.original.lang, 'bn');
  });

  it("shows an agent's own translated message with what the visitor got", () => {
    const m = msg(2, { sender: 'agent', text: 'On its way', lang: 'en', meta: { translated: { text: 'পথে আছে', lang: 'bn' } } });
    assert.equal(messageView(m).main.text, 'On its way');
    assert.equal(messageView(m, { showOriginals: true }).original.text, 'পথে আছে');
  });

  it('shows a message without translation as it is', () => {
    const view = messageView(msg(3, { text: '<img src=x onerror=alert(1)>' }), { showOriginals: true });
    assert.equal(view.main.text, '<img src=x onerror=alert(1)>');
    assert.equal(view.original, null);
  });
});

describe('composer', () => {
  it('validates text like the server', () => {
    assert.equal(validateText('  ').code, 'empty');
    assert.equal(validateText('x'.repeat(4001)).code, 'too_long');
    assert.deepEqual(validateText('  hi  '), { ok: true, text: 'hi' });
  });

  it('makes client ids the protocol accepts', () => {
    const id = newClientId(() => '123e4567-e89b-12d3-a456-426614174000');
    assert.match(id, /^[A-Za-z0-9_.:-]{1,64}$/);
    assert.match(newClientId(), /^[A-Za-z0-9_.:-]{1,64}$/);
    assert.notEqual(newClientId(), newClientId());
  });

  it('throttles typing notifications and stops after idle', () => {
    let now = 0;
    const sent = [];
    const timers = new Map();
    let next = 1;
    const throttle = createTypingThrottle((t) => sent.push(t), {
      interval: 2500,
      idle: 3000,
      now: () => now,
      setTimer: (fn, ms) => {
        const id = next++;
        timers.set(id, { fn, at: now + ms });
        return id;
      },
      clearTimer: (id) => timers.delete(id),
    });
    const advance = (ms) => {
      now += ms;
      for (const [id, t] of [...timers]) {
        if (t.at <= now) {
          timers.delete(id);
          t.fn();
        }
      }
    };
    throttle.input();
    advance(500);
    throttle.input();
    advance(500);
    throttle.input();
    assert.deepEqual(sent, [true]); // once per interval
    advance(2000);
    throttle.input(); // 3000 ms after the first: sent again
    assert.deepEqual(sent, [true, true]);
    advance(3000); // idle
    assert.deepEqual(sent, [true, true, false]);
    throttle.stop(); // nothing more: already stopped
    assert.deepEqual(sent, [true, true, false]);
    throttle.input();
    throttle.stop();
    assert.deepEqual(sent, [true, true, false, true, false]);
  });

  it('filters canned replies by title or text', () => {
    const replies = [
      { id: '1', title: 'Greeting', text: 'Hello, how can I help?' },
      { id: '2', title: 'Refund', text: 'Refunds take 5-7 days.' },
    ];
    assert.equal(filterCanned(replies, '').length, 2);
    assert.deepEqual(
      filterCanned(replies, 'refund').map((r) => r.id),
      ['2'],
    );
    assert.deepEqual(
      filterCanned(replies, 'HELP').map((r) => r.id),
      ['1'],
    );
  });
});

describe('packet', () => {
  it('lists intents tried with confidences and the best guess for fallbacks', () => {
    const rows = intentsTried({
      intents_tried: [
        { text: 'রিফান্ড কবে পাব', intent: 'refund_status', confidence: 0.987, language: 'bn' },
        { text: 'asdf', intent: 'nlu_fallback', confidence: 0.2, best_guess: 'greet', best_guess_confidence: 0.31 },
      ],
    });
    assert.equal(rows[0].confidence, '99%');
    assert.equal(rows[0].language, 'bn');
    assert.equal(rows[1].bestGuess, 'greet (31%)');
    assert.deepEqual(intentsTried({ reason: 'requested', source: 'service' }), []);
    assert.deepEqual(intentsTried(null), []);
  });

  it('formats confidences and resolutions', () => {
    assert.equal(formatConfidence(0.5), '50%');
    assert.equal(formatConfidence(null), '–');
    assert.equal(formatConfidence('x'), '–');
    assert.equal(resolutionLabel('follow_up'), 'Follow-up needed');
    assert.equal(resolutionLabel({ code: 'resolved' }), 'Resolved');
    assert.equal(resolutionLabel(null), '');
  });

  it('names agents in any of the shapes the packet may carry', () => {
    assert.equal(agentName(null), null);
    assert.equal(agentName('asha'), 'asha');
    assert.equal(agentName({ name: 'Asha' }), 'Asha');
    assert.equal(agentName({ username: 'asha', display_name: 'Asha R' }), 'Asha R');
  });

  it('offers transfer only to other online agents with free capacity, least loaded first', () => {
    const targets = transferTargets(
      [
        { username: 'me', online: true, load: 0, capacity: 3 },
        { username: 'busy', online: true, load: 3, capacity: 3 },
        { username: 'away', online: false, load: 0, capacity: 3 },
        { username: 'b', online: true, load: 2, capacity: 3 },
        { username: 'a', online: true, load: 1, capacity: 3 },
      ],
      'me',
    );
    assert.deepEqual(
      targets.map((a) => a.username),
      ['a', 'b'],
    );
  });
});

// --- issue 12 -------------------------------------------------------------------

import {
  buttonTitles as consoleButtonTitles,
  endedMark,
  languageWarning,
  tappedTitle,
  visitorName,
} from '../console/src/logic.js';

describe('issue 12: what agents read', () => {
  it('names the visitor by the pre-chat name, else by id', () => {
    assert.equal(visitorName({ visitor: { visitor_id: 'v_1', info: { name: 'Rahim', email: 'r@x.y' } } }), 'Rahim');
    assert.equal(visitorName({ visitor: { visitor_id: 'v_1', info: null } }), 'v_1');
    assert.equal(visitorName({ visitor: { visitor_id: 'v_1', info: { name: '  ' } } }), 'v_1');
  });

  it('shows a tapped button by its title', () => {
    const messages = [
      { sender: 'bot', text: 'Did that help?', meta: { buttons: [{ title: 'Yes', payload: '/affirm' }, { title: 'No', payload: '/deny' }] } },
      { sender: 'visitor', text: '/deny' },
      { sender: 'visitor', text: 'typed' },
    ];
    const titles = consoleButtonTitles(messages);
    assert.equal(tappedTitle(messages[1], titles), 'No');
    assert.equal(tappedTitle(messages[2], titles), null);
    assert.equal(tappedTitle({ sender: 'bot', text: '/deny' }, titles), null);
  });

  it('marks a transferred chat as transferred, not ended', () => {
    assert.equal(endedMark('transferred'), 'transferred');
    assert.equal(endedMark('closed'), 'closed');
    assert.equal(endedMark('something'), 'ended');
  });

  it('warns when the transfer target does not speak the language', () => {
    assert.match(languageWarning({ username: 'ravi', display_name: 'Ravi', languages: ['en'] }, 'bn'), /Ravi does not speak Bengali/);
    assert.equal(languageWarning({ username: 'asha', languages: ['bn', 'en'] }, 'bn'), '');
  });
});

import { DEFAULT_SETTINGS, loadSettings, newEntries, saveSettings, titleWithCount } from '../console/src/alerts.js';

describe('issue 12: alerts', () => {
  it('keeps the alert settings, each can be turned off', () => {
    const data = new Map();
    const storage = { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => data.set(k, v) };
    assert.deepEqual(loadSettings(storage), DEFAULT_SETTINGS);
    saveSettings(storage, { sound: false, desktop: true, title: false });
    assert.deepEqual(loadSettings(storage), { sound: false, desktop: true, title: false });
    assert.deepEqual(loadSettings({ getItem: () => '{broken' }), DEFAULT_SETTINGS);
  });

  it('counts in the title and finds new queue entries', () => {
    assert.equal(titleWithCount('Nimbus', 3, true), '(3) Nimbus');
    assert.equal(titleWithCount('Nimbus', 3, false), 'Nimbus');
    assert.equal(titleWithCount('Nimbus', 0, true), 'Nimbus');
    const fresh = newEntries(new Set(['c_1']), [{ conversation_id: 'c_1' }, { conversation_id: 'c_2' }]);
    assert.deepEqual(fresh.map((e) => e.conversation_id), ['c_2']);
  });
});

import { nextConversation, shortcutFor } from '../console/src/shortcuts.js';

describe('issue 12: keyboard shortcuts', () => {
  it('reads Alt+N, Alt+C, Alt+X only', () => {
    assert.equal(shortcutFor({ altKey: true, code: 'KeyN', key: 'n' }), 'next');
    assert.equal(shortcutFor({ altKey: true, code: 'KeyC', key: 'c' }), 'claim');
    assert.equal(shortcutFor({ altKey: true, code: 'KeyX', key: '≈' }), 'close'); // layouts that change the key
    assert.equal(shortcutFor({ altKey: true, ctrlKey: true, code: 'KeyN' }), null);
    assert.equal(shortcutFor({ altKey: false, code: 'KeyN' }), null);
  });

  it('goes to an unread chat first, else the next one', () => {
    const convs = { a: { unread: 0 }, b: { unread: 0 }, c: { unread: 2 }, d: { unread: 0, ended: { reason: 'closed' } } };
    const get = (id) => convs[id];
    assert.equal(nextConversation(['a', 'b', 'c', 'd'], get, 'a'), 'c');
    convs.c.unread = 0;
    assert.equal(nextConversation(['a', 'b', 'c', 'd'], get, 'c'), 'a'); // wraps, skips the ended one
    assert.equal(nextConversation([], get, null), null);
  });
});
