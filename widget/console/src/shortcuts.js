// Keyboard shortcuts of the console: Alt+N the next chat (one with unread messages first), Alt+C
// claim the longest-waiting chat offered to me, Alt+X close the chat I am in. Pure: `npm test`
// runs them under node:test; main.js acts on what they return.

export const SHORTCUTS = { n: 'next', c: 'claim', x: 'close' };
export const SHORTCUT_HELP = 'Keyboard: Alt+N next chat · Alt+C claim · Alt+X close';

/** 'next', 'claim', 'close' or null for a keydown event (Alt + letter, no other modifier). */
export function shortcutFor(event) {
  if (!event || !event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return null;
  const key = String(event.code || '').replace(/^Key/, '').toLowerCase() || String(event.key || '').toLowerCase();
  return SHORTCUTS[key] || null;
}

/** The conversation to show next: the first other one with unread messages, else the one after
 * `activeId` in `order` (wrapping), skipping ended ones when others exist; null when none. */
export function nextConversation(order, get, activeId) {
  const open = order.filter((id) => get(id) && !get(id).ended);
  const pool = open.length ? open : order;
  if (!pool.length) return null;
  const unread = pool.find((id) => id !== activeId && get(id) && get(id).unread > 0);
  if (unread) return unread;
  const at = pool.indexOf(activeId);
  return pool[(at + 1) % pool.length] === activeId && pool.length === 1 ? activeId : pool[(at + 1) % pool.length];
}
