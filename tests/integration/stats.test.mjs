// The statistics endpoints as a user meets them (docs/statistics.md), on the demo data:
// the questions the grid takes and the 422s naming the parameter, who may ask what (and
// that the answer never depends on who asks), the disclosure block and the statuses, the
// CSV, the same count wherever the same records are counted, the settings, the reporting
// views of lda_bi and the extracts of lda_research, the database privileges, the
// pseudonymisation key and erasure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import pg from 'pg';
import { startService, runBinary, freePort, TEST_PSEUDONYM_KEY } from '../lib/service.mjs';
import { PLATFORMS, parseCsv } from '../lib/stats.mjs';
import { show } from '../lib/http.mjs';
import { assertProblem } from '../lib/problems.mjs';

const ACTIVITY = '/v1/stats/activity';
const YOUTH = '/v1/observatory/youth';
const SERIES = '/v1/observatory/youth/series';
const ENDPOINTS = [ACTIVITY, YOUTH, SERIES];

let svc;
const tok = {};

async function getOk(path, token = tok.analyst) {
  const res = await svc.api('GET', path, { token, timeout: 60_000 });
  assert.equal(res.status, 200, `GET ${path}: ${show(res)}`);
  return res;
}

before(async () => {
  svc = await startService();
  const seeded = await svc.runCli(['seed-demo'], { timeout: 300_000 });
  assert.equal(seeded.code, 0, `seed-demo exited ${seeded.code}\n${seeded.stderr}`);
  const specs = {
    admin: ['admin', {}],
    analyst: ['analyst', {}],
    analystArtois: ['analyst', { platforms: ['artois'] }],
    analystMixed: ['analyst', { platforms: ['artois', 'audomarois'] }],
    coordArtois: ['coordinator', { platforms: ['artois'] }],
    coordAmi1: ['coordinator', { platforms: ['artois', 'lens_henin'] }],
    partner: ['partner', { platforms: ['artois'] }],
    siao: ['siao', { platforms: ['artois'], source: 'siao62' }],
  };
  for (const [label, [role, opts]] of Object.entries(specs)) tok[label] = await svc.createToken(role, { ...opts, name: `stats-${label}` });
});

after(async () => {
  await svc?.stop();
});

// ------------------------------------------------------------------------------ the grid

test('the grid: a month, a quarter, a year or a range of years answer 200', async () => {
  for (const ep of ENDPOINTS) {
    for (const [qs, kind] of [
      ['from=2024-02-01&to=2024-02-29', 'month'],
      ['from=2024-07-01&to=2024-09-30', 'quarter'],
      ['from=2024-01-01&to=2024-12-31', 'year'],
      ['from=2021-01-01&to=2024-12-31', 'years'],
    ]) {
      const { json } = await getOk(`${ep}?${qs}`);
      assert.equal(json.filters.period, kind, `${ep}?${qs}`);
      assert.equal(json.filters.from, qs.slice(5, 15));
    }
  }
});

test('off the grid: 422 naming from or to, and nothing else changes', async () => {
  const cases = [
    ['from=2024-01-15&to=2024-03-31', 'from'],
    ['from=2024-01-01&to=2024-03-30', 'to'],
    ['from=2024-01-01&to=2024-05-31', 'to'], // five months
    ['from=2024-02-01&to=2024-04-30', 'to'], // three months, not a quarter
    ['from=2024-07-01&to=2025-06-30', 'to'], // twelve months, not a calendar year
    ['from=2024-05-01&to=2024-04-30', 'to'], // backwards
    ['from=1900-01-01&to=2000-12-31', 'to'], // over 100 years
    ['to=2024-03-31', 'to'], // from defaults to 2019-01-01
  ];
  for (const ep of ENDPOINTS) {
    for (const [qs, field] of cases) {
      const res = await svc.api('GET', `${ep}?${qs}`, { token: tok.analyst });
      assertProblem(res, 422, { fields: field });
    }
  }
  // one platform, one AMI or all; no free ages
  for (const [qs, field] of [
    ['platform=artois&platform=lens_henin', 'platform'],
    ['platform=artois&ami=1', 'ami'],
    ['ami=3', 'ami'],
    ['platform=paris', 'platform'],
  ]) {
    for (const ep of ENDPOINTS) assertProblem(await svc.api('GET', `${ep}?${qs}`, { token: tok.analyst }), 422, { fields: field });
  }
  for (const qs of ['age_min=18', 'age_max=24', 'age_band=18_24']) {
    const res = await svc.api('GET', `${YOUTH}?${qs}`, { token: tok.analyst });
    assertProblem(res, 422, { fields: qs.split('=')[0] });
  }
  assertProblem(await svc.api('GET', `${ACTIVITY}?age_band=age_18_25`, { token: tok.analyst }), 422, { fields: 'age_band' });
});

test('defaults: from 2019 to the end of this year, all platforms, the youth band', async () => {
  const { json } = await getOk(YOUTH);
  const year = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric' }).format(new Date());
  assert.deepEqual(json.filters, {
    from: '2019-01-01', to: `${year}-12-31`, period: 'years', platform: null, ami: null,
    platforms: PLATFORMS, age_band: 'age_18_25',
  });
  assert.deepEqual(json.by_age.map((c) => c.code), ['18', '19', '20', '21', '22', '23', '24', '25']);
  const band = await getOk(`${YOUTH}?from=2024-01-01&to=2024-12-31&age_band=age_26_34`);
  assert.deepEqual(band.json.by_age.map((c) => c.code), ['26', '27', '28', '29', '30', '31', '32', '33', '34']);
  assert.equal(band.json.filters.age_band, 'age_26_34');
  assert.ok(!band.json.disclosure.exact.includes('youth_requests'), 'youth_requests is exact for the youth band only');
  assert.ok(band.json.disclosure.exact.includes('requests_total'));
});

// ------------------------------------------------------------------------------ who asks

test('roles: partner and siao tokens get 403; the others read statistics', async () => {
  for (const ep of ENDPOINTS) {
    for (const t of [tok.partner, tok.siao]) assertProblem(await svc.api('GET', `${ep}?from=2024-01-01&to=2024-12-31`, { token: t }), 403);
    assertProblem(await svc.api('GET', ep), 401);
    for (const t of [tok.admin, tok.analyst]) await getOk(`${ep}?from=2024-01-01&to=2024-12-31`, t);
  }
});

test('a scoped token asks about its platforms only; without platform it gets its platform or AMI', async () => {
  const q = 'from=2024-01-01&to=2024-12-31';
  for (const ep of ENDPOINTS) {
    assert.equal((await getOk(`${ep}?${q}`, tok.coordArtois)).json.filters.platform, 'artois');
    assert.equal((await getOk(`${ep}?${q}`, tok.coordAmi1)).json.filters.ami, 1);
    assert.equal((await getOk(`${ep}?${q}&platform=lens_henin`, tok.coordAmi1)).json.filters.platform, 'lens_henin');
    assertProblem(await svc.api('GET', `${ep}?${q}&ami=1`, { token: tok.coordArtois }), 403);
    assertProblem(await svc.api('GET', `${ep}?${q}&platform=lens_henin`, { token: tok.analystArtois }), 403);
    assertProblem(await svc.api('GET', `${ep}?${q}&ami=2`, { token: tok.coordAmi1 }), 403);
    assertProblem(await svc.api('GET', `${ep}?${q}`, { token: tok.analystMixed }), 403); // artois + audomarois: no one scope
    await getOk(`${ep}?${q}&platform=audomarois`, tok.analystMixed);
  }
});

test('the figures depend on the question only, never on who asks', async () => {
  for (const path of [`${YOUTH}?from=2024-04-01&to=2024-06-30&platform=artois`, `${ACTIVITY}?from=2019-01-01&to=2022-12-31&platform=artois`,
    `${SERIES}?from=2024-01-01&to=2024-12-31&platform=artois&granularity=quarter`]) {
    const answers = [];
    for (const t of [tok.admin, tok.analyst, tok.analystArtois, tok.coordArtois, tok.coordAmi1]) answers.push((await getOk(path, t)).text);
    assert.ok(answers.every((a) => a === answers[0]), path);
  }
});

// ------------------------------------------------------------------------------ what is published

test('the activity report 2019–2022 is exact; the disclosure block says how each figure is protected', async () => {
  const { json: a } = await getOk(`${ACTIVITY}?from=2019-01-01&to=2022-12-31`);
  assert.deepEqual({ r: a.referrals_received, ...a.outcomes }, { r: 1266, accompanied: 634, reoriented: 275, no_follow_up: 79, in_progress: 278, housed_or_maintained: 445 });
  assert.deepEqual(a.disclosure, {
    method: 'cell_key', max_noise: 2, threshold: 11,
    exact: ['referrals_received', 'accompanied', 'reoriented', 'no_follow_up', 'in_progress', 'housed_or_maintained'],
  });
  assert.deepEqual(a.by_year.map((c) => [c.code, c.count, c.status]), [['2019', 190, 'E'], ['2020', 260, 'E'], ['2021', 390, 'E'], ['2022', 426, 'E']]);
  for (const c of [...a.by_housing_situation, ...a.by_referrer_kind, ...a.by_platform, ...a.measures_by_kind]) {
    assert.ok(['P', 'A'].includes(c.status), JSON.stringify(c));
    assert.equal(c.count === null, c.status === 'A', JSON.stringify(c));
    if (c.count !== null && c.count > 0) assert.ok(c.count >= 11, JSON.stringify(c));
  }
  // an AMI: exact too; one platform, or a quarter: every count protected
  const ami = (await getOk(`${ACTIVITY}?from=2021-01-01&to=2022-12-31&ami=2`)).json;
  assert.ok(ami.disclosure.exact.includes('referrals_received'));
  assert.equal(ami.referrals_received, 55 + 50 + 25 + 60 + 61 + 40);
  const one = (await getOk(`${ACTIVITY}?from=2021-01-01&to=2022-12-31&platform=artois`)).json;
  assert.deepEqual(one.disclosure.exact, []);
  assert.ok(Math.abs(one.referrals_received - 273) <= 2, `artois 2021–2022: ${one.referrals_received}`);
  const quarter = (await getOk(`${ACTIVITY}?from=2022-01-01&to=2022-03-31`)).json;
  assert.deepEqual(quarter.disclosure.exact, []);
});

test('the same records give the same count, whichever question, endpoint or format counts them', async () => {
  // a platform's youth requests: its own question, the by_platform cell of its AMI's and all platforms'
  const all = (await getOk(`${YOUTH}?from=2024-01-01&to=2024-12-31`)).json;
  const ami1 = (await getOk(`${YOUTH}?from=2024-01-01&to=2024-12-31&ami=1`)).json;
  for (const p of PLATFORMS) {
    const own = (await getOk(`${YOUTH}?from=2024-01-01&to=2024-12-31&platform=${p}`)).json.youth_requests;
    assert.equal(all.by_platform.find((c) => c.code === p).count, own, p);
    if (['artois', 'lens_henin'].includes(p)) assert.equal(ami1.by_platform.find((c) => c.code === p).count, own, p);
  }
  assert.deepEqual(ami1.by_platform.map((c) => c.code), ['artois', 'lens_henin']);
  // a month: its own question and its point in a yearly series by month; a year: its headline and its point
  const series = (await getOk(`${SERIES}?from=2024-01-01&to=2024-12-31&platform=boulonnais&granularity=month`)).json;
  const march = (await getOk(`${YOUTH}?from=2024-03-01&to=2024-03-31&platform=boulonnais`)).json;
  for (const k of ['requests_total', 'youth_requests', 'youth_persons', 'repeat_persons', 'unmet_rate', 'no_alternative_share']) {
    assert.equal(series.items[2][k], march[k], k);
  }
  const years = (await getOk(`${SERIES}?from=2019-01-01&to=2025-12-31&granularity=year`)).json;
  assert.deepEqual(years.disclosure.exact.sort(), ['requests_total', 'youth_requests', 'youth_share']);
  for (const item of years.items) {
    const y = (await getOk(`${YOUTH}?from=${item.period}-01-01&to=${item.period}-12-31`)).json;
    assert.equal(item.requests_total, y.requests_total);
    assert.equal(item.youth_requests, y.youth_requests);
    assert.equal(item.youth_persons, y.youth_persons);
    assert.deepEqual(item.exact.sort(), ['requests_total', 'youth_requests', 'youth_share']);
  }
  // an activity year: its own question and its by_year cell in a range
  const r = (await getOk(`${ACTIVITY}?from=2019-01-01&to=2022-12-31&ami=1`)).json;
  const y2021 = (await getOk(`${ACTIVITY}?from=2021-01-01&to=2021-12-31&ami=1`)).json;
  assert.equal(r.by_year.find((c) => c.code === '2021').count, y2021.referrals_received);
});

test('CSV: the long format with E/P/A statuses, the same values as the JSON', async () => {
  for (const path of [`${ACTIVITY}?from=2019-01-01&to=2022-12-31`, `${YOUTH}?from=2024-03-01&to=2024-03-31&platform=montreuillois`]) {
    const { json } = await getOk(path);
    const res = await getOk(`${path}&format=csv`);
    assert.match(res.headers['content-type'], /^text\/csv; charset=utf-8/);
    assert.match(res.headers['content-disposition'], /^attachment; filename="[a-z-]+\.csv"$/);
    const rows = parseCsv(res.text);
    assert.deepEqual(rows[0], ['section', 'code', 'label_fr', 'count', 'share', 'status']);
    let hidden = 0;
    for (const r of rows.slice(1)) {
      assert.ok(['E', 'P', 'A'].includes(r[5]), r.join());
      if (r[5] === 'A') { hidden += 1; assert.deepEqual([r[3], r[4]], ['', '']); }
      const cell = r[0] === 'headline' ? json[r[1]] : r[0] === 'outcomes' ? json.outcomes[r[1]] : json[r[0]].find((c) => c.code === r[1]).count;
      const v = r[3] !== '' ? Number(r[3]) : r[4] !== '' ? Number(r[4]) : null;
      assert.ok(cell === v || Math.abs(cell - v) < 1e-12, `${r.join()} ≠ ${cell}`);
    }
    if (path.includes('montreuillois')) assert.ok(hidden > 0, 'a small platform in one month has hidden cells');
    const accept = await svc.api('GET', path, { token: tok.analyst, headers: { Accept: 'text/csv' } });
    assert.equal(accept.text, res.text);
  }
  const s = await getOk(`${SERIES}?from=2024-01-01&to=2024-03-31&platform=montreuillois&format=csv`);
  const rows = parseCsv(s.text);
  assert.equal(rows[0][3], 'requests_total_status');
  for (const r of rows.slice(1)) for (let i = 3; i < r.length; i += 2) assert.ok(['E', 'P', 'A'].includes(r[i]), r.join());
});

test('LDA_STATS_MIN_CELL and LDA_STATS_MAX_NOISE change the threshold and the noise, for the API and the views', async () => {
  const other = await startService({ env: { LDA_STATS_MIN_CELL: '5', LDA_STATS_MAX_NOISE: '3' } });
  try {
    await other.runCli(['seed-demo'], { timeout: 300_000 });
    const t = await other.createToken('analyst');
    const res = await other.api('GET', `${YOUTH}?from=2024-03-01&to=2024-03-31&platform=montreuillois`, { token: t });
    assert.equal(res.status, 200, show(res));
    assert.deepEqual([res.json.disclosure.threshold, res.json.disclosure.max_noise], [5, 3]);
    for (const c of res.json.by_sex) if (c.count !== null && c.count > 0) assert.ok(c.count >= 5);
    const { rows } = await other.sql('SELECT threshold, max_noise FROM disclosure_setting');
    assert.deepEqual([rows[0].threshold, rows[0].max_noise], [5, 3]);
  } finally {
    await other.stop();
  }
  for (const bad of ['0', '6', 'two']) {
    const port = await freePort();
    const r = await runBinary(['serve'], { env: { LDA_DATABASE_URL: svc.dbUrl, LDA_PSEUDONYM_KEY: TEST_PSEUDONYM_KEY, LDA_LISTEN: `127.0.0.1:${port}`, LDA_STATS_MAX_NOISE: bad }, timeout: 30_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /LDA_STATS_MAX_NOISE/);
  }
});

// ------------------------------------------------------------------------------ the database

async function asRole(role, fn) {
  const name = `${role}_${crypto.randomBytes(4).toString('hex')}`;
  await svc.sql(`CREATE ROLE ${name} LOGIN PASSWORD 'pw-${name}' IN ROLE ${role}`);
  const u = new URL(svc.dbUrl);
  u.username = name;
  u.password = `pw-${name}`;
  const client = new pg.Client({ connectionString: u.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
    await svc.sql(`DROP OWNED BY ${name}`);
    await svc.sql(`DROP ROLE ${name}`);
  }
}

test('lda_bi reads the protected aggregates, the same as the API, and nothing else whatever it sets', async () => {
  const api = (await getOk(`${YOUTH}?from=2024-03-01&to=2024-03-31&platform=lens_henin`)).json;
  const official = (await getOk(`${ACTIVITY}?from=2021-01-01&to=2021-12-31&ami=2`)).json;
  await asRole('lda_bi', async (bi) => {
    const cube = (await bi.query(`SELECT dimension, code, count, status FROM reporting.youth_monthly
      WHERE month = '2024-03-01' AND scope = 'lens_henin'`)).rows;
    for (const c of api.by_sex) {
      const row = cube.find((r) => r.dimension === 'sex' && r.code === c.code);
      assert.equal(row ? (row.count === null ? null : Number(row.count)) : 0, c.count, `sex ${c.code}`);
    }
    const yr = cube.find((r) => r.dimension === 'youth_requests');
    assert.equal(Number(yr.count), api.youth_requests);
    const off = (await bi.query(`SELECT figure, value, status FROM reporting.official_yearly WHERE year = 2021 AND scope = 'ami2'`)).rows;
    assert.equal(Number(off.find((r) => r.figure === 'referrals_received').value), official.referrals_received);
    assert.equal(Number(off.find((r) => r.figure === 'accompanied').value), official.outcomes.accompanied);
    await bi.query("SET lda.scope = '*'");
    for (const table of ['siao_request', 'referral', 'household', 'measure', 'observatory_cell', 'observatory_link', 'audit_event', 'api_token']) {
      await assert.rejects(bi.query(`SELECT 1 FROM ${table} LIMIT 1`), /permission denied/, table);
    }
    await assert.rejects(bi.query('SELECT 1 FROM research.siao_requests LIMIT 1'), /permission denied/);
    await assert.rejects(bi.query("SELECT * FROM lda_youth_counts('2024-01-01', '2025-01-01', 'period', 18, 25, NULL)"), /permission denied/);
    await assert.rejects(bi.query('SELECT lda_observe(ARRAY[]::siao_request[], ARRAY[]::siao_request[])'), /permission denied/);
    // no row-level view left in reporting: every view is an aggregate without ids or dates
    const cols = (await bi.query(`SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'reporting'`)).rows;
    for (const c of cols) assert.ok(!/(_id|person_key|received_on|received_at|birth)/.test(c.column_name), `${c.table_name}.${c.column_name}`);
  });
});

test('lda_research: no login; pseudonymised extracts with months, no id, no person key, no free text', async () => {
  const { rows } = await svc.sql(`SELECT rolcanlogin FROM pg_roles WHERE rolname = 'lda_research'`);
  assert.deepEqual(rows, [{ rolcanlogin: false }]);
  await asRole('lda_research', async (r) => {
    const cols = (await r.query(`SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'research'`)).rows;
    assert.ok(cols.length > 20);
    for (const c of cols) {
      assert.ok(!/(^id$|_id$|person_key|name|external|birth)/.test(c.column_name), `${c.table_name}.${c.column_name}`);
      assert.ok(!(c.data_type === 'text' && /note|comment/.test(c.column_name)), `free text: ${c.table_name}.${c.column_name}`);
      if (c.data_type === 'date') {
        const bad = (await r.query(`SELECT count(*)::int AS n FROM research.${c.table_name} WHERE extract(day FROM ${c.column_name}) <> 1`)).rows[0].n;
        assert.equal(bad, 0, `${c.table_name}.${c.column_name} holds days, not months`);
      }
    }
    assert.ok((await r.query('SELECT count(*)::int AS n FROM research.referrals')).rows[0].n === 1266);
    await assert.rejects(r.query('SELECT 1 FROM referral LIMIT 1'), /permission denied/);
  });
});

test('only the service role may call a function that runs with its owner\'s rights', async () => {
  const { rows: funcs } = await svc.sql(`SELECT p.oid::regprocedure::text AS f FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')`);
  assert.ok(funcs.length >= 6, funcs.map((x) => x.f).join());
  const { rows: roles } = await svc.sql(`SELECT rolname FROM pg_roles WHERE NOT rolsuper AND rolname NOT LIKE 'pg\\_%'
    AND rolname <> (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database())`);
  const allowed = [];
  for (const { f } of funcs) {
    for (const { rolname } of roles) {
      const { rows } = await svc.sql('SELECT has_function_privilege($1, $2, \'EXECUTE\') AS ok', [rolname, f]);
      if (rows[0].ok) allowed.push(`${rolname}: ${f}`);
    }
  }
  const others = allowed.filter((a) => !a.startsWith('lda_app:'));
  // login roles that are members of lda_app (a deployment's service login) inherit it
  const { rows: members } = await svc.sql(`SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
    JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = 'lda_app'`);
  const memberNames = new Set(members.map((m) => m.rolname));
  assert.deepEqual(others.filter((a) => !memberNames.has(a.split(':')[0])), [], 'roles other than the service may call definer functions');
  assert.ok(allowed.some((a) => a.startsWith('lda_app:')), 'the service may call them');
});

// ------------------------------------------------------------------------------ keys and erasure

test('serve refuses to start without LDA_PSEUDONYM_KEY, unless told to use the development key', async () => {
  const port = await freePort();
  const r = await runBinary(['serve'], { env: { LDA_DATABASE_URL: svc.dbUrl, LDA_LISTEN: `127.0.0.1:${port}` }, timeout: 30_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /LDA_PSEUDONYM_KEY is required/);
  const dev = await startService({ env: { LDA_PSEUDONYM_KEY: undefined, LDA_DEV_DATABASE_KEY: 'true' } });
  await dev.stop();
});

test('a person_key pushed by a SIAO system is stored re-keyed with the service key and the source', async () => {
  const records = [{ external_id: 'rk-1', received_at: '2024-05-02T10:00:00+02:00', platform: 'artois', channel: 'call_115', person_key: 'SRC-PERSON-42', age: 20 }];
  const res = await svc.api('POST', '/v1/siao-requests/batch?source=rekey-test', { token: tok.admin, body: records });
  assert.equal(res.status, 200, show(res));
  const { rows } = await svc.sql(`SELECT person_key FROM siao_request WHERE source = 'rekey-test'`);
  const expected = crypto.createHmac('sha256', TEST_PSEUDONYM_KEY).update('rekey-test\u001fSRC-PERSON-42').digest('hex');
  assert.deepEqual(rows, [{ person_key: expected }]);
  const again = await svc.api('POST', '/v1/siao-requests/batch?source=rekey-test', { token: tok.admin, body: records });
  assert.equal(again.json.unchanged, 1, 'the same record pushed again is unchanged');
});

test('erasure also redacts the notes of the household\'s referrals and events, and their source ids', async () => {
  const hh = [{ external_id: 'er-hh-1', platform: 'artois', composition: 'single_person', adults: 1, children: 0,
    head: { last_name: 'Effacé', first_name: 'Jean', birth_date: '1990-01-02', sex: 'male' }, housing_situation: 'street' }];
  const h = await svc.api('POST', '/v1/households/batch?source=erasure-test', { token: tok.admin, body: hh });
  assert.equal(h.status, 200, show(h));
  const body = [{ external_id: 'er-ref-1', household_external_id: 'er-hh-1', platform: 'artois', referrer_kind: 'ccas',
    referrer_name: 'CCAS de Béthune', received_on: '2024-02-01', reasons: ['homelessness'] }];
  const pushed = await svc.api('POST', '/v1/referrals/batch?source=erasure-test', { token: tok.admin, body });
  assert.equal(pushed.status, 200, show(pushed));
  assert.equal(pushed.json.created, 1, show(pushed));
  const { rows: [ref] } = await svc.sql(`SELECT id, household_id FROM referral WHERE source = 'erasure-test'`);
  const tr = await svc.api('POST', `/v1/referrals/${ref.id}/transitions`, { token: tok.admin, body: { to: 'assessing', on: '2024-02-03', note: 'Rencontré M. Effacé chez sa sœur.' } });
  assert.equal(tr.status, 200, show(tr));
  const patch = await svc.api('GET', `/v1/referrals/${ref.id}`, { token: tok.admin });
  const p2 = await svc.api('PATCH', `/v1/referrals/${ref.id}`, { token: tok.admin, headers: { 'If-Match': patch.headers.etag }, body: { decision_note: 'M. Effacé refuse le CHRS.' } });
  assert.equal(p2.status, 200, show(p2));
  const before = (await getOk(`${ACTIVITY}?from=2024-01-01&to=2024-12-31`)).json;
  const del = await svc.api('DELETE', `/v1/households/${ref.household_id}`, { token: tok.admin });
  assert.equal(del.status, 204, show(del));
  const { rows: [after] } = await svc.sql(`SELECT r.decision_note, r.external_id,
    (SELECT count(*)::int FROM referral_event e WHERE e.referral_id = r.id AND e.note IS NOT NULL) AS notes,
    (SELECT count(*)::int FROM referral_event e WHERE e.referral_id = r.id) AS events
    FROM referral r WHERE r.id = $1`, [ref.id]);
  assert.deepEqual(after, { decision_note: null, external_id: null, notes: 0, events: 2 });
  const afterStats = (await getOk(`${ACTIVITY}?from=2024-01-01&to=2024-12-31`)).json;
  assert.deepEqual(afterStats, before, 'the statistics still count the de-identified referral');
});
