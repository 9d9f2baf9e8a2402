// Offline messages: conversations closed through the visitor's offline form
// (`offline_messages`), newest first.

import { el } from './dom.js';
import { formatTime, languageLabel } from './logic.js';

export function offlineView(store, actions) {
  const list = el('ol', { class: 'nc-offline-list', attrs: { 'aria-label': 'Offline messages, newest first' } });
  const status = el('p', { class: 'nc-note', attrs: { role: 'status' } });
  const refresh = el('button', {
    class: 'nc-btn',
    text: 'Refresh',
    attrs: { type: 'button' },
    on: { click: () => load() },
  });
  const node = el('section', { class: 'nc-offline', attrs: { 'aria-labelledby': 'nc-offline-title', hidden: true } }, [
    el('header', { class: 'nc-pane-head' }, [
      el('h2', { class: 'nc-pane-title', text: 'Offline messages', attrs: { id: 'nc-offline-title' } }),
      refresh,
    ]),
    status,
    list,
  ]);

  async function load() {
    status.textContent = 'Loading…';
    refresh.disabled = true;
    try {
      await actions.loadOffline(); // render() says how many there are
    } catch (err) {
      status.textContent = `Could not load offline messages: ${err.message}`;
    } finally {
      refresh.disabled = false;
    }
  }

  function render() {
    const items = store.offlineItems || [];
    status.textContent = items.length ? '' : 'No offline messages.';
    list.replaceChildren(
      ...items.map((packet) => {
        const offline = packet.offline || {};
        const visitor = packet.visitor || {};
        return el('li', { class: 'nc-offline-item', attrs: { 'data-conversation-id': packet.conversation_id } }, [
          el('div', { class: 'nc-msg-meta' }, [
            el('span', { class: 'nc-badge', text: packet.language || '?', attrs: { title: languageLabel(packet.language) } }),
            el('span', { class: 'nc-msg-sender', text: offline.contact || 'no contact given' }),
            el('time', { class: 'nc-msg-time', text: formatTime(offline.at) }),
            el('span', { class: 'nc-msg-note', text: visitor.visitor_id || packet.conversation_id }),
          ]),
          el('p', { class: 'nc-msg-text', text: offline.text || '', attrs: { lang: packet.language || null, dir: 'auto' } }),
        ]);
      }),
    );
  }

  store.subscribe((topic) => topic === 'offline' && render());
  return {
    node,
    show(visible) {
      node.hidden = !visible;
      if (visible) load();
    },
  };
}
