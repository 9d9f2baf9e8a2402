// The widget's options (the loader's URL fragment) and its state, persisted in localStorage
// (logic.js loadState/saveState), plus the few helpers every part of the widget uses.

import { pickLanguage, translate } from './i18n.js';
import { Outbox, autoSwitch, loadState, mergeMessages, parseOptions, saveState } from './logic.js';

function readOptions() {
  try {
    return parseOptions(JSON.parse(decodeURIComponent(location.hash.slice(1)) || '{}'));
  } catch {
    return parseOptions({});
  }
}

export const options = readOptions();
const storage = (() => {
  try {
    return window.localStorage;
  } catch {
    return null; // storage blocked: the chat works, without persistence
  }
})();
const saved = loadState(storage);
export const state = {
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

const parentOrigin = (() => {
  try {
    return options.page ? new URL(options.page).origin : '*';
  } catch {
    return '*';
  }
})();

export const persist = () => saveState(storage, state);
export const t = (key, values) => translate(state.ui, key, values);

/** A message to the loader in the host page. */
export function post(type, data = {}) {
  if (window.parent !== window) window.parent.postMessage({ source: 'nimbus-chat', type, ...data }, parentOrigin);
}
