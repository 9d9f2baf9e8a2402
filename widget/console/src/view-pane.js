// One conversation: the handoff packet, the transcript, the composer and the
// actions (translate, transfer, hand back, close). One pane per conversation
// assigned to me; panes stay in the DOM while hidden, so drafts survive
// switching tabs.

import { el, nearBottom, uid } from './dom.js';
import { packetSections } from './view-packet.js';
import {
  RESOLUTIONS,
  buttonTitles,
  createTypingThrottle,
  filterCanned,
  formatTime,
  languageLabel,
  languageWarning,
  messageView,
  resolutionLabel,
  senderLabel,
  tappedTitle,
  transferTargets,
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

    this.forms = { transfer: this.buildTransfer(), handback: this.buildHandback(), close: this.buildClose() };
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
          this.composerError,
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

  buildTransfer() {
    const selectId = uid('nc-transfer');
    const select = el('select', { class: 'nc-input', attrs: { id: selectId, required: true } });
    const note = el('p', { class: 'nc-note' });
    const warning = el('p', { class: 'nc-warning', attrs: { role: 'status' } });
    let targets = [];
    const warn = () => {
      const language = (this.store.get(this.id)?.packet || {}).language;
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
            this.runAction(submit, () => this.actions.transfer(this.id, select.value));
          },
        },
      },
      [el('label', { class: 'nc-label', text: 'Transfer to', attrs: { for: selectId } }), select, warning, note, submit, this.cancelButton()],
    );
    const onOpen = async () => {
      select.replaceChildren(el('option', { text: 'Loading agents…', attrs: { value: '' } }));
      submit.disabled = true;
      note.textContent = '';
      warning.textContent = '';
      try {
        const agents = await this.actions.agents();
        targets = transferTargets(agents, this.store.agent && this.store.agent.username);
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

  buildHandback() {
    const submit = el('button', { class: 'nc-btn nc-btn--primary', text: 'Hand back', attrs: { type: 'submit' } });
    const node = el(
      'form',
      {
        class: 'nc-action-form',
        attrs: { hidden: true, 'aria-label': 'Hand back to the bot' },
        on: {
          submit: (event) => {
            event.preventDefault();
            this.runAction(submit, () => this.actions.handback(this.id));
          },
        },
      },
      [el('p', { text: 'Hand this conversation back to the bot?' }), submit, this.cancelButton()],
    );
    return { node };
  }

  buildClose() {
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
            this.runAction(submit, () => this.actions.close(this.id, chosen.input.value, text || undefined));
          },
        },
      },
      [
        el('fieldset', { class: 'nc-fieldset' }, [el('legend', { text: 'Resolution' }), ...radios.map((r) => r.label)]),
        el('label', { class: 'nc-label', text: 'Note (optional)', attrs: { for: noteId } }),
        note,
        submit,
        this.cancelButton(),
      ],
    );
    return { node };
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
    for (const control of [this.textarea, this.sendBtn, this.cannedBtn, this.transferBtn, this.handbackBtn, this.closeBtn]) {
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
    const items = conv.messages.map((m) => this.renderMessage(m, conv.showOriginals, titles));
    for (const pending of conv.pending) items.push(this.renderPending(pending));
    this.transcript.replaceChildren(...items);
    if (stick) this.transcript.scrollTop = this.transcript.scrollHeight;
  }

  renderMessage(message, showOriginals, titles) {
    const view = messageView(message, { showOriginals });
    const tapped = tappedTitle(message, titles);
    if (tapped) {
      // What the visitor tapped, not the payload (`/deny`) the button sends.
      view.main = { text: tapped, lang: null };
      view.translatedLabel = 'tapped a button';
      view.original = null;
    }
    const meta = message.meta || {};
    const header = [el('span', { class: 'nc-msg-sender', text: senderLabel(message) })];
    if (message.at) header.push(el('time', { class: 'nc-msg-time', text: formatTime(message.at), attrs: { datetime: new Date(message.at * 1000).toISOString() } }));
    if (view.translatedLabel) header.push(el('span', { class: 'nc-msg-note', text: view.translatedLabel }));
    if (message.sender === 'system' && meta.kind) header.push(el('span', { class: 'nc-msg-note', text: meta.kind.replace(/_/g, ' ') }));
    const children = [
      el('div', { class: 'nc-msg-meta' }, header),
      el('p', { class: 'nc-msg-text', text: view.main.text, attrs: { lang: view.main.lang, dir: 'auto' } }),
    ];
    if (view.original) {
      children.push(
        el('p', { class: 'nc-msg-original' }, [
          el('span', { class: 'nc-msg-label', text: `${view.originalLabel}: ` }),
          el('span', { text: view.original.text, attrs: { lang: view.original.lang, dir: 'auto' } }),
        ]),
      );
    }
    if (Array.isArray(meta.buttons) && meta.buttons.length) {
      children.push(
        el(
          'ul',
          { class: 'nc-msg-buttons', attrs: { 'aria-label': 'Choices offered' } },
          meta.buttons.map((b) => el('li', { text: b.title || b.payload || '' })),
        ),
      );
    }
    return el('article', {
      class: ['nc-msg', `nc-msg--${message.sender}`],
      attrs: { 'data-seq': message.seq, 'data-id': message.id },
    }, children);
  }

  renderPending(item) {
    const status =
      item.status === 'failed'
        ? [
            el('span', { class: 'nc-error', text: `Not sent: ${item.error || 'no answer'}` }),
            el('button', {
              class: 'nc-btn nc-btn--small',
              text: 'Retry',
              attrs: { type: 'button' },
              on: { click: () => this.actions.retry(this.id, item.client_id) },
            }),
          ]
        : [el('span', { class: 'nc-msg-note', text: 'sending…' })];
    return el('article', { class: 'nc-msg nc-msg--agent nc-msg--pending', attrs: { 'data-client-id': item.client_id } }, [
      el('div', { class: 'nc-msg-meta' }, [el('span', { class: 'nc-msg-sender', text: 'You' }), ...status]),
      el('p', { class: 'nc-msg-text', text: item.text, attrs: { dir: 'auto' } }),
    ]);
  }

  renderPacket(packet) {
    const messages = this.store.get(this.id)?.messages || [];
    this.packetPanel.replaceChildren(...packetSections(packet, { messages, onPastFor: (v) => this.actions.showPastFor(v) }));
  }
}
