// Unit tests of the attachments' pure logic (widget/shared/attachments.js).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  LinkCache,
  MAX_BYTES,
  attachmentOf,
  claimedType,
  formatSize,
  isImage,
  linkFresh,
  precheck,
  uploadError,
} from '../shared/attachments.js';

describe('precheck', () => {
  it('passes photos and PDFs under the limit', () => {
    assert.equal(precheck({ name: 'box.jpg', type: 'image/jpeg', size: 1000 }), null);
    assert.equal(precheck({ name: 'label.PDF', type: '', size: 1000 }), null); // no MIME type: the extension
  });
  it('refuses what the service would refuse anyway', () => {
    assert.equal(precheck({ name: 'big.png', type: 'image/png', size: MAX_BYTES + 1 }), 'too_large');
    assert.equal(precheck({ name: 'x.png', type: 'image/png', size: 100 }, 50), 'too_large');
    assert.equal(precheck({ name: 'run.exe', type: 'application/x-msdownload', size: 10 }), 'unsupported_type');
    assert.equal(precheck({ name: 'page.html', type: 'text/html', size: 10 }), 'unsupported_type');
    assert.equal(precheck({ name: 'empty.png', type: 'image/png', size: 0 }), 'empty');
    assert.equal(precheck(null), 'empty');
  });
  it('reads the claimed type from the MIME type, else the extension', () => {
    assert.equal(claimedType({ name: 'a.webp', type: '' }), 'image/webp');
    assert.equal(claimedType({ name: 'noext', type: '' }), '');
    assert.equal(claimedType({ name: 'a.txt', type: 'image/gif' }), 'image/gif');
  });
});

describe('links', () => {
  it('a link is fresh until its margin before expiry', () => {
    assert.equal(linkFresh(1000, 900 * 1000), true);
    assert.equal(linkFresh(1000, 971 * 1000), false); // within the 30 s margin
    assert.equal(linkFresh(1000, 1000 * 1000), false);
    assert.equal(linkFresh(undefined, 0), false);
  });
  it('LinkCache asks again only when the link is missing or about to expire', async () => {
    let now = 0;
    const asked = [];
    const cache = new LinkCache(async (cid, aid) => {
      asked.push(`${cid}/${aid}`);
      return { url: `/u/${asked.length}`, expires_at: now / 1000 + 900 };
    }, () => now);
    assert.equal(await cache.get('c_1', 'a_1'), '/u/1');
    now += 60_000;
    assert.equal(await cache.get('c_1', 'a_1'), '/u/1'); // still fresh
    now += 850_000;
    assert.equal(await cache.get('c_1', 'a_1'), '/u/2'); // expired: a new one
    assert.equal(await cache.get('c_1', 'a_2'), '/u/3');
    cache.forget('c_1', 'a_2');
    assert.equal(await cache.get('c_1', 'a_2'), '/u/4');
    assert.deepEqual(asked, ['c_1/a_1', 'c_1/a_1', 'c_1/a_2', 'c_1/a_2']);
  });
});

describe('messages and errors', () => {
  it('finds the attachment reference of a message', () => {
    const ref = { id: 'a_1', name: 'x.pdf', type: 'application/pdf', size: 3 };
    assert.deepEqual(attachmentOf({ meta: { attachment: ref } }), ref);
    assert.equal(attachmentOf({ meta: {} }), null);
    assert.equal(attachmentOf({ meta: { attachment: { id: 3 } } }), null);
    assert.equal(isImage(ref), false);
    assert.equal(isImage({ type: 'image/png' }), true);
  });
  it('formats sizes', () => {
    assert.equal(formatSize(500), '500 B');
    assert.equal(formatSize(2048), '2 KB');
    assert.equal(formatSize(5 * 1024 * 1024), '5 MB');
  });
  it('maps HTTP answers to codes', () => {
    assert.deepEqual(uploadError(429, { error: 'rate_limited', message: 'm', retry_after: 7 }), { code: 'rate_limited', message: 'm', retryAfter: 7 });
    assert.equal(uploadError(413, null).code, 'too_large'); // a proxy's bare 413
    assert.equal(uploadError(0, null).code, 'network');
    assert.equal(uploadError(502, null).code, 'http_502');
  });
});
