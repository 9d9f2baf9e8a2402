// "My conversations": one tab per conversation assigned to me, plus the
// offline messages view.

import { el } from './dom.js';
import { endedMark, languageLabel, visitorName } from './logic.js';

export function listView(store, actions) {
  const tabs = el('div', {
    class: 'nc-tabs',
    attrs: { role: 'tablist', 'aria-orientation': 'vertical', 'aria-labelledby': 'nc-mine-title' },
  });
  const empty = el('p', { class: 'nc-empty', text: 'None yet: claim a chat from the queue.' });
  const offline = el('button', {
    class: 'nc-btn nc-offline-btn',
    text: 'Offline messages',
    attrs: { type: 'button' },
    on: { click: () => actions.showOffline() },
  });
  const node = el('section', { class: 'nc-mine', attrs: { 'aria-labelledby': 'nc-mine-title' } }, [
    el('h2', { class: 'nc-section-title', text: 'My conversations', attrs: { id: 'nc-mine-title' } }),
    empty,
    tabs,
    offline,
  ]);

  function render() {
    empty.hidden = store.order.length > 0;
    tabs.replaceChildren(
      ...store.order.map((id) => {
        const conv = store.get(id);
        const packet = conv.packet || {};
        const visitor = packet.visitor ? visitorName(packet) : id;
        const selected = store.activeId === id;
        const marks = [];
        if (conv.unread) marks.push(el('span', { class: 'nc-unread', text: String(conv.unread), attrs: { 'aria-label': `${conv.unread} unread` } }));
        if (conv.visitorTyping) marks.push(el('span', { class: 'nc-typing-dot', text: 'typing…' }));
        if (conv.ended) marks.push(el('span', { class: 'nc-ended-mark', text: endedMark(conv.ended.reason) }));
        return el(
          'button',
          {
            class: ['nc-tab', selected && 'nc-tab--active', conv.ended && 'nc-tab--ended'],
            attrs: {
              type: 'button',
              role: 'tab',
              id: `nc-tab-${id}`,
              'aria-selected': selected ? 'true' : 'false',
              'aria-controls': `nc-pane-${id}`,
              'data-conversation-id': id,
            },
            on: { click: () => actions.select(id) },
          },
          [
            el('span', { class: 'nc-badge', text: packet.language || '?', attrs: { title: languageLabel(packet.language) } }),
            el('span', { class: 'nc-tab-name', text: visitor }),
            ...marks,
          ],
        );
      }),
    );
    offline.classList.toggle('nc-tab--active', store.activeId === 'offline');
    offline.setAttribute('aria-pressed', store.activeId === 'offline' ? 'true' : 'false');
  }

  store.subscribe((topic) => (topic === 'list' || topic === 'active') && render());
  render();
  return { node };
}
