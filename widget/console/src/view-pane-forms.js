// A conversation pane's action forms: transfer, hand back, close. Each is a small inline form
// (no native dialogs), shown by the pane's openForm() and run through its runAction().

import { el, uid } from './dom.js';
import { RESOLUTIONS, languageWarning, transferTargets } from './logic.js';

export function transferForm(pane) {
  const selectId = uid('nc-transfer');
  const select = el('select', { class: 'nc-input', attrs: { id: selectId, required: true } });
  const note = el('p', { class: 'nc-note' });
  const warning = el('p', { class: 'nc-warning', attrs: { role: 'status' } });
  let targets = [];
  const warn = () => {
    const language = (pane.store.get(pane.id)?.packet || {}).language;
    warning.textContent = languageWarning(targets.find((a) => a.username === select.value), language);
  };
  select.addEventListener('change', warn);
  const submit = el('button', { class: 'nc-btn nc-btn--primary', text: 'Transfer', attrs: { type: 'submit' } });
  const node = el(
    'form',
    {
      class: 'nc-action-form',
      attrs: { hidden: true, 'aria-label': 'Transfer the conversation' },
      on: {
        submit: (event) => {
          event.preventDefault();
          if (!select.value) return;
          pane.runAction(submit, () => pane.actions.transfer(pane.id, select.value));
        },
      },
    },
    [el('label', { class: 'nc-label', text: 'Transfer to', attrs: { for: selectId } }), select, warning, note, submit, pane.cancelButton()],
  );
  const onOpen = async () => {
    select.replaceChildren(el('option', { text: 'Loading agents…', attrs: { value: '' } }));
    submit.disabled = true;
    note.textContent = '';
    warning.textContent = '';
    try {
      const agents = await pane.actions.agents();
      targets = transferTargets(agents, pane.store.agent && pane.store.agent.username);
      if (!targets.length) {
        select.replaceChildren(el('option', { text: 'No one available', attrs: { value: '' } }));
        note.textContent = 'No other agent is online with free capacity.';
        return;
      }
      select.replaceChildren(
        ...targets.map((a) =>
          el('option', {
            text: `${a.display_name || a.username} (${(a.languages || []).join(', ') || 'no languages'}; ${a.load ?? 0}/${a.capacity ?? '?'})`,
            attrs: { value: a.username },
          }),
        ),
      );
      submit.disabled = false;
      warn();
    } catch (err) {
      note.textContent = `Could not load agents: ${err.message}`;
    }
  };
  return { node, onOpen };
}

export function handbackForm(pane) {
  const submit = el('button', { class: 'nc-btn nc-btn--primary', text: 'Hand back', attrs: { type: 'submit' } });
  const node = el(
    'form',
    {
      class: 'nc-action-form',
      attrs: { hidden: true, 'aria-label': 'Hand back to the bot' },
      on: {
        submit: (event) => {
          event.preventDefault();
          pane.runAction(submit, () => pane.actions.handback(pane.id));
        },
      },
    },
    [el('p', { text: 'Hand this conversation back to the bot?' }), submit, pane.cancelButton()],
  );
  return { node };
}

export function closeForm(pane) {
  const name = uid('nc-resolution');
  const noteId = uid('nc-note');
  const radios = RESOLUTIONS.map(({ code, label }) => {
    const input = el('input', { attrs: { type: 'radio', name, value: code, required: true } });
    return { input, label: el('label', { class: 'nc-check' }, [input, ` ${label}`]) };
  });
  const note = el('textarea', { class: 'nc-input', attrs: { id: noteId, rows: '2', maxlength: '1000' } });
  const submit = el('button', { class: 'nc-btn nc-btn--danger', text: 'Close conversation', attrs: { type: 'submit' } });
  const node = el(
    'form',
    {
      class: 'nc-action-form',
      attrs: { hidden: true, 'aria-label': 'Close the conversation' },
      on: {
        submit: (event) => {
          event.preventDefault();
          const chosen = radios.find((r) => r.input.checked);
          if (!chosen) return;
          const text = note.value.trim();
          pane.runAction(submit, () => pane.actions.close(pane.id, chosen.input.value, text || undefined));
        },
      },
    },
    [
      el('fieldset', { class: 'nc-fieldset' }, [el('legend', { text: 'Resolution' }), ...radios.map((r) => r.label)]),
      el('label', { class: 'nc-label', text: 'Note (optional)', attrs: { for: noteId } }),
      note,
      submit,
      pane.cancelButton(),
    ],
  );
  return { node };
}
