// Messages out: the outbox (logic.js Outbox) sent oldest first, each with its own client_id (a
// retry is stored once), retried after `offline`, `timeout`, `unavailable` and `rate_limited`.

import { MAX_TEXT_CHARS, newClientId } from './logic.js';

const BOT_TYPING_MS = 15000;
const RETRY_MS = 3000;

/** `app`: {state, persist, socket(), ensureSocket(), render(), renderStatus(), renderMessageList(), startedNew(cid)} */
export function createSender(app) {
  const { state } = app;
  let flushing = false;
  let retryTimer = null;
  let botTimer = null;

  function send(text) {
    const value = String(text || '').trim();
    if (!value) return;
    state.outbox = state.outbox.add(value.slice(0, MAX_TEXT_CHARS), newClientId());
    if (!state.status || state.status.state === 'bot' || state.status.state === 'closed') state.botWaiting = true;
    clearTimeout(botTimer);
    botTimer = setTimeout(() => {
      state.botWaiting = false;
      app.renderStatus();
    }, BOT_TYPING_MS);
    app.persist();
    app.render();
    app.ensureSocket();
    flush();
  }

  async function flush() {
    const socket = app.socket();
    if (flushing || !socket || !socket.connected || !state.sessionReady) return;
    flushing = true;
    try {
      for (const item of state.outbox.toSend()) {
        state.outbox = state.outbox.update(item.client_id, { state: 'sending' });
        app.renderMessageList();
        try {
          const ack = await socket.request('visitor_message', { text: item.text, client_id: item.client_id });
          state.outbox = state.outbox.update(item.client_id, { state: 'sent', id: ack.id });
          if (ack.conversation_id && ack.conversation_id !== state.conversationId) app.startedNew(ack.conversation_id);
          state.outbox = state.outbox.settle(state.messages);
        } catch (error) {
          if (['offline', 'timeout', 'unavailable', 'rate_limited'].includes(error.code)) {
            state.outbox = state.outbox.update(item.client_id, { state: 'queued' });
            scheduleRetry(error.code === 'rate_limited' ? error.retryAfter * 1000 : RETRY_MS);
            break; // keep the order: later messages wait for this one
          }
          state.outbox = state.outbox.update(item.client_id, { state: 'failed' });
        } finally {
          app.persist();
          app.renderMessageList();
        }
      }
    } finally {
      flushing = false;
    }
  }

  function scheduleRetry(delay = RETRY_MS) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, Math.max(RETRY_MS, delay || 0)); // rate_limited: its retry_after
  }

  function retry(clientId) {
    state.outbox = state.outbox.update(clientId, { state: 'queued' });
    app.renderMessageList();
    flush();
  }

  return { send, flush, retry };
}
