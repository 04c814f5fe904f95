// Batch ingestion:
// POST /v1/{siao-requests,households,referrals}/batch upserted by (source, external_id), the
// per-record report, NDJSON, ?atomic=true, Idempotency-Key (replay, mismatch, token scope,
// concurrency), crash safety (SIGKILL mid-batch, retry: each record exactly once), the
// service staying responsive during a big batch, the limits (413/415/400/422/403/401), the
// age derived from birth_year in Europe/Paris, households/referrals batches, and reading the
// pushed requests back (GET /v1/siao-requests: source scope, pagination, updated_since).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID, createHmac } from 'node:crypto';
import { startService, TEST_PSEUDONYM_KEY } from '../lib/service.mjs';
import { SCOPE, extId, batchSiaoRecord, batchSiaoRecords, batchHouseholdRecord, batchReferralRecord, uniqueName } from '../lib/data.mjs';
import { report, assertCounts, fieldsOf, ndjson } from '../lib/batch-report.mjs';
import { show } from '../lib/http.mjs';
import { assertProblem } from '../lib/problems.mjs';
import { sleep } from '../lib/wait.mjs';

const SIAO_BATCH = '/v1/siao-requests/batch';
const HOUSEHOLD_BATCH = '/v1/households/batch';
const REFERRAL_BATCH = '/v1/referrals/batch';
const BIG = 10_000;
const BIG_TIMEOUT = 120_000; // one 10 000-record request (sanitizer builds are ~3x slower)

/** Rows of one source in siao_request. */
async function countSource(svc, source) {
  const { rows } = await svc.sql(
    'SELECT count(*)::int AS n, count(DISTINCT external_id)::int AS distinct_ids FROM siao_request WHERE source = $1',
    [source],
  );
  return rows[0];
}

/** (external_id → "response|updated_at|row_version") of one source: a write changes it. */
async function snapshot(svc, source) {
  const { rows } = await svc.sql(
    `SELECT external_id, response, updated_at::text AS u, row_version::int AS v
       FROM siao_request WHERE source = $1 ORDER BY external_id`,
    [source],
  );
  return rows.map((r) => `${r.external_id}|${r.response}|${r.u}|${r.v}`);
}

/** Follows next_cursor of GET /v1/siao-requests (path has a query string); bounded. */
async function walkSiao(svc, path, token, maxPages = 20) {
  const pages = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page += 1) {
    const url = cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path;
    const res = await svc.api('GET', url, { token, timeout: 60_000 });
    assert.equal(res.status, 200, `${url}: ${show(res)}`);
    pages.push(res.json.items);
    cursor = res.json.next_cursor;
    if (!cursor) return pages;
  }
  throw new Error(`${path}: more than ${maxPages} pages`);
}

const post = (svc, path, body, token, extra = {}) => svc.api('POST', path, { body, token, timeout: BIG_TIMEOUT, ...extra });

// ============================================================================ SIAO requests

describe('SIAO request batches: upsert, report, NDJSON, atomic, idempotency, read-back', () => {
  let svc;
  const tok = {};

  before(async () => {
    svc = await startService();
    tok.admin = await svc.createToken('admin', { name: 'batch-admin' });
    const siao = {
      acc1: 'acc1',
      acc2: 'acc2',
      acc2atomic: 'acc2-atomic',
      nd: 'nd',
      idem: 'idem',
      idem2: 'idem', // a second token of the same source: keys are per token
      read: 'read-a',
      readC: 'read-c',
      live: 'live',
      edge: 'edge',
      edgeLens: 'edge', // the same source, scoped to lens_henin only
    };
    for (const [label, source] of Object.entries(siao)) {
      const platforms = label === 'edgeLens' ? ['lens_henin'] : SCOPE;
      tok[label] = await svc.createToken('siao', { platforms, source, name: `batch-${label}` });
    }
  });

  after(async () => {
    await svc?.stop();
  });

  // ------------------------------------------------------------------ acceptance 1
  test('10 000 records: created, then unchanged, then 100 updated; exactly 10 000 rows', async (t) => {
    const records = batchSiaoRecords('acc1', BIG);
    let t0 = Date.now();
    const first = report(await post(svc, SIAO_BATCH, records, tok.acc1), 'first push');
    const firstMs = Date.now() - t0;
    assertCounts(first, { created: BIG }, 'first push');
    assert.deepEqual(await countSource(svc, 'acc1'), { n: BIG, distinct_ids: BIG });

    t0 = Date.now();
    const again = report(await post(svc, SIAO_BATCH, records, tok.acc1), 'same batch again');
    const againMs = Date.now() - t0;
    assertCounts(again, { unchanged: BIG }, 'same batch again');

    // 100 records changed (every 100th gets another response and needs)
    const changed = records.map((r, i) =>
      i % 100 === 7 ? { ...r, response: r.response === 'sheltered' ? 'pending' : 'sheltered', needs: ['health'] } : r,
    );
    const upd = report(await post(svc, SIAO_BATCH, changed, tok.acc1), '100 changed');
    assertCounts(upd, { updated: 100, unchanged: BIG - 100 }, '100 changed');

    assert.deepEqual(await countSource(svc, 'acc1'), { n: BIG, distinct_ids: BIG }, 'exactly 10 000 rows for the source');
    const { rows } = await svc.sql(
      `SELECT count(*)::int AS n FROM siao_request
        WHERE source = 'acc1' AND needs = '{health}' AND row_version = 2`,
    );
    assert.equal(rows[0].n, 100, 'the 100 changed rows hold the new values (and were written once more)');
    const { rows: stable } = await svc.sql(
      "SELECT count(*)::int AS n FROM siao_request WHERE source = 'acc1' AND row_version = 1",
    );
    assert.equal(stable[0].n, BIG - 100, 'unchanged rows are not rewritten');
    t.diagnostic(`10 000 records: first ${firstMs} ms, unchanged ${againMs} ms`);
  });

  test('null and absent members are the same record ("not collected"): unchanged', async () => {
    const a = batchSiaoRecord('acc1n', 1, { person_key: null, sex: null, alternatives_known: null });
    const r1 = report(await post(svc, `${SIAO_BATCH}?source=nulls`, [a], tok.admin));
    assertCounts(r1, { created: 1 });
    const { person_key, sex, alternatives_known, ...b } = a; // eslint-disable-line no-unused-vars
    const r2 = report(await post(svc, `${SIAO_BATCH}?source=nulls`, [b], tok.admin));
    assertCounts(r2, { unchanged: 1 }, 'absent instead of null');
  });

  // ------------------------------------------------------------------ acceptance 2
  test('1 000 records with 37 invalid: 963 stored, 37 rejected with index, external_id and fields; atomic: 422 and nothing', async () => {
    const N = 1000;
    const records = batchSiaoRecords('acc2', N);
    const invalid = []; // { index, external_id, fields }
    for (let k = 0; k < 37; k += 1) {
      const i = 13 + 26 * k;
      const rec = { ...records[i] };
      let fields;
      switch (k % 8) {
        case 0:
          rec.channel = 'fax';
          fields = ['/channel'];
          break;
        case 1:
          rec.received_at = new Date(Date.now() + 2 * 86_400_000).toISOString();
          fields = ['/received_at'];
          break;
        case 2:
          rec.age = 121;
          fields = ['/age'];
          break;
        case 3:
          delete rec.channel;
          fields = ['/channel'];
          break;
        case 4:
          rec.favourite_colour = 'blue';
          fields = ['/favourite_colour'];
          if (k === 36) {
            // every error of a record is listed
            rec.age = 130;
            rec.sex = 'robot';
            fields = ['/age', '/favourite_colour', '/sex'];
          }
          break;
        case 5: {
          const variant = Math.floor(k / 8) % 3;
          if (variant === 0) {
            rec.age = '21';
            fields = ['/age'];
          } else if (variant === 1) {
            rec.needs = 'food';
            fields = ['/needs'];
          } else {
            rec.alternatives_known = 'no';
            fields = ['/alternatives_known'];
          }
          break;
        }
        case 6:
          rec.platform = 'boulonnais'; // a real platform, outside the token's
          fields = ['/platform'];
          break;
        case 7:
          rec.external_id = records[i - 1].external_id; // the previous (valid) record's id
          rec.age = 99;
          fields = ['/external_id'];
          break;
        default:
          throw new Error('unreachable');
      }
      records[i] = rec;
      invalid.push({ index: i, external_id: rec.external_id, fields });
    }
    const valid = records.filter((_, i) => !invalid.some((x) => x.index === i));
    assert.equal(valid.length, 963);

    const rep = report(await post(svc, SIAO_BATCH, records, tok.acc2), 'batch with 37 invalid');
    assertCounts(rep, { created: 963, rejected: invalid.map((x) => x.index) }, 'batch with 37 invalid');
    for (const [n, want] of invalid.entries()) {
      const got = rep.rejected[n];
      assert.equal(got.index, want.index);
      assert.equal(got.external_id, want.external_id, `rejected[${n}] external_id`);
      assert.deepEqual(fieldsOf(got), want.fields, `rejected[${n}] (index ${want.index}) fields: ${JSON.stringify(got)}`);
      for (const e of got.errors) assert.ok(e.message && typeof e.message === 'string', JSON.stringify(got));
    }

    // exactly the valid records are stored, the duplicated id holding its first record
    const { rows } = await svc.sql('SELECT external_id, age FROM siao_request WHERE source = $1', ['acc2']);
    assert.equal(rows.length, 963);
    assert.deepEqual(
      rows.map((r) => r.external_id).sort(),
      valid.map((r) => r.external_id).sort(),
      'the stored ids are the valid records',
    );
    for (const x of invalid.filter((y) => y.fields[0] === '/external_id')) {
      const stored = rows.find((r) => r.external_id === x.external_id);
      assert.equal(stored.age, records[x.index - 1].age, `${x.external_id}: the first record of the id is kept`);
    }

    // ?atomic=true on a fresh source: 422, every error prefixed by its index, nothing stored
    const bad = await post(svc, `${SIAO_BATCH}?atomic=true`, records, tok.acc2atomic);
    const problem = assertProblem(bad, 422);
    assert.deepEqual(problem.rejected, rep.rejected, 'the atomic 422 lists the records as the report would');
    const expectErrors = rep.rejected.flatMap((r) => r.errors.map((e) => ({ field: `/${r.index}${e.field}`, message: e.message })));
    assert.deepEqual(problem.errors, expectErrors, 'errors: fields prefixed by /<index>');
    assert.deepEqual(await countSource(svc, 'acc2-atomic'), { n: 0, distinct_ids: 0 }, 'atomic: nothing stored');

    // atomic with only valid records stores them all
    const ok = report(await post(svc, `${SIAO_BATCH}?atomic=true`, valid, tok.acc2atomic), 'atomic, all valid');
    assertCounts(ok, { created: 963 }, 'atomic, all valid');
    assert.deepEqual(await countSource(svc, 'acc2-atomic'), { n: 963, distinct_ids: 963 });
  });

  // ------------------------------------------------------------------ NDJSON
  test('NDJSON: same semantics; a malformed line is rejected at its index, the others stored', async () => {
    const N = 40;
    const records = batchSiaoRecords('nd', N);
    const lines = records.map((r) => JSON.stringify(r));
    lines[5] = '{"external_id": "nd-000005", "received_at": '; // cut line
    lines[12] = JSON.stringify({ ...records[12], channel: 'pigeon' });
    lines[20] = '[1, 2]'; // JSON, not an object
    // CRLF on some lines, trailing spaces, final newline
    const body = lines.map((l, i) => (i % 3 === 0 ? `${l}\r` : i % 7 === 0 ? `${l}  ` : l)).join('\n') + '\n';
    const ct = { 'Content-Type': 'application/x-ndjson' };

    const r1 = report(await post(svc, SIAO_BATCH, body, tok.nd, { raw: true, headers: ct }), 'NDJSON push');
    assertCounts(r1, { created: N - 3, rejected: [5, 12, 20] }, 'NDJSON push');
    assert.equal(r1.rejected[0].external_id, null, 'a line that is not JSON has no external_id');
    assert.equal(r1.rejected[0].errors.length, 1);
    assert.equal(r1.rejected[0].errors[0].field, '', 'a malformed line is rejected as a whole ("")');
    assert.deepEqual(fieldsOf(r1.rejected[1]), ['/channel']);
    assert.equal(r1.rejected[1].external_id, 'nd-000012');
    assert.deepEqual(fieldsOf(r1.rejected[2]), ['']);
    assert.deepEqual(await countSource(svc, 'nd'), { n: N - 3, distinct_ids: N - 3 });

    // the same body again: unchanged, the same rejections
    const r2 = report(await post(svc, SIAO_BATCH, body, tok.nd, { raw: true, headers: ct }), 'NDJSON again');
    assertCounts(r2, { unchanged: N - 3, rejected: [5, 12, 20] }, 'NDJSON again');

    // fixed line 5, record 3 changed, a blank line (not counted) before index 12, charset param
    const fixed = [...lines];
    fixed[5] = JSON.stringify(records[5]);
    fixed[3] = JSON.stringify({ ...records[3], response: 'other', age: 40 });
    const withBlank = [...fixed.slice(0, 9), '', '   ', ...fixed.slice(9)];
    const r3 = report(
      await post(svc, SIAO_BATCH, ndjson(withBlank), tok.nd, {
        raw: true,
        headers: { 'Content-Type': 'application/x-ndjson; charset=utf-8' },
      }),
      'NDJSON fixed',
    );
    assertCounts(r3, { created: 1, updated: 1, unchanged: N - 4, rejected: [12, 20] }, 'NDJSON fixed (blank lines not counted)');
    assert.equal(r3.rejected[0].external_id, 'nd-000012');
    const { rows } = await svc.sql("SELECT response, age FROM siao_request WHERE source = 'nd' AND external_id = 'nd-000003'");
    assert.deepEqual(rows[0], { response: 'other', age: 40 });

    // atomic NDJSON with the malformed line: 422, nothing more stored
    const bad = await post(svc, `${SIAO_BATCH}?atomic=true`, body, tok.acc2atomic, { raw: true, headers: ct });
    const p = assertProblem(bad, 422, { fields: ['/5', '/12/channel', '/20'] });
    assert.deepEqual(p.rejected.map((x) => x.index), [5, 12, 20]);
    assert.equal((await countSource(svc, 'acc2-atomic')).n, 963, 'atomic NDJSON stored nothing');
  });

  // ------------------------------------------------------------------ acceptance 4
  test('Idempotency-Key: byte-identical replay writes nothing; other body 422; scoped to the token', async () => {
    const N = 300;
    const records = batchSiaoRecords('idem', N);
    const K1 = randomUUID();
    const r1 = await post(svc, SIAO_BATCH, records, tok.idem, { headers: { 'Idempotency-Key': K1 } });
    assertCounts(report(r1, 'first'), { created: N }, 'first');
    assert.equal(r1.headers['idempotent-replayed'], undefined, 'a first answer is not marked replayed');

    // the data moves on (10 records changed by a push without key)
    const moved = records.map((r, i) => (i % 30 === 0 ? { ...r, response: 'declined_by_person', age: 77 } : r));
    assertCounts(report(await post(svc, SIAO_BATCH, moved, tok.idem)), { updated: 10, unchanged: N - 10 }, 'moved');
    const before = await snapshot(svc, 'idem');

    // replay: same key, same body → the first answer byte for byte, nothing written (the 10
    // moved records would go back, and updated_at/row_version move, if the batch ran again)
    const r2 = await post(svc, SIAO_BATCH, records, tok.idem, { headers: { 'Idempotency-Key': K1 } });
    assert.equal(r2.status, r1.status);
    assert.equal(r2.text, r1.text, 'the replay is byte-identical to the first answer');
    assert.equal(r2.headers['idempotent-replayed'], 'true');
    assert.match(r2.headers['content-type'], /^application\/json/);
    assert.deepEqual(await snapshot(svc, 'idem'), before, 'the replay wrote nothing');

    // same key, another body (or another request: atomic, another route) → 422, nothing written
    const other = records.map((r, i) => (i === 0 ? { ...r, age: 55 } : r));
    const r3 = await post(svc, SIAO_BATCH, other, tok.idem, { headers: { 'Idempotency-Key': K1 } });
    assertProblem(r3, 422);
    assert.equal(r3.headers['idempotent-replayed'], undefined);
    const r3b = await post(svc, `${SIAO_BATCH}?atomic=true`, records, tok.idem, { headers: { 'Idempotency-Key': K1 } });
    assertProblem(r3b, 422);
    const r3c = await post(
      svc,
      SIAO_BATCH,
      records.map((r) => JSON.stringify(r)).join('\n'),
      tok.idem,
      { raw: true, headers: { 'Idempotency-Key': K1, 'Content-Type': 'application/x-ndjson' } },
    );
    assertProblem(r3c, 422);
    assert.deepEqual(await snapshot(svc, 'idem'), before, 'a mismatching key wrote nothing');

    // another token (same source) with the same key runs its own batch
    const r4 = await post(svc, SIAO_BATCH, records, tok.idem2, { headers: { 'Idempotency-Key': K1 } });
    assertCounts(report(r4, 'other token'), { updated: 10, unchanged: N - 10 }, 'another token with the same key');
    assert.equal(r4.headers['idempotent-replayed'], undefined, 'not the first token answer');
    assert.notEqual(r4.text, r1.text);
    const { rows } = await svc.sql("SELECT count(*)::int AS n FROM siao_request WHERE source = 'idem' AND age = 77");
    assert.equal(rows[0].n, 0, 'the other token batch was written');
    const r5 = await post(svc, SIAO_BATCH, records, tok.idem2, { headers: { 'Idempotency-Key': K1 } });
    assert.equal(r5.text, r4.text, 'that token now replays its own answer');
    assert.equal(r5.headers['idempotent-replayed'], 'true');

    // a key of 201 characters is refused, nothing stored
    const long = await post(svc, SIAO_BATCH, batchSiaoRecords('idemlong', 3), tok.idem, { headers: { 'Idempotency-Key': 'k'.repeat(201) } });
    assertProblem(long, 422, { fields: ['Idempotency-Key'] });
    assert.equal((await svc.sql("SELECT count(*)::int AS n FROM siao_request WHERE external_id LIKE 'idemlong-%'")).rows[0].n, 0);

    // a batch that did not answer 200 leaves no trace of its key
    const K3 = randomUUID();
    const invalidBatch = [batchSiaoRecord('idem3', 0, { channel: 'fax' })];
    assertProblem(await post(svc, `${SIAO_BATCH}?atomic=true`, invalidBatch, tok.idem, { headers: { 'Idempotency-Key': K3 } }), 422);
    const fixedBatch = [batchSiaoRecord('idem3', 0)];
    const r6 = await post(svc, `${SIAO_BATCH}?atomic=true`, fixedBatch, tok.idem, { headers: { 'Idempotency-Key': K3 } });
    assertCounts(report(r6, 'key reused after a 422'), { created: 1 }, 'key reused after a 422');
  });

  test('Idempotency-Key: two concurrent requests with the same key and body write the rows once', async () => {
    const N = 3000;
    const records = batchSiaoRecords('idemc', N);
    const K2 = randomUUID();
    const before = (await countSource(svc, 'idem')).n;
    const [a, b] = await Promise.all([
      post(svc, SIAO_BATCH, records, tok.idem, { headers: { 'Idempotency-Key': K2 } }),
      post(svc, SIAO_BATCH, records, tok.idem, { headers: { 'Idempotency-Key': K2 } }),
    ]);
    const ra = report(a, 'concurrent a');
    report(b, 'concurrent b');
    assert.equal(a.text, b.text, 'both answer the same body');
    assertCounts(ra, { created: N }, 'concurrent');
    const replayed = [a, b].filter((r) => r.headers['idempotent-replayed'] === 'true').length;
    assert.equal(replayed, 1, 'exactly one of the two is the replay of the other');
    const after = await countSource(svc, 'idem');
    assert.equal(after.n - before, N, 'rows written once (N, not 2N)');
    assert.equal(after.n, after.distinct_ids);
    const { rows } = await svc.sql(
      "SELECT count(*)::int AS n FROM siao_request WHERE source = 'idem' AND external_id LIKE 'idemc-%' AND row_version = 1",
    );
    assert.equal(rows[0].n, N, 'each row written once');
  });

  // ------------------------------------------------------------------ acceptance 5
  test('GET /v1/platforms keeps answering while a 10 000-record batch runs', async (t) => {
    const records = batchSiaoRecords('live', BIG);
    const payload = JSON.stringify(records);
    let batchAt = null;
    const t0 = performance.now();
    const batch = svc
      .api('POST', SIAO_BATCH, { body: payload, raw: true, token: tok.live, headers: { 'Content-Type': 'application/json' }, timeout: BIG_TIMEOUT })
      .then((res) => {
        batchAt = performance.now();
        return res;
      });
    const probes = [];
    for (let i = 0; i < 3000 && batchAt === null; i += 1) {
      const sent = performance.now();
      probes.push(
        svc.api('GET', '/v1/platforms', { timeout: 60_000 }).then((res) => ({ res, sent, at: performance.now() })),
      );
      await sleep(20);
    }
    const res = await batch;
    assertCounts(report(res, 'big batch'), { created: BIG }, 'big batch');
    const done = await Promise.all(probes);
    for (const p of done) assert.equal(p.res.status, 200, `GET /v1/platforms during the batch: ${show(p.res)}`);
    for (const p of done) assert.equal(p.res.json.items?.length ?? p.res.json.length, 5, show(p.res));
    const during = done.filter((p) => p.at < batchAt);
    const latencies = done.map((p) => Math.round(p.at - p.sent)).sort((x, y) => x - y);
    t.diagnostic(
      `batch ${Math.round(batchAt - t0)} ms; ${done.length} probes, ${during.length} answered during it; ` +
        `latency median ${latencies[Math.floor(latencies.length / 2)]} ms, max ${latencies.at(-1)} ms`,
    );
    assert.ok(done.length >= 2, `the batch answered too fast to probe (${Math.round(batchAt - t0)} ms)`);
    assert.ok(during.length >= 1, `no GET /v1/platforms answered before the batch did (${done.length} sent)`);
  });

  // ------------------------------------------------------------------ age / birth_year
  test('age from birth_year: year of received_at in Europe/Paris minus birth_year', async () => {
    const base = { platform: 'artois', channel: 'call_115' };
    const recs = [
      { external_id: 'age-new-year', received_at: '2024-12-31T23:30:00Z', birth_year: 2000, ...base }, // 2025 in Paris
      { external_id: 'age-eve', received_at: '2024-12-31T22:30:00Z', birth_year: 2000, ...base }, // 23:30 in Paris: 2024
      { external_id: 'age-summer', received_at: '2024-06-15T10:00:00+02:00', birth_year: 1990, ...base },
      { external_id: 'age-both', received_at: '2024-06-15T10:00:00+02:00', birth_year: 1994, age: 30, ...base },
      { external_id: 'age-both-1', received_at: '2024-06-15T10:00:00+02:00', birth_year: 1994, age: 29, ...base },
      { external_id: 'age-none', received_at: '2024-06-15T10:00:00+02:00', ...base },
      { external_id: 'age-disagree', received_at: '2024-06-15T10:00:00+02:00', birth_year: 1994, age: 27, ...base },
      { external_id: 'age-too-old', received_at: '2024-06-15T10:00:00+02:00', birth_year: 1900, ...base },
      { external_id: 'age-unborn', received_at: '2024-06-15T10:00:00+02:00', birth_year: 2030, ...base },
    ];
    const rep = report(await post(svc, `${SIAO_BATCH}?source=ages`, recs, tok.admin), 'ages');
    assertCounts(rep, { created: 6, rejected: [6, 7, 8] }, 'ages');
    assert.deepEqual(fieldsOf(rep.rejected[0]), ['/age']);
    assert.deepEqual(fieldsOf(rep.rejected[1]), ['/birth_year']);
    assert.deepEqual(fieldsOf(rep.rejected[2]), ['/birth_year']);

    const want = { 'age-new-year': 25, 'age-eve': 24, 'age-summer': 34, 'age-both': 30, 'age-both-1': 29, 'age-none': null };
    const [items] = await walkSiao(svc, '/v1/siao-requests?source=ages&limit=50', tok.admin);
    assert.deepEqual(
      Object.fromEntries(items.map((i) => [i.external_id, i.age])),
      want,
      'GET /v1/siao-requests: the stored age',
    );
    assert.equal(items.find((i) => i.external_id === 'age-new-year').birth_year, 2000);
    const { rows } = await svc.sql("SELECT external_id, age FROM siao_request WHERE source = 'ages'");
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.external_id, r.age])), want, 'sql: the stored age');
  });

  // ------------------------------------------------------------------ edge cases
  test('history older than the retention period is accepted before any purge (a purge then sets the cut-off)', async () => {
    const base = { platform: 'artois', channel: 'call_115', age: 21 };
    const recs = [
      { external_id: 'hist-2018', received_at: '2018-03-01T10:00:00+01:00', ...base },
      { external_id: 'hist-2019', received_at: '2019-11-20T09:15:00+01:00', ...base },
    ];
    const rep = report(await post(svc, `${SIAO_BATCH}?source=history`, recs, tok.admin), 'history');
    assertCounts(rep, { created: 2, rejected: [] }, 'history');
  });

  test('received_at: 5 minutes of clock tolerance, not more', async () => {
    const soon = batchSiaoRecord('tol', 0, { received_at: new Date(Date.now() + 2 * 60_000).toISOString() });
    const late = batchSiaoRecord('tol', 1, { received_at: new Date(Date.now() + 10 * 60_000).toISOString() });
    const rep = report(await post(svc, SIAO_BATCH, [soon, late], tok.edge));
    assertCounts(rep, { created: 1, rejected: [1] }, 'tolerance');
    assert.deepEqual(fieldsOf(rep.rejected[0]), ['/received_at']);
  });

  test('a null element of a JSON array is a rejected record (the report accounts for every record)', async () => {
    const res = await post(svc, SIAO_BATCH, [batchSiaoRecord('nul', 0), null, batchSiaoRecord('nul', 2)], tok.edge);
    const rep = report(res, '[record, null, record]');
    assert.equal(
      rep.created + rep.updated + rep.unchanged + rep.rejected.length,
      3,
      `created + updated + unchanged + rejected must be the 3 records sent: ${res.text}`,
    );
    assertCounts(rep, { created: 2, rejected: [1] }, '[record, null, record]');
    assert.equal(rep.rejected[0].external_id, null);
  });

  test('the same instant written with another offset is unchanged (equal to the stored record)', async () => {
    const a = batchSiaoRecord('tz', 0, { received_at: '2024-03-10T21:14:05Z' });
    assertCounts(report(await post(svc, SIAO_BATCH, [a], tok.edge)), { created: 1 });
    const before = await snapshot(svc, 'edge');
    const res = await post(svc, SIAO_BATCH, [{ ...a, received_at: '2024-03-10T22:14:05+01:00' }], tok.edge);
    assertCounts(report(res), { unchanged: 1 }, 'received_at 22:14:05+01:00 = 21:14:05Z');
    assert.deepEqual(await snapshot(svc, 'edge'), before, 'the row was not rewritten (updated_at moves incremental syncs)');
  });

  test('a siao token cannot overwrite a record of its source stored on a platform outside its scope', async () => {
    const onArtois = batchSiaoRecord('scope', 0, { platform: 'artois', response: 'pending' });
    assertCounts(report(await post(svc, SIAO_BATCH, [onArtois], tok.edge)), { created: 1 }, 'pushed on artois');
    // the lens_henin-only token of the same source re-pushes that external_id on lens_henin
    const res = await post(svc, SIAO_BATCH, [{ ...onArtois, platform: 'lens_henin', response: 'sheltered' }], tok.edgeLens);
    const { rows } = await svc.sql("SELECT platform, response FROM siao_request WHERE source = 'edge' AND external_id = $1", [
      onArtois.external_id,
    ]);
    assert.deepEqual(rows, [{ platform: 'artois', response: 'pending' }], `the artois record was changed by a lens_henin-only token: ${show(res)}`);
    assertCounts(report(res), { rejected: [0] }, 'record of another platform');
  });

  test('Idempotency-Key: keys are kept 24 hours, then the key is free again', async () => {
    const K = randomUUID();
    const first = await post(svc, SIAO_BATCH, [batchSiaoRecord('exp', 0)], tok.edge, { headers: { 'Idempotency-Key': K } });
    assertCounts(report(first), { created: 1 });
    const otherBody = [batchSiaoRecord('exp', 1)];
    assertProblem(await post(svc, SIAO_BATCH, otherBody, tok.edge, { headers: { 'Idempotency-Key': K } }), 422);
    // 23 hours later: still kept
    await svc.sql("UPDATE idempotency_key SET created_at = now() - interval '23 hours' WHERE key = $1", [K]);
    assertProblem(await post(svc, SIAO_BATCH, otherBody, tok.edge, { headers: { 'Idempotency-Key': K } }), 422);
    // 25 hours later: gone, the key runs a new batch
    await svc.sql("UPDATE idempotency_key SET created_at = now() - interval '25 hours' WHERE key = $1", [K]);
    const later = await post(svc, SIAO_BATCH, otherBody, tok.edge, { headers: { 'Idempotency-Key': K } });
    assertCounts(report(later, 'after 24 h'), { created: 1 }, 'after 24 h');
    assert.equal(later.headers['idempotent-replayed'], undefined);
  });

  // ------------------------------------------------------------------ read back
  test('GET /v1/siao-requests: a siao token reads its own source, 500 a page, updated_since', async () => {
    const N = 1200;
    const mine = batchSiaoRecords('read', N);
    assertCounts(report(await post(svc, SIAO_BATCH, mine, tok.read)), { created: N }, 'source read-a');
    // the same external ids under two other sources
    assertCounts(report(await post(svc, `${SIAO_BATCH}?source=read-b`, mine.slice(0, 50), tok.admin)), { created: 50 });
    assertCounts(report(await post(svc, SIAO_BATCH, mine.slice(0, 30), tok.readC)), { created: 30 });

    const pages = await walkSiao(svc, '/v1/siao-requests?limit=500', tok.read);
    assert.deepEqual(pages.map((p) => p.length), [500, 500, 200], 'pages of 500');
    const items = pages.flat();
    assert.ok(items.every((i) => i.source === 'read-a'), 'only its own source');
    const ids = items.map((i) => i.external_id);
    assert.equal(new Set(ids).size, N, 'every record exactly once');
    assert.deepEqual([...ids].sort(), mine.map((r) => r.external_id).sort());
    assert.equal(new Set(items.map((i) => i.id)).size, N);
    // a record reads back as pushed, but for its person_key: stored re-keyed, never as sent
    const r7 = items.find((i) => i.external_id === extId('read', 7));
    const { external_id, ...pushed } = mine[7]; // eslint-disable-line no-unused-vars
    for (const [k, v] of Object.entries(pushed)) {
      if (k === 'received_at') assert.equal(Date.parse(r7.received_at), Date.parse(v), k);
      else if (k === 'person_key') assert.equal(r7[k], createHmac('sha256', TEST_PSEUDONYM_KEY).update(`read-a\u001f${v}`).digest('hex'), k);
      else assert.deepEqual(r7[k], v, `read back ${k}`);
    }

    // a siao token's ?source= cannot widen its view: another source is refused, never ignored
    const other = await svc.api('GET', '/v1/siao-requests?source=read-b&limit=500', { token: tok.read });
    assert.equal(other.status, 403, show(other));
    const own = await svc.api('GET', '/v1/siao-requests?source=read-a&limit=500', { token: tok.read });
    assert.equal(own.status, 200, show(own));
    assert.equal(own.json.items.length, 500);
    assert.ok(own.json.items.every((i) => i.source === 'read-a'), `source=read-a as read-a: ${show(own)}`);
    // an admin sees the source it names
    const b = (await walkSiao(svc, '/v1/siao-requests?source=read-b&limit=500', tok.admin)).flat();
    assert.equal(b.length, 50);
    assert.ok(b.every((i) => i.source === 'read-b'));

    // updated_since: only what changed after that instant
    await sleep(5);
    const { rows } = await svc.sql(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t`);
    const since = rows[0].t;
    await sleep(5);
    const changed = mine.map((r, i) => (i % 171 === 0 ? { ...r, response: 'referred_elsewhere', needs: ['mobility'] } : r));
    const nChanged = mine.filter((_, i) => i % 171 === 0).length;
    assertCounts(report(await post(svc, SIAO_BATCH, changed, tok.read)), { updated: nChanged, unchanged: N - nChanged });
    const sincePages = await walkSiao(svc, `/v1/siao-requests?limit=3&updated_since=${encodeURIComponent(since)}`, tok.read);
    const sinceItems = sincePages.flat();
    assert.deepEqual(
      sinceItems.map((i) => i.external_id).sort(),
      mine.filter((_, i) => i % 171 === 0).map((r) => r.external_id).sort(),
      `updated_since=${since}: exactly the ${nChanged} changed records`,
    );
    assert.ok(sinceItems.every((i) => i.response === 'referred_elsewhere'));

    // query parameters are validated
    assertProblem(await svc.api('GET', '/v1/siao-requests?updated_since=yesterday', { token: tok.read }), 422);
    assertProblem(await svc.api('GET', '/v1/siao-requests?limit=501', { token: tok.read }), 422);
  });
});

// ============================================================================ crash safety

describe('crash safety: SIGKILL during a batch, then retry with the same key', () => {
  let svc;
  let siao;

  before(async () => {
    svc = await startService();
    siao = await svc.createToken('siao', { platforms: SCOPE, source: 'crash', name: 'batch-crash' });
  });

  after(async () => {
    await svc?.stop();
  });

  test('each record stored exactly once after kills at three moments', async (t) => {
    // How long one 10 000-record batch takes here, to kill at different moments of it.
    const warm = batchSiaoRecords('warm', BIG);
    const t0 = performance.now();
    assertCounts(report(await post(svc, SIAO_BATCH, warm, siao), 'baseline'), { created: BIG }, 'baseline');
    const duration = performance.now() - t0;
    const delays = [20, Math.max(40, Math.round(duration * 0.35)), Math.max(60, Math.round(duration * 0.75))];
    t.diagnostic(`baseline 10 000-record batch: ${Math.round(duration)} ms; kill delays ${delays.join(', ')} ms`);

    let cut = 0;
    for (const [n, delay] of delays.entries()) {
      const prefix = `crash${n}`;
      const records = batchSiaoRecords(prefix, BIG);
      const payload = JSON.stringify(records);
      const key = randomUUID();
      const opts = {
        body: payload,
        raw: true,
        token: siao,
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
        timeout: BIG_TIMEOUT,
      };
      const inflight = svc.api('POST', SIAO_BATCH, opts).then(
        (res) => ({ res }),
        (err) => ({ err }),
      );
      await sleep(delay);
      await svc.restart({ signal: 'SIGKILL' });
      const first = await inflight;
      if (first.err) cut += 1;
      else assert.equal(first.res.status, 200, `answered before the kill: ${show(first.res)}`);

      // retry with the same key and body on the restarted service
      const retry = await svc.api('POST', SIAO_BATCH, opts);
      const rep = report(retry, `retry after a kill at ${delay} ms`);
      assertCounts(rep, { created: BIG }, `retry after a kill at ${delay} ms (${first.err ? 'cut' : 'answered'})`);
      const stored = await countSource(svc, 'crash');
      const { rows } = await svc.sql(
        'SELECT count(*)::int AS n, count(DISTINCT external_id)::int AS d FROM siao_request WHERE source = $1 AND external_id LIKE $2',
        ['crash', `${prefix}-%`],
      );
      assert.deepEqual(rows[0], { n: BIG, d: BIG }, `kill at ${delay} ms: every record stored exactly once`);
      assert.equal(stored.n, stored.distinct_ids, 'no duplicate external_id');
      if (n === 0) {
        // and the key now replays (once: a replay still parses the 10 000 records)
        const again = await svc.api('POST', SIAO_BATCH, opts);
        assert.equal(again.status, 200, show(again));
        assert.equal(again.headers['idempotent-replayed'], 'true');
        assert.equal(again.text, retry.text);
      }
      t.diagnostic(`kill at ${delay} ms: first request ${first.err ? `cut (${first.err.cause?.code ?? first.err.message})` : 'answered'}; retry ${retry.headers['idempotent-replayed'] ? 'replayed' : 'ran'}`);
    }
    assert.ok(cut >= 1, 'no kill hit a request in flight');
    const { rows } = await svc.sql('SELECT count(*)::int AS n FROM idempotency_key WHERE status = 0');
    assert.equal(rows[0].n, 0, 'no unfinished idempotency key is left behind');
    assert.equal((await countSource(svc, 'crash')).n, 4 * BIG);
  });
});

// ============================================================================ limits

describe('limits and refusals', () => {
  const MAX_BATCH = 65_536;
  let svc;
  const tok = {};

  before(async () => {
    svc = await startService({ env: { LDA_MAX_BATCH_BYTES: String(MAX_BATCH) } });
    tok.admin = await svc.createToken('admin', { name: 'limits-admin' });
    tok.siao = await svc.createToken('siao', { platforms: SCOPE, source: 'lim', name: 'limits-siao' });
    tok.coord = await svc.createToken('coordinator', { platforms: ['artois'], name: 'limits-coord' });
    tok.partner = await svc.createToken('partner', { platforms: ['artois'], name: 'limits-partner' });
    tok.analyst = await svc.createToken('analyst', { name: 'limits-analyst' });
  });

  after(async () => {
    await svc?.stop();
  });

  const stored = async () => (await svc.sql('SELECT count(*)::int AS n FROM siao_request')).rows[0].n;

  test('10 001 records → 413; exactly 10 000 are processed', async () => {
    // `{}` records keep the body under the 64 KiB limit of this service
    const over = `[${Array(BIG + 1).fill('{}').join(',')}]`;
    assert.ok(over.length < MAX_BATCH);
    const res = await post(svc, SIAO_BATCH, over, tok.siao, { raw: true, headers: { 'Content-Type': 'application/json' } });
    assertProblem(res, 413);
    const nd = await post(svc, SIAO_BATCH, `${Array(BIG + 1).fill('{}').join('\n')}\n`, tok.siao, {
      raw: true,
      headers: { 'Content-Type': 'application/x-ndjson' },
    });
    assertProblem(nd, 413);
    const at = `[${Array(BIG).fill('{}').join(',')}]`;
    const ok = report(await post(svc, SIAO_BATCH, at, tok.siao, { raw: true, headers: { 'Content-Type': 'application/json' } }));
    assertCounts(ok, { rejected: Array.from({ length: BIG }, (_, i) => i) }, '10 000 empty records');
    assert.deepEqual(fieldsOf(ok.rejected[0]), ['/channel', '/external_id', '/platform', '/received_at']);
    assert.equal(await stored(), 0);
  });

  test('a body over LDA_MAX_BATCH_BYTES → 413, nothing stored', async () => {
    const records = batchSiaoRecords('big', 400);
    const body = JSON.stringify(records);
    assert.ok(body.length > MAX_BATCH);
    assertProblem(await post(svc, SIAO_BATCH, records, tok.siao), 413);
    assertProblem(await post(svc, SIAO_BATCH, ndjson(records), tok.siao, { raw: true, headers: { 'Content-Type': 'application/x-ndjson' } }), 413);
    assert.equal(await stored(), 0);
    // just under the limit is accepted
    const fit = batchSiaoRecords('fit', 150);
    assert.ok(JSON.stringify(fit).length < MAX_BATCH);
    assertCounts(report(await post(svc, SIAO_BATCH, fit, tok.siao)), { created: 150 });
  });

  test('content type, body shape, source, roles', async () => {
    const base = await stored();
    const rec = [batchSiaoRecord('refuse', 0)];
    for (const path of [SIAO_BATCH, HOUSEHOLD_BATCH, REFERRAL_BATCH]) {
      assertProblem(await post(svc, path, JSON.stringify(rec), tok.siao, { raw: true, headers: { 'Content-Type': 'text/plain' } }), 415);
      assertProblem(await post(svc, path, Buffer.from(JSON.stringify(rec)), tok.siao, { raw: true }), 415); // no Content-Type
      assertProblem(await post(svc, path, { records: rec }, tok.siao), 400); // an object, not an array
      assertProblem(await post(svc, path, '[{"external_id": ', tok.siao, { raw: true, headers: { 'Content-Type': 'application/json' } }), 400);
      assertProblem(await post(svc, path, rec, tok.admin), 422, { fields: ['source'] }); // admin without ?source
      assertProblem(await post(svc, `${path}?source=other`, rec, tok.siao), 403); // siao naming another source
      assertProblem(await post(svc, `${path}?atomic=maybe`, rec, tok.siao), 422);
      for (const who of ['coord', 'partner', 'analyst']) assertProblem(await post(svc, path, rec, tok[who]), 403);
      assertProblem(await svc.api('POST', path, { body: rec }), 401);
      assertProblem(await post(svc, path, rec, 'not-a-token'), 401);
    }
    assertProblem(await svc.api('GET', '/v1/siao-requests', { token: tok.coord }), 403);
    assertProblem(await svc.api('GET', '/v1/siao-requests'), 401);
    assert.equal(await stored(), base, 'no refused request stored anything');
    // the siao token may name its own source
    assertCounts(report(await post(svc, `${SIAO_BATCH}?source=lim`, rec, tok.siao)), { created: 1 });
  });
});

// ============================================================================ households and referrals

describe('household and referral batches', () => {
  let svc;
  const tok = {};

  before(async () => {
    svc = await startService();
    tok.admin = await svc.createToken('admin', { name: 'hh-admin' });
    tok.siao = await svc.createToken('siao', { platforms: SCOPE, source: 'hh', name: 'hh-siao' });
    tok.coord = await svc.createToken('coordinator', { platforms: ['artois'], name: 'hh-coord' });
  });

  after(async () => {
    await svc?.stop();
  });

  test('households upserted by external_id; a person with an active household on the platform → /head; referrals by household_external_id', async () => {
    // 3 households
    const hh = [
      batchHouseholdRecord('hh-1', 'artois'),
      batchHouseholdRecord('hh-2', 'artois', { first_name: 'Léa', birth_date: '2001-03-14' }),
      batchHouseholdRecord('hh-3', 'lens_henin', { sex: 'male' }, { housing_situation: 'street', vulnerabilities: ['addiction'] }),
    ];
    assertCounts(report(await post(svc, HOUSEHOLD_BATCH, hh, tok.siao)), { created: 3 }, 'households');
    assertCounts(report(await post(svc, HOUSEHOLD_BATCH, hh, tok.siao)), { unchanged: 3 }, 'households again');
    const changed = hh.map((h, i) => (i === 1 ? { ...h, composition: 'single_parent', children: 2 } : h));
    assertCounts(report(await post(svc, HOUSEHOLD_BATCH, changed, tok.siao)), { updated: 1, unchanged: 2 }, 'one household changed');
    const { rows: hrows } = await svc.sql(
      "SELECT external_ref, platform, children FROM household WHERE source = 'hh' ORDER BY external_ref",
    );
    assert.deepEqual(hrows, [
      { external_ref: 'hh-1', platform: 'artois', children: 0 },
      { external_ref: 'hh-2', platform: 'artois', children: 2 },
      { external_ref: 'hh-3', platform: 'lens_henin', children: 0 },
    ]);

    // a person who already has a household on artois from the single-record API
    const head = { last_name: uniqueName('Dup'), first_name: 'Inès', birth_date: '1985-02-03', sex: 'female' };
    const single = await svc.api('POST', '/v1/households', {
      token: tok.coord,
      body: {
        platform: 'artois',
        composition: 'single_person',
        adults: 1,
        children: 0,
        head,
        housing_situation: 'street',
      },
    });
    assert.equal(single.status, 201, show(single));
    const twin = { last_name: uniqueName('Twin'), first_name: 'Noé', birth_date: '1999-09-09', sex: 'male' };
    const second = [
      batchHouseholdRecord('hh-4', 'artois', head), // 0: that person on the same platform → /head
      batchHouseholdRecord('hh-5', 'artois'), // 1: new
      batchHouseholdRecord('hh-6', 'lens_henin', head), // 2: the same person on another platform: fine
      batchHouseholdRecord('hh-7', 'artois', twin), // 3: new
      batchHouseholdRecord('hh-8', 'artois', twin), // 4: the same person twice in the batch → /head
      { ...batchHouseholdRecord('hh-9', 'artois'), external_ref: 'X' }, // 5: external_ref refused
      batchHouseholdRecord('hh-10', 'boulonnais'), // 6: outside the token's platforms
    ];
    const rep = report(await post(svc, HOUSEHOLD_BATCH, second, tok.siao), 'households with clashes');
    assertCounts(rep, { created: 3, rejected: [0, 4, 5, 6] }, 'households with clashes');
    assert.equal(rep.rejected[0].external_id, 'hh-4');
    assert.deepEqual(fieldsOf(rep.rejected[0]), ['/head']);
    assert.deepEqual(fieldsOf(rep.rejected[1]), ['/head']);
    assert.equal(rep.rejected[1].external_id, 'hh-8');
    assert.ok(fieldsOf(rep.rejected[2]).includes('/external_ref'), JSON.stringify(rep.rejected[2]));
    assert.deepEqual(fieldsOf(rep.rejected[3]), ['/platform']);
    const { rows: stored } = await svc.sql("SELECT external_ref FROM household WHERE source = 'hh' ORDER BY external_ref");
    assert.deepEqual(stored.map((r) => r.external_ref), ['hh-1', 'hh-2', 'hh-3', 'hh-5', 'hh-6', 'hh-7']);

    // referrals: a batch attaches only to households its own source pushed
    const hh1Id = (await svc.sql("SELECT id FROM household WHERE source = 'hh' AND external_ref = 'hh-1'")).rows[0].id;
    const refs = [
      batchReferralRecord('rf-1', 'artois', { household_external_id: 'hh-1' }), // 0
      batchReferralRecord('rf-2', 'artois', { household_external_id: 'hh-2' }, { received_on: '2025-02-01', has_social_note: true }), // 1
      batchReferralRecord('rf-3', 'lens_henin', { household_external_id: 'hh-3' }, { reasons: ['eviction_risk', 'health'] }), // 2
      batchReferralRecord('rf-4', 'artois', { household_external_id: 'hh-nope' }), // 3: unknown → /household
      batchReferralRecord('rf-5', 'artois', { household: single.json.id }), // 4: by id, not this source's → /household
      batchReferralRecord('rf-6', 'artois', { household_external_id: 'hh-3' }), // 5: hh-3 is on lens_henin → /household
      batchReferralRecord('rf-7', 'artois', { household_external_id: 'hh-4' }), // 6: never stored → /household
      batchReferralRecord('rf-8', 'artois', { household: batchHouseholdRecord('x', 'artois') }), // 7: inline → /household
      batchReferralRecord('rf-9', 'artois', { household: hh1Id }), // 8: by id, a household this source pushed
    ];
    const rr = report(await post(svc, REFERRAL_BATCH, refs, tok.siao), 'referrals');
    assertCounts(rr, { created: 4, rejected: [3, 4, 5, 6, 7] }, 'referrals');
    for (const rej of rr.rejected) {
      assert.ok(fieldsOf(rej).includes('/household'), `rejected ${rej.index}: ${JSON.stringify(rej)}`);
      assert.equal(rej.external_id, refs[rej.index].external_id);
    }

    // each created referral: status received, one event
    const { rows: created } = await svc.sql(
      "SELECT external_id, id::text AS id FROM referral WHERE source = 'hh' ORDER BY external_id",
    );
    assert.deepEqual(created.map((r) => r.external_id), ['rf-1', 'rf-2', 'rf-3', 'rf-9']);
    const eventsOf = async (id) => {
      const ev = await svc.api('GET', `/v1/referrals/${id}/events`, { token: tok.admin });
      assert.equal(ev.status, 200, show(ev));
      return ev.json.items;
    };
    for (const { external_id, id } of created) {
      const r = await svc.api('GET', `/v1/referrals/${id}`, { token: tok.admin });
      assert.equal(r.status, 200, show(r));
      assert.equal(r.json.status, 'received', `${external_id}: ${show(r)}`);
      const rec = refs.find((x) => x.external_id === external_id);
      assert.equal(r.json.received_on, rec.received_on);
      const items = await eventsOf(id);
      assert.equal(items.length, 1, `${external_id}: one event: ${JSON.stringify(items)}`);
      assert.equal(items[0].from, null);
      assert.equal(items[0].to, 'received');
      assert.equal(items[0].on, rec.received_on);
      assert.equal(items[0].role, 'siao');
    }
    const household9 = await svc.api('GET', `/v1/referrals/${created[3].id}`, { token: tok.admin });
    assert.equal(household9.json.household?.id ?? household9.json.household, hh1Id);

    // again: unchanged, no new event; a changed received_on: updated, still one event
    const again = report(await post(svc, REFERRAL_BATCH, refs, tok.siao));
    assertCounts(again, { unchanged: 4, rejected: [3, 4, 5, 6, 7] }, 'referrals again');
    const moved = refs.map((r) => (r.external_id === 'rf-1' ? { ...r, received_on: '2025-03-01' } : r));
    assertCounts(report(await post(svc, REFERRAL_BATCH, moved, tok.siao)), { updated: 1, unchanged: 3, rejected: [3, 4, 5, 6, 7] }, 'rf-1 moved');
    const rf1 = created[0].id;
    const r1 = await svc.api('GET', `/v1/referrals/${rf1}`, { token: tok.admin });
    assert.equal(r1.json.status, 'received');
    assert.equal(r1.json.received_on, '2025-03-01');
    assert.equal(r1.json.status_dates?.received, '2025-03-01', show(r1));
    for (const { id } of created) assert.equal((await eventsOf(id)).length, 1, 'an update adds no event');
    const { rows: evs } = await svc.sql(
      "SELECT count(*)::int AS n FROM referral_event e JOIN referral r ON r.id = e.referral_id WHERE r.source = 'hh'",
    );
    assert.equal(evs[0].n, 4);
  });

  test('a referral re-pushed on another platform never points to a household of another platform', async () => {
    assertCounts(
      report(await post(svc, HOUSEHOLD_BATCH, [batchHouseholdRecord('mv-h1', 'artois'), batchHouseholdRecord('mv-h2', 'lens_henin')], tok.siao)),
      { created: 2 },
    );
    assertCounts(report(await post(svc, REFERRAL_BATCH, [batchReferralRecord('mv-r1', 'artois', { household_external_id: 'mv-h1' })], tok.siao)), {
      created: 1,
    });
    const res = await post(svc, REFERRAL_BATCH, [batchReferralRecord('mv-r1', 'lens_henin', { household_external_id: 'mv-h2' })], tok.siao);
    report(res, 'moved referral');
    const { rows } = await svc.sql(
      `SELECT r.platform, h.platform AS household_platform, h.external_ref
         FROM referral r JOIN household h ON h.id = r.household_id
        WHERE r.source = 'hh' AND r.external_id = 'mv-r1'`,
    );
    assert.equal(rows.length, 1);
    assert.equal(
      rows[0].platform,
      rows[0].household_platform,
      `referral on ${rows[0].platform} now points to household ${rows[0].external_ref} on ${rows[0].household_platform} (answer ${res.text})`,
    );
  });

  test('a partner of another platform is rejected at /partner', async () => {
    const p = await svc.api('POST', '/v1/partners', { token: tok.coord, body: { name: 'CCAS de Béthune', kind: 'ccas', platform: 'artois' } });
    assert.equal(p.status, 201, show(p));
    assertCounts(report(await post(svc, HOUSEHOLD_BATCH, [batchHouseholdRecord('pt-h1', 'lens_henin'), batchHouseholdRecord('pt-h2', 'artois')], tok.siao)), {
      created: 2,
    });
    const noKind = { referrer_kind: null, referrer_name: null };
    const rep = report(
      await post(
        svc,
        REFERRAL_BATCH,
        [
          batchReferralRecord('pt-r1', 'lens_henin', { household_external_id: 'pt-h1' }, { partner: p.json.id, ...noKind }),
          batchReferralRecord('pt-r2', 'artois', { household_external_id: 'pt-h2' }, { partner: p.json.id, ...noKind }),
          batchReferralRecord('pt-r3', 'artois', { household_external_id: 'pt-h2' }, { partner: randomUUID(), ...noKind }),
        ],
        tok.siao,
      ),
    );
    assertCounts(rep, { created: 1, rejected: [0, 2] }, 'partners');
    assert.deepEqual(fieldsOf(rep.rejected[0]), ['/partner']);
    assert.deepEqual(fieldsOf(rep.rejected[1]), ['/partner']);
  });
});
