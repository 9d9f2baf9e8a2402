// An attachment in a transcript, for the visitor widget (prefix `nw`) and the console (`nc`): an
// image thumbnail or a file chip, linking to a signed link that is asked for (LinkCache) when
// shown and again when it is about to expire by the time it is clicked. Text goes in as text only.

import { formatSize, isImage } from './attachments.js';
import { el } from './dom.js';

/**
 * @param {{id, name, type, size}} ref the message's `meta.attachment`
 * @param {string} cid the conversation
 * @param {{links: LinkCache, prefix: string, labels: {download: (name) => string, gone: string}}} options
 */
export function attachmentNode(ref, cid, { links, prefix, labels }) {
  const image = isImage(ref);
  const link = el('a', {
    class: [`${prefix}-file`, image ? `${prefix}-file--image` : `${prefix}-file--doc`],
    attrs: {
      href: '#',
      rel: 'noopener noreferrer',
      target: image ? '_blank' : null,
      download: image ? null : ref.name,
      title: labels.download(ref.name),
      'data-attachment-id': ref.id,
      'data-attachment-type': ref.type,
    },
  });
  const thumb = image ? el('img', { class: `${prefix}-thumb`, attrs: { alt: ref.name } }) : null;
  if (thumb) link.append(thumb);
  else {
    link.append(
      el('span', { class: `${prefix}-file-icon`, text: 'PDF', attrs: { 'aria-hidden': 'true' } }),
      el('span', { class: `${prefix}-file-name`, text: ref.name, attrs: { dir: 'auto' } }),
      el('span', { class: `${prefix}-file-size`, text: formatSize(ref.size) }),
    );
  }
  const node = el('span', { class: `${prefix}-attachment` }, [link]);
  const gone = () => node.replaceChildren(el('span', { class: `${prefix}-file-gone`, text: labels.gone, attrs: { role: 'note' } }));
  const refresh = async () => {
    try {
      const url = await links.get(cid, ref.id);
      link.href = url;
      if (thumb && !thumb.getAttribute('src')) thumb.src = url;
      link.dataset.ready = 'true';
      return url;
    } catch (error) {
      if (error && (error.code === 'not_found' || error.code === 'forbidden')) gone();
      return null;
    }
  };
  refresh();
  link.addEventListener('click', (event) => {
    const url = links.freshUrl(cid, ref.id);
    if (url) {
      link.href = url; // go ahead: the browser follows (or downloads) it
      return;
    }
    event.preventDefault(); // expired or not yet known: a fresh link, then the same click again
    refresh().then((fresh) => fresh && link.click());
  });
  return node;
}
