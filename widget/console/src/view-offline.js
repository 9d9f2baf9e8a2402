// Offline messages: conversations closed through the visitor's offline form
// (`offline_messages`), newest first, as work items: assign, mark done (or open again); the list
// shows the open ones unless asked for all.

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
  const showDone = el('input', { attrs: { type: 'checkbox' }, on: { change: () => render() } });
  const node = el('section', { class: 'nc-offline', attrs: { 'aria-labelledby': 'nc-offline-title', hidden: true } }, [
    el('header', { class: 'nc-pane-head' }, [
      el('h2', { class: 'nc-pane-title', text: 'Offline messages', attrs: { id: 'nc-offline-title' } }),
      el('label', { class: 'nc-check' }, [showDone, ' Show done']),
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

  function replyForm(packet, offline) {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(String(offline.contact || ''))) {
      return el('p', { class: 'nc-note', text: 'No email address given: reply by phone or not at all.' });
    }
    if (!store.offlineEmail) {
      return el('p', { class: 'nc-note nc-email-off', text: 'Email is not set up on this service (SMTP_URL): reply another way.' });
    }
    const id = `nc-offline-reply-${packet.conversation_id}`;
    const text = el('textarea', { class: 'nc-input', attrs: { id, rows: '2', maxlength: '4000', required: true } });
    const send = el('button', { class: 'nc-btn nc-btn--primary nc-btn--small', text: 'Send email', attrs: { type: 'submit' } });
    const error = el('p', { class: 'nc-error', attrs: { role: 'alert' } });
    return el('form', {
      class: 'nc-offline-reply-form',
      attrs: { 'aria-label': `Reply by email to ${offline.contact}` },
      on: {
        submit: async (event) => {
          event.preventDefault();
          if (!text.value.trim()) return;
          send.disabled = true;
          try {
            await actions.replyOffline(packet.conversation_id, text.value.trim());
          } catch (err) {
            error.textContent = `Not sent: ${err.message}`;
            send.disabled = false;
          }
        },
      },
    }, [el('label', { class: 'nc-label', text: `Reply by email to ${offline.contact}`, attrs: { for: id } }), text, send, error]);
  }

  function render() {
    const all = store.offlineItems || [];
    const open = all.filter((p) => !(p.offline || {}).done_at);
    const items = showDone.checked ? all : open;
    status.textContent = `${open.length} open${all.length - open.length ? `, ${all.length - open.length} done` : ''}.`;
    const me = store.agent ? store.agent.username : null;
    const update = async (packet, changes) => {
      try {
        await actions.updateOffline(packet.conversation_id, changes);
      } catch (err) {
        status.textContent = `Could not update it: ${err.message}`;
      }
    };
    list.replaceChildren(
      ...items.map((packet) => {
        const offline = packet.offline || {};
        const visitor = packet.visitor || {};
        const mine = offline.assignee && offline.assignee === me;
        const work = [
          el('span', { class: 'nc-msg-note nc-offline-state', text: offline.done_at ? `done by ${offline.done_by}` : offline.assignee ? `assigned to ${offline.assignee}` : 'unassigned' }),
          offline.done_at
            ? el('button', { class: 'nc-btn nc-btn--small', text: 'Open again', attrs: { type: 'button' }, on: { click: () => update(packet, { done: false }) } })
            : el('button', { class: 'nc-btn nc-btn--small', text: mine ? 'Unassign' : 'Assign to me', attrs: { type: 'button' }, on: { click: () => update(packet, { assignee: mine ? null : me }) } }),
          offline.done_at ? null : el('button', { class: 'nc-btn nc-btn--small nc-btn--primary', text: 'Mark done', attrs: { type: 'button' }, on: { click: () => update(packet, { done: true }) } }),
        ];
        return el('li', { class: 'nc-offline-item', attrs: { 'data-conversation-id': packet.conversation_id } }, [
          el('div', { class: 'nc-msg-meta' }, [
            el('span', { class: 'nc-badge', text: packet.language || '?', attrs: { title: languageLabel(packet.language) } }),
            el('span', { class: 'nc-msg-sender', text: offline.contact || 'no contact given' }),
            el('time', { class: 'nc-msg-time', text: formatTime(offline.at) }),
            el('span', { class: 'nc-msg-note', text: visitor.visitor_id || packet.conversation_id }),
          ]),
          el('p', { class: 'nc-msg-text', text: offline.text || '', attrs: { lang: packet.language || null, dir: 'auto' } }),
          el('div', { class: 'nc-offline-work' }, work),
          ...(offline.replies || []).map((r) => el('p', { class: 'nc-note nc-offline-reply', text: `Replied by ${r.by}, ${formatTime(r.at)}: ${r.text}` })),
          offline.done_at ? null : replyForm(packet, offline),
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
