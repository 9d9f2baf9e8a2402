// The console's state, in one place. Views subscribe to topics and read from
// the store; only the controller (main.js) changes it.
//
// Topics: 'session' (agent, connection), 'queue', 'list' (my conversations:
// which, their order, unread and typing marks), 'conversation' (with its id),
// 'active' (which pane is shown), 'offline' (offline messages).

import { mergeMessages, seqGap, sortQueue } from './logic.js';

function newConversation(id) {
  return {
    id,
    packet: null,
    messages: [],
    pending: [], // my messages not yet acknowledged: {client_id, text, status: 'sending' | 'failed', error}
    ended: null, // {reason} once it is no longer assigned to me
    visitorTyping: false,
    unread: 0,
    showOriginals: false,
  };
}

export class Store {
  constructor() {
    this.agent = null;
    this.connection = 'offline';
    this.queue = [];
    this.queueReceivedAt = 0;
    this.conversations = new Map();
    this.order = [];
    this.activeId = null; // a conversation id, or 'offline'
    this.offlineItems = null;
    this.listeners = new Set();
    this.orphans = new Map(); // messages that came before their conversation's packet
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(topic, id) {
    for (const fn of this.listeners) fn(topic, id);
  }

  reset() {
    this.agent = null;
    this.connection = 'offline';
    this.queue = [];
    this.conversations.clear();
    this.order = [];
    this.activeId = null;
    this.offlineItems = null;
    this.orphans.clear();
    this.emit('session');
    this.emit('queue');
    this.emit('list');
    this.emit('active');
  }

  setConnection(state) {
    this.connection = state;
    this.emit('session');
  }

  setAgent(agent) {
    this.agent = agent;
    this.emit('session');
  }

  setQueue(entries, now = Date.now()) {
    this.queue = sortQueue(entries);
    this.queueReceivedAt = now;
    this.emit('queue');
  }

  get(id) {
    return this.conversations.get(id) || null;
  }

  /** A PACKET from agent_session, a claim/open ack or a `conversation` event. */
  upsertPacket(packet) {
    if (!packet || !packet.conversation_id) return;
    const id = packet.conversation_id;
    let conv = this.conversations.get(id);
    const isNew = !conv;
    if (isNew) {
      conv = newConversation(id);
      this.conversations.set(id, conv);
      this.order.push(id);
    }
    const { messages, ...rest } = packet;
    conv.packet = rest;
    conv.messages = mergeMessages(conv.messages, [...(messages || []), ...(this.orphans.get(id) || [])]);
    this.orphans.delete(id);
    conv.ended = packet.state === 'assigned' ? null : conv.ended || { reason: packet.state };
    this.emit('conversation', id);
    this.emit('list');
    if (isNew && this.activeId === null) this.setActive(id);
  }

  /** The conversations of a (re)connection: the server's list is the truth. */
  replaceConversations(packets) {
    const ids = new Set((packets || []).map((p) => p.conversation_id));
    for (const id of [...this.order]) {
      const conv = this.conversations.get(id);
      if (!ids.has(id) && conv && !conv.ended) conv.ended = { reason: 'requeued' };
    }
    for (const packet of packets || []) this.upsertPacket(packet);
    this.emit('list');
  }

  /**
   * A live message. Returns the `seq` after which messages of its conversation are missing (see
   * seqGap: the controller then asks for the conversation again), else null.
   */
  addMessage(message, { countUnread = true } = {}) {
    if (!message || !message.conversation_id) return null;
    const conv = this.conversations.get(message.conversation_id);
    if (!conv) {
      const list = this.orphans.get(message.conversation_id) || [];
      list.push(message);
      this.orphans.set(message.conversation_id, list);
      return null;
    }
    const gap = seqGap(conv.messages, message);
    const before = conv.messages.length;
    conv.messages = mergeMessages(conv.messages, [message]);
    if (conv.messages.length > before && countUnread && message.sender === 'visitor') {
      if (this.activeId !== conv.id || (typeof document !== 'undefined' && document.hidden)) conv.unread += 1;
      conv.visitorTyping = false;
    }
    this.emit('conversation', conv.id);
    this.emit('list');
    return gap;
  }

  addPending(id, item) {
    const conv = this.conversations.get(id);
    if (!conv) return;
    conv.pending.push(item);
    this.emit('conversation', id);
  }

  updatePending(id, clientId, changes) {
    const conv = this.conversations.get(id);
    if (!conv) return;
    const item = conv.pending.find((p) => p.client_id === clientId);
    if (item) Object.assign(item, changes);
    this.emit('conversation', id);
  }

  /** The ack came: the pending item becomes a message (unless the server's `message` event was first). */
  confirmPending(id, clientId, ack) {
    const conv = this.conversations.get(id);
    if (!conv) return;
    const item = conv.pending.find((p) => p.client_id === clientId);
    conv.pending = conv.pending.filter((p) => p.client_id !== clientId);
    if (item) {
      conv.messages = mergeMessages(conv.messages, [
        {
          id: ack.id,
          seq: ack.seq,
          conversation_id: id,
          sender: 'agent',
          text: item.text,
          lang: null,
          at: Date.now() / 1000,
          meta: { agent: { name: this.agent ? this.agent.display_name : 'me' } },
          local: true,
        },
      ]);
    }
    this.emit('conversation', id);
  }

  /**
   * No longer assigned to me (`unassigned`, or my own transfer, hand-back or
   * close). `packetChanges` (e.g. the new state, my resolution) are applied to
   * the packet shown, since no new packet comes for a conversation that left.
   */
  setEnded(id, reason, packetChanges = null) {
    const conv = this.conversations.get(id);
    if (!conv) return;
    if (packetChanges && conv.packet) conv.packet = { ...conv.packet, ...packetChanges };
    conv.ended = { reason };
    conv.visitorTyping = false;
    this.emit('conversation', id);
    this.emit('list');
  }

  setVisitorTyping(id, typing) {
    const conv = this.conversations.get(id);
    if (!conv || conv.visitorTyping === typing) return;
    conv.visitorTyping = typing;
    this.emit('conversation', id);
    this.emit('list');
  }

  setTranslation(id, translation) {
    const conv = this.conversations.get(id);
    if (!conv || !conv.packet) return;
    conv.packet.translation = translation;
    this.emit('conversation', id);
  }

  toggleOriginals(id, value) {
    const conv = this.conversations.get(id);
    if (!conv) return;
    conv.showOriginals = value;
    this.emit('conversation', id);
  }

  /** Forget a conversation that is no longer mine (the agent dismissed its tab). */
  remove(id) {
    this.conversations.delete(id);
    this.order = this.order.filter((x) => x !== id);
    if (this.activeId === id) this.setActive(this.order[0] || null);
    this.emit('list');
  }

  setActive(id) {
    this.activeId = id;
    const conv = id ? this.conversations.get(id) : null;
    if (conv && conv.unread) conv.unread = 0;
    this.emit('active');
    this.emit('list');
  }

  setOfflineItems(items) {
    this.offlineItems = items;
    this.emit('offline');
  }
}
