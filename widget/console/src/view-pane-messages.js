// A message of a conversation pane's transcript, and a reply not yet stored. An attachment
// (meta.attachment) shows as an image preview or a file chip (view-attachments.js).

import { attachmentOf } from '../../shared/attachments.js';
import { el } from './dom.js';
import { formatTime, messageView, senderLabel, tappedTitle } from './logic.js';

export function messageNode(message, showOriginals, titles, files) {
  const view = messageView(message, { showOriginals });
  const tapped = tappedTitle(message, titles);
  if (tapped) {
    // What the visitor tapped, not the payload (`/deny`) the button sends.
    view.main = { text: tapped, lang: null };
    view.translatedLabel = 'tapped a button';
    view.original = null;
  }
  const meta = message.meta || {};
  const header = [el('span', { class: 'nc-msg-sender', text: senderLabel(message) })];
  if (message.at) header.push(el('time', { class: 'nc-msg-time', text: formatTime(message.at), attrs: { datetime: new Date(message.at * 1000).toISOString() } }));
  if (view.translatedLabel) header.push(el('span', { class: 'nc-msg-note', text: view.translatedLabel }));
  if (message.sender === 'system' && meta.kind) header.push(el('span', { class: 'nc-msg-note', text: meta.kind.replace(/_/g, ' ') }));
  const file = attachmentOf(message);
  const children = [
    el('div', { class: 'nc-msg-meta' }, header),
    file
      ? files.node(file, message.conversation_id)
      : el('p', { class: 'nc-msg-text', text: view.main.text, attrs: { lang: view.main.lang, dir: 'auto' } }),
  ];
  if (view.original) {
    children.push(
      el('p', { class: 'nc-msg-original' }, [
        el('span', { class: 'nc-msg-label', text: `${view.originalLabel}: ` }),
        el('span', { text: view.original.text, attrs: { lang: view.original.lang, dir: 'auto' } }),
      ]),
    );
  }
  if (Array.isArray(meta.buttons) && meta.buttons.length) {
    children.push(
      el(
        'ul',
        { class: 'nc-msg-buttons', attrs: { 'aria-label': 'Choices offered' } },
        meta.buttons.map((b) => el('li', { text: b.title || b.payload || '' })),
      ),
    );
  }
  return el('article', {
    class: ['nc-msg', `nc-msg--${message.sender}`],
    attrs: { 'data-seq': message.seq, 'data-id': message.id },
  }, children);
}

export function pendingNode(item, onRetry) {
  const status =
    item.status === 'failed'
      ? [
          el('span', { class: 'nc-error', text: `Not sent: ${item.error || 'no answer'}` }),
          el('button', {
            class: 'nc-btn nc-btn--small',
            text: 'Retry',
            attrs: { type: 'button' },
            on: { click: () => onRetry(item.client_id) },
          }),
        ]
      : [el('span', { class: 'nc-msg-note', text: 'sending…' })];
  return el('article', { class: 'nc-msg nc-msg--agent nc-msg--pending', attrs: { 'data-client-id': item.client_id } }, [
    el('div', { class: 'nc-msg-meta' }, [el('span', { class: 'nc-msg-sender', text: 'You' }), ...status]),
    el('p', { class: 'nc-msg-text', text: item.text, attrs: { dir: 'auto' } }),
  ]);
}
