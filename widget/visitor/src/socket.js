// The `/chat` Socket.IO namespace (docs/protocol.md): connection with the
// visitor's auth, events in, requests with acknowledgements out.

import { io } from 'socket.io-client';

export const SERVER_EVENTS = ['session', 'message', 'status', 'typing', 'error'];

/** A request the server refused (`{"ok": false, "error": {code, message}}`) or never answered. */
export class AckError extends Error {
  constructor(code, message, retryAfter) {
    super(message || code);
    this.code = code;
    this.retryAfter = retryAfter; // seconds, with `rate_limited`
  }
}

export class ChatSocket {
  /**
   * @param {() => object} auth called on every (re)connection, so `last_seq` is always current
   * @param {object} handlers `{session(p), message(p), status(p), typing(p), error(p), onConnection(state)}`
   */
  constructor(auth, handlers, { url = '/chat', path = '/socket.io' } = {}) {
    this.socket = io(url, {
      path,
      auth: (cb) => cb(auth()),
      autoConnect: false,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
    for (const event of SERVER_EVENTS) {
      this.socket.on(event, (payload) => handlers[event] && handlers[event](payload));
    }
    const state = (value) => handlers.onConnection && handlers.onConnection(value);
    this.socket.on('connect', () => state('online'));
    this.socket.on('disconnect', (reason) => {
      state('offline');
      // The server closed the socket: socket.io does not reconnect by itself then.
      if (reason === 'io server disconnect') setTimeout(() => !this.paused && this.socket.connect(), 1000);
    });
    this.socket.on('connect_error', () => state('offline'));
  }

  connect() {
    this.socket.connect();
  }

  /** The browser says the network is gone: drop the socket now rather than after ping timeouts. */
  pause() {
    this.paused = true;
    this.socket.disconnect();
  }

  /** The network is back (or the page woke up): connect again if paused or dropped. */
  resume() {
    this.paused = false;
    if (!this.socket.connected) this.socket.connect();
  }

  get connected() {
    return this.socket.connected;
  }

  /** Fire-and-forget (`typing`); dropped while offline. */
  notify(event, payload) {
    if (this.socket.connected) this.socket.volatile.emit(event, payload);
  }

  /**
   * Send an event and wait for its ack. Resolves with `{"ok": true, ...}`,
   * rejects with AckError: `offline` when not connected, `timeout` when no
   * ack came within `timeout` ms (the caller retries with the same payload:
   * `visitor_message` carries a `client_id`, so the server stores it once),
   * otherwise the server's error code.
   */
  async request(event, payload = {}, { timeout = 10000 } = {}) {
    if (!this.socket.connected) throw new AckError('offline', 'Not connected.');
    let ack;
    try {
      ack = await this.socket.timeout(timeout).emitWithAck(event, payload);
    } catch {
      throw new AckError('timeout', 'The service did not answer.');
    }
    if (ack && ack.ok) return ack;
    const error = (ack && ack.error) || {};
    throw new AckError(
      error.code || 'bad_response',
      error.message || 'The service refused the request.',
      error.retry_after,
    );
  }
}
