// The small forms shown under the conversation: pre-chat fields, the offline
// form (no agent available), the rating after a chat closed, and the way back
// for a visitor whose place in the queue was given up while they were away.

import { el, uid } from './dom.js';
import { translate } from './i18n.js';
import { MAX_TEXT_CHARS, newClientId } from './logic.js';

function field(label, control) {
  const id = uid('nw-f');
  control.id = id;
  return el('div', { class: 'nw-field' }, [el('label', { text: label, attrs: { for: id } }), control]);
}

/** A form whose submit handler may throw; the message is shown in the form (role=alert). */
function form(cls, heading, children, submitLabel, onSubmit) {
  const error = el('p', { class: 'nw-form-error', attrs: { role: 'alert', hidden: true } });
  const button = el('button', { class: 'nw-btn', text: submitLabel, attrs: { type: 'submit' } });
  const headingId = uid('nw-h');
  const node = el('form', {
    class: ['nw-form', cls],
    attrs: { 'aria-labelledby': headingId, novalidate: true },
    on: {
      submit: async (event) => {
        event.preventDefault();
        error.hidden = true;
        button.disabled = true;
        try {
          await onSubmit(error);
        } catch (err) {
          error.textContent = err.message || String(err);
          error.hidden = false;
        } finally {
          button.disabled = false;
        }
      },
    },
  }, [el('p', { class: 'nw-form-title', text: heading, attrs: { id: headingId } }), ...children, error, button]);
  return node;
}

class Invalid extends Error {}

export function prechatForm({ ui, options, prechat }, onDone) {
  const controls = options.prechat.map((name) => {
    const type = name === 'email' ? 'email' : name === 'phone' ? 'tel' : 'text';
    const autocomplete = name === 'phone' ? 'tel' : name;
    const input = el('input', { attrs: { type, name, autocomplete, required: true, maxlength: 200, value: prechat[name] || null } });
    return [name, input];
  });
  return form('nw-prechat', translate(ui, 'prechatTitle'), controls.map(([name, input]) => field(translate(ui, name), input)), translate(ui, 'prechatStart'), async () => {
    const values = {};
    for (const [name, input] of controls) {
      const value = input.value.trim();
      if (!value) {
        input.focus();
        throw new Invalid(translate(ui, 'required', { field: translate(ui, name) }));
      }
      values[name] = value;
    }
    onDone(values);
  });
}

export function offlineForm({ ui, prechat }, onSend) {
  const clientId = newClientId(); // one per form: sending again after a lost ack is stored once
  const text = el('textarea', { attrs: { rows: 3, maxlength: MAX_TEXT_CHARS, required: true, dir: 'auto' } });
  const contact = el('input', { attrs: { type: 'text', autocomplete: 'email', maxlength: 200, required: true, value: prechat.email || prechat.phone || null } });
  return form('nw-offline', translate(ui, 'offlineTitle'), [field(translate(ui, 'offlineText'), text), field(translate(ui, 'contact'), contact)], translate(ui, 'offlineSend'), async () => {
    if (!text.value.trim()) {
      text.focus();
      throw new Invalid(translate(ui, 'required', { field: translate(ui, 'offlineText') }));
    }
    if (!contact.value.trim()) {
      contact.focus();
      throw new Invalid(translate(ui, 'required', { field: translate(ui, 'contact') }));
    }
    await onSend({ text: text.value.trim(), contact: contact.value.trim(), clientId });
  });
}

function radioGroup(legend, name, choices, cls) {
  return el('fieldset', { class: ['nw-radios', cls] }, [
    el('legend', { text: legend }),
    ...choices.map(([value, label, aria]) => {
      const id = uid('nw-r');
      return el('span', { class: 'nw-radio' }, [
        el('input', { attrs: { type: 'radio', name, value, id, 'aria-label': aria || null } }),
        el('label', { text: label, attrs: { for: id, 'aria-hidden': aria ? 'true' : null } }),
      ]);
    }),
  ]);
}

export function ratingForm({ ui }, onRate) {
  const name = uid('nw-score');
  const solvedName = uid('nw-solved');
  const scores = radioGroup(translate(ui, 'rateScore'), name, [1, 2, 3, 4, 5].map((n) => [String(n), '★', translate(ui, 'star', { n })]), 'nw-stars');
  const solved = radioGroup(translate(ui, 'solved'), solvedName, [['yes', translate(ui, 'yes')], ['no', translate(ui, 'no')]], 'nw-solved');
  const comment = el('textarea', { attrs: { rows: 2, maxlength: 1000, dir: 'auto' } });
  const node = form('nw-rating', translate(ui, 'rateTitle'), [scores, solved, field(translate(ui, 'comment'), comment)], translate(ui, 'rateSend'), async () => {
    const picked = node.querySelector(`input[name="${name}"]:checked`);
    if (!picked) {
      node.querySelector(`input[name="${name}"]`).focus();
      throw new Invalid(translate(ui, 'rateNeedScore'));
    }
    const answer = node.querySelector(`input[name="${solvedName}"]:checked`);
    await onRate({
      score: Number(picked.value),
      comment: comment.value.trim() || null,
      resolved: answer ? answer.value === 'yes' : null,
    });
  });
  // Stars fill up to the hovered/checked one.
  scores.addEventListener('change', () => {
    const value = Number((node.querySelector(`input[name="${name}"]:checked`) || {}).value || 0);
    scores.querySelectorAll('.nw-radio').forEach((s, i) => s.classList.toggle('nw-on', i < value));
  });
  return node;
}

/**
 * The visitor left the queue (no socket for a while) and came back: say so, and offer to wait for a
 * person again, or, when no one can answer now (`offline`), to leave a message (the same request:
 * the new chat waits, and the offline form follows).
 */
export function abandonedNote({ ui }, offline, onRequest) {
  const text = translate(ui, 'abandoned') + (offline ? ` ${translate(ui, 'abandonedOffline')}` : '');
  const button = el('button', {
    class: 'nw-btn',
    text: translate(ui, offline ? 'leaveMessage' : 'waitAgain'),
    attrs: { type: 'button' },
    on: { click: () => onRequest() },
  });
  return el('div', { class: 'nw-abandoned' }, [el('p', { class: 'nw-note', text, attrs: { role: 'status' } }), button]);
}
