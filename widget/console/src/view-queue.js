// The queue: who is waiting, in which language, why, for how long; Claim.

import { el } from './dom.js';
import { buttonTitles, formatWait, languageLabel, liveWaitSeconds, reasonLabel, tappedTitle } from './logic.js';

export function queueView(store, actions) {
  const count = el('span', { class: 'nc-count', text: '0' });
  const list = el('ul', { class: 'nc-queue-list', attrs: { 'aria-labelledby': 'nc-queue-title' } });
  const empty = el('p', { class: 'nc-empty', text: 'No one is waiting.' });
  const error = el('p', { class: 'nc-error', attrs: { role: 'alert' } });
  const node = el('section', { class: 'nc-queue', attrs: { 'aria-labelledby': 'nc-queue-title' } }, [
    el('h2', { class: 'nc-section-title', attrs: { id: 'nc-queue-title' } }, ['Queue ', count]),
    error,
    empty,
    list,
  ]);
  let waits = [];
  // conversation id -> {key, messages} while the agent has the history open; `key` says which
  // version of the waiting chat they are of (a new message, or a new escalation after a hand-back).
  const previews = new Map();
  const versionOf = (entry) => `${entry.queued_at}|${entry.preview}`;
  const load = async (entry) => {
    const packet = await actions.preview(entry.conversation_id);
    previews.set(entry.conversation_id, { key: versionOf(entry), messages: packet.messages });
    render();
  };

  function render() {
    const entries = store.queue;
    count.textContent = String(entries.length);
    empty.hidden = entries.length > 0;
    waits = [];
    list.replaceChildren(
      ...entries.map((entry) => {
        const wait = el('span', { class: 'nc-wait' });
        waits.push({ node: wait, entry });
        const claim = el('button', {
          class: 'nc-btn nc-btn--primary nc-claim',
          text: 'Claim',
          attrs: { type: 'button', 'aria-label': `Claim the ${languageLabel(entry.language)} chat: ${entry.preview || reasonLabel(entry.reason)}` },
        });
        claim.addEventListener('click', async () => {
          claim.disabled = true;
          error.textContent = '';
          try {
            await actions.claim(entry.conversation_id);
          } catch (err) {
            error.textContent = claimError(err);
            claim.disabled = false;
          }
        });
        const history = el('ol', { class: 'nc-queue-history', attrs: { 'aria-label': 'History' } });
        const toggle = el('button', {
          class: 'nc-btn nc-history-toggle',
          text: 'History',
          attrs: { type: 'button', 'aria-expanded': 'false' },
        });
        const showHistory = (messages) => {
          const titles = buttonTitles(messages);
          history.replaceChildren(...messages.map((m) => historyItem(m, titles)));
          history.hidden = false;
          toggle.setAttribute('aria-expanded', 'true');
        };
        history.hidden = true;
        const open = previews.get(entry.conversation_id);
        if (open) {
          showHistory(open.messages);
          if (open.key !== versionOf(entry)) {
            open.key = versionOf(entry); // fetched once per version
            load(entry).catch((err) => {
              error.textContent = (err && err.message) || 'Could not load the history.';
            });
          }
        }
        toggle.addEventListener('click', async () => {
          if (previews.has(entry.conversation_id)) {
            previews.delete(entry.conversation_id);
            history.hidden = true;
            toggle.setAttribute('aria-expanded', 'false');
            return;
          }
          error.textContent = '';
          try {
            await load(entry);
          } catch (err) {
            error.textContent = (err && err.message) || 'Could not load the history.';
          }
        });
        return el('li', { class: 'nc-queue-item', attrs: { 'data-conversation-id': entry.conversation_id } }, [
          el('div', { class: 'nc-queue-head' }, [
            el('span', { class: 'nc-badge', text: entry.language || '?', attrs: { title: languageLabel(entry.language) } }),
            el('span', { class: 'nc-reason', text: reasonLabel(entry.reason) }),
            wait,
          ]),
          entry.preview
            ? el('p', { class: 'nc-preview', text: entry.preview, attrs: { lang: entry.language || null, dir: 'auto' } })
            : el('p', { class: 'nc-note', text: 'No message yet' }),
          entry.offered_to_all ? el('p', { class: 'nc-note', text: 'Offered to every agent (with translation)' }) : null,
          el('div', { class: 'nc-queue-actions' }, [toggle, claim]),
          history,
        ]);
      }),
    );
    tick();
  }

  /** Live wait times, once a second, without rebuilding the list. */
  function tick(now = Date.now()) {
    for (const { node: wait, entry } of waits) {
      wait.textContent = `waiting ${formatWait(liveWaitSeconds(entry, store.queueReceivedAt, now))}`;
    }
  }

  store.subscribe((topic) => topic === 'queue' && render());
  render();
  return { node, tick };
}

/** One line of a waiting chat's history: who, the original text, and the translation if one was made. */
function historyItem(message, titles) {
  const who = { visitor: 'Visitor', bot: 'Bot', agent: 'Agent', system: 'System' }[message.sender] || message.sender;
  return el('li', { class: `nc-history-line nc-history-line--${message.sender}` }, [
    el('span', { class: 'nc-history-who', text: `${who}: ` }),
    el('span', { text: tappedTitle(message, titles) ?? message.text, attrs: { lang: message.lang || null, dir: 'auto' } }),
    message.translation && !tappedTitle(message, titles) ? el('span', { class: 'nc-note', text: ` (${message.translation.text})` }) : null,
  ]);
}

function claimError(err) {
  switch (err && err.code) {
    case 'taken':
      return 'Another agent claimed that chat first.';
    case 'capacity':
      return 'You are at your capacity: close a conversation first.';
    case 'not_offered':
      return 'That chat is not offered to you (yet).';
    default:
      return `Could not claim: ${(err && err.message) || 'unknown error'}`;
  }
}
