// Keyset pagination of /v1/referrals (and /v1/households) over 10 000 rows:
// ordered by (updated_at, id), each row exactly once even while new referrals are created
// during the walk; limit and cursor validated (422); filters return exactly the matching rows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startService } from '../lib/service.mjs';
import { show } from '../lib/http.mjs';
import { assertProblem } from '../lib/problems.mjs';

const N = 10_000;
const CONCURRENT_CREATES = 200;
const PAGE = 500;
const MAX_PAGES = Math.ceil((N + CONCURRENT_CREATES) / PAGE) + 10; // bound on every walk

const PLATFORMS = ['artois', 'lens_henin', 'audomarois', 'boulonnais', 'montreuillois'];
const STATUSES = [
  'received',
  'assessing',
  'orientation_proposed',
  'accompanied',
  'accompaniment_ended',
  'reoriented',
  'no_follow_up',
];

let svc;
let admin;
let coord;
let originalIds; // Set of the N referral ids inserted by SQL
let originalHouseholds; // Set of their household ids

function todayParis() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
}

/** An RFC 3339 timestamp as BigInt microseconds since the epoch (keeps the µs Date drops). */
function micros(ts) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d(?::?\d\d)?)$/.exec(ts);
  assert.ok(m, `not an RFC 3339 timestamp: ${ts}`);
  let offset = m[3];
  if (/^[+-]\d\d$/.test(offset)) offset += ':00';
  const ms = Date.parse(`${m[1]}${offset}`);
  assert.ok(!Number.isNaN(ms), ts);
  return BigInt(ms) * 1000n + BigInt((m[2] ?? '').padEnd(6, '0'));
}

/** (updated_at, id) strictly increasing along the list (uuid order = lower-case hex order). */
function assertKeysetOrder(items, what) {
  for (let i = 1; i < items.length; i += 1) {
    const a = micros(items[i - 1].updated_at);
    const b = micros(items[i].updated_at);
    assert.ok(
      a < b || (a === b && items[i - 1].id < items[i].id),
      `${what}: item ${i} out of (updated_at, id) order: ${items[i - 1].updated_at} ${items[i - 1].id} then ${items[i].updated_at} ${items[i].id}`,
    );
  }
}

/** Follows next_cursor from `path` (which already has a query string); bounded. */
async function walk(path, token = admin, { onPage } = {}) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const url = cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path;
    const res = await svc.api('GET', url, { token, timeout: 120_000 });
    assert.equal(res.status, 200, `${url}: ${show(res)}`);
    items.push(...res.json.items);
    onPage?.(res.json, page);
    cursor = res.json.next_cursor;
    if (cursor === null) return items;
    assert.equal(typeof cursor, 'string');
  }
  throw new Error(`${path}: still a next_cursor after ${MAX_PAGES} pages`);
}

function uniqueName() {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let s = 'Page';
  for (const b of randomBytes(10)) s += letters[b % 26];
  return s;
}

before(async () => {
  svc = await startService();
  admin = await svc.createToken('admin', { name: 'pagination-admin' });
  coord = await svc.createToken('coordinator', { platforms: ['artois', 'lens_henin'], name: 'pagination-coord' });

  // 10 000 households and their referrals, straight into the tables. updated_at: ten groups
  // of 1 000 (many ties, broken by id) spread from an hour ago to an hour ahead, so that
  // referrals created during the walk (updated_at = now) fall in the middle of the order;
  // a few microseconds apart inside a group, to catch a cursor that loses precision.
  await svc.sql(
    `WITH h AS (
       INSERT INTO household (platform, composition, adults, children, head_sex, housing_situation,
                              created_by, created_at, updated_at)
       SELECT ($1::text[])[1 + i % 5], 'single_person', 1, 0, 'unknown', 'street',
              NULL, now() - interval '3 hours', now() - interval '3 hours' + (i % 3) * interval '1 microsecond'
         FROM generate_series(0, $3::int - 1) AS i
       RETURNING id, platform),
     n AS (SELECT id, platform, (row_number() OVER (ORDER BY id) - 1)::int AS i FROM h)
     INSERT INTO referral (household_id, platform, received_on, status, status_dates, created_by,
                           created_at, updated_at)
     SELECT n.id, n.platform, x.d, x.s,
            jsonb_build_object('received', x.d) || jsonb_build_object(x.s, x.d), NULL,
            now() - interval '3 hours',
            now() + ((n.i / 1000) - 5) * interval '12 minutes' + (n.i % 7) * interval '1 microsecond'
       FROM n, LATERAL (SELECT date '2020-01-01' + (n.i * 7) % 1461 AS d,
                               ($2::text[])[1 + (n.i / 5) % 7] AS s) x`,
    [PLATFORMS, STATUSES, N],
  );
  const { rows } = await svc.sql('SELECT id::text, household_id::text FROM referral');
  assert.equal(rows.length, N);
  originalIds = new Set(rows.map((r) => r.id));
  originalHouseholds = new Set(rows.map((r) => r.household_id));
});

after(async () => {
  await svc?.stop();
});

test('walking /v1/referrals?limit=500 returns each of the 10 000 referrals exactly once while referrals are created', async () => {
  const created = [];
  let pagesDuringCreation = 0;
  const creator = (async () => {
    for (let i = 0; i < CONCURRENT_CREATES; i += 1) {
      const res = await svc.api('POST', '/v1/referrals', {
        token: coord,
        body: {
          household: {
            platform: i % 2 ? 'artois' : 'lens_henin',
            composition: 'single_person',
            adults: 1,
            children: 0,
            head: { last_name: uniqueName(), first_name: 'Sam', birth_date: '1993-01-02', sex: 'male' },
            housing_situation: 'squat',
          },
          platform: i % 2 ? 'artois' : 'lens_henin',
          referrer_kind: 'siao',
          referrer_name: 'SIAO 62',
          received_on: todayParis(),
        },
      });
      assert.equal(res.status, 201, show(res));
      created.push(res.json.id);
    }
  })();
  const walker = walk(`/v1/referrals?limit=${PAGE}`, admin, {
    onPage: (page) => {
      assert.ok(page.items.length <= PAGE, `page of ${page.items.length} items`);
      if (created.length < CONCURRENT_CREATES) pagesDuringCreation += 1;
    },
  });
  const [items] = await Promise.all([walker, creator]);

  const seen = new Map();
  for (const it of items) seen.set(it.id, (seen.get(it.id) ?? 0) + 1);
  const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  assert.deepEqual(twice, [], 'no id comes twice');
  const missing = [...originalIds].filter((id) => !seen.has(id));
  assert.equal(missing.length, 0, `${missing.length} original referrals never returned, e.g. ${missing.slice(0, 3)}`);
  for (const id of seen.keys()) {
    assert.ok(originalIds.has(id) || created.includes(id), `unknown id ${id}`);
  }
  assertKeysetOrder(items, 'referrals walk');
  // The walk did overlap the creations (otherwise this test proves less than it says).
  assert.ok(pagesDuringCreation > 0, 'no page was read while referrals were being created');
  assert.equal(created.length, CONCURRENT_CREATES);

  // Afterwards, a quiet walk returns everything, exactly once.
  const all = await walk(`/v1/referrals?limit=${PAGE}`);
  assert.equal(all.length, N + CONCURRENT_CREATES);
  assert.equal(new Set(all.map((i) => i.id)).size, all.length);
  assertKeysetOrder(all, 'quiet walk');
});

test('a referral updated during an updated_since walk comes again on a later page (lossless sync)', async () => {
  const path = `/v1/referrals?updated_since=${encodeURIComponent('2000-01-01T00:00:00Z')}&limit=${PAGE}`;
  const seen = new Map(); // id → [{status, updated_at}, …] in the order returned
  let changed = [];
  let cursor = null;
  let done = false;
  for (let page = 0; page < MAX_PAGES && !done; page += 1) {
    const url = cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path;
    const res = await svc.api('GET', url, { token: admin, timeout: 120_000 });
    assert.equal(res.status, 200, show(res));
    for (const i of res.json.items) {
      if (!seen.has(i.id)) seen.set(i.id, []);
      seen.get(i.id).push({ status: i.status, updated_at: i.updated_at });
    }
    if (page === 0) {
      // Move 20 referrals of the first page (already returned) along: they must come again.
      changed = res.json.items.filter((i) => i.status === 'received').slice(0, 20);
      assert.equal(changed.length, 20);
      for (const c of changed) {
        const t = await svc.api('POST', `/v1/referrals/${c.id}/transitions`, {
          token: admin,
          body: { to: 'assessing', on: todayParis() },
        });
        assert.equal(t.status, 200, show(t));
      }
    }
    cursor = res.json.next_cursor;
    done = cursor === null;
  }
  assert.ok(done, `still a next_cursor after ${MAX_PAGES} pages`);
  for (const c of changed) {
    const views = seen.get(c.id);
    assert.deepEqual(
      views.map((v) => v.status),
      ['received', 'assessing'],
      `referral ${c.id} updated during the walk: seen ${JSON.stringify(views)}`,
    );
    assert.ok(micros(views[1].updated_at) > micros(views[0].updated_at));
  }
  for (const id of originalIds) assert.ok(seen.has(id), `original ${id} never returned`);
  const repeated = [...seen].filter(([id, v]) => v.length > 1 && !changed.some((c) => c.id === id));
  assert.deepEqual(repeated, [], 'only the updated referrals come twice');
});

test('walking /v1/households?limit=500 returns each household exactly once, in (updated_at, id) order', async () => {
  const items = await walk(`/v1/households?limit=${PAGE}`);
  const ids = new Set(items.map((i) => i.id));
  assert.equal(ids.size, items.length, 'no household twice');
  const missing = [...originalHouseholds].filter((id) => !ids.has(id));
  assert.deepEqual(missing, [], 'every inserted household returned');
  assertKeysetOrder(items, 'households walk');
});

test('small pages: limit=7 walks a filtered list without loss or repeat', async () => {
  const { rows } = await svc.sql(
    `SELECT id::text FROM referral WHERE platform = 'montreuillois' AND received_on BETWEEN '2021-03-01' AND '2021-06-30'
      ORDER BY updated_at, id`,
  );
  assert.ok(rows.length > 30, `only ${rows.length} rows`);
  const items = await walk('/v1/referrals?platform=montreuillois&received_from=2021-03-01&received_to=2021-06-30&limit=7');
  assert.deepEqual(
    items.map((i) => i.id),
    rows.map((r) => r.id),
  );
});

test('the default page is 50 items', async () => {
  const res = await svc.api('GET', '/v1/referrals', { token: admin });
  assert.equal(res.status, 200, show(res));
  assert.equal(res.json.items.length, 50);
  assert.equal(typeof res.json.next_cursor, 'string');
});

const GARBAGE_CURSORS = [
  'garbage',
  'not a cursor!',
  Buffer.from('["yesterday","not-a-uuid"]').toString('base64url'),
  Buffer.from('{"u":"2024-01-01"}').toString('base64url'),
  Buffer.from('["2024-01-01T00:00:00+00:00"]').toString('base64url'),
  'x'.repeat(600),
];

test('limit=0, limit=501 and a non-number limit answer 422 naming limit', async () => {
  for (const q of ['limit=0', 'limit=501', 'limit=100000', 'limit=-1', 'limit=abc', 'limit=10.5']) {
    const res = await svc.api('GET', `/v1/referrals?${q}`, { token: admin });
    assertProblem(res, 422, { fields: ['limit'] });
    assert.equal(res.json.type, '/problems/validation');
  }
  const h0 = await svc.api('GET', '/v1/households?limit=0', { token: admin });
  assertProblem(h0, 422, { fields: ['limit'] });
});

test('a garbage cursor answers 422 (never 500, never a silent first page)', async () => {
  for (const c of GARBAGE_CURSORS) {
    const res = await svc.api('GET', `/v1/referrals?limit=10&cursor=${encodeURIComponent(c)}`, { token: admin });
    assertProblem(res, 422);
    assert.equal(res.json.type, '/problems/validation');
  }
  const h = await svc.api('GET', '/v1/households?cursor=garbage', { token: admin });
  assertProblem(h, 422);
});

test('the 422 for a garbage cursor lists the error under the parameter name "cursor"', async () => {
  const bad = [];
  for (const c of [...GARBAGE_CURSORS.map((x) => `/v1/referrals?limit=10&cursor=${encodeURIComponent(x)}`), '/v1/households?cursor=garbage']) {
    const res = await svc.api('GET', c, { token: admin });
    if (!(res.status === 422 && res.json?.errors?.some((e) => e.field === 'cursor'))) bad.push(`${c} → ${show(res)}`);
  }
  assert.deepEqual(bad, [], 'openapi.yaml: validation problems list every error with the query parameter name');
});

test('bad filter values answer 422 naming the parameter', async () => {
  const cases = [
    ['platform=paris', 'platform'],
    ['status=closed', 'status'],
    ['received_from=2021-13-01', 'received_from'],
    ['received_to=31/12/2021', 'received_to'],
    ['updated_since=yesterday', 'updated_since'],
    ['partner=not-a-uuid', 'partner'],
    ['household=42', 'household'],
  ];
  for (const [q, field] of cases) {
    const res = await svc.api('GET', `/v1/referrals?${q}`, { token: admin });
    assertProblem(res, 422, { fields: [field] });
  }
});

async function sqlCount(where, params = []) {
  const { rows } = await svc.sql(`SELECT count(*)::int AS n FROM referral WHERE ${where}`, params);
  return rows[0].n;
}

test('received_from / received_to return only referrals received in the range (inclusive)', async () => {
  const ranges = [
    ['2021-01-01', '2021-12-31'],
    ['2020-02-29', '2020-02-29'],
    ['2022-07-14', '2023-01-31'],
  ];
  for (const [from, to] of ranges) {
    const items = await walk(`/v1/referrals?received_from=${from}&received_to=${to}&limit=${PAGE}`);
    assert.ok(items.length > 0, `${from}..${to}: nothing`);
    for (const i of items) assert.ok(i.received_on >= from && i.received_on <= to, `${i.received_on} outside ${from}..${to}`);
    assert.equal(items.length, await sqlCount('received_on BETWEEN $1 AND $2', [from, to]), `${from}..${to}`);
    assert.equal(new Set(items.map((i) => i.id)).size, items.length);
  }
  const fromOnly = await walk(`/v1/referrals?received_from=2023-06-01&limit=${PAGE}`);
  assert.equal(fromOnly.length, await sqlCount("received_on >= '2023-06-01'"));
  assert.ok(fromOnly.every((i) => i.received_on >= '2023-06-01'));
  const toOnly = await walk(`/v1/referrals?received_to=2020-03-31&limit=${PAGE}`);
  assert.equal(toOnly.length, await sqlCount("received_on <= '2020-03-31'"));
  assert.ok(toOnly.every((i) => i.received_on <= '2020-03-31'));
  // An empty range.
  const none = await svc.api('GET', '/v1/referrals?received_from=2022-01-02&received_to=2022-01-01', { token: admin });
  assert.equal(none.status, 200, show(none));
  assert.deepEqual(none.json, { items: [], next_cursor: null });
});

test('platform and status filters return only matching referrals, as many as in the table', async () => {
  for (const platform of ['lens_henin', 'boulonnais']) {
    const items = await walk(`/v1/referrals?platform=${platform}&limit=${PAGE}`);
    assert.ok(items.every((i) => i.platform === platform));
    assert.equal(items.length, await sqlCount('platform = $1', [platform]), platform);
  }
  for (const status of ['assessing', 'no_follow_up']) {
    const items = await walk(`/v1/referrals?status=${status}&limit=${PAGE}`);
    assert.ok(items.every((i) => i.status === status));
    assert.equal(items.length, await sqlCount('status = $1', [status]), status);
  }
  const combined = await walk(
    `/v1/referrals?platform=artois&status=received&received_from=2020-06-01&received_to=2021-06-30&limit=${PAGE}`,
  );
  assert.ok(combined.length > 0);
  assert.ok(
    combined.every(
      (i) => i.platform === 'artois' && i.status === 'received' && i.received_on >= '2020-06-01' && i.received_on <= '2021-06-30',
    ),
  );
  assert.equal(
    combined.length,
    await sqlCount("platform = 'artois' AND status = 'received' AND received_on BETWEEN '2020-06-01' AND '2021-06-30'"),
  );
  // A coordinator's platform filter outside its scope: an empty list, not an error.
  const outside = await svc.api('GET', '/v1/referrals?platform=boulonnais', { token: coord });
  assert.equal(outside.status, 200, show(outside));
  assert.deepEqual(outside.json.items, []);
  // A coordinator walks its own platforms only.
  const mine = await walk(`/v1/referrals?limit=${PAGE}`, coord);
  assert.ok(mine.every((i) => i.platform === 'artois' || i.platform === 'lens_henin'));
  assert.equal(mine.length, await sqlCount("platform IN ('artois', 'lens_henin')"));
});

test('household and updated_since filters', async () => {
  const { rows } = await svc.sql('SELECT id::text, household_id::text FROM referral ORDER BY id LIMIT 1');
  const byHousehold = await svc.api('GET', `/v1/referrals?household=${rows[0].household_id}`, { token: admin });
  assert.equal(byHousehold.status, 200, show(byHousehold));
  assert.deepEqual(byHousehold.json.items.map((i) => i.id), [rows[0].id]);

  // updated_since: the start of the 7th group of the inserted referrals (an RFC 3339 string
  // with an offset: '+' must be encoded in the query).
  const { rows: t } = await svc.sql(
    `SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || 'Z' AS utc,
            to_char(updated_at AT TIME ZONE 'Etc/GMT-2', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+02:00' AS plus2
       FROM referral ORDER BY updated_at, id OFFSET 6500 LIMIT 1`,
  );
  const since = t[0].utc;
  const items = await walk(`/v1/referrals?updated_since=${encodeURIComponent(since)}&limit=${PAGE}`);
  assert.equal(items.length, await sqlCount('updated_at >= $1::timestamptz', [since]));
  assert.ok(items.every((i) => micros(i.updated_at) >= micros(since)));
  // The same instant written with a +02:00 offset.
  const items2 = await walk(`/v1/referrals?updated_since=${encodeURIComponent(t[0].plus2)}&limit=${PAGE}`);
  assert.equal(items2.length, items.length);
});
