// Unit tests of the visitor widget's pure logic (node:test; `npm test`).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { KEYS, LANGUAGES, pickLanguage, strings, supported, translate } from '../visitor/src/i18n.js';
import {
  MAX_CACHED_MESSAGES,
  Outbox,
  autoSwitch,
  buttonTitles,
  createTypingThrottle,
  displayText,
  formatEta,
  lastSeq,
  loadState,
  mergeMessages,
  newClientId,
  parseOptions,
  quickReplies,
  safeColor,
  saveState,
  seqGap,
  statusLines,
  translationNotice,
} from '../visitor/src/logic.js';

const msg = (seq, extra = {}) => ({
  id: `c_1:${seq}`,
  seq,
  conversation_id: 'c_1',
  sender: 'bot',
  text: `m${seq}`,
  lang: 'en',
  at: 1000 + seq,
  meta: {},
  ...extra,
});

class MemoryStorage {
  constructor() {
    this.data = new Map();
  }
  getItem(key) {
    return this.data.has(key) ? this.data.get(key) : null;
  }
  setItem(key, value) {
    this.data.set(key, String(value));
  }
}

describe('i18n', () => {
  it('has every string in every language', () => {
    for (const lang of LANGUAGES) {
      assert.deepEqual(Object.keys(strings(lang)).sort(), [...KEYS].sort(), lang);
      for (const key of KEYS) assert.ok(strings(lang)[key].trim(), `${lang}.${key}`);
    }
  });

  it('keeps the placeholders of the English strings', () => {
    for (const lang of LANGUAGES) {
      for (const key of KEYS) {
        const names = (s) => (s.match(/\{\w+\}/g) || []).sort();
        assert.deepEqual(names(strings(lang)[key]), names(strings('en')[key]), `${lang}.${key}`);
      }
    }
  });

  it('reduces browser tags to a supported language', () => {
    assert.equal(supported('bn-BD'), 'bn');
    assert.equal(supported('ML_in'), 'ml');
    assert.equal(supported('fr-FR'), null);
    assert.equal(supported(''), null);
    assert.equal(supported(undefined), null);
  });

  it('picks the choice, then the browser, then the site default, then English', () => {
    assert.equal(pickLanguage({ chosen: 'ml', browser: ['bn-BD'], siteDefault: 'en' }), 'ml');
    assert.equal(pickLanguage({ browser: ['fr-FR', 'bn-IN'], siteDefault: 'ml' }), 'bn');
    assert.equal(pickLanguage({ browser: ['fr-FR'], siteDefault: 'ml' }), 'ml');
    assert.equal(pickLanguage({ browser: ['de'] }), 'en');
    assert.equal(pickLanguage(), 'en');
  });

  it('fills placeholders and falls back to English', () => {
    assert.equal(translate('bn', 'position', { position: 2 }), 'সারিতে আপনার অবস্থান 2।');
    assert.equal(translate('xx', 'send'), 'Send');
    assert.equal(translate('en', 'no_such_key'), 'no_such_key');
    assert.equal(translate('en', 'agentTyping', {}), '{name} is typing…');
  });
});

describe('options', () => {
  it('validates the snippet options', () => {
    const o = parseOptions({
      title: '  Help  ',
      color: '#1d3b2f',
      textColor: 'red; background:url(x)',
      position: 'left',
      lang: 'bn-BD',
      greeting: 'Hi',
      prechat: 'name, EMAIL,shoe,name',
      page: 'https://shop.example/a',
      locales: ['ml-IN', 5, 'en'],
    });
    assert.equal(o.title, 'Help');
    assert.equal(o.color, '#1d3b2f');
    assert.equal(o.textColor, null);
    assert.equal(o.position, 'left');
    assert.equal(o.language, 'bn');
    assert.deepEqual(o.prechat, ['name', 'email']);
    assert.deepEqual(o.locales, ['ml-IN', 'en']);
    assert.equal(o.locale, 'ml-IN');
  });

  it('has defaults for nothing at all', () => {
    const o = parseOptions({});
    assert.equal(o.position, 'right');
    assert.equal(o.title, null);
    assert.deepEqual(o.prechat, []);
    assert.equal(o.language, null);
  });

  it('accepts only plain colours', () => {
    assert.equal(safeColor('#abc'), '#abc');
    assert.equal(safeColor('rgb(1, 2, 3)'), 'rgb(1, 2, 3)');
    assert.equal(safeColor('teal'), 'teal');
    assert.equal(safeColor('url(javascript:x)'), null);
    assert.equal(safeColor('#abc; color: red'), null);
  });
});

describe('messages', () => {
  it('merges without duplicates, by id or by seq, in order', () => {
    const merged = mergeMessages([msg(2), msg(1)], [msg(3), msg(2, { text: 'edited' }), { ...msg(1), id: 'other' }]);
    assert.deepEqual(merged.map((m) => m.seq), [1, 2, 3]);
    assert.equal(merged[1].text, 'edited');
  });

  it('keeps conversations apart and in the order they began', () => {
    const second = { ...msg(1), id: 'c_2:1', conversation_id: 'c_2', at: 5000 };
    const merged = mergeMessages([second], [msg(2), msg(1)]);
    assert.deepEqual(merged.map((m) => m.id), ['c_1:1', 'c_1:2', 'c_2:1']);
    assert.equal(lastSeq(merged, 'c_1'), 2);
    assert.equal(lastSeq(merged, 'c_2'), 1);
    assert.equal(lastSeq(merged, 'c_3'), 0);
  });

  it('ignores what is not a message', () => {
    assert.deepEqual(mergeMessages([], [null, 'x', {}, msg(1)]).length, 1);
  });

  it('shows a clicked button by its title, and the latest buttons only', () => {
    const buttons = [
      { title: 'Yes', payload: '/affirm' },
      { title: 'Talk to a person', payload: '/request_human' },
    ];
    const list = [msg(1, { meta: { buttons } })];
    const titles = buttonTitles(list);
    assert.equal(displayText({ sender: 'visitor', text: '/affirm' }, titles), 'Yes');
    assert.equal(displayText({ sender: 'bot', text: '/affirm' }, titles), '/affirm');
    assert.equal(displayText({ sender: 'visitor', text: '<b>x</b>' }, titles), '<b>x</b>');
    assert.deepEqual(quickReplies(list, 'bot'), buttons);
    assert.deepEqual(quickReplies([...list, msg(2, { sender: 'visitor', text: '/affirm' })], 'bot'), []);
    assert.deepEqual(quickReplies(list, 'closed'), []);
    assert.deepEqual(quickReplies([msg(1, { meta: { buttons: [{ title: 1 }, null] } })], 'bot'), []);
  });

  it('finds the machine-translation notice and the original', () => {
    assert.equal(translationNotice(msg(1)), null);
    assert.deepEqual(translationNotice(msg(1, { meta: { machine_translated: true } })), { original: null });
    const original = { text: 'Hello', lang: 'en' };
    assert.deepEqual(translationNotice(msg(1, { meta: { machine_translated: true, original } })), { original });
  });

  it('switches the UI language with the conversation, unless the visitor chose one', () => {
    assert.equal(autoSwitch(msg(1, { lang: 'bn' }), 'en', null), 'bn');
    assert.equal(autoSwitch(msg(1, { lang: 'bn' }), 'bn', null), null);
    assert.equal(autoSwitch(msg(1, { lang: 'hi' }), 'en', null), null);
    assert.equal(autoSwitch(msg(1, { lang: 'ml', sender: 'visitor' }), 'en', null), null);
    assert.equal(autoSwitch(msg(1, { lang: 'ml' }), 'en', 'en'), null);
  });
});

describe('status', () => {
  it('describes the queue, the agent and the end', () => {
    assert.deepEqual(statusLines({ state: 'queued', position: 2, eta_seconds: 240, offline: false }, 'en'), [
      'Waiting for a person.',
      'You are number 2 in the queue.',
      'Estimated wait: 4 min.',
    ]);
    // Offline (no one available): no place in the queue (issue 12, defect 7).
    assert.deepEqual(statusLines({ state: 'queued', position: 8, eta_seconds: 240, offline: true }, 'en'), [
      'Waiting for a person.',
    ]);
    // Bengali status in Bengali digits, as the bot's Bengali answers.
    assert.deepEqual(statusLines({ state: 'queued', position: 12, eta_seconds: 600, offline: false }, 'bn'), [
      'একজন মানুষের জন্য অপেক্ষা করছেন।',
      'সারিতে আপনার অবস্থান ১২।',
      'আনুমানিক অপেক্ষা: ১০ মিনিট।',
    ]);
    assert.deepEqual(statusLines({ state: 'assigned', agent: { name: 'Asha' } }, 'bn'), ['আপনি Asha-এর সাথে চ্যাট করছেন।']);
    assert.deepEqual(statusLines({ state: 'closed' }, 'ml'), ['സംഭാഷണം അവസാനിച്ചു.']);
    assert.deepEqual(statusLines({ state: 'bot' }, 'en'), ['You are chatting with our assistant.']);
    assert.deepEqual(statusLines(null), []);
  });

  it('formats the wait', () => {
    assert.equal(formatEta(45, 'en'), '45 s');
    assert.equal(formatEta(61, 'en'), '2 min');
    assert.equal(formatEta(-5, 'en'), '0 s');
    assert.equal(formatEta(120, 'bn'), '২ মিনিট');
    assert.equal(formatEta(120, 'ml'), '2 മിനിറ്റ്');
  });
});

describe('outbox', () => {
  it('queues, acknowledges and settles messages by client_id', () => {
    let box = new Outbox().add('hello', 'w-1').add('again', 'w-2');
    assert.deepEqual(box.toSend().map((i) => i.client_id), ['w-1', 'w-2']);
    box = box.update('w-1', { state: 'sent', id: 'c_1:3' });
    assert.deepEqual(box.toSend().map((i) => i.client_id), ['w-2']);
    assert.deepEqual(box.toJSON(), [{ client_id: 'w-2', text: 'again' }]);
    box = box.settle([msg(3)]);
    assert.deepEqual(box.items.map((i) => i.client_id), ['w-2']);
    box = box.update('w-2', { state: 'failed' });
    assert.deepEqual(box.toSend(), []);
    assert.deepEqual(box.remove('w-2').items, []);
  });

  it('restores persisted items as queued, dropping junk', () => {
    const box = new Outbox([{ client_id: 'w-1', text: 'x', state: 'sending' }, { text: 'no id' }, null]);
    assert.deepEqual(box.items, [{ client_id: 'w-1', text: 'x', state: 'queued', id: null }]);
  });

  it('makes unique client ids', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newClientId()));
    assert.equal(ids.size, 100);
  });
});

describe('persistence', () => {
  it('round-trips the state and derives last_seq from the cached messages', () => {
    const storage = new MemoryStorage();
    const outbox = new Outbox().add('offline text', 'w-9');
    saveState(storage, { token: 't', visitorId: 'v_1', conversationId: 'c_1', messages: [msg(1), msg(2)], outbox, language: 'bn', open: true });
    const state = loadState(storage);
    assert.equal(state.token, 't');
    assert.equal(state.visitorId, 'v_1');
    assert.equal(state.conversationId, 'c_1');
    assert.equal(state.lastSeq, 2);
    assert.equal(state.messages.length, 2);
    assert.deepEqual(state.outbox, [{ client_id: 'w-9', text: 'offline text' }]);
    assert.equal(state.language, 'bn');
    assert.equal(state.open, true);
  });

  it('starts empty on missing, broken or hostile data', () => {
    const storage = new MemoryStorage();
    assert.equal(loadState(storage).token, null);
    storage.setItem('nimbus-chat:v1', '{not json');
    assert.equal(loadState(storage).lastSeq, 0);
    storage.setItem('nimbus-chat:v1', JSON.stringify({ token: 5, language: 'xx', messages: 'no', lastSeq: 99 }));
    const state = loadState(storage);
    assert.equal(state.token, null);
    assert.equal(state.language, null);
    assert.equal(state.lastSeq, 0, 'no cached messages: ask for everything');
    assert.equal(loadState(null).token, null);
  });

  it('caps the cache and survives a full storage', () => {
    const storage = new MemoryStorage();
    const many = Array.from({ length: MAX_CACHED_MESSAGES + 50 }, (_, i) => msg(i + 1));
    saveState(storage, { conversationId: 'c_1', messages: many });
    assert.equal(loadState(storage).messages.length, MAX_CACHED_MESSAGES);
    assert.equal(loadState(storage).lastSeq, MAX_CACHED_MESSAGES + 50);
    const full = { setItem() { throw new Error('QuotaExceededError'); } };
    assert.equal(saveState(full, { messages: [] }), false);
  });
});

describe('typing throttle', () => {
  it('sends true at most once per interval and false after quiet', () => {
    let clock = 0;
    const sent = [];
    const timers = [];
    const throttle = createTypingThrottle((v) => sent.push(v), {
      ms: 3000,
      idleMs: 4000,
      now: () => clock,
      setTimer: (fn) => timers.push(fn) && timers.length,
      clearTimer: () => {},
    });
    throttle.input();
    clock = 1000;
    throttle.input();
    clock = 3500;
    throttle.input();
    assert.deepEqual(sent, [true, true]);
    timers.at(-1)();
    assert.deepEqual(sent, [true, true, false]);
    throttle.stop();
    assert.deepEqual(sent, [true, true, false], 'no second false');
  });
});

describe('seqGap', () => {
  const shown = [
    { id: 'c_1:1', conversation_id: 'c_1', seq: 1 },
    { id: 'c_1:2', conversation_id: 'c_1', seq: 2 },
  ];
  it('asks for what was missed when seq jumps', () => {
    assert.equal(seqGap(shown, { conversation_id: 'c_1', seq: 5 }), 2);
  });
  it('is quiet for the next seq, a repeat, or a new conversation', () => {
    assert.equal(seqGap(shown, { conversation_id: 'c_1', seq: 3 }), null);
    assert.equal(seqGap(shown, { conversation_id: 'c_1', seq: 2 }), null);
    assert.equal(seqGap(shown, { conversation_id: 'c_2', seq: 4 }), null);
    assert.equal(seqGap(shown, { conversation_id: 'c_1' }), null);
  });
});
