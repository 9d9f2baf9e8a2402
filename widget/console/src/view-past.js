// Past conversations, from the SQL log (GET /api/conversations): search by text (an order number
// NS…, any words), visitor, the pre-chat name / email / phone, language, topic, outcome and dates; open one to read it whole.

import { getJson } from './api.js';
import { el, uid } from './dom.js';
import { formatTime, languageLabel, resolutionLabel } from './logic.js';

const OUTCOMES = [
  ['', 'Any outcome'],
  ['resolved', 'Resolved'],
  ['not_resolved', 'Not resolved'],
  ['follow_up', 'Follow-up needed'],
  ['bot', 'Solved by the bot'],
  ['offline', 'Offline message'],
  ['abandon', 'Left while waiting'],
  ['end', 'Ended with the bot'],
  ['open', 'Still open'],
];

/** The visitor as agents know them: the pre-chat name and email, else the customer / visitor id. */
function who(c) {
  const id = c.verified_id || c.visitor_id;
  const contact = [c.visitor_name, c.visitor_email && `<${c.visitor_email}>`].filter(Boolean).join(' ');
  return contact ? `${contact} (${id})` : id;
}

function field(label, input) {
  const id = uid('nc-past');
  input.id = id;
  return el('div', { class: 'nc-past-field' }, [el('label', { class: 'nc-label', text: label, attrs: { for: id } }), input]);
}

export function pastView(getToken) {
  const inputs = {
    q: el('input', { class: 'nc-input', attrs: { type: 'search', maxlength: '200', placeholder: 'NS2650391, refund…' } }),
    visitor: el('input', { class: 'nc-input', attrs: { maxlength: '200' } }),
    contact: el('input', { class: 'nc-input', attrs: { maxlength: '200', placeholder: 'Rina, rina@example.com' } }),
    language: el('input', { class: 'nc-input nc-input--short', attrs: { maxlength: '2', placeholder: 'bn' } }),
    topic: el('input', { class: 'nc-input', attrs: { maxlength: '200', placeholder: 'refund_status' } }),
    outcome: el('select', { class: 'nc-input' }, OUTCOMES.map(([value, text]) => el('option', { text, attrs: { value } }))),
    from: el('input', { class: 'nc-input', attrs: { type: 'date' } }),
    to: el('input', { class: 'nc-input', attrs: { type: 'date' } }),
  };
  const status = el('p', { class: 'nc-note', attrs: { role: 'status' } });
  const results = el('ol', { class: 'nc-past-results', attrs: { 'aria-label': 'Past conversations found' } });
  const reader = el('article', { class: 'nc-past-reader', attrs: { 'aria-label': 'Past conversation', hidden: true } });
  const form = el('form', { class: 'nc-past-form', attrs: { role: 'search', 'aria-label': 'Search past conversations' }, on: { submit: (e) => { e.preventDefault(); find(); } } }, [
    field('Text or order number', inputs.q),
    field('Visitor or customer id', inputs.visitor),
    field('Visitor name, email or phone', inputs.contact),
    field('Language', inputs.language),
    field('Topic', inputs.topic),
    field('Outcome', inputs.outcome),
    field('Started on or after', inputs.from),
    field('Started on or before', inputs.to),
    el('button', { class: 'nc-btn nc-btn--primary', text: 'Search', attrs: { type: 'submit' } }),
  ]);
  const node = el('section', { class: 'nc-past', attrs: { 'aria-labelledby': 'nc-past-title', hidden: true } }, [
    el('h2', { class: 'nc-pane-title', text: 'Past conversations', attrs: { id: 'nc-past-title' } }),
    form,
    status,
    el('div', { class: 'nc-past-body' }, [results, reader]),
  ]);

  async function find() {
    const params = new URLSearchParams();
    for (const [name, input] of Object.entries(inputs)) if (input.value.trim()) params.set(name, input.value.trim());
    status.textContent = 'Searching…';
    try {
      const body = await getJson(`/api/conversations?${params}`, getToken());
      const found = body.conversations || [];
      status.textContent = found.length ? `${found.length} found${found.length >= body.limit ? ' (the newest; narrow the search)' : ''}.` : 'Nothing found.';
      results.replaceChildren(...found.map(resultItem));
    } catch (err) {
      status.textContent = `Could not search: ${err.message}`;
    }
  }

  function resultItem(c) {
    const open = el('button', {
      class: 'nc-btn nc-past-open',
      text: `${formatTime(c.created_at)} · ${languageLabel(c.language)} · ${c.topic || 'no topic'} · ${resolutionLabel(c.outcome)}`,
      attrs: { type: 'button' },
      on: { click: () => read(c.conversation_id) },
    });
    return el('li', { class: 'nc-past-item', attrs: { 'data-conversation-id': c.conversation_id } }, [
      open,
      el('p', { class: 'nc-note', text: `Visitor ${who(c)}${c.agent ? ` · agent ${c.agent}` : ''}${c.rating ? ` · rated ${c.rating.score}/5` : ''}` }),
      c.snippet ? el('p', { class: 'nc-preview', text: c.snippet, attrs: { dir: 'auto', lang: c.language || null } }) : null,
    ]);
  }

  async function read(id) {
    try {
      const { conversation: c } = await getJson(`/api/conversations/${encodeURIComponent(id)}`, getToken());
      const facts = [
        `Visitor ${who(c)}`,
        languageLabel(c.language),
        `outcome: ${resolutionLabel(c.outcome)}`,
        c.rating ? `rating ${c.rating.score}/5${c.rating.comment ? ` “${c.rating.comment}”` : ''}` : 'not rated',
      ];
      reader.replaceChildren(
        el('h3', { class: 'nc-packet-title', text: `Conversation of ${formatTime(c.created_at)}` }),
        el('p', { class: 'nc-note', text: facts.join(' · ') }),
        el('ol', { class: 'nc-past-transcript', attrs: { 'aria-label': 'Transcript' } }, (c.messages || []).map((m) =>
          el('li', { class: `nc-history-line nc-history-line--${m.sender}` }, [
            el('span', { class: 'nc-history-who', text: `${m.sender}: ` }),
            el('span', { text: m.text || '', attrs: { lang: m.lang || null, dir: 'auto' } }),
          ]),
        )),
      );
      reader.hidden = false;
      reader.dataset.conversationId = c.conversation_id;
    } catch (err) {
      status.textContent = `Could not open it: ${err.message}`;
    }
  }

  return {
    node,
    show(visible) {
      node.hidden = !visible;
      if (visible && !inputs.q.value) inputs.q.focus();
    },
    /** Open the search for one visitor's conversations (from a packet's earlier conversations). */
    forVisitor(visitor) {
      inputs.visitor.value = visitor;
      find();
    },
  };
}
