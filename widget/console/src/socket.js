// The `/agent` Socket.IO namespace (docs/protocol.md): connection, events in,
// requests with acknowledgements out.

import { io } from 'socket.io-client';

export const SERVER_EVENTS = ['agent_session', 'queue', 'message', 'conversation', 'unassigned', 'typing', 'error'];

/** A request the server refused (`{"ok": false, "error": {code, message}}`) or never answered. */
export class AckError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class AgentSocket {
  /**
   * @param {string} token from POST /api/login
   * @param {object} handlers `{agent_session(payload), queue(payload), ..., onConnection(state), onUnauthorized()}`
   */
  constructor(token, handlers, { url = '/agent', path = '/socket.io' } = {}) {
    this.handlers = handlers;
    this.socket = io(url, { path, auth: { token }, autoConnect: false });
    for (const event of SERVER_EVENTS) {
      this.socket.on(event, (payload) => handlers[event] && handlers[event](payload));
    }
    this.socket.on('connect', () => handlers.onConnection && handlers.onConnection('online'));
    this.socket.on('disconnect', () => handlers.onConnection && handlers.onConnection('offline'));
    this.socket.on('connect_error', (err) => {
      if (err && err.message === 'unauthorized') {
        this.socket.disconnect();
        if (handlers.onUnauthorized) handlers.onUnauthorized();
      } else if (handlers.onConnection) {
        handlers.onConnection('offline');
      }
    });
  }

  connect() {
    this.socket.connect();
  }

  close() {
    this.socket.disconnect();
  }

  get connected() {
    return this.socket.connected;
  }

  /** Resolves once connected (at once if already), or after `ms` without a connection. */
  waitConnected(ms = 15000) {
    if (this.socket.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (value) => {
        clearTimeout(timer);
        this.socket.off('connect', onConnect);
        resolve(value);
      };
      const onConnect = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      this.socket.on('connect', onConnect);
    });
  }

  /** Fire-and-forget (events with no ack, e.g. `typing`); dropped while offline. */
  notify(event, payload) {
    if (this.socket.connected) this.socket.volatile.emit(event, payload);
  }

  /**
   * Send an event with an acknowledgement. Resolves with the ack when it is
   * `{"ok": true, ...}` and rejects with an AckError otherwise.
   *
   * `attempts` > 1 is only for idempotent events (`agent_message` carries a
   * `client_id`, so the server stores a retry once): with no ack within
   * `timeout` ms, or with `unavailable` (nothing was stored), the very same
   * payload is sent again once the socket is connected.
   */
  async request(event, payload = {}, { timeout = 8000, attempts = 1, backoffMs = 1000 } = {}) {
    let lastError = new AckError('timeout', 'The service did not answer.');
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      if (!(await this.waitConnected())) {
        lastError = new AckError('offline', 'Not connected to the service.');
        continue;
      }
      let ack;
      try {
        ack = await this.socket.timeout(timeout).emitWithAck(event, payload);
      } catch {
        lastError = new AckError('timeout', 'The service did not answer.');
        continue;
      }
      if (ack && ack.ok) return ack;
      const error = (ack && ack.error) || {};
      lastError = new AckError(error.code || 'bad_response', error.message || 'The service refused the request.');
      if (error.code !== 'unavailable') throw lastError;
      if (attempt < attempts) await sleep(backoffMs * attempt);
    }
    throw lastError;
  }
}
