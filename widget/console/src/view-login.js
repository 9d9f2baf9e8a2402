// The login form (POST /api/login through actions.login).

import { el, uid } from './dom.js';

export function loginView(actions) {
  const userId = uid('nc-user');
  const passId = uid('nc-pass');
  const error = el('p', { class: 'nc-error', attrs: { role: 'alert' } });
  const username = el('input', {
    class: 'nc-input',
    attrs: { id: userId, name: 'username', autocomplete: 'username', required: true, autocapitalize: 'off', spellcheck: 'false' },
  });
  const password = el('input', {
    class: 'nc-input',
    attrs: { id: passId, name: 'password', type: 'password', autocomplete: 'current-password', required: true },
  });
  const submit = el('button', { class: 'nc-btn nc-btn--primary', text: 'Log in', attrs: { type: 'submit' } });

  const form = el(
    'form',
    {
      class: 'nc-login-form',
      attrs: { 'aria-labelledby': 'nc-login-title' },
      on: {
        submit: async (event) => {
          event.preventDefault();
          error.textContent = '';
          submit.disabled = true;
          try {
            await actions.login(username.value.trim(), password.value);
            password.value = '';
          } catch (err) {
            error.textContent = err.message || 'Login failed.';
            password.select();
          } finally {
            submit.disabled = false;
          }
        },
      },
    },
    [
      el('h1', { class: 'nc-login-title', text: 'Nimbus agent console', attrs: { id: 'nc-login-title' } }),
      el('label', { class: 'nc-label', text: 'Username', attrs: { for: userId } }),
      username,
      el('label', { class: 'nc-label', text: 'Password', attrs: { for: passId } }),
      password,
      submit,
      error,
    ],
  );

  const node = el('main', { class: 'nc-login' }, [form]);
  return {
    node,
    show(message) {
      node.hidden = false;
      error.textContent = message || '';
      username.focus();
    },
    hide() {
      node.hidden = true;
    },
  };
}
