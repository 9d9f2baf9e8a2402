// The agent console: wires the store, the `/agent` socket and the views.
// The protocol is docs/protocol.md (HTTP + namespace `/agent`).

import './console.css';
import { Alerts } from './alerts.js';
import { ApiError, clearToken, loadToken, login as apiLogin, me, saveToken } from './api.js';
import { analyticsView } from './view-analytics.js';
import { el } from './dom.js';
import { languageLabel, newClientId, visitorName } from './logic.js';
import { AgentSocket } from './socket.js';
import { Store } from './store.js';
import { listView } from './view-list.js';
import { loginView } from './view-login.js';
import { offlineView } from './view-offline.js';
import { pastView } from './view-past.js';
import { SHORTCUT_HELP } from './shortcuts.js';
import { installWork } from './work.js';
import { ConversationPane } from './view-pane.js';
import { queueView } from './view-queue.js';
import { statusView } from './view-status.js';
import { supervisorView } from './view-supervisor.js';
import { visitorTyping } from './typing.js';
import { cannedAdminView } from './view-canned-admin.js';

const QUEUE_REFRESH_MS = 5000;

const store = new Store();
let socket = null;
let timers = [];
const cannedCache = new Map();
const typingIndicator = visitorTyping(store);
const claiming = new Set(); // my own claims in flight: their `conversation` event is no transfer
const alerts = new Alerts({ storage: window.localStorage, baseTitle: document.title || 'Nimbus agent console' });

// --- actions: everything the views may ask for ------------------------------

const actions = {
  async login(username, password) {
    const { token, agent } = await apiLogin(username, password);
    saveToken(token);
    start(token, agent);
  },

  logout() {
    const token = loadToken();
    if (token) fetch('/api/logout', { method: 'POST', headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
    stop();
    clearToken();
    showLogin('You are logged out.');
  },

  /** The whole history of a waiting chat offered to this agent, before claiming it. */
  async preview(id) {
    const ack = await socket.request('open', { conversation_id: id });
    return ack.conversation;
  },

  async claim(id) {
    claiming.add(id);
    let ack;
    try {
      ack = await socket.request('claim', { conversation_id: id });
    } finally {
      setTimeout(() => claiming.delete(id), 2000);
    }
    store.upsertPacket(ack.conversation);
    store.setActive(id);
    refreshQueue();
  },

  send(id, text) {
    const clientId = newClientId();
    store.addPending(id, { client_id: clientId, text, status: 'sending' });
    deliver(id, clientId, text);
  },

  retry(id, clientId) {
    const conv = store.get(id);
    const item = conv && conv.pending.find((p) => p.client_id === clientId);
    if (!item) return;
    store.updatePending(id, clientId, { status: 'sending', error: null });
    deliver(id, clientId, item.text); // the same client_id: the server stores it once
  },

  typing(id, typing) {
    if (socket) socket.notify('typing', { conversation_id: id, typing });
  },

  async setTranslation(id, enabled) {
    const ack = await socket.request('set_translation', { conversation_id: id, enabled });
    store.setTranslation(id, ack.translation);
  },

  /** Fetched each time the list opens: admins may have changed them meanwhile (a small list). */
  async cannedReplies(language) {
    const ack = await socket.request('canned_replies', language ? { language } : {});
    cannedCache.set(language || '', ack.replies || []);
    return cannedCache.get(language || '');
  },

  async agents() {
    const ack = await socket.request('agents', {});
    return ack.agents || [];
  },

  async transfer(id, to) {
    await socket.request('transfer', { conversation_id: id, to });
    store.setEnded(id, 'transferred', { agent: to });
  },

  async handback(id) {
    await socket.request('handback', { conversation_id: id });
    store.setEnded(id, 'handed_back', { state: 'bot', agent: null });
  },

  async close(id, resolution, note) {
    const payload = { conversation_id: id, resolution };
    if (note) payload.note = note;
    await socket.request('close', payload);
    store.setEnded(id, 'closed', { state: 'closed', resolution: { code: resolution, note: note || null } });
  },

  async loadOffline() {
    const ack = await socket.request('offline_messages', {});
    store.offlineEmail = Boolean(ack.email);
    store.setOfflineItems(ack.items || []);
  },

  select(id) {
    store.setActive(id);
  },

  showOffline() {
    store.setActive('offline');
  },

  showAnalytics() {
    store.setActive('analytics');
  },

  dismiss(id) {
    store.remove(id);
  },

  toggleOriginals(id, value) {
    store.toggleOriginals(id, value);
  },

};

async function deliver(id, clientId, text) {
  try {
    const ack = await socket.request('agent_message', { conversation_id: id, text, client_id: clientId }, { timeout: 5000, attempts: 4 });
    store.confirmPending(id, clientId, ack);
  } catch (err) {
    store.updatePending(id, clientId, { status: 'failed', error: err.message });
  }
}

async function refreshQueue() {
  if (!socket || !socket.connected) return;
  try {
    const ack = await socket.request('queue', {}, { timeout: 4000 });
    store.setQueue(ack.queue || []);
  } catch {
    /* the next tick or `queue` event brings it */
  }
}

const work = installWork({
  store,
  actions,
  alerts,
  request: (event, payload, options) => socket.request(event, payload, options),
  connected: () => Boolean(socket),
  hidden: () => consoleNode.hidden,
  panes: { get: (id) => panes.get(id) },
  notice: (text) => notice(text),
  cannedCache,
  claiming,
  views: () => ({ status: statusControls, past }),
});

// --- server events ----------------------------------------------------------

const handlers = {
  agent_session(payload) {
    work.onSession(payload);
    store.setAgent(payload.agent);
    store.replaceConversations(payload.conversations || []);
    store.setQueue(payload.queue || []);
  },
  queue(payload) {
    store.setQueue((payload && payload.queue) || []);
  },
  message(message) {
    const conv = message && store.get(message.conversation_id);
    if (conv && !conv.ended && message.sender === 'visitor' && (store.activeId !== conv.id || !alerts.looking())) {
      alerts.alert('message', `${visitorName(conv.packet)}: ${message.text}`, conv.id);
    }
    if (store.addMessage(message) !== null) {
      // messages were missed (a seq gap): the conversation again, with every message (`open`)
      socket.request('open', { conversation_id: message.conversation_id }).then((ack) => store.upsertPacket(ack.conversation)).catch(() => {});
    }
    if (message && message.sender === 'visitor') typingIndicator.clear(message.conversation_id);
  },
  conversation(packet) {
    if (!packet || (!store.get(packet.conversation_id) && packet.state !== 'assigned')) return; // dismissed
    if (packet && !store.get(packet.conversation_id) && !claiming.has(packet.conversation_id) && packet.state === 'assigned') {
      alerts.alert('transferred', `A ${languageLabel(packet.language)} chat was transferred to you: ${visitorName(packet)}`, packet.conversation_id);
    }
    store.upsertPacket(packet);
  },
  unassigned(payload) {
    if (!payload || !payload.conversation_id) return;
    const conv = store.get(payload.conversation_id);
    if (conv && conv.ended) return; // my own action already said why
    const state = { closed: 'closed', visitor_left: 'closed', handed_back: 'bot', requeued: 'queued' }[payload.reason];
    store.setEnded(payload.conversation_id, payload.reason, state ? { state } : null);
  },
  typing(payload) {
    typingIndicator.onTyping(payload);
  },
  error(payload) {
    notice(`Service error: ${(payload && (payload.message || payload.code)) || 'unknown'}`);
  },
  onConnection(state) {
    store.setConnection(state);
  },
  onUnauthorized() {
    stop();
    clearToken();
    showLogin('Your session has expired: log in again.');
  },
};

// --- layout -----------------------------------------------------------------

const root = document.getElementById('nc-app');
const login = loginView(actions);
const agentLabel = el('span', { class: 'nc-agent' });
const connection = el('span', { class: 'nc-connection', attrs: { role: 'status' } });
const noticeLine = el('p', { class: 'nc-notice', attrs: { role: 'alert' } });
const queue = queueView(store, actions);
const statusControls = statusView(alerts, actions);
const list = listView(store, actions);
const offline = offlineView(store, actions);
const analytics = analyticsView(loadToken); // admin role only (the API checks it too)
const past = pastView(loadToken);
const supervisor = supervisorView(actions);
const cannedAdmin = cannedAdminView(actions);
const cannedButton = el('button', { class: 'nc-btn', text: 'Canned replies', attrs: { type: 'button', hidden: true }, on: { click: () => actions.showCannedAdmin() } });
const supervisorButton = el('button', { class: 'nc-btn', text: 'Supervisor', attrs: { type: 'button', hidden: true }, on: { click: () => actions.showSupervisor() } });
const pastButton = el('button', { class: 'nc-btn', text: 'Past conversations', attrs: { type: 'button' }, on: { click: () => actions.showPast() } });
const analyticsButton = el('button', {
  class: 'nc-btn',
  text: 'Analytics',
  attrs: { type: 'button', hidden: true },
  on: { click: () => actions.showAnalytics() },
});
const placeholder = el('p', { class: 'nc-placeholder', text: 'Claim a chat from the queue to start.' });
const panesNode = el('div', { class: 'nc-panes' });
const panes = new Map();

const consoleNode = el('div', { class: 'nc-console', attrs: { hidden: true } }, [
  el('header', { class: 'nc-header' }, [
    el('span', { class: 'nc-brand', text: 'Nimbus agent console' }),
    noticeLine,
    agentLabel,
    connection,
    statusControls.node,
    pastButton,
    supervisorButton,
    cannedButton,
    analyticsButton,
    el('button', { class: 'nc-btn', text: 'Log out', attrs: { type: 'button' }, on: { click: () => actions.logout() } }),
  ]),
  el('div', { class: 'nc-layout' }, [
    el('nav', { class: 'nc-sidebar', attrs: { 'aria-label': 'Queue and conversations' } }, [
      queue.node,
      list.node,
      el('p', { class: 'nc-note nc-shortcuts', text: SHORTCUT_HELP }),
    ]),
    el('main', { class: 'nc-main' }, [placeholder, panesNode, offline.node, past.node, supervisor.node, cannedAdmin.node, analytics.node]),
  ]),
]);
root.replaceChildren(login.node, consoleNode);

function notice(text) {
  noticeLine.textContent = text;
  setTimeout(() => {
    if (noticeLine.textContent === text) noticeLine.textContent = '';
  }, 8000);
}

function syncPanes() {
  for (const id of store.order) {
    if (!panes.has(id)) {
      const pane = new ConversationPane(id, store, actions);
      panes.set(id, pane);
      panesNode.append(pane.node);
      pane.update();
    }
  }
  for (const [id, pane] of panes) {
    if (!store.get(id)) {
      pane.node.remove();
      panes.delete(id);
    }
  }
  showActive();
}

function showActive() {
  for (const [id, pane] of panes) pane.show(store.activeId === id);
  panesNode.hidden = !panes.has(store.activeId);
  offline.show(store.activeId === 'offline');
  analytics.show(store.activeId === 'analytics');
  past.show(store.activeId === 'past');
  supervisor.show(store.activeId === 'supervisor');
  cannedAdmin.show(store.activeId === 'canned');
  placeholder.hidden = Boolean(store.activeId);
}

let lastActive = null;
store.subscribe((topic, id) => {
  if (topic === 'queue') work.onQueue();
  if (topic === 'list') {
    syncPanes();
    alerts.setUnread(store.order.reduce((n, id) => n + ((store.get(id) || {}).unread || 0), 0));
  }
  else if (topic === 'conversation' && panes.has(id)) panes.get(id).update();
  else if (topic === 'active' && store.activeId !== lastActive) {
    lastActive = store.activeId;
    showActive();
  } else if (topic === 'session') {
    const agent = store.agent;
    agentLabel.textContent = agent ? `${agent.display_name || agent.username} (${(agent.languages || []).join(', ')})` : '';
    analyticsButton.hidden = !(agent && agent.role === 'admin');
    supervisorButton.hidden = !(agent && agent.role === 'admin');
    cannedButton.hidden = !(agent && agent.role === 'admin');
    connection.textContent = store.connection === 'online' ? 'online' : 'offline: reconnecting…';
    connection.className = `nc-connection nc-connection--${store.connection}`;
  }
});

// --- start and stop ---------------------------------------------------------

function start(token, agent) {
  stop();
  store.setAgent(agent || null);
  login.hide();
  consoleNode.hidden = false;
  socket = new AgentSocket(token, handlers);
  socket.connect();
  timers.push(setInterval(refreshQueue, QUEUE_REFRESH_MS));
  timers.push(setInterval(() => queue.tick(), 1000));
  timers.push(setInterval(() => work.checkIdle(), 10000));
}

function stop() {
  for (const timer of timers) clearInterval(timer);
  timers = [];
  if (socket) socket.close();
  socket = null;
  cannedCache.clear();
  typingIndicator.reset();
  store.reset();
  work.onStop();
  for (const pane of panes.values()) pane.node.remove();
  panes.clear();
}

function showLogin(message) {
  consoleNode.hidden = true;
  login.show(message);
}

async function boot() {
  const token = loadToken();
  if (!token) {
    showLogin();
    return;
  }
  try {
    const { agent } = await me(token);
    start(token, agent);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'unauthorized') clearToken();
    showLogin(err.message);
  }
}

boot();
