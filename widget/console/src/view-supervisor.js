// The supervisor's view (admins): every live conversation (state, agent, wait, language) and every
// agent (status, load); an admin claims a waiting chat, joins an assigned one (writes into it
// alongside its agent; Leave when done) or takes it over. Refreshed
// every few seconds while shown.

import { el } from './dom.js';
import { formatWait, languageLabel, reasonLabel } from './logic.js';

const REFRESH_MS = 4000;

function th(text) {
  return el('th', { text, attrs: { scope: 'col' } });
}

export function supervisorView(actions) {
  const status = el('p', { class: 'nc-note', attrs: { role: 'status' } });
  const chats = el('tbody');
  const agents = el('tbody');
  const node = el('section', { class: 'nc-past nc-supervisor', attrs: { 'aria-labelledby': 'nc-supervisor-title', hidden: true } }, [
    el('h2', { class: 'nc-pane-title', text: 'Supervisor', attrs: { id: 'nc-supervisor-title' } }),
    status,
    el('table', { class: 'nc-table', attrs: { 'aria-label': 'Live conversations' } }, [
      el('thead', {}, [el('tr', {}, [th('Conversation'), th('State'), th('Agent'), th('Language'), th('Reason'), th('Waiting'), th('')])]),
      chats,
    ]),
    el('table', { class: 'nc-table', attrs: { 'aria-label': 'Agents' } }, [
      el('thead', {}, [el('tr', {}, [th('Agent'), th('Status'), th('Load'), th('Languages')])]),
      agents,
    ]),
  ]);
  let timer = null;

  async function load() {
    try {
      const view = await actions.supervise();
      status.textContent = `${view.conversations.length} live conversation(s).`;
      chats.replaceChildren(
        ...view.conversations.map((c) => {
          const button = (text, action) => el('button', { class: 'nc-btn nc-btn--small', text, attrs: { type: 'button' }, on: { click: () => run(() => action(c.conversation_id)) } });
          const me = actions.myUsername();
          const joined = (c.joined || []).includes(me);
          const act = c.state === 'queued'
            ? [button('Claim', actions.claim)]
            : [
              c.agent === me ? null : button(joined ? 'Leave' : 'Join', joined ? actions.leaveChat : actions.joinChat),
              c.agent === me ? null : button('Take over', actions.takeOver),
            ];
          return el('tr', { attrs: { 'data-conversation-id': c.conversation_id } }, [
            el('td', { text: c.conversation_id }),
            el('td', { text: c.state }),
            el('td', { text: `${c.agent || '–'}${(c.joined || []).length ? ` (+ ${c.joined.join(', ')})` : ''}` }),
            el('td', { text: languageLabel(c.language) }),
            el('td', { text: reasonLabel(c.reason) }),
            el('td', { text: c.wait_seconds == null ? '–' : formatWait(c.wait_seconds) }),
            el('td', { class: 'nc-actions' }, act),
          ]);
        }),
      );
      agents.replaceChildren(
        ...view.agents.map((a) =>
          el('tr', { attrs: { 'data-agent': a.username } }, [
            el('td', { text: a.display_name || a.username }),
            el('td', { text: a.status || (a.online ? 'online' : 'offline') }),
            el('td', { class: 'nc-num', text: `${a.load ?? 0}/${a.capacity ?? '?'}` }),
            el('td', { text: (a.languages || []).join(', ') }),
          ]),
        ),
      );
    } catch (err) {
      status.textContent = `Could not load: ${err.message}`;
    }
  }

  async function run(action) {
    try {
      await action();
    } catch (err) {
      status.textContent = err.message;
    }
    load();
  }

  return {
    node,
    show(visible) {
      node.hidden = !visible;
      clearInterval(timer);
      timer = null;
      if (visible) {
        load();
        timer = setInterval(load, REFRESH_MS);
      }
    },
  };
}
