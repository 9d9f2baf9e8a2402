// One conversation: the handoff packet, the transcript, the composer and the
// actions (translate, transfer, hand back, close). One pane per conversation
// assigned to me; panes stay in the DOM while hidden, so drafts survive
// switching tabs.

import { el, nearBottom, uid } from './dom.js';
import { packetSections } from './view-packet.js';
import { closeForm, handbackForm, transferForm } from './view-pane-forms.js';
import { messageNode, pendingNode } from './view-pane-messages.js';
import { PaneFiles } from './view-attachments.js';
import {
  buttonTitles,
  createTypingThrottle,
  filterCanned,
  languageLabel,
  resolutionLabel,
  unassignedLabel,
  validateText,
  visitorName,
} from './logic.js';

export class ConversationPane {
  constructor(id, store, actions) {
    this.id = id;
    this.store = store;
    this.actions = actions;
    this.lastPacket = null;
    this.typing = createTypingThrottle((typing) => actions.typing(id, typing));
    this.files = new PaneFiles(id);
    this.build();
  }

  build() {
    const id = this.id;
    this.title = el('h2', { class: 'nc-pane-title' });
    this.stateBadge = el('span', { class: 'nc-state' });

    // Translation and originals.
    this.translate = el('input', { attrs: { type: 'checkbox' } });
    this.translate.addEventListener('change', () => this.onTranslate());
    this.translateNote = el('span', { class: 'nc-note' });
    this.originals = el('input', { attrs: { type: 'checkbox' } });
    this.originals.addEventListener('change', () => this.actions.toggleOriginals(id, this.originals.checked));

    // Actions: each opens a small inline form (no native dialogs).
    this.transferBtn = el('button', { class: 'nc-btn', text: 'Transfer…', attrs: { type: 'button' }, on: { click: () => this.openForm('transfer') } });
    this.handbackBtn = el('button', { class: 'nc-btn', text: 'Hand back to bot', attrs: { type: 'button' }, on: { click: () => this.openForm('handback') } });
    this.closeBtn = el('button', { class: 'nc-btn nc-btn--danger', text: 'Close…', attrs: { type: 'button' }, on: { click: () => this.openForm('close') } });

    const head = el('header', { class: 'nc-pane-head' }, [
      el('div', { class: 'nc-pane-heading' }, [this.title, this.stateBadge]),
      el('div', { class: 'nc-pane-tools' }, [
        el('label', { class: 'nc-check' }, [this.translate, ' Translate']),
        this.translateNote,
        el('label', { class: 'nc-check' }, [this.originals, ' Show originals']),
        this.transferBtn,
        this.handbackBtn,
        this.closeBtn,
      ]),
    ]);

    this.forms = { transfer: transferForm(this), handback: handbackForm(this), close: closeForm(this) };
    this.actionError = el('p', { class: 'nc-error', attrs: { role: 'alert' } });

    this.transcript = el('div', { class: 'nc-transcript', attrs: { role: 'log', 'aria-live': 'polite', 'aria-label': 'Transcript', tabindex: '0' } });
    this.packetPanel = el('aside', { class: 'nc-packet', attrs: { 'aria-label': 'Handoff packet' } });
    this.typingLine = el('p', { class: 'nc-typing', attrs: { 'aria-live': 'polite' } });
    this.endedBanner = el('div', { class: 'nc-ended', attrs: { role: 'status' } });

    this.node = el(
      'section',
      { class: 'nc-pane', attrs: { id: `nc-pane-${id}`, role: 'tabpanel', 'aria-labelledby': `nc-tab-${id}`, 'data-conversation-id': id } },
      [
        head,
        this.forms.transfer.node,
        this.forms.handback.node,
        this.forms.close.node,
        this.actionError,
        el('div', { class: 'nc-pane-body' }, [el('div', { class: 'nc-chat' }, [this.transcript, this.typingLine]), this.packetPanel]),
        this.endedBanner,
        this.buildComposer(),
      ],
    );
  }

  // --- composer ---------------------------------------------------------

  buildComposer() {
    const textId = uid('nc-reply');
    this.textarea = el('textarea', {
      class: 'nc-input nc-composer-text',
      attrs: { id: textId, rows: '3', maxlength: '4000', placeholder: 'Write a reply (Enter sends, Shift+Enter for a new line, / for canned replies)' },
    });
    this.textarea.addEventListener('keydown', (event) => {
      if (this.slash && event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        // "/refund" + Enter: the first canned reply matching "refund" replaces the shortcut.
        event.preventDefault();
        const first = filterCanned(this.cannedReplies, this.cannedSearch.value)[0];
        if (first) {
          this.textarea.value = '';
          this.useCanned(first);
        }
      } else if (this.slash && event.key === 'Escape') {
        this.toggleCanned(false);
      } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.composer.requestSubmit();
      } else if (event.key === 'Escape') {
        this.typing.stop();
      }
    });
    this.textarea.addEventListener('input', () => {
      this.composerError.textContent = '';
      const slash = /^\/(\S*)$/.exec(this.textarea.value);
      if (slash) {
        this.cannedSearch.value = slash[1];
        if (!this.slash) {
          this.slash = true;
          this.toggleCanned(true, false);
        } else {
          this.renderCanned();
        }
      } else if (this.slash) {
        this.toggleCanned(false);
      }
      if (this.textarea.value.trim() && !this.noteBox.checked) this.typing.input();
      else this.typing.stop();
    });
    this.textarea.addEventListener('blur', () => this.typing.stop());
    this.composerError = el('p', { class: 'nc-error', attrs: { role: 'alert' } });
    this.sendBtn = el('button', { class: 'nc-btn nc-btn--primary', text: 'Send', attrs: { type: 'submit' } });
    // An internal note: kept in the transcript for agents, never sent to the visitor.
    this.noteBox = el('input', {
      attrs: { type: 'checkbox' },
      on: {
        change: () => {
          this.sendBtn.textContent = this.noteBox.checked ? 'Add note' : 'Send';
          this.composer.classList.toggle('nc-composer--note', this.noteBox.checked);
          if (this.noteBox.checked) this.typing.stop();
        },
      },
    });

    // Canned replies: a button opening a searchable list.
    const cannedId = uid('nc-canned');
    const searchId = uid('nc-canned-search');
    this.cannedBtn = el('button', {
      class: 'nc-btn',
      text: 'Canned replies',
      attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': cannedId },
      on: { click: () => this.toggleCanned() },
    });
    this.cannedSearch = el('input', { class: 'nc-input', attrs: { id: searchId, type: 'search', autocomplete: 'off' } });
    this.cannedSearch.addEventListener('input', () => this.renderCanned());
    this.cannedSearch.addEventListener('keydown', (event) => event.key === 'Escape' && this.toggleCanned(false));
    this.cannedList = el('ul', { class: 'nc-canned-list', attrs: { 'aria-label': 'Canned replies' } });
    this.cannedPanel = el('div', { class: 'nc-canned', attrs: { id: cannedId, hidden: true } }, [
      el('label', { class: 'nc-label', text: 'Search canned replies', attrs: { for: searchId } }),
      this.cannedSearch,
      this.cannedList,
    ]);
    this.cannedReplies = [];

    this.composer = el(
      'form',
      { class: 'nc-composer', attrs: { 'aria-label': 'Reply' }, on: { submit: (event) => this.onSend(event) } },
      [
        el('label', { class: 'nc-label nc-sr-only', text: 'Reply to the visitor', attrs: { for: textId } }),
        this.cannedPanel,
        this.textarea,
        el('div', { class: 'nc-composer-row' }, [
          this.cannedBtn,
          el('label', { class: 'nc-check' }, [this.noteBox, ' Internal note (agents only)']),
          this.files.button,
          this.files.input,
          this.composerError,
          this.files.status,
          this.sendBtn,
        ]),
      ],
    );
    return this.composer;
  }

  onSend(event) {
    event.preventDefault();
    const check = validateText(this.textarea.value);
    if (!check.ok) {
      this.composerError.textContent = check.message;
      return;
    }
    this.typing.stop();
    this.textarea.value = '';
    if (this.noteBox.checked) {
      this.actions.note(this.id, check.text).catch((err) => {
        this.textarea.value = check.text;
        this.composerError.textContent = `The note was not saved: ${err.message}`;
      });
    } else {
      this.actions.send(this.id, check.text);
    }
    this.textarea.focus();
  }

  async toggleCanned(open = this.cannedPanel.hidden, focusSearch = true) {
    this.cannedPanel.hidden = !open;
    this.cannedBtn.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (!open) {
      this.slash = false;
      return;
    }
    this.cannedList.replaceChildren(el('li', { class: 'nc-note', text: 'Loading…' }));
    if (focusSearch) this.cannedSearch.focus();
    const conv = this.store.get(this.id);
    try {
      this.cannedReplies = await this.actions.cannedReplies(conv && conv.packet ? conv.packet.language : undefined);
    } catch (err) {
      this.cannedReplies = [];
      this.cannedList.replaceChildren(el('li', { class: 'nc-error', text: `Could not load canned replies: ${err.message}` }));
      return;
    }
    this.renderCanned();
  }

  renderCanned() {
    const replies = filterCanned(this.cannedReplies, this.cannedSearch.value);
    if (!replies.length) {
      this.cannedList.replaceChildren(el('li', { class: 'nc-note', text: 'No canned replies match.' }));
      return;
    }
    this.cannedList.replaceChildren(
      ...replies.map((reply) =>
        el('li', {}, [
          el(
            'button',
            {
              class: 'nc-canned-item',
              attrs: { type: 'button', 'data-canned-id': reply.id },
              on: { click: () => this.useCanned(reply) },
            },
            [
              el('span', { class: 'nc-canned-title', text: reply.title }),
              el('span', { class: 'nc-canned-text', text: reply.text, attrs: { lang: reply.lang || null, dir: 'auto' } }),
            ],
          ),
        ]),
      ),
    );
  }

  useCanned(reply) {
    const current = this.textarea.value.trim();
    this.textarea.value = current ? `${current} ${reply.text}` : reply.text;
    this.toggleCanned(false);
    this.textarea.focus();
    this.typing.input();
  }

  // --- action forms -------------------------------------------------------

  openForm(name) {
    for (const [key, form] of Object.entries(this.forms)) {
      form.node.hidden = key !== name;
      if (key === name && form.onOpen) form.onOpen();
    }
    this.actionError.textContent = '';
  }

  closeForms() {
    for (const form of Object.values(this.forms)) form.node.hidden = true;
  }

  async runAction(button, action) {
    button.disabled = true;
    this.actionError.textContent = '';
    try {
      await action();
      this.closeForms();
    } catch (err) {
      this.actionError.textContent = err.message || 'The service refused.';
    } finally {
      button.disabled = false;
    }
  }

  cancelButton() {
    return el('button', { class: 'nc-btn', text: 'Cancel', attrs: { type: 'button' }, on: { click: () => this.closeForms() } });
  }

  async onTranslate() {
    const wanted = this.translate.checked;
    this.translate.disabled = true;
    try {
      await this.actions.setTranslation(this.id, wanted);
    } catch (err) {
      this.translate.checked = !wanted;
      this.actionError.textContent = `Could not change translation: ${err.message}`;
    } finally {
      this.translate.disabled = false;
      this.update();
    }
  }

  // --- rendering ----------------------------------------------------------

  show(visible) {
    this.node.hidden = !visible;
    if (visible) this.transcript.scrollTop = this.transcript.scrollHeight;
  }

  update() {
    const conv = this.store.get(this.id);
    if (!conv) return;
    const packet = conv.packet || {};
    const visitor = packet.visitor || {};
    const info = visitor.info || {};
    this.title.textContent = `${info.name ? visitorName(packet) : `Visitor ${visitor.visitor_id || this.id}`} · ${languageLabel(packet.language)}`;
    this.stateBadge.textContent = packet.state || '';
    this.stateBadge.className = `nc-state nc-state--${packet.state || 'unknown'}`;

    const translation = packet.translation || {};
    this.translate.checked = Boolean(translation.enabled);
    this.translate.disabled = Boolean(conv.ended);
    this.translateNote.textContent = !translation.enabled
      ? ''
      : translation.available === false
        ? `no translation: ${translation.reason || 'no model for this pair'}`
        : `${translation.visitor_lang || '?'} ⇄ ${translation.agent_lang || '?'}`;
    this.originals.checked = conv.showOriginals;

    if (conv.packet !== this.lastPacket) {
      this.lastPacket = conv.packet;
      this.renderPacket(packet);
    }
    this.renderTranscript(conv);
    this.typingLine.textContent = conv.visitorTyping ? 'The visitor is typing…' : '';

    const ended = Boolean(conv.ended);
    // an admin who joined another agent's chat writes and may close, but only its agent transfers or hands back
    const me = this.store.agent && this.store.agent.username;
    const theirs = Boolean(packet.agent && me && packet.agent.username !== me);
    this.transferBtn.hidden = theirs;
    this.handbackBtn.hidden = theirs;
    for (const control of [this.textarea, this.sendBtn, this.cannedBtn, this.transferBtn, this.handbackBtn, this.closeBtn, this.files.button]) {
      control.disabled = ended;
    }
    if (ended) {
      this.closeForms();
      this.cannedPanel.hidden = true;
      this.typing.stop();
      const resolution = packet.resolution ? ` (${resolutionLabel(packet.resolution)})` : '';
      this.endedBanner.replaceChildren(
        el('span', { text: `${unassignedLabel(conv.ended.reason)}${resolution}.` }),
        el('button', { class: 'nc-btn', text: 'Dismiss', attrs: { type: 'button' }, on: { click: () => this.actions.dismiss(this.id) } }),
      );
    } else {
      this.endedBanner.replaceChildren();
    }
    this.endedBanner.hidden = !ended;
  }

  renderTranscript(conv) {
    const stick = nearBottom(this.transcript);
    const titles = buttonTitles(conv.messages);
    const items = conv.messages.map((m) => messageNode(m, conv.showOriginals, titles, this.files));
    for (const pending of conv.pending) items.push(pendingNode(pending, (clientId) => this.actions.retry(this.id, clientId)));
    this.transcript.replaceChildren(...items);
    if (stick) this.transcript.scrollTop = this.transcript.scrollHeight;
  }

  renderPacket(packet) {
    const messages = this.store.get(this.id)?.messages || [];
    this.packetPanel.replaceChildren(...packetSections(packet, { messages, onPastFor: (v) => this.actions.showPastFor(v) }));
  }
}
