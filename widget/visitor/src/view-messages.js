// The message list: one <li> per message, created once and kept (keyed by id),
// so the role="log" live region announces only what is new.

import { el } from './dom.js';
import { translate, LANGUAGE_NAMES } from './i18n.js';
import { displayText, translationNotice } from './logic.js';
import { attachmentOf } from '../../shared/attachments.js';
import { attachmentView } from './view-attachments.js';

const SENDER_KEYS = { visitor: 'you', bot: 'bot', agent: 'agent', system: 'system' };

function senderLabel(message, lang) {
  if (message.sender === 'agent' && message.meta && message.meta.agent && message.meta.agent.name) {
    return String(message.meta.agent.name);
  }
  return translate(lang, SENDER_KEYS[message.sender] || 'system');
}

function originalBlock(notice, ui) {
  const original = el('p', {
    class: 'nw-original',
    attrs: { hidden: true, lang: notice.original.lang || null },
  }, [
    el('span', { class: 'nw-original-label', text: translate(ui, 'original', { lang: LANGUAGE_NAMES[notice.original.lang] || notice.original.lang || '?' }) }),
    ' ',
    el('span', { class: 'nw-original-text', text: notice.original.text }),
  ]);
  const toggle = el('button', {
    class: 'nw-link',
    text: translate(ui, 'showOriginal'),
    attrs: { type: 'button', 'aria-expanded': 'false', 'data-i18n-toggle': '' },
    on: {
      click: () => {
        const show = original.hidden;
        original.hidden = !show;
        toggle.setAttribute('aria-expanded', String(show));
        toggle.textContent = translate(document.documentElement.lang || ui, show ? 'hideOriginal' : 'showOriginal');
        if (show) original.scrollIntoView({ block: 'nearest' });
      },
    },
  });
  return [toggle, original];
}

/** One message as a list item. */
export function messageItem(message, { ui, titles, token }) {
  const kind = message.sender === 'system' ? `nw-msg--system nw-kind-${(message.meta && message.meta.kind) || 'note'}` : `nw-msg--${message.sender}`;
  const notice = translationNotice(message);
  const file = attachmentOf(message);
  const children = [
    el('span', { class: 'nw-sender', text: senderLabel(message, ui), attrs: { 'data-sender': message.sender } }),
    file
      ? el('div', { class: ['nw-bubble', 'nw-bubble--file'] }, [attachmentView(file, message, { ui, token })])
      : el('p', { class: 'nw-bubble', text: displayText(message, titles), attrs: { lang: message.lang || null, dir: 'auto' } }),
  ];
  if (notice) {
    const extra = [el('span', { class: 'nw-mt-label', text: translate(ui, 'translated'), attrs: { 'data-i18n': 'translated' } })];
    if (notice.original) extra.push(' ', ...originalBlock(notice, ui));
    children.push(el('div', { class: 'nw-mt' }, extra));
  }
  return el('li', {
    class: ['nw-msg', kind],
    attrs: { 'data-id': message.id, 'data-seq': message.seq, 'data-sender': message.sender },
  }, children);
}

/** A message the visitor wrote that the server has not stored yet. */
export function pendingItem(item, { ui, onRetry }) {
  const stateKey = item.state === 'failed' ? 'failed' : item.state === 'sending' ? 'sending' : 'queuedOut';
  return el('li', {
    class: ['nw-msg', 'nw-msg--visitor', 'nw-msg--pending'],
    attrs: { 'data-client-id': item.client_id, 'data-state': item.state },
  }, [
    el('span', { class: 'nw-sender', text: translate(ui, 'you'), attrs: { 'data-sender': 'visitor' } }),
    el('p', { class: 'nw-bubble', text: item.text, attrs: { dir: 'auto' } }),
    el('span', { class: 'nw-pending-state', text: translate(ui, stateKey) }),
    item.state === 'failed'
      ? el('button', { class: 'nw-link', text: translate(ui, 'retry'), attrs: { type: 'button' }, on: { click: () => onRetry(item.client_id) } })
      : null,
  ]);
}

/**
 * Bring `list` (the <ol>) in line with `messages` + `pending`: new items are
 * added, gone items removed, existing ones kept (and re-made only when their
 * text changed). `greeting` is the site's own first line, shown first.
 */
export function renderMessages(list, { messages, pending, greeting, ui, titles, onRetry, token }) {
  const wanted = [];
  if (greeting) wanted.push({ key: 'greeting', make: () => el('li', { class: ['nw-msg', 'nw-msg--bot', 'nw-msg--greeting'] }, [
    el('span', { class: 'nw-sender', text: translate(ui, 'bot'), attrs: { 'data-sender': 'bot' } }),
    el('p', { class: 'nw-bubble', text: greeting, attrs: { dir: 'auto' } }),
  ]), sig: greeting });
  for (const m of messages) {
    wanted.push({ key: `m:${m.id}`, make: () => messageItem(m, { ui, titles, token }), sig: `${displayText(m, titles)}|${m.meta && m.meta.machine_translated}` });
  }
  for (const item of pending) {
    wanted.push({ key: `p:${item.client_id}`, make: () => pendingItem(item, { ui, onRetry }), sig: `${item.state}` });
  }
  const existing = new Map();
  for (const node of [...list.children]) existing.set(node.dataset.key, node);
  const keep = new Set(wanted.map((w) => w.key));
  for (const [key, node] of existing) if (!keep.has(key)) node.remove();
  let added = [];
  let previous = null;
  for (const w of wanted) {
    let node = existing.get(w.key);
    if (!node || node.dataset.sig !== w.sig) {
      const fresh = w.make();
      fresh.dataset.key = w.key;
      fresh.dataset.sig = w.sig;
      if (node) node.replaceWith(fresh);
      else added.push(fresh);
      node = fresh;
    }
    const expected = previous ? previous.nextSibling : list.firstChild;
    if (node !== expected) list.insertBefore(node, expected);
    previous = node;
  }
  return added;
}

/** Re-label the sender names and notices after a UI language change. */
export function relabelMessages(list, ui) {
  for (const node of list.querySelectorAll('.nw-sender')) {
    const sender = node.dataset.sender;
    if (sender !== 'agent' || !node.textContent) node.textContent = translate(ui, SENDER_KEYS[sender] || 'system');
  }
  for (const node of list.querySelectorAll('[data-i18n]')) node.textContent = translate(ui, node.dataset.i18n);
}
