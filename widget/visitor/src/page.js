// The widget's elements, built once. `on` holds the handlers (main.js, sending.js); `labelled`
// lists [node, i18n key, attribute or null] for relabelling when the UI language changes.

import { el } from './dom.js';
import { LANGUAGES, LANGUAGE_NAMES } from './i18n.js';
import { MAX_TEXT_CHARS } from './logic.js';
import { transcriptBox } from './view-transcript.js';

export function buildPage(root, { t, state, on, attach }) {
  const labelled = [];
  const tx = (node, key, attr = null) => {
    labelled.push([node, key, attr]);
    return node;
  };
  const p = { labelled, tx };
  p.title = el('h1', { class: 'nw-title', attrs: { id: 'nw-title' } });
  p.languageSelect = tx(
    el('select', {
      class: 'nw-language',
      on: { change: (e) => on.chooseLanguage(e.target.value) },
    }, LANGUAGES.map((code) => el('option', { text: LANGUAGE_NAMES[code], attrs: { value: code, lang: code } }))),
    'language',
    'aria-label',
  );
  p.closeButton = tx(el('button', { class: 'nw-close', text: '×', attrs: { type: 'button' }, on: { click: () => on.closePanel() } }), 'close', 'aria-label');
  p.statusLine = el('div', { class: 'nw-status', attrs: { role: 'status', 'aria-live': 'polite' } });
  p.connectionLine = el('div', { class: 'nw-connection', attrs: { role: 'status', 'aria-live': 'polite', hidden: true } });
  p.list = tx(el('ol', { class: 'nw-messages', attrs: { role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0' } }), 'messages', 'aria-label');
  p.typingLine = el('div', { class: 'nw-typing', attrs: { hidden: true } }, [
    el('span', { class: 'nw-dots', attrs: { 'aria-hidden': 'true' } }, [el('span'), el('span'), el('span')]),
    el('span', { class: 'nw-typing-text' }),
  ]);
  p.quick = el('div', { class: 'nw-quick', attrs: { role: 'group' } });
  p.extra = el('div', { class: 'nw-extra' });
  const inputId = 'nw-input';
  p.input = tx(tx(el('textarea', {
    class: 'nw-input',
    attrs: { id: inputId, rows: 1, maxlength: MAX_TEXT_CHARS, autocomplete: 'off', dir: 'auto' },
    on: { keydown: on.inputKey, input: on.input },
  }), 'placeholder', 'placeholder'), 'inputLabel', 'aria-label');
  p.sendButton = tx(el('button', { class: ['nw-btn', 'nw-send'], attrs: { type: 'submit' } }), 'send');
  tx(attach.button, 'attach', 'aria-label');
  tx(attach.button, 'attach', 'title');
  p.composer = el('form', { class: 'nw-composer', on: { submit: on.submit } }, [
    tx(el('label', { class: 'nw-sr-only', attrs: { for: inputId } }), 'inputLabel'),
    attach.button,
    attach.input,
    p.input,
    p.sendButton,
  ]);
  p.humanButton = tx(el('button', { class: 'nw-link', attrs: { type: 'button' }, on: { click: on.requestHuman } }), 'talkToPerson');
  p.endButton = tx(el('button', { class: 'nw-link', attrs: { type: 'button' }, on: { click: () => on.confirmEnd(true) } }), 'endChat');
  // "End chat" asks first (a tap meant for the message field must not end the chat).
  const endYes = tx(el('button', { class: ['nw-btn', 'nw-end-yes'], attrs: { type: 'button' }, on: { click: on.leave } }), 'endYes');
  p.endNo = tx(el('button', { class: 'nw-link', attrs: { type: 'button' }, on: { click: () => on.confirmEnd(false) } }), 'endNo');
  p.endConfirm = el('div', { class: 'nw-end-confirm', attrs: { role: 'group', hidden: true } }, [
    tx(el('span', { class: 'nw-end-question', attrs: { id: 'nw-end-question' } }), 'endConfirm'),
    endYes,
    p.endNo,
  ]);
  p.endConfirm.setAttribute('aria-labelledby', 'nw-end-question');
  const footer = el('div', { class: 'nw-footer' }, [p.humanButton, p.endButton]);
  // Shown when new messages arrive while the visitor reads further up.
  p.newHint = tx(el('button', {
    class: ['nw-btn', 'nw-new-hint'],
    attrs: { type: 'button', hidden: true },
    on: { click: () => on.scrollToEnd() },
  }), 'newMessages');
  p.transcript = transcriptBox({
    tx,
    t,
    prechatEmail: () => (state.prechat && state.prechat.email) || '',
    request: (event, payload) => on.request(event, payload),
  });

  root.replaceChildren(
    el('section', { class: 'nw-panel', attrs: { 'aria-labelledby': 'nw-title' } }, [
      el('header', { class: 'nw-header' }, [p.title, p.languageSelect, p.closeButton]),
      p.statusLine,
      p.connectionLine,
      p.list,
      p.newHint,
      p.typingLine,
      p.quick,
      p.extra,
      p.transcript.node,
      footer,
      p.endConfirm,
      attach.status,
      p.composer,
    ]),
  );
  return p;
}
