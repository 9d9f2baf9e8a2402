// The console's work tools, wired into the controller (main.js): my status (online / away / busy,
// away after 5 idle minutes), alerts for chats queued for me, keyboard shortcuts, internal notes,
// offline messages as work items, canned replies for admins, the supervisor (take over, join and
// leave a chat), past conversations.
// `ctx` gives what main.js owns: the store, the actions object (extended here), the alerts, the
// socket request, the panes, the views, the notice line.

import { newEntries } from './alerts.js';
import { languageLabel, newClientId } from './logic.js';
import { nextConversation, shortcutFor } from './shortcuts.js';

const AWAY_AFTER_MS = 5 * 60 * 1000; // no keyboard or pointer activity: away (back on activity)

export function installWork(ctx) {
  const { store, actions, alerts, request, panes, notice, cannedCache, claiming } = ctx;
  let myStatus = 'online';
  let autoAway = false;
  let lastActivity = Date.now();
  let knownQueue = null; // conversation ids in the last queue view (null until the session)

  Object.assign(actions, {
    /** An internal note (agents only); the server's `message` event shows it. */
    async note(id, text) {
      await request('add_note', { conversation_id: id, text, client_id: newClientId() });
    },
    async replyOffline(id, text) {
      await request('offline_reply', { conversation_id: id, text, client_id: newClientId() }, { timeout: 30000 });
      await actions.loadOffline();
    },
    async updateOffline(id, changes) {
      await request('offline_update', { conversation_id: id, ...changes });
      await actions.loadOffline();
    },
    showCannedAdmin: () => store.setActive('canned'),
    async allCanned() {
      return (await request('canned_replies', {})).replies || [];
    },
    async saveCanned(reply) {
      await request('canned_save', reply);
      cannedCache.clear();
    },
    async deleteCanned(id, lang) {
      await request('canned_delete', { id, lang });
      cannedCache.clear();
    },
    showSupervisor: () => store.setActive('supervisor'),
    supervise: () => request('supervise', {}),
    async takeOver(id) {
      claiming.add(id); // its `conversation` event is no transfer to alert about
      setTimeout(() => claiming.delete(id), 2000);
      const ack = await request('take_over', { conversation_id: id });
      store.setActive(id);
      return ack;
    },
    /** Join an assigned chat (admins): it opens as a pane I can write in; its agent keeps it. */
    async joinChat(id) {
      claiming.add(id); // its `conversation` event is no transfer to alert about
      setTimeout(() => claiming.delete(id), 2000);
      const ack = await request('join_chat', { conversation_id: id });
      store.upsertPacket(ack.conversation);
      store.setActive(id);
      return ack;
    },
    async leaveChat(id) {
      await request('leave_chat', { conversation_id: id });
      store.remove(id);
    },
    myUsername: () => (store.agent && store.agent.username) || '',
    showPast: () => store.setActive('past'),
    /** A returning visitor's earlier conversations, from the log. */
    showPastFor(visitor) {
      store.setActive('past');
      ctx.views().past.forVisitor(visitor);
    },
    /** online / away / busy; `auto`: set by the idle timer (activity brings me back). */
    async setStatus(status, auto) {
      autoAway = auto && status === 'away';
      myStatus = status;
      ctx.views().status.setStatus(status);
      try {
        await request('set_status', { status });
      } catch (err) {
        notice(`Could not set the status: ${err.message}`);
      }
    },
  });

  const onActivity = () => {
    lastActivity = Date.now();
    if (autoAway && ctx.connected()) actions.setStatus('online', false);
  };
  for (const type of ['keydown', 'pointerdown', 'pointermove']) document.addEventListener(type, onActivity, { passive: true });

  document.addEventListener('keydown', (event) => {
    const shortcut = ctx.hidden() ? null : shortcutFor(event);
    if (!shortcut) return;
    event.preventDefault();
    if (shortcut === 'next') {
      const id = nextConversation(store.order, (x) => store.get(x), store.activeId);
      if (id) {
        store.setActive(id);
        panes.get(id)?.textarea.focus();
      }
    } else if (shortcut === 'claim') {
      const first = store.queue.find((e) => !store.get(e.conversation_id)); // not one I just claimed
      if (first) actions.claim(first.conversation_id).catch((err) => notice(`Could not claim: ${err.message}`));
    } else if (shortcut === 'close') {
      const pane = panes.get(store.activeId);
      const conv = store.get(store.activeId);
      if (pane && conv && !conv.ended) {
        pane.openForm('close');
        pane.forms.close.node.querySelector('input, button')?.focus();
      }
    }
  });

  return {
    onSession(payload) {
      myStatus = payload.status || 'online';
      ctx.views().status.setStatus(myStatus);
      knownQueue = new Set((payload.queue || []).map((e) => e.conversation_id));
    },
    /** A chat newly queued for me (offered to me): alert, unless I am away or busy. */
    onQueue() {
      if (knownQueue === null) return;
      const fresh = newEntries(knownQueue, store.queue);
      knownQueue = new Set(store.queue.map((e) => e.conversation_id));
      if (!fresh.length || myStatus !== 'online') return;
      const first = fresh[0];
      alerts.alert('queued', `New chat waiting (${languageLabel(first.language)}): ${first.preview || 'no message yet'}`, 'queue');
      alerts.queued(fresh);
    },
    checkIdle() {
      if (myStatus === 'online' && Date.now() - lastActivity >= AWAY_AFTER_MS) actions.setStatus('away', true);
    },
    onStop() {
      knownQueue = null;
    },
  };
}
