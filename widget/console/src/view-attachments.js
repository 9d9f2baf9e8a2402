// Attachments in a conversation pane: previews of what the visitor sent (an image, a PDF chip) and
// the agent's "Attach file" button (POST /api/attachments with the agent token and the
// conversation id). docs/protocol.md, Attachments.

import { attachmentNode } from '../../shared/attachment-view.js';
import { ACCEPT, LinkCache, MAX_BYTES, fetchLink, formatSize, precheck, uploadFile } from '../../shared/attachments.js';
import { loadToken } from './api.js';
import { el } from './dom.js';
import { newClientId } from './logic.js';

const links = new LinkCache((cid, aid) => fetchLink(loadToken(), cid, aid));
const LABELS = { download: (name) => `Open ${name}`, gone: 'This file has been deleted.' };

/** The agent's words for a refusal. */
export function uploadErrorText(error) {
  if (error.code === 'too_large') return `The file is too big (up to ${formatSize(MAX_BYTES)}).`;
  if (error.code === 'unsupported_type' || error.code === 'empty') {
    return error.message || 'Only photos (JPEG, PNG, WebP, GIF) and PDF files can be sent.';
  }
  if (error.code === 'rate_limited') return `Too many files; try again in ${error.retryAfter || 60} s.`;
  return `The file was not sent: ${error.message || error.code}`;
}

export class PaneFiles {
  constructor(conversationId) {
    this.conversationId = conversationId;
    this.nodes = new Map(); // one node per attachment, kept across re-renders (no image reload)
    this.status = el('p', { class: 'nc-upload', attrs: { role: 'status', 'aria-live': 'polite' } });
    this.input = el('input', { attrs: { type: 'file', accept: ACCEPT, hidden: true, tabindex: '-1' } });
    this.button = el('button', {
      class: 'nc-btn nc-attach',
      text: 'Attach file',
      attrs: { type: 'button', title: 'Send a photo or PDF to the visitor' },
      on: { click: () => this.input.click() },
    });
    this.input.addEventListener('change', () => this.onPick());
  }

  node(ref, cid) {
    let node = this.nodes.get(ref.id);
    if (!node) {
      node = attachmentNode(ref, cid, { links, prefix: 'nc', labels: LABELS });
      this.nodes.set(ref.id, node);
    }
    return node;
  }

  show(text, state = '') {
    this.status.textContent = text;
    this.status.dataset.state = state;
  }

  async onPick() {
    const file = this.input.files && this.input.files[0];
    this.input.value = '';
    if (!file) return;
    const refused = precheck(file);
    if (refused) {
      this.show(uploadErrorText({ code: refused }), 'error');
      return;
    }
    this.show(`Sending ${file.name}…`, 'pending');
    this.button.disabled = true;
    try {
      await uploadFile(loadToken(), file, { conversation_id: this.conversationId, client_id: newClientId() });
      this.show('');
    } catch (error) {
      this.show(uploadErrorText(error), 'error');
    } finally {
      this.button.disabled = false;
    }
  }
}
