// Batch parsing memory: the worst 32 MiB bodies a siao token can push.
//
// A batch body is cut into records and counted before any record is parsed (a body of more
// than 10 000 records is 413 after that count); each record is then parsed on its own when its
// turn comes, and freed as soon as it is rejected or written; a record larger than the
// single-record limit is rejected without being parsed; a rejected record's entry lists at
// most 20 errors. So the peak memory of a batch is its body plus its valid records, whatever
// the body holds.
//
// Each body below is pushed in turn while a real client keeps reading with a token; the
// service's peak RSS during each push, the real client's p99, errors and 5xx are printed.
// Asserted: every push answered as the contract says; the peak RSS stays under RSS_BOUND_MIB
// (128 MiB) on the plain build, and its growth over the resting size under GROWTH_BOUND_MIB on
// both builds; the real client gets no error and no 5xx. (Before this change, the first two
// bodies made the service parse 16 million NDJSON lines or 11 million objects and list each in
// the report: gigabytes, and an abort.)
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService } from '../lib/service.mjs';
import { SANITIZED, SLOWDOWN, describeClient, memKb, mib, realClient, rssSampler } from '../lib/load.mjs';
import { sleep } from '../lib/wait.mjs';
import { recentSiaoRecords } from '../lib/data.mjs';
import { request } from '../lib/http.mjs';

// A 32 MiB body is held whole while its records are parsed one at a time: the body, the
// valid records (at most 10 000, each bounded by its schema), the report (at most 20 000
// errors) and the statement sent to PostgreSQL. Measured on the plain build: 41 to 68 MiB
// at the peak of each body below (13 MiB at rest). On the sanitizer build (quarantine cut to
// 16 MiB below, allocations padded with redzones) only the growth is bounded.
const RSS_BOUND_MIB = 128;
const GROWTH_BOUND_MIB = SANITIZED ? 256 : 100;
const MAX = 32 << 20;

/** Pads `parts` (strings joined by `sep`) towards `size` bytes by repeating `unit`. */
function fill(prefix, unit, suffix, size) {
  const n = Math.floor((size - prefix.length - suffix.length) / unit.length);
  return prefix + unit.repeat(n) + suffix;
}

/** 10 000 records of about `size` bytes each built by `one(i)`, joined as JSON or NDJSON. */
function tenThousand(one, ndjson) {
  const rows = [];
  for (let i = 0; i < 10_000; i += 1) rows.push(one(i));
  return ndjson ? `${rows.join('\n')}\n` : `[${rows.join(',')}]`;
}

const BODIES = [
  {
    name: '32 MiB of "x\\n" NDJSON lines (16 million records)',
    ndjson: true,
    body: () => fill('', 'x\n', '', MAX),
    expect: (r) => r.status === 413,
  },
  {
    name: '32 MiB of "{}," in a JSON array (11 million records)',
    ndjson: false,
    body: () => fill('[', '{},', '{}]', MAX),
    expect: (r) => r.status === 413,
  },
  {
    name: '10 000 malformed NDJSON lines of 3.3 KB',
    ndjson: true,
    body: () => tenThousand((i) => `{"external_id":"m-${i}",${'x'.repeat(3300)}`, true),
    expect: (r) => r.status === 200 && r.json.rejected.length === 10_000,
  },
  {
    name: '10 000 records of 300 unknown members each (3.2 KB)',
    ndjson: false,
    body: () =>
      tenThousand((i) => {
        const members = [`"external_id":"u-${i}"`];
        for (let k = 0; k < 300; k += 1) members.push(`"u${k}":0`);
        return `{${members.join(',')}}`;
      }, false),
    expect: (r) => r.status === 200 && r.json.rejected.length === 10_000 && r.json.rejected.every((x) => x.errors.length === 1),
  },
  {
    name: '10 000 records of 60 unknown members of 40 characters each (3.2 KB): 20 errors listed per record, 20 000 in the report',
    ndjson: true,
    body: () =>
      tenThousand((i) => {
        const members = [`"external_id":"w-${i}"`];
        for (let k = 0; k < 59; k += 1) members.push(`"${String(k).padStart(40, 'w')}":0`);
        return `{${members.join(',')}}`;
      }, true),
    expect: (r) => {
      if (r.status !== 200 || r.json.rejected.length !== 10_000) return false;
      const listed = r.json.rejected.reduce((a, x) => a + x.errors.length, 0);
      return r.json.rejected.every((x) => x.errors.length <= 20) && listed <= 20_000 + 10_000;
    },
  },
  {
    name: 'one record of 32 MiB',
    ndjson: false,
    body: () => `[{"external_id":"huge","pad":"${'p'.repeat(MAX - 64)}"}]`,
    expect: (r) => r.status === 200 && r.json.rejected.length === 1 && /larger than/.test(r.json.rejected[0].errors[0].message),
  },
  {
    name: '10 000 records nested 1 000 deep',
    ndjson: true,
    body: () => tenThousand(() => `${'['.repeat(1000)}${']'.repeat(1000)}`, true),
    expect: (r) => r.status === 200 && r.json.rejected.length === 10_000,
  },
  {
    name: '10 000 valid SIAO requests with 120-character person keys',
    ndjson: false,
    body: () => JSON.stringify(recentSiaoRecords(`valid-${Date.now()}`, 10_000).map((r, i) => ({ ...r, received_at: new Date(Date.now() - 86_400_000 - i * 1000).toISOString(), person_key: `pk-${i}-${'k'.repeat(110)}` }))),
    expect: (r) => r.status === 200 && r.json.created === 10_000,
  },
];

describe('batch parsing memory', () => {
  let svc;
  let tok;

  before(async () => {
    // On the sanitizer build, AddressSanitizer keeps freed memory in a quarantine (256 MiB by
    // default) and never reuses it meanwhile: a small one here, so that the resident memory
    // follows what the service holds (leak detection and overflow checks are unchanged).
    const env = { LDA_RATE_LIMIT_RPS: '0' };
    if (SANITIZED) env.ASAN_OPTIONS = `${process.env.ASAN_OPTIONS ? `${process.env.ASAN_OPTIONS}:` : ''}quarantine_size_mb=16`;
    svc = await startService({ env });
    tok = {
      siao: await svc.createToken('siao', { platforms: ['artois', 'lens_henin'], source: 'worst' }),
      admin: await svc.createToken('admin'),
    };
  });

  after(async () => {
    await svc?.stop();
  });

  test('the worst 32 MiB bodies: bounded peak memory, a real client served', async (t) => {
    for (let i = 0; i < 10; i += 1) await request(svc.url, 'GET', '/v1/households?limit=5', { settle: true, token: tok.admin });
    await sleep(300);
    const rest = memKb(svc.child.pid).rss;
    const client = realClient(svc.port, {
      clients: 1,
      pick: (i) => (i % 2 ? { path: '/v1/households?limit=5', token: tok.admin } : { path: '/v1/platforms' }),
      pauseMs: 50,
    });
    const lines = [];
    let peakAll = 0;
    try {
      for (const b of BODIES) {
        const body = b.body();
        assert.ok(Buffer.byteLength(body) <= MAX, `${b.name}: ${Buffer.byteLength(body)} bytes`);
        const sampler = rssSampler(svc.child.pid, 10);
        const t0 = Date.now();
        const r = await request(svc.url, 'POST', '/v1/siao-requests/batch', {
          settle: true,
          token: tok.siao,
          raw: true,
          body,
          headers: { 'Content-Type': b.ndjson ? 'application/x-ndjson' : 'application/json' },
          timeout: 300_000 * SLOWDOWN,
          validate: true,
        });
        const ms = Date.now() - t0;
        const { peakKb } = sampler.stop();
        peakAll = Math.max(peakAll, peakKb);
        await sleep(50);
        const served = svc.logEntries().find((e) => e.msg === 'request' && e.request_id === r.headers['x-request-id']);
        lines.push(`${b.name}: ${r.status || r.error} in ${ms} ms (${Math.round(served?.duration_ms ?? -1)} ms in the service), peak RSS ${mib(peakKb)} MiB`);
        assert.equal(r.error, null, `${b.name}: ${r.error}`);
        assert.ok(b.expect(r), `${b.name}: ${r.status} ${r.text.slice(0, 300)}`);
        await sleep(200);
      }
    } finally {
      const real = await client.stop();
      t.diagnostic(
        `tried: ${BODIES.length} bodies of up to 32 MiB pushed in turn with a siao token, a real client reading meanwhile\n` +
          `held: ${lines.join('; ')}\n` +
          `service RSS at rest ${mib(rest)} MiB, peak ${mib(peakAll)} MiB (bound ${SANITIZED ? 'n/a (sanitizer)' : `${RSS_BOUND_MIB} MiB`}; growth ${mib(peakAll - rest)} MiB, bound ${GROWTH_BOUND_MIB} MiB); ` +
          `real client: ${describeClient(real)}`,
      );
      assert.equal(real.fiveXX, 0, `real client 5xx: ${real.samples.join(' | ')}`);
      assert.equal(real.errors, 0, `real client errors: ${real.samples.join(' | ')}`);
    }
    assert.ok(peakAll - rest < GROWTH_BOUND_MIB * 1024, `RSS grew by ${mib(peakAll - rest)} MiB`);
    if (!SANITIZED) assert.ok(peakAll < RSS_BOUND_MIB * 1024, `peak RSS ${mib(peakAll)} MiB`);
    assert.equal(svc.exit, null, 'the service is running');
  });

  test('counting stops at the limit: 10 001 records are 413 whatever follows; 10 000 are read', async (t) => {
    const rec = (i) => JSON.stringify({ external_id: `c-${i}` });
    const over = `[${Array.from({ length: 10_001 }, (_, i) => rec(i)).join(',')}, this is not JSON at all`;
    const r1 = await request(svc.url, 'POST', '/v1/siao-requests/batch', { settle: true, token: tok.siao, raw: true, headers: { 'Content-Type': 'application/json' }, body: over });
    assert.equal(r1.status, 413, r1.text);
    assert.match(r1.json.detail, /at most 10000 records/);
    const exact = `[${Array.from({ length: 10_000 }, (_, i) => rec(i)).join(',')}]`;
    const r2 = await request(svc.url, 'POST', '/v1/siao-requests/batch', { settle: true, token: tok.siao, raw: true, headers: { 'Content-Type': 'application/json' }, body: exact, timeout: 120_000 });
    assert.equal(r2.status, 200, r2.text.slice(0, 300));
    assert.equal(r2.json.rejected.length, 10_000);
    // a malformed record in a JSON array: the whole body is 400 (nothing stored)
    const bad = `[${rec(1)}, {"external_id": "x",, }]`;
    const r3 = await request(svc.url, 'POST', '/v1/siao-requests/batch', { settle: true, token: tok.siao, raw: true, headers: { 'Content-Type': 'application/json' }, body: bad });
    assert.equal(r3.status, 400, r3.text);
    assert.match(r3.json.detail, /^Malformed JSON at line 1, column \d+\.$/);
    t.diagnostic(`held: 10 001 records then garbage → ${r1.status} (${r1.json.detail}); 10 000 records → ${r2.status}; a malformed record → ${r3.status} (${r3.json.detail})`);
  });
});
