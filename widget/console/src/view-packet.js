// The handoff packet as the agent reads it beside the transcript: who the visitor is (pre-chat
// name, email), why they were handed over (reason, intents tried with what they tapped, FAQ topic),
// earlier conversations (opened from the log), the rating and the offline message.

import { el } from './dom.js';
import {
  agentName,
  buttonTitles,
  formatConfidence,
  formatTime,
  intentsTried,
  languageLabel,
  reasonLabel,
  resolutionLabel,
} from './logic.js';

/** The packet panel's children for PACKET; `messages` for tapped buttons' titles. */
export function packetSections(packet, { messages, onPastFor }) {
    const visitor = packet.visitor || {};
    const escalation = packet.escalation || {};
    const sections = [];

    const info = visitor.info || {};
    const facts = [
      ['Name', info.name || null],
      ['Email', info.email || null],
      ['Phone', info.phone || null],
      ['Visitor', visitor.visitor_id],
      ['Language', languageLabel(packet.language)],
      ['Chosen language', visitor.language ? languageLabel(visitor.language) : null],
      ['Locale', visitor.locale],
      ['Page', visitor.page],
      ['Returning', visitor.returning === undefined ? null : visitor.returning ? 'yes' : 'no'],
      ['Waited', packet.wait_seconds != null ? `${Math.round(packet.wait_seconds)} s` : null],
      ['Agent', agentName(packet.agent)],
    ];
    sections.push(section('Visitor', definitionList(facts)));

    const why = [
      ['Reason', reasonLabel(escalation.reason)],
      ['Source', escalation.source],
      ['Last intent', escalation.last_intent ? `${escalation.last_intent} (${formatConfidence(escalation.confidence)})` : null],
      ['Best guess', escalation.best_guess && escalation.best_guess !== escalation.last_intent ? `${escalation.best_guess} (${formatConfidence(escalation.best_guess_confidence)})` : null],
      ['FAQ topic', escalation.faq_topic],
    ];
    sections.push(section('Escalation', definitionList(why)));

    const titles = buttonTitles(messages);
    const tried = intentsTried(escalation).map((t) => ({ ...t, text: titles.get(t.text) ?? t.text }));
    if (tried.length) {
      sections.push(
        section(
          'Intents tried',
          el('table', { class: 'nc-table' }, [
            el('thead', {}, [el('tr', {}, [th('Message'), th('Intent'), th('Confidence')])]),
            el(
              'tbody',
              {},
              tried.map((t) =>
                el('tr', {}, [
                  el('td', { text: t.text, attrs: { lang: t.language, dir: 'auto' } }),
                  el('td', { text: t.bestGuess ? `${t.intent} → ${t.bestGuess}` : t.intent }),
                  el('td', { class: 'nc-num', text: t.confidence }),
                ]),
              ),
            ),
          ]),
        ),
      );
    }

    const earlier = visitor.earlier_conversations || [];
    sections.push(
      section(
        'Earlier conversations',
        earlier.length
          ? el(
              'ul',
              { class: 'nc-earlier' },
              earlier.map((c) =>
                el('li', {
                  text: `${formatTime(c.started_at)} · ${c.state || ''}${c.resolution ? ` · ${resolutionLabel(c.resolution)}` : ''} · ${c.conversation_id}`,
                }),
              ),
            )
          : el('p', { class: 'nc-note', text: 'None.' }),
      ),
    );
    if (earlier.length && visitor.visitor_id) {
      sections[sections.length - 1].append(
        el('button', {
          class: 'nc-btn nc-btn--small',
          text: 'Read them',
          attrs: { type: 'button' },
          on: { click: () => onPastFor(visitor.verified_id || visitor.visitor_id) },
        }),
      );
    }

    if (packet.rating) {
      const r = packet.rating;
      sections.push(
        section(
          'Rating',
          definitionList([
            ['Score', `${r.score} of 5`],
            ['Solved', r.resolved === true ? 'yes' : r.resolved === false ? 'no' : null],
            ['Comment', r.comment || null],
          ]),
        ),
      );
    }

    if (packet.offline) {
      sections.push(
        section(
          'Offline message',
          definitionList([
            ['Contact', packet.offline.contact],
            ['Message', packet.offline.text],
            ['Sent', formatTime(packet.offline.at)],
          ]),
        ),
      );
    }
    return [el('h3', { class: 'nc-packet-title', text: 'Handoff packet' }), ...sections];
  }

function th(text) {
  return el('th', { text, attrs: { scope: 'col' } });
}

function section(title, body) {
  return el('section', { class: 'nc-packet-section' }, [el('h4', { text: title }), body]);
}

function definitionList(rows) {
  const items = [];
  for (const [term, value] of rows) {
    if (value === null || value === undefined || value === '') continue;
    items.push(el('dt', { text: term }), el('dd', { text: value, attrs: { dir: 'auto' } }));
  }
  return el('dl', { class: 'nc-dl' }, items);
}
