// The batch endpoints' report (POST /v1/<resource>/batch): its shape and counts, NDJSON bodies.
import assert from 'node:assert/strict';
import { show } from './http.mjs';

/** Asserts a 200 batch report and returns it. */
export function report(res, what = '') {
  assert.equal(res.status, 200, `${what}${what ? ': ' : ''}expected 200, got ${show(res)}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/, show(res));
  const r = res.json;
  assert.ok(r && Array.isArray(r.rejected), `${what}: no batch report: ${show(res)}`);
  return r;
}

/** Asserts counts of a report: { created, updated, unchanged } and the rejected indices. */
export function assertCounts(rep, { created = 0, updated = 0, unchanged = 0, rejected = [] }, what = '') {
  assert.deepEqual(
    { created: rep.created, updated: rep.updated, unchanged: rep.unchanged, rejected: rep.rejected.map((x) => x.index) },
    { created, updated, unchanged, rejected },
    `${what}: report ${JSON.stringify({ ...rep, rejected: rep.rejected.slice(0, 5) })}`,
  );
}

/** The sorted list of error fields of a rejection. */
export const fieldsOf = (rejection) => rejection.errors.map((e) => e.field).sort();

/** NDJSON text of records (strings are taken as raw lines). */
export function ndjson(lines, eol = '\n') {
  return lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join(eol) + eol;
}
