// Below the messages: the pre-chat form, the offline form, the rating form and the notes after
// them (view-forms.js builds the forms; this decides which one shows and sends what they collect).

import { el } from './dom.js';
import { abandonedNote, offlineForm, prechatForm, ratingForm } from './view-forms.js';

/** `app`: {state, options, t, extra, composer, input, persist, render, socket(), requestHuman()} */
export function extraPanel(app) {
  const { state, options, t, extra, composer, input } = app;
  let extraMode = null;
  function render() {
    const s = state.status;
    let mode = null;
    const lastSystem = [...state.messages].reverse().find((m) => m.sender === 'system');
    const closedOffline = lastSystem && lastSystem.meta && lastSystem.meta.kind === 'offline';
    if (options.prechat.length && !state.prechat && !state.messages.length && !state.outbox.items.length) mode = 'prechat';
    else if (s && s.state === 'queued' && s.offline && !state.offlineSent) mode = 'offline';
    // the visitor left the queue and came back (the service says so): wait again, or leave a message
    else if (s && s.state === 'closed' && s.reason === 'abandoned') mode = s.offline ? 'abandoned-offline' : 'abandoned';
    else if (s && s.state === 'closed' && state.offlineSent) mode = 'offline-done';
    else if (s && s.state === 'closed' && closedOffline) mode = 'offline-done';
    else if (s && s.state === 'closed' && state.conversationId && state.rated !== state.conversationId) mode = 'rate';
    else if (s && s.state === 'closed' && state.conversationId) mode = 'rated';
    const key = `${mode}|${state.ui}`;
    composer.hidden = mode === 'prechat';
    if (key === extraMode) return;
    const active = document.activeElement;
    // Move the focus into a new form when it was in the old one, or on nothing (the button that was
    // pressed went away); never away from the message field.
    const hadFocus = extra.contains(active) || !active || active === document.body || !active.offsetParent;
    extraMode = key;
    const ctx = { ui: state.ui, options, prechat: state.prechat || {} };
    let node = null;
    if (mode === 'prechat') node = prechatForm(ctx, submitPrechat);
    else if (mode === 'offline') node = offlineForm(ctx, submitOffline);
    else if (mode === 'offline-done') node = el('p', { class: 'nw-note', text: t('offlineDone'), attrs: { role: 'status' } });
    else if (mode === 'abandoned' || mode === 'abandoned-offline') node = abandonedNote(ctx, mode === 'abandoned-offline', app.requestHuman);
    else if (mode === 'rate') node = ratingForm(ctx, submitRating);
    else if (mode === 'rated') node = el('p', { class: 'nw-note', text: `${t('rateDone')} ${t('newChat')}`, attrs: { role: 'status' } });
    extra.replaceChildren(...(node ? [node] : []));
    if (hadFocus || mode === 'prechat') {
      const first = extra.querySelector('input, textarea, button');
      if (first && state.open) first.focus();
    }
  }

  function submitPrechat(values) {
    state.prechat = values;
    if (app.socket()) app.socket().request('visitor_info', values).catch(() => {}); // also sent on every (re)connect
    app.persist();
    app.render();
    input.focus();
  }

  async function submitOffline({ text, contact, clientId }) {
    await app.socket().request('offline_message', { text, contact, client_id: clientId });
    state.offlineSent = true;
    app.render();
  }

  async function submitRating({ score, comment, resolved }) {
    const payload = { score };
    if (comment) payload.comment = comment;
    if (resolved !== null) payload.resolved = resolved;
    let ack;
    try {
      ack = await app.socket().request('rate', payload);
    } catch (error) {
      if (error.code !== 'invalid_state') throw error;
      ack = { conversation_id: state.conversationId }; // a new chat began meanwhile: nothing to rate here
    }
    state.rated = ack.conversation_id || state.conversationId;
    app.persist();
    app.render();
    input.focus();
  }

  return { render, reset: () => (extraMode = null) };
}
