// Attachments on the client side (docs/protocol.md, Attachments), shared by the visitor widget and
// the agent console. The pure parts (pre-checks, link expiry, error mapping) are unit-tested in
// test/attachments.test.js; the service decides for real (it sniffs the bytes, re-encodes images).

export const TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'application/pdf'];
export const ACCEPT = [...TYPES, '.jpg', '.jpeg', '.png', '.webp', '.gif', '.pdf'].join(',');
export const MAX_BYTES = 5 * 1024 * 1024; // HANDOFF_ATTACHMENT_MAX_BYTES's default
export const LINK_MARGIN_S = 30; // a link this close to its expiry is asked for again

const EXTENSIONS = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', pdf: 'application/pdf' };

/** The type a picked file claims (its MIME type, else its extension), or ''. */
export function claimedType(file) {
  if (file && TYPES.includes(file.type)) return file.type;
  const name = String((file && file.name) || '');
  const ext = name.includes('.') ? name.split('.').pop().toLowerCase() : '';
  return EXTENSIONS[ext] || '';
}

/** Why a picked file will surely be refused (`too_large`, `unsupported_type`, `empty`), or null. */
export function precheck(file, maxBytes = MAX_BYTES) {
  if (!file || !file.size) return 'empty';
  if (file.size > maxBytes) return 'too_large';
  if (!claimedType(file)) return 'unsupported_type';
  return null;
}

/** The attachment reference `{id, name, type, size}` a message carries, or null. */
export function attachmentOf(message) {
  const ref = message && message.meta && message.meta.attachment;
  return ref && typeof ref.id === 'string' && typeof ref.name === 'string' ? ref : null;
}

export const isImage = (ref) => Boolean(ref && String(ref.type).startsWith('image/'));

/** 2048 -> "2 KB", 5242880 -> "5 MB". */
export function formatSize(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${Math.round((n / (1024 * 1024)) * 10) / 10} MB`;
}

/** Is a link that expires at `expiresAt` (unix seconds) still good at `nowMs`, with a margin? */
export function linkFresh(expiresAt, nowMs = Date.now(), marginS = LINK_MARGIN_S) {
  return Number.isFinite(expiresAt) && expiresAt - marginS > nowMs / 1000;
}

/** An HTTP answer of /api/attachments as `{code, message, retryAfter}` (code 'network' when none). */
export function uploadError(status, body) {
  const code = (body && body.error) || (status === 413 ? 'too_large' : status ? `http_${status}` : 'network');
  return { code, message: (body && body.message) || '', retryAfter: body && body.retry_after };
}

/** Links per attachment, asked for again only when missing or about to expire. */
export class LinkCache {
  /** @param {(cid: string, aid: string) => Promise<{url: string, expires_at: number}>} fetchLink */
  constructor(fetchLink, now = () => Date.now()) {
    this.fetchLink = fetchLink;
    this.now = now;
    this.links = new Map();
  }

  /** `{url, expires_at}`, fresh. */
  async link(cid, aid) {
    const key = `${cid}/${aid}`;
    const known = this.links.get(key);
    if (known && linkFresh(known.expires_at, this.now())) return known;
    const link = await this.fetchLink(cid, aid);
    this.links.set(key, link);
    return link;
  }

  /** A fresh URL. */
  async get(cid, aid) {
    return (await this.link(cid, aid)).url;
  }

  /** The URL known now, if it is still fresh (a click can then go ahead without waiting). */
  freshUrl(cid, aid) {
    const known = this.links.get(`${cid}/${aid}`);
    return known && linkFresh(known.expires_at, this.now()) ? known.url : null;
  }

  forget(cid, aid) {
    this.links.delete(`${cid}/${aid}`);
  }
}

/** POST a file to /api/attachments; resolves with the service's JSON, rejects with uploadError(). */
export async function uploadFile(token, file, fields = {}, base = '') {
  const form = new FormData();
  form.append('file', file, file.name || 'file');
  for (const [name, value] of Object.entries(fields)) if (value) form.append(name, value);
  let response;
  try {
    response = await fetch(`${base}/api/attachments`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form });
  } catch {
    throw uploadError(0, null);
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw uploadError(response.status, body);
  return body;
}

/** GET a fresh link for one attachment (visitor or agent token). */
export async function fetchLink(token, cid, aid, base = '') {
  const response = await fetch(`${base}/api/attachments/${encodeURIComponent(cid)}/${encodeURIComponent(aid)}/link`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw uploadError(response.status, body);
  return body;
}
