// The visitor's typing indicator in the console: shown on a `typing` event, cleared when the
// visitor's message arrives, when they stop, or after 8 s without news (a lost "stopped" event).

const VISITOR_TYPING_TIMEOUT_MS = 8000;

export function visitorTyping(store) {
  const timers = new Map();

  function clear(id) {
    clearTimeout(timers.get(id));
    timers.delete(id);
    store.setVisitorTyping(id, false);
  }

  return {
    clear,
    /** The server's `typing` event: `{conversation_id, typing}`. */
    onTyping(payload) {
      if (!payload || !payload.conversation_id) return;
      const id = payload.conversation_id;
      store.setVisitorTyping(id, Boolean(payload.typing));
      clearTimeout(timers.get(id));
      if (payload.typing) timers.set(id, setTimeout(() => clear(id), VISITOR_TYPING_TIMEOUT_MS));
    },
    reset() {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
