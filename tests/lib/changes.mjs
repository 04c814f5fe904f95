// Helpers of the change feed and webhook suites: creating what emits events, a feed reader that
// follows next_cursor, and the Standard Webhooks signature computed independently of the
// service (node:crypto).
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { inlineReferralBody } from './data.mjs';

/** Creates a referral (inline household) as `token`; returns its JSON. */
export async function createReferral(svc, token, platform = 'artois', over = {}) {
  const res = await svc.api('POST', '/v1/referrals', { token, body: inlineReferralBody(platform, over) });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

export async function transition(svc, token, id, to, on) {
  const res = await svc.api('POST', `/v1/referrals/${id}/transitions`, { token, body: { to, on } });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

/** The (position, event id) a feed cursor holds. */
export function cursorPosition(cursor) {
  const [pos, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  return { pos: BigInt(pos), id: BigInt(id) };
}

/**
 * Reads the feed as `token` from `after` until it is caught up (an answer without items and
 * without has_more); returns { events, cursor }.
 */
export async function readAll(svc, token, { after, query = '', limit = 500 } = {}) {
  const events = [];
  let cursor = after;
  for (let page = 0; page < 1000; page += 1) {
    const q = new URLSearchParams(query);
    q.set('limit', String(limit));
    if (cursor) q.set('after', cursor);
    const res = await svc.api('GET', `/v1/changes?${q}`, { token });
    assert.equal(res.status, 200, res.text);
    events.push(...res.json.items);
    cursor = res.json.next_cursor;
    if (!res.json.has_more && res.json.items.length === 0) return { events, cursor };
  }
  throw new Error('the feed never ended');
}

/**
 * The Standard Webhooks verification, written from the specification: the signed content is
 * `${id}.${timestamp}.${body}`, the key the base64-decoded secret after `whsec_`, the header
 * a space-separated list of `v1,<base64 HMAC-SHA-256>`. Returns the number of signatures of
 * the header that `secret` produced (0: not signed by it).
 */
export function standardWebhookMatches(secret, headers, rawBody) {
  assert.ok(secret.startsWith('whsec_'), 'the secret starts with whsec_');
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const id = headers['webhook-id'];
  const ts = headers['webhook-timestamp'];
  const expected = createHmac('sha256', key).update(`${id}.${ts}.`).update(rawBody).digest();
  let n = 0;
  for (const part of String(headers['webhook-signature'] ?? '').split(' ')) {
    const [version, sig] = part.split(',');
    if (version !== 'v1' || !sig) continue;
    const got = Buffer.from(sig, 'base64');
    if (got.length === expected.length && timingSafeEqual(got, expected)) n += 1;
  }
  return n;
}
