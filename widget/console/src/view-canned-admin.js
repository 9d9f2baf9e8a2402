// Canned replies managed by admins, per language (`canned_save`, `canned_delete`): every agent's
// list (and the "/" shortcut in the reply box) has the change at once.

import { el, uid } from './dom.js';
import { languageLabel } from './logic.js';

export function cannedAdminView(actions) {
  const fields = {
    id: el('input', { class: 'nc-input', attrs: { required: true, maxlength: '40', pattern: '[a-z0-9_-]+', placeholder: 'refund_sent' } }),
    lang: el('input', { class: 'nc-input nc-input--short', attrs: { required: true, maxlength: '2', pattern: '[a-z]{2}', placeholder: 'en' } }),
    title: el('input', { class: 'nc-input', attrs: { required: true, maxlength: '80' } }),
    text: el('textarea', { class: 'nc-input', attrs: { required: true, maxlength: '1000', rows: '3' } }),
  };
  const labels = { id: 'Id', lang: 'Language', title: 'Title', text: 'Text' };
  const status = el('p', { class: 'nc-note', attrs: { role: 'status' } });
  const list = el('tbody');
  const form = el('form', {
    class: 'nc-past-form',
    attrs: { 'aria-label': 'Add or change a canned reply' },
    on: {
      submit: async (event) => {
        event.preventDefault();
        try {
          await actions.saveCanned(Object.fromEntries(Object.entries(fields).map(([k, input]) => [k, input.value.trim()])));
          status.textContent = `Saved “${fields.title.value.trim()}”.`;
          load();
        } catch (err) {
          status.textContent = `Not saved: ${err.message}`;
        }
      },
    },
  }, [
    ...Object.entries(fields).map(([key, input]) => {
      const id = uid('nc-canned-admin');
      input.id = id;
      return el('div', { class: 'nc-past-field' }, [el('label', { class: 'nc-label', text: labels[key], attrs: { for: id } }), input]);
    }),
    el('button', { class: 'nc-btn nc-btn--primary', text: 'Save reply', attrs: { type: 'submit' } }),
  ]);
  const node = el('section', { class: 'nc-past nc-canned-admin', attrs: { 'aria-labelledby': 'nc-canned-admin-title', hidden: true } }, [
    el('h2', { class: 'nc-pane-title', text: 'Canned replies', attrs: { id: 'nc-canned-admin-title' } }),
    form,
    status,
    el('table', { class: 'nc-table', attrs: { 'aria-label': 'Canned replies in use' } }, [
      el('thead', {}, [el('tr', {}, ['Id', 'Language', 'Title', 'Text', ''].map((t) => el('th', { text: t, attrs: { scope: 'col' } })))]),
      list,
    ]),
  ]);

  async function load() {
    try {
      const replies = await actions.allCanned();
      list.replaceChildren(
        ...replies.map((r) =>
          el('tr', { attrs: { 'data-canned': `${r.id}|${r.lang}` } }, [
            el('td', { text: r.id }),
            el('td', { text: languageLabel(r.lang) }),
            el('td', { text: r.title }),
            el('td', { text: r.text, attrs: { lang: r.lang, dir: 'auto' } }),
            el('td', {}, [
              el('button', {
                class: 'nc-btn nc-btn--small',
                text: 'Edit',
                attrs: { type: 'button' },
                on: { click: () => Object.entries(fields).forEach(([k, input]) => { input.value = r[k]; }) },
              }),
              el('button', {
                class: 'nc-btn nc-btn--small nc-btn--danger',
                text: 'Delete',
                attrs: { type: 'button' },
                on: {
                  click: async () => {
                    await actions.deleteCanned(r.id, r.lang).catch((err) => { status.textContent = err.message; });
                    load();
                  },
                },
              }),
            ]),
          ]),
        ),
      );
    } catch (err) {
      status.textContent = `Could not load: ${err.message}`;
    }
  }

  return {
    node,
    show(visible) {
      node.hidden = !visible;
      if (visible) load();
    },
  };
}
