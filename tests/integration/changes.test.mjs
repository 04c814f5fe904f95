// The change feed (GET /v1/changes): one event per change, in commit order, with no gap even
// when transactions commit out of order; ids, types, times and codes only (identity and free
// text never appear); the resources' scope rules (prevention cases, actions, follow-ups and
// placements too); long polling that keeps the server serving
// everyone else; a bounded number of waiters; 410 for a cursor older than the events kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startService, superuserUrl } from '../lib/service.mjs';
import { createReferral, cursorPosition, readAll, transition } from '../lib/changes.mjs';
import { plainHouseholdBody, inlineReferralBody, uniqueLetters } from '../lib/data.mjs';
import { sleep, until } from '../lib/wait.mjs';

let svc;
const tok = {};
const tokId = {};

async function newToken(name, body) {
  const res = await svc.api('POST', '/v1/tokens', { token: tok.admin, body: { name: `changes-${name}`, ...body } });
  assert.equal(res.status, 201, res.text);
  tok[name] = res.json.token;
  tokId[name] = res.json.id;
}

before(async () => {
  svc = await startService({ env: { LDA_RATE_LIMIT_RPS: '0' } });
  tok.admin = await svc.createToken('admin', { name: 'changes-admin' });
  await newToken('coordA', { role: 'coordinator', platforms: ['artois'] });
  await newToken('coordB', { role: 'coordinator', platforms: ['lens_henin'] });
  await newToken('partner1', { role: 'partner', platforms: ['artois'] });
  await newToken('partner2', { role: 'partner', platforms: ['artois'] });
  await newToken('siao', { role: 'siao', platforms: ['artois'], source: 'siao62' });
  await newToken('analyst', { role: 'analyst' });
});

after(async () => {
  await svc?.stop();
});

test('every_change_becomes_one_event_with_codes_and_ids_but_never_identity_or_free_text', async () => {
  const start = (await readAll(svc, tok.admin)).cursor;
  const canary = uniqueLetters('Canari');
  const body = inlineReferralBody('artois', {
    referrer_name: `Orienteur ${canary}`,
    decision_note: `Note ${canary}`,
    household: plainHouseholdBody('artois', {
      external_ref: `ext-${canary}`,
      head: { last_name: `Nom${canary}`, first_name: `Prenom${canary}`, birth_date: '1991-02-03', sex: 'male' },
    }),
  });
  const created = await svc.api('POST', '/v1/referrals', { token: tok.coordA, body });
  assert.equal(created.status, 201, created.text);
  const ref = created.json;
  await transition(svc, tok.coordA, ref.id, 'assessing', '2025-01-15');
  const patched = await svc.api('PATCH', `/v1/referrals/${ref.id}`, { token: tok.coordA, body: { decision_note: `Autre ${canary}` } });
  assert.equal(patched.status, 200, patched.text);
  const m = await svc.api('POST', `/v1/referrals/${ref.id}/measures`, {
    token: tok.coordA,
    body: { kind: 'adsl', operator: `Opérateur ${canary}`, started_on: '2025-01-20' },
  });
  assert.equal(m.status, 201, m.text);
  const ended = await svc.api('PATCH', `/v1/measures/${m.json.id}`, {
    token: tok.coordA,
    body: { ended_on: '2025-02-20', end_reason: 'goals_met', housing_outcome: 'accessed', housing_type: 'social_housing', housing_on: '2025-02-01' },
  });
  assert.equal(ended.status, 200, ended.text);
  const hh = await svc.api('PATCH', `/v1/households/${ref.household}`, { token: tok.coordA, body: { children: 2 } });
  assert.equal(hh.status, 200, hh.text);
  const erased = await svc.api('DELETE', `/v1/households/${ref.household}`, { token: tok.admin });
  assert.equal(erased.status, 204, erased.text);
  const batch = await svc.api('POST', '/v1/siao-requests/batch', {
    token: tok.siao,
    body: [1, 2, 3].map((i) => ({
      external_id: `S-${canary}-${i}`,
      received_at: '2024-03-10T22:14:05+01:00',
      platform: 'artois',
      channel: 'call_115',
      person_key: `pk-${canary}-${i}`,
      age: 21,
      sex: 'male',
      needs: ['emergency_shelter'],
      response: 'no_place_available',
    })),
  });
  assert.equal(batch.status, 200, batch.text);
  assert.equal(batch.json.created, 3, batch.text);

  const { events } = await until(async () => {
    const r = await readAll(svc, tok.admin, { after: start });
    return r.events.some((e) => e.type === 'siao_batch_applied') ? r : null;
  }, 'the batch event');
  const mine = events.filter((e) => [ref.id, ref.household, m.json.id].includes(e.resource_id) || e.type === 'siao_batch_applied');
  assert.deepEqual(
    mine.map((e) => e.type),
    [
      'household_created',
      'referral_created',
      'referral_status_changed',
      'referral_updated',
      'measure_started',
      'measure_ended',
      'household_updated',
      'household_erased',
      'referral_updated', // the erasure redacted the referral's notes
      'siao_batch_applied',
    ],
  );
  const byType = Object.fromEntries(mine.map((e) => [e.type, e]));
  assert.deepEqual(byType.referral_status_changed.data, { from: 'received', to: 'assessing', on: '2025-01-15', version: 2 });
  assert.equal(byType.referral_created.data.status, 'received');
  assert.equal(byType.measure_ended.data.housing_outcome, 'accessed');
  assert.equal(byType.measure_ended.data.referral, ref.id);
  assert.equal(byType.measure_ended.platform, 'artois');
  assert.deepEqual(
    { ...byType.siao_batch_applied.data },
    { source: 'siao62', created: 3, updated: 0 },
    'one event for the batch, with its counts',
  );
  for (const e of mine) {
    assert.match(e.at, /^\d{4}-\d\d-\d\dT/);
    assert.equal(e.platform, 'artois');
  }
  // never identity or free text, whoever reads
  for (const who of ['admin', 'coordA']) {
    const res = await svc.api('GET', `/v1/changes?after=${start}&limit=500`, { token: tok[who] });
    assert.equal(res.status, 200);
    assert.ok(!res.text.includes(canary), `${who}: a name, a note or an external reference reached the feed`);
    assert.ok(!res.text.includes('1991-02-03'), `${who}: a birth date reached the feed`);
  }
});

test('the_feed_follows_the_resources_scope_partners_their_referrals_siao_their_source_analysts_403', async () => {
  const start = (await readAll(svc, tok.admin)).cursor;
  const r1 = await createReferral(svc, tok.partner1, 'artois');
  const r2 = await createReferral(svc, tok.partner2, 'artois');
  const rB = await createReferral(svc, tok.coordB, 'lens_henin');
  const rA = await createReferral(svc, tok.coordA, 'artois');
  await transition(svc, tok.coordA, r1.id, 'assessing', '2025-01-15');
  const m1 = await svc.api('POST', `/v1/referrals/${r1.id}/measures`, { token: tok.coordA, body: { kind: 'vial', operator: 'X', started_on: '2025-01-20' } });
  assert.equal(m1.status, 201, m1.text);
  const ext = uniqueLetters('P');
  const hb = await svc.api('POST', '/v1/households/batch', { token: tok.siao, body: [{ external_id: `H-${ext}`, ...plainHouseholdBody('artois', { external_ref: undefined }) }] });
  assert.equal(hb.status, 200, hb.text);
  const rec = inlineReferralBody('artois');
  delete rec.household;
  const rb = await svc.api('POST', '/v1/referrals/batch', { token: tok.siao, body: [{ external_id: `R-${ext}`, household_external_id: `H-${ext}`, ...rec }] });
  assert.equal(rb.status, 200, rb.text);
  assert.equal(rb.json.created, 1, rb.text);
  const pushed = (await svc.sql('SELECT id::text FROM referral WHERE external_id = $1', [`R-${ext}`])).rows[0].id;
  const pm = await svc.api('POST', `/v1/referrals/${pushed}/measures`, { token: tok.coordA, body: { kind: 'adsl', operator: 'Y', started_on: '2025-01-21' } });
  assert.equal(pm.status, 201, pm.text);

  const all = (await until(async () => {
    const r = await readAll(svc, tok.admin, { after: start });
    return r.events.some((e) => e.resource_id === pm.json.id) ? r : null;
  }, 'the last event')).events;
  const seen = async (who) => (await readAll(svc, tok[who], { after: start })).events;

  const p1 = await seen('partner1');
  assert.ok(p1.length >= 2, 'partner1 sees its referral');
  assert.ok(p1.every((e) => e.resource_id === r1.id && e.resource_type === 'referral'), `partner1 sees only its referral's events: ${JSON.stringify(p1)}`);
  assert.deepEqual(p1.map((e) => e.type), ['referral_created', 'referral_status_changed']);
  const p2 = await seen('partner2');
  assert.ok(p2.every((e) => e.resource_id === r2.id), 'partner2 sees only its referral');

  const a = await seen('coordA');
  const b = await seen('coordB');
  assert.ok(a.every((e) => e.platform === 'artois') && b.every((e) => e.platform === 'lens_henin'), 'coordinators see their platforms only');
  assert.ok(b.some((e) => e.resource_id === rB.id) && !a.some((e) => e.resource_id === rB.id));
  assert.ok(a.some((e) => e.resource_id === rA.id) && a.some((e) => e.resource_id === m1.json.id));
  assert.equal(a.length + b.length, all.length, 'the platforms partition the admin feed');

  const s = await seen('siao');
  const pushedIds = new Set([pushed, pm.json.id]);
  assert.ok(s.some((e) => e.resource_id === pushed) && s.some((e) => e.resource_id === pm.json.id), 'siao sees what it pushed and the decisions on it');
  assert.ok(s.some((e) => e.type === 'household_created'), 'siao sees the household it pushed');
  for (const e of s) {
    assert.ok(
      pushedIds.has(e.resource_id) || e.type === 'household_created' || e.type === 'household_updated',
      `siao sees an event it did not push: ${JSON.stringify(e)}`,
    );
  }
  assert.ok(!s.some((e) => [r1.id, r2.id, rA.id, rB.id].includes(e.resource_id)));

  const an = await svc.api('GET', '/v1/changes', { token: tok.analyst });
  assert.equal(an.status, 403);
  const none = await svc.api('GET', '/v1/changes');
  assert.equal(none.status, 401);
});

test('prevention_cases_actions_follow_ups_and_placements_emit_events_seen_as_the_resources_are', async () => {
  const start = (await readAll(svc, tok.admin)).cursor;
  const canary = uniqueLetters('Canari');
  // a case opened by a partner, moved forward, its first action and follow-up, a debt change
  const opened = await svc.api('POST', '/v1/prevention-cases', {
    token: tok.partner1,
    body: {
      household: plainHouseholdBody('artois', { housing_situation: 'housed', head: { last_name: `Nom${canary}`, first_name: 'Lina', birth_date: '1980-01-02', sex: 'female' } }),
      platform: 'artois', landlord_kind: 'social', debt_eur: 2500, debt_on: '2024-01-10', stage: 'payment_order', stage_on: '2024-01-05',
    },
  });
  assert.equal(opened.status, 201, opened.text);
  const k = opened.json;
  const moved = await svc.api('POST', `/v1/prevention-cases/${k.id}/stages`, { token: tok.coordA, body: { stage: 'summons', on: '2024-03-01', note: `Note ${canary}` } });
  assert.equal(moved.status, 200, moved.text);
  const act = await svc.api('POST', `/v1/prevention-cases/${k.id}/actions`, { token: tok.coordA, body: { kind: 'pex_mobile_team', done_on: '2024-03-10', outcome_notes: `Vu ${canary}` } });
  assert.equal(act.status, 201, act.text);
  const fu = await svc.api('POST', `/v1/prevention-cases/${k.id}/follow-ups`, { token: tok.coordA, body: { at_months: 6, situation: 'maintained' } });
  assert.ok([200, 201].includes(fu.status), fu.text);
  const debt = await svc.api('PATCH', `/v1/prevention-cases/${k.id}`, { token: tok.coordA, body: { debt_eur: 1800, debt_on: '2024-03-10' } });
  assert.equal(debt.status, 200, debt.text);
  const other = await svc.api('POST', '/v1/prevention-cases', {
    token: tok.coordB,
    body: { household: plainHouseholdBody('lens_henin', { housing_situation: 'housed' }), platform: 'lens_henin', landlord_kind: 'private', stage: 'judgment', stage_on: '2024-02-01' },
  });
  assert.equal(other.status, 201, other.text);
  // a placement in a SAS flat, then its end
  const ref = await createReferral(svc, tok.coordA, 'artois', { received_on: '2024-01-15' });
  const m = await svc.api('POST', `/v1/referrals/${ref.id}/measures`, {
    token: tok.coordA, body: { kind: 'vial', operator: 'X', started_on: '2024-01-20', housing_outcome: 'accessed', housing_type: 'sas_housing', housing_on: '2024-02-01' },
  });
  assert.equal(m.status, 201, m.text);
  const offer = await svc.api('POST', '/v1/housing-offers', {
    token: tok.coordA, body: { platform: 'artois', kind: 'sas_flat', landlord_kind: 'social', typology: 't1', capacity: 1, available_from: '2024-01-01', label: `SAS ${canary}` },
  });
  assert.equal(offer.status, 201, offer.text);
  const placed = await svc.api('POST', '/v1/placements', { token: tok.coordA, body: { referral: ref.id, offer: offer.json.id, entered_on: '2024-02-01' } });
  assert.equal(placed.status, 201, placed.text);
  const left = await svc.api('PATCH', `/v1/placements/${placed.json.id}`, { token: tok.coordA, body: { left_on: '2024-09-30', exit_reason: 'permanent_housing' } });
  assert.equal(left.status, 200, left.text);
  // what a SIAO system pushes: a case and its action
  const ext = uniqueLetters('E');
  const hb = await svc.api('POST', '/v1/households/batch', { token: tok.siao, body: [{ external_id: `H-${ext}`, ...plainHouseholdBody('artois', { external_ref: undefined, housing_situation: 'housed' }) }] });
  assert.equal(hb.status, 200, hb.text);
  const cb = await svc.api('POST', '/v1/prevention-cases/batch', {
    token: tok.siao, body: [{ external_id: `C-${ext}`, household_external_id: `H-${ext}`, platform: 'artois', landlord_kind: 'private', stage: 'summons', stage_on: '2024-04-02' }],
  });
  assert.equal(cb.json?.created, 1, cb.text);
  const ab = await svc.api('POST', '/v1/prevention-actions/batch', { token: tok.siao, body: [{ external_id: `A-${ext}`, case_external_id: `C-${ext}`, kind: 'vej', done_on: '2024-04-20' }] });
  assert.equal(ab.json?.created, 1, ab.text);
  const pushedCase = (await svc.sql('SELECT id::text FROM prevention_case WHERE external_id = $1', [`C-${ext}`])).rows[0].id;
  const pushedAction = (await svc.sql('SELECT id::text FROM prevention_action WHERE external_id = $1', [`A-${ext}`])).rows[0].id;

  const all = (await until(async () => {
    const r = await readAll(svc, tok.admin, { after: start });
    return r.events.some((e) => e.resource_id === pushedAction) ? r : null;
  }, 'the pushed action')).events;
  const of = (id) => all.filter((e) => e.resource_id === id);
  assert.deepEqual(of(k.id).map((e) => e.type), ['prevention_case_created', 'prevention_case_stage_changed', 'prevention_case_updated']);
  assert.deepEqual(of(k.id).map((e) => e.data), [
    { stage: 'payment_order', stage_on: '2024-01-05', version: 1 },
    { from_stage: 'payment_order', to_stage: 'summons', on: '2024-03-01', version: 2 },
    { stage: 'summons', version: 3 },
  ]);
  assert.deepEqual(of(act.json.id).map((e) => [e.type, e.resource_type, e.platform, e.data]), [
    ['prevention_action_recorded', 'prevention_action', 'artois', { case: k.id, action_kind: 'pex_mobile_team', done_on: '2024-03-10', version: 1 }],
  ]);
  assert.deepEqual(of(fu.json.id).map((e) => [e.type, e.data]), [
    ['prevention_follow_up_recorded', { case: k.id, at_months: 6, situation: 'maintained', due_on: '2024-09-10', version: 1 }],
  ]);
  assert.deepEqual(of(placed.json.id).map((e) => [e.type, e.data.entered_on, e.data.left_on, e.data.exit_reason]), [
    ['placement_started', '2024-02-01', null, null],
    ['placement_ended', '2024-02-01', '2024-09-30', 'permanent_housing'],
  ]);
  assert.equal(of(placed.json.id)[0].data.referral, ref.id);
  assert.equal(of(placed.json.id)[0].data.offer, offer.json.id);
  assert.deepEqual(of(other.json.id).map((e) => [e.type, e.platform]), [['prevention_case_created', 'lens_henin']]);
  assert.deepEqual(of(pushedCase).map((e) => e.type), ['prevention_case_created']);
  // never identity or free text
  const text = (await svc.api('GET', `/v1/changes?after=${start}&limit=500`, { token: tok.admin })).text;
  assert.ok(!text.includes(canary), 'a name, a note or a label reached the feed');

  const seen = async (who) => (await readAll(svc, tok[who], { after: start })).events;
  // the partner sees the case its token created, as it reads it: not its actions or follow-ups
  const p1 = await seen('partner1');
  assert.deepEqual(p1.map((e) => e.type), ['prevention_case_created', 'prevention_case_stage_changed', 'prevention_case_updated']);
  assert.ok(p1.every((e) => e.resource_id === k.id));
  assert.deepEqual(await seen('partner2'), []);
  // coordinators: their platforms
  const a = await seen('coordA');
  const b = await seen('coordB');
  assert.ok(a.some((e) => e.resource_id === placed.json.id) && !a.some((e) => e.resource_id === other.json.id));
  assert.ok(b.every((e) => e.platform === 'lens_henin') && b.some((e) => e.resource_id === other.json.id), JSON.stringify(b));
  // the SIAO system: what its source pushed
  const s = await seen('siao');
  assert.ok(s.some((e) => e.resource_id === pushedCase) && s.some((e) => e.resource_id === pushedAction), JSON.stringify(s));
  assert.ok(!s.some((e) => [k.id, act.json.id, placed.json.id, other.json.id].includes(e.resource_id)), JSON.stringify(s));
  // a filter on the new types
  const only = await readAll(svc, tok.admin, { after: start, query: 'types=placement_ended,prevention_follow_up_recorded' });
  assert.deepEqual(only.events.map((e) => e.type), ['prevention_follow_up_recorded', 'placement_ended']);
});

test('types_filter_cursor_and_parameters_are_checked', async () => {
  const start = (await readAll(svc, tok.admin)).cursor;
  const r = await createReferral(svc, tok.coordA, 'artois');
  await transition(svc, tok.coordA, r.id, 'no_follow_up', '2025-01-15');
  const one = await until(async () => {
    const x = await readAll(svc, tok.admin, { after: start, query: 'types=referral_status_changed' });
    return x.events.length ? x.events : null;
  }, 'the transition');
  assert.deepEqual(one.map((e) => [e.type, e.resource_id]), [['referral_status_changed', r.id]]);
  const comma = await readAll(svc, tok.admin, { after: start, query: 'types=referral_created,referral_status_changed' });
  assert.deepEqual(new Set(comma.events.map((e) => e.type)), new Set(['referral_created', 'referral_status_changed']));

  for (const [q, field] of [
    ['types=referral.created', 'types'],
    ['types=nope', 'types'],
    ['wait=61', 'wait'],
    ['limit=0', 'limit'],
    ['after=not-a-cursor', 'after'],
    ['cursor=x', 'cursor'],
  ]) {
    const res = await svc.api('GET', `/v1/changes?${q}`, { token: tok.admin });
    assert.equal(res.status, 422, `${q}: ${res.text}`);
    assert.ok(res.json.errors.some((e) => e.field === field), `${q}: ${res.text}`);
  }
  // pages: a small limit walks the same events, with has_more on full pages
  const small = await readAll(svc, tok.admin, { after: start, limit: 1 });
  assert.deepEqual(small.events.map((e) => e.id), (await readAll(svc, tok.admin, { after: start })).events.map((e) => e.id));
});

test('no_gap_when_writers_commit_out_of_order_every_event_exactly_once_in_commit_order', async () => {
  const start = (await readAll(svc, tok.admin)).cursor;
  const seen = [];
  let cursor = start;
  let writing = true;
  let abort = false;
  const reader = (async () => {
    for (let i = 0; i < 5000 && !abort; i += 1) {
      const res = await svc.api('GET', `/v1/changes?after=${cursor}&limit=37&wait=2`, { token: tok.admin });
      assert.equal(res.status, 200, res.text);
      seen.push(...res.json.items);
      cursor = res.json.next_cursor;
      if (!writing && !res.json.has_more && res.json.items.length === 0) return;
    }
  })();

  // Slow transactions through SQL: each emits its event first (a smaller event id), then
  // stays open while the HTTP writers commit, then commits (or rolls back).
  const rolledBack = [];
  const slow = (async () => {
    const c = new pg.Client({ connectionString: svc.dbUrl });
    await c.connect();
    try {
      for (let i = 0; i < 8; i += 1) {
        await c.query('BEGIN');
        const h = plainHouseholdBody('artois');
        const r = await c.query(
          `INSERT INTO household (platform, composition, adults, children, head_sex, housing_situation)
           VALUES ($1, 'single_person', 1, 0, 'female', 'street') RETURNING id::text`,
          [h.platform],
        );
        await sleep(150 + 50 * (i % 3));
        if (i % 4 === 3) {
          rolledBack.push(r.rows[0].id);
          await c.query('ROLLBACK');
        } else await c.query('COMMIT');
      }
    } finally {
      await c.end();
    }
  })();
  const writers = [];
  for (let w = 0; w < 5; w += 1) {
    writers.push(
      (async () => {
        for (let k = 0; k < 6; k += 1) {
          const r = await createReferral(svc, tok.admin, w % 2 ? 'artois' : 'lens_henin');
          await transition(svc, tok.admin, r.id, 'assessing', '2025-01-15');
          await transition(svc, tok.admin, r.id, 'orientation_proposed', '2025-01-16');
        }
      })(),
    );
  }
  try {
    await Promise.all([...writers, slow]);
  } catch (err) {
    abort = true;
    throw err;
  }
  const last = BigInt((await svc.sql('SELECT max(position)::text AS p FROM change_commit')).rows[0].p);
  await until(() => cursorPosition(cursor).pos >= last, 'the reader to reach the last commit', 30_000);
  writing = false;
  await reader;

  const rows = (await svc.sql(
    `SELECT e.id::text, c.position::text, e.resource_id::text FROM change_event e JOIN change_commit c ON c.xid = e.xid
      WHERE (c.position, e.id) > ($1::bigint, $2::bigint) ORDER BY c.position, e.id`,
    [cursorPosition(start).pos.toString(), cursorPosition(start).id.toString()],
  )).rows;
  const ids = seen.map((e) => String(e.id));
  assert.equal(new Set(ids).size, ids.length, 'no event twice');
  assert.deepEqual(ids, rows.map((r) => r.id), 'every committed event, once, in commit order');
  assert.ok(rows.length >= 5 * 6 * 4 + 6, `${rows.length} events`);
  for (const id of rolledBack) assert.ok(!seen.some((e) => e.resource_id === id), 'a rolled-back event was shown');
  // the out-of-order commits happened: an event id smaller than one already read came later
  let inversions = 0;
  for (let i = 1; i < seen.length; i += 1) if (seen[i].id < seen[i - 1].id) inversions += 1;
  assert.ok(inversions > 0, 'the test made no transaction commit out of order');
  // per resource, versions only go up
  const version = new Map();
  for (const e of seen) {
    if (e.data.version === undefined) continue;
    const v = version.get(e.resource_id) ?? 0;
    assert.ok(e.data.version > v, `${e.resource_id}: version ${e.data.version} after ${v}`);
    version.set(e.resource_id, e.data.version);
  }
});

test('a_long_poll_answers_as_soon_as_an_event_commits_and_at_its_deadline_otherwise', async () => {
  const { cursor } = await readAll(svc, tok.coordA);
  const t0 = Date.now();
  const empty = await svc.api('GET', `/v1/changes?after=${cursor}&wait=1`, { token: tok.coordB });
  assert.equal(empty.status, 200);
  assert.ok(Date.now() - t0 >= 900, `waited ${Date.now() - t0} ms`);
  assert.deepEqual(empty.json.items, []);
  assert.equal(empty.json.has_more, false);

  const waiting = svc.api('GET', `/v1/changes?after=${cursor}&wait=20`, { token: tok.coordA });
  await sleep(300);
  const t1 = Date.now();
  const r = await createReferral(svc, tok.coordA, 'artois');
  const got = await waiting;
  assert.equal(got.status, 200, got.text);
  assert.ok(got.json.items.some((e) => e.resource_id === r.id), got.text);
  assert.ok(Date.now() - t1 < 3000, `the event came ${Date.now() - t1} ms after its commit`);
});

test('transactions_still_at_work_here_or_in_another_database_do_not_hold_the_feed_back', async () => {
  const { cursor } = await readAll(svc, tok.admin);
  // another database of the cluster: a transaction with an id, left open
  const other = new pg.Client({ connectionString: superuserUrl() });
  await other.connect();
  await other.query('BEGIN');
  await other.query('SELECT pg_current_xact_id()');
  // this database: a transaction that wrote an event and has not committed
  const here = new pg.Client({ connectionString: svc.dbUrl });
  await here.connect();
  await here.query('BEGIN');
  const held = (
    await here.query(
      `INSERT INTO household (platform, composition, adults, children, head_sex, housing_situation)
       VALUES ('artois', 'single_person', 1, 0, 'male', 'street') RETURNING id::text`,
    )
  ).rows[0].id;
  try {
    const waiting = svc.api('GET', `/v1/changes?after=${cursor}&wait=20`, { token: tok.admin });
    await sleep(300);
    const t = Date.now();
    const r = await createReferral(svc, tok.coordA, 'artois');
    const got = await waiting;
    assert.equal(got.status, 200, got.text);
    assert.ok(got.json.items.some((e) => e.resource_id === r.id), got.text);
    assert.ok(Date.now() - t < 3000, `the event came ${Date.now() - t} ms after its commit`);
    assert.ok(!got.json.items.some((e) => e.resource_id === held), 'an uncommitted event was shown');
    await here.query('COMMIT');
    // written first (a smaller event id), committed last: it comes after, in commit order
    const later = await until(async () => {
      const x = await readAll(svc, tok.admin, { after: got.json.next_cursor });
      return x.events.some((e) => e.resource_id === held) ? x.events : null;
    }, 'the event committed last');
    const heldEvent = later.find((e) => e.resource_id === held);
    const refEvent = got.json.items.find((e) => e.resource_id === r.id);
    assert.ok(heldEvent.id < refEvent.id, 'the held event was written first');
  } finally {
    await here.query('ROLLBACK').catch(() => {});
    await here.end();
    await other.query('ROLLBACK');
    await other.end();
  }
});

test('a_cursor_older_than_the_events_kept_answers_410_and_a_new_reader_starts_again', async () => {
  const first = await svc.api('GET', '/v1/changes?limit=1', { token: tok.admin });
  assert.equal(first.status, 200);
  const old = first.json.next_cursor;
  const caughtUp = (await readAll(svc, tok.admin)).cursor;
  // the retention purge, as the service runs it, with a period that keeps nothing
  await svc.sql(`SELECT lda_change_purge(now() + interval '1 day', 1000000)`);
  const gone = await svc.api('GET', `/v1/changes?after=${old}`, { token: tok.admin });
  assert.equal(gone.status, 410, gone.text);
  assert.equal(gone.json.type, '/problems/gone');
  const fresh = await svc.api('GET', '/v1/changes', { token: tok.admin });
  assert.equal(fresh.status, 200, fresh.text);
  const still = await svc.api('GET', `/v1/changes?after=${caughtUp}`, { token: tok.admin });
  assert.equal(still.status, 200, 'a reader that had read everything loses nothing: no 410');
});

test('waiting_readers_never_stall_other_requests_and_are_bounded', async () => {
  // two worker threads: a blocking long poll would stall everything after two readers
  const small = await startService({ env: { LDA_THREADS: '2', LDA_CHANGES_MAX_WAITERS: '40', LDA_RATE_LIMIT_RPS: '0' } });
  try {
    const admin = await small.createToken('admin', { name: 'lp-admin' });
    const { cursor } = await readAll(small, admin);
    const t0 = Date.now();
    const waiters = [];
    for (let i = 0; i < 40; i += 1) waiters.push(small.api('GET', `/v1/changes?after=${cursor}&wait=20`, { token: admin, timeout: 40_000 }));
    // the 40 wait (the gauge of /metrics says so); one more is refused at once
    const waiting = async () => Number((await small.api('GET', '/metrics', { token: admin })).text.match(/^lda_changes_waiting (\d+)$/m)?.[1]);
    await until(async () => (await waiting()) === 40, '40 waiting readers', 30_000);
    const over = await small.api('GET', `/v1/changes?after=${cursor}&wait=20`, { token: admin });
    assert.equal(over.status, 503, over.text);
    assert.ok(over.headers['retry-after'], 'with Retry-After');
    const ordinary = [];
    for (let i = 0; i < 40; i += 1) {
      const s = Date.now();
      const res = await small.api('GET', i % 2 ? '/v1/platforms' : '/v1/changes', { token: admin });
      assert.equal(res.status, 200, res.text);
      ordinary.push(Date.now() - s);
    }
    ordinary.sort((x, y) => x - y);
    assert.ok(ordinary[ordinary.length - 1] < 2000, `slowest ordinary request ${ordinary[ordinary.length - 1]} ms while 40 readers wait`);
    const r = await createReferral(small, admin, 'artois');
    const answers = await Promise.all(waiters);
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.ok(a.json.items.some((e) => e.resource_id === r.id));
    }
    assert.ok(Date.now() - t0 < 19_000, 'the readers were answered by the event, not by their deadline');
    assert.equal(await waiting(), 0);
    console.log(`# 40 readers waiting on 2 worker threads: 40 ordinary requests, median ${ordinary[20]} ms, slowest ${ordinary[39]} ms`);

    // SIGTERM while readers wait: they are answered at once and the service exits 0
    const pending = [];
    for (let i = 0; i < 5; i += 1) pending.push(small.api('GET', `/v1/changes?after=${cursor}&wait=60&types=measure_ended`, { token: admin, timeout: 40_000 }));
    await sleep(500);
    const t1 = Date.now();
    const exit = await small.kill('SIGTERM');
    assert.equal(exit.code, 0, `exit after SIGTERM: ${JSON.stringify(exit)}`);
    for (const a of await Promise.all(pending)) assert.equal(a.status, 200);
    assert.ok(Date.now() - t1 < 10_000, `shutdown took ${Date.now() - t1} ms with readers waiting`);
  } finally {
    await small.stop({ check: false });
  }
});
