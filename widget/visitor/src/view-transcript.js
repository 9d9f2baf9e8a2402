// After a chat: "Email me the transcript" (`email_transcript`), the pre-chat email filled in.
// `tx` registers a node for relabelling when the UI language changes; `t` translates.

import { el } from './dom.js';

export function transcriptBox({ tx, t, prechatEmail, request }) {
  const email = tx(el('input', { class: 'nw-field', attrs: { type: 'email', id: 'nw-transcript-email', maxlength: 254, required: true } }), 'email', 'aria-label');
  const note = el('p', { class: 'nw-note', attrs: { role: 'status' } });
  const form = el('form', {
    class: 'nw-transcript',
    attrs: { hidden: true },
    on: {
      submit: async (event) => {
        event.preventDefault();
        const address = email.value.trim();
        if (!address) return;
        try {
          await request('email_transcript', { email: address });
          form.hidden = true;
          note.textContent = t('emailSent', { email: address });
        } catch (error) {
          note.textContent = error.code === 'unavailable' ? t('emailUnavailable') : t('error', { message: error.message });
        }
      },
    },
  }, [email, tx(el('button', { class: 'nw-btn', attrs: { type: 'submit' } }), 'emailSend')]);
  const toggle = tx(el('button', {
    class: 'nw-link',
    attrs: { type: 'button', 'aria-expanded': 'false' },
    on: {
      click: () => {
        form.hidden = !form.hidden;
        toggle.setAttribute('aria-expanded', String(!form.hidden));
        if (!form.hidden) {
          if (!email.value && prechatEmail()) email.value = prechatEmail();
          email.focus();
        }
      },
    },
  }), 'emailTranscript');
  const node = el('div', { class: 'nw-transcript-box', attrs: { hidden: true } }, [toggle, form, note]);
  return {
    node,
    /** Shown once the chat is closed; reset when it goes or comes. */
    show(visible) {
      if (node.hidden !== visible) return;
      node.hidden = !visible;
      form.hidden = true;
      note.textContent = '';
    },
  };
}
