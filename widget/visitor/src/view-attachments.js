// Sending a file (the paperclip) and showing one (a thumbnail or a file chip): docs/protocol.md,
// Attachments. The file goes to POST /api/attachments with the visitor token; the message it
// becomes arrives like any other (`message`), so only the pending line and errors live here.

import { attachmentNode } from '../../shared/attachment-view.js';
import { ACCEPT, LinkCache, MAX_BYTES, fetchLink, precheck, uploadFile } from '../../shared/attachments.js';
import { el } from './dom.js';
import { translate } from './i18n.js';
import { newClientId } from './logic.js';

const MAX_MB = MAX_BYTES / (1024 * 1024);

/** The visitor's words for a refusal (the service's own message is English). */
export function uploadErrorText(error, t) {
  switch (error.code) {
    case 'too_large':
      return t('uploadTooLarge', { max: MAX_MB });
    case 'unsupported_type':
    case 'bad_file':
    case 'empty':
      return t('uploadType');
    case 'no_conversation':
    case 'invalid_state':
      return t('uploadNoChat');
    case 'rate_limited':
      return t('uploadRateLimited', { seconds: error.retryAfter || 60 });
    default:
      return t('uploadFailed', { message: error.message || error.code });
  }
}

const SVG = 'http://www.w3.org/2000/svg';

function paperclip() {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '20');
  svg.setAttribute('height', '20');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', 'M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9');
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', 'currentColor');
  path.setAttribute('stroke-width', '2');
  path.setAttribute('stroke-linecap', 'round');
  svg.appendChild(path);
  return svg;
}

/** The paperclip, its hidden file input and the pending / error line. */
export function attachControl({ t, token }) {
  const status = el('div', { class: 'nw-upload', attrs: { role: 'status', 'aria-live': 'polite', hidden: true } });
  const show = (text, state) => {
    status.hidden = !text;
    status.textContent = text || '';
    status.dataset.state = state || '';
  };
  const input = el('input', { class: 'nw-file-input', attrs: { type: 'file', accept: ACCEPT, hidden: true, tabindex: '-1' } });
  const button = el('button', { class: 'nw-attach', attrs: { type: 'button' }, on: { click: () => input.click() } }, [paperclip()]);
  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    input.value = '';
    if (!file) return;
    const refused = precheck(file);
    if (refused) {
      show(uploadErrorText({ code: refused }, t), 'error');
      return;
    }
    show(t('uploading', { name: file.name }), 'pending');
    button.disabled = true;
    try {
      await uploadFile(token(), file, { client_id: newClientId() });
      show('', '');
    } catch (error) {
      show(uploadErrorText(error, t), 'error');
    } finally {
      button.disabled = false;
    }
  });
  return { button, input, status, show };
}

let links = null;

/** The attachment of a message, shown in the list (view-messages.js). */
export function attachmentView(ref, message, { ui, token }) {
  links = links || new LinkCache((cid, aid) => fetchLink(token(), cid, aid));
  return attachmentNode(ref, message.conversation_id, {
    links,
    prefix: 'nw',
    labels: { download: (name) => translate(ui, 'download', { name }), gone: translate(ui, 'fileGone') },
  });
}
