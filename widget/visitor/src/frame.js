// The widget inside the host page: the loader's open/close messages, Escape, and Tab kept inside
// the panel when it covers the whole screen (a phone).

/** `openPanel({focus})`, `closePanel()`, `closedByHost()`: main.js. */
export function installFrame({ root, openPanel, closePanel, closedByHost }) {
  window.addEventListener('message', (event) => {
    if (event.source !== window.parent || !event.data || event.data.source !== 'nimbus-chat') return;
    if (event.data.type === 'open') openPanel({ focus: event.data.focus !== false });
    if (event.data.type === 'close') closedByHost();
  });

  // Full screen (a phone; the loader's media query): the panel covers the page, so Tab cycles
  // inside it instead of wandering onto the hidden page behind.
  const fullScreen = window.matchMedia('(max-width: 520px), (max-height: 560px)');

  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      closePanel();
    } else if (event.key === 'Tab' && fullScreen.matches && window.parent !== window) {
      const focusable = [...root.querySelectorAll('button, input, textarea, select, [tabindex="0"]')].filter(
        (node) => !node.disabled && node.offsetParent !== null,
      );
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    }
  });
}
