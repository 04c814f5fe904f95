// The referral status machine, exhaustively: every (from, to) pair of the seven
// statuses. Allowed pairs answer 200 and move the referral; every other pair (the same status
// included) answers 409 problem+json and changes nothing — neither the referral nor its events.
// Plus: accompanied needs a measure (409), `on` before the current status's date or in the
// future (422).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startService } from '../lib/service.mjs';
import { show } from '../lib/http.mjs';
import { assertProblem } from '../lib/problems.mjs';

const STATUSES = [
  'received',
  'assessing',
  'orientation_proposed',
  'accompanied',
  'accompaniment_ended',
  'reoriented',
  'no_follow_up',
];

// The status machine:
//   received ──> assessing ──> orientation_proposed ──> accompanied ──> accompaniment_ended
//      └─────────────┴────────────────┴──> reoriented | no_follow_up
const ALLOWED = new Set([
  'received>assessing',
  'assessing>orientation_proposed',
  'orientation_proposed>accompanied',
  'accompanied>accompaniment_ended',
  'received>reoriented',
  'received>no_follow_up',
  'assessing>reoriented',
  'assessing>no_follow_up',
  'orientation_proposed>reoriented',
  'orientation_proposed>no_follow_up',
]);

// How to bring a fresh referral (status received) to each status, through allowed transitions.
const PATH = {
  received: [],
  assessing: ['assessing'],
  orientation_proposed: ['assessing', 'orientation_proposed'],
  accompanied: ['assessing', 'orientation_proposed', 'accompanied'],
  accompaniment_ended: ['assessing', 'orientation_proposed', 'accompanied', 'accompaniment_ended'],
  reoriented: ['reoriented'],
  no_follow_up: ['no_follow_up'],
};

let svc;
let coord;
let partner;

function todayParis() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
}
function addDays(date, n) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
const TODAY = todayParis();
const daysAgo = (n) => addDays(TODAY, -n);
const RECEIVED_ON = daysAgo(40);
/** The date of the k-th transition on the way to a status (k = 1, 2, …). */
const stepDate = (k) => addDays(RECEIVED_ON, 5 * k);
/** The date of the transition under test: after every step, before today. */
const TEST_ON = daysAgo(2);

function uniqueName() {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let s = 'Trans';
  for (const b of randomBytes(10)) s += letters[b % 26];
  return s;
}

/** A fresh referral in status received (coordinator, new household inline). */
async function newReferral() {
  const res = await svc.api('POST', '/v1/referrals', {
    token: coord,
    body: {
      household: {
        platform: 'artois',
        composition: 'single_person',
        adults: 1,
        children: 0,
        head: { last_name: uniqueName(), first_name: 'Alex', birth_date: '1985-06-01', sex: 'unknown' },
        housing_situation: 'street',
      },
      platform: 'artois',
      referrer_kind: 'association',
      referrer_name: 'Association du territoire',
      received_on: RECEIVED_ON,
    },
  });
  assert.equal(res.status, 201, show(res));
  assert.equal(res.json.status, 'received');
  return res.json;
}

async function addMeasure(id, startedOn = stepDate(1)) {
  const res = await svc.api('POST', `/v1/referrals/${id}/measures`, {
    token: coord,
    body: { kind: 'adsl', operator: 'La Vie Active', started_on: startedOn },
  });
  assert.equal(res.status, 201, show(res));
  return res.json;
}

function transition(id, to, on, token = coord) {
  return svc.api('POST', `/v1/referrals/${id}/transitions`, { token, body: { to, on, note: `vers ${to}` } });
}

/** A fresh referral with a measure, brought to `status` through allowed transitions. */
async function referralIn(status) {
  const r = await newReferral();
  await addMeasure(r.id);
  let k = 0;
  for (const to of PATH[status]) {
    k += 1;
    const res = await transition(r.id, to, stepDate(k));
    assert.equal(res.status, 200, `setup ${to}: ${show(res)}`);
  }
  return r.id;
}

async function snapshot(id) {
  const ref = await svc.api('GET', `/v1/referrals/${id}`, { token: coord });
  assert.equal(ref.status, 200, show(ref));
  const ev = await svc.api('GET', `/v1/referrals/${id}/events?limit=500`, { token: coord });
  assert.equal(ev.status, 200, show(ev));
  const { rows } = await svc.sql('SELECT count(*)::int AS n FROM referral_event WHERE referral_id = $1', [id]);
  return { body: ref.json, etag: ref.headers.etag, events: ev.json.items, eventRows: rows[0].n };
}

before(async () => {
  svc = await startService();
  coord = await svc.createToken('coordinator', { platforms: ['artois'], name: 'transitions-coord' });
  partner = await svc.createToken('partner', { platforms: ['artois'], name: 'transitions-partner' });
});

after(async () => {
  await svc?.stop();
});

test('the setup paths reach every status', async () => {
  for (const status of STATUSES) {
    const id = await referralIn(status);
    const s = await snapshot(id);
    assert.equal(s.body.status, status);
    assert.deepEqual(
      s.events.map((e) => e.to),
      ['received', ...PATH[status]],
    );
  }
});

for (const from of STATUSES) {
  test(`transitions from ${from}`, async (t) => {
    for (const to of STATUSES) {
      const allowed = ALLOWED.has(`${from}>${to}`);
      await t.test(`${from} → ${to}: ${allowed ? '200' : '409'}`, async () => {
        const id = await referralIn(from);
        const before = await snapshot(id);
        assert.equal(before.body.status, from);
        const res = await transition(id, to, TEST_ON);
        const after = await snapshot(id);
        if (allowed) {
          assert.equal(res.status, 200, show(res));
          assert.equal(res.json.id, id);
          assert.equal(res.json.status, to);
          assert.deepEqual(res.json.status_dates, { ...before.body.status_dates, [to]: TEST_ON });
          assert.ok(res.headers.etag, 'ETag on the transition answer');
          assert.notEqual(res.headers.etag, before.etag);
          assert.deepEqual(after.body, res.json, 'GET shows what the transition answered');
          assert.equal(after.etag, res.headers.etag);
          assert.equal(after.events.length, before.events.length + 1);
          assert.deepEqual(after.events.slice(0, -1), before.events, 'earlier events untouched');
          const last = after.events.at(-1);
          assert.deepEqual([last.from, last.to, last.on, last.note], [from, to, TEST_ON, `vers ${to}`]);
          assert.equal(last.role, 'coordinator');
          assert.equal(after.eventRows, before.eventRows + 1);
        } else {
          assertProblem(res, 409);
          assert.equal(res.json.type, '/problems/conflict');
          assert.deepEqual(after.body, before.body, 'a 409 changes nothing in the referral');
          assert.equal(after.etag, before.etag);
          assert.deepEqual(after.events, before.events, 'a 409 adds no event');
          assert.equal(after.eventRows, before.eventRows);
        }
      });
    }
  });
}

test('accompanied without a measure answers 409 and changes nothing; with one, 200', async () => {
  const r = await newReferral();
  for (const [k, to] of ['assessing', 'orientation_proposed'].entries()) {
    const res = await transition(r.id, to, stepDate(k + 1));
    assert.equal(res.status, 200, show(res));
  }
  const before = await snapshot(r.id);
  const res = await transition(r.id, 'accompanied', TEST_ON);
  assertProblem(res, 409);
  assert.equal(res.json.type, '/problems/conflict');
  const after = await snapshot(r.id);
  assert.deepEqual(after, before);
  await addMeasure(r.id, stepDate(2));
  const ok = await transition(r.id, 'accompanied', TEST_ON);
  assert.equal(ok.status, 200, show(ok));
  assert.equal(ok.json.status, 'accompanied');
});

test('`on` before the current status date answers 422 "/on"; the same date is fine', async () => {
  const r = await newReferral();
  // Before received_on.
  let before = await snapshot(r.id);
  let res = await transition(r.id, 'assessing', addDays(RECEIVED_ON, -1));
  assertProblem(res, 422, { fields: ['/on'] });
  assert.equal(res.json.type, '/problems/validation');
  assert.deepEqual(await snapshot(r.id), before);
  // After received_on: allowed.
  res = await transition(r.id, 'assessing', addDays(RECEIVED_ON, 3));
  assert.equal(res.status, 200, show(res));
  // Before the assessing date (but after received_on).
  before = await snapshot(r.id);
  res = await transition(r.id, 'orientation_proposed', addDays(RECEIVED_ON, 2));
  assertProblem(res, 422, { fields: ['/on'] });
  assert.deepEqual(await snapshot(r.id), before);
  res = await transition(r.id, 'no_follow_up', addDays(RECEIVED_ON, 1));
  assertProblem(res, 422, { fields: ['/on'] });
  assert.deepEqual(await snapshot(r.id), before);
  // The same day as the current status: allowed.
  res = await transition(r.id, 'orientation_proposed', addDays(RECEIVED_ON, 3));
  assert.equal(res.status, 200, show(res));
  assert.equal(res.json.status_dates.orientation_proposed, addDays(RECEIVED_ON, 3));

  // On the very day of received_on.
  const r2 = await newReferral();
  const same = await transition(r2.id, 'reoriented', RECEIVED_ON);
  assert.equal(same.status, 200, show(same));
});

test('`on` in the future answers 422 "/on" and changes nothing; today is fine', async () => {
  const r = await newReferral();
  const before = await snapshot(r.id);
  for (const on of [addDays(TODAY, 2), addDays(TODAY, 400)]) {
    const res = await transition(r.id, 'assessing', on);
    assertProblem(res, 422, { fields: ['/on'] });
    assert.deepEqual(await snapshot(r.id), before);
  }
  const res = await transition(r.id, 'assessing', TODAY);
  assert.equal(res.status, 200, show(res));
  assert.equal(res.json.status_dates.assessing, TODAY);
});

test('concurrent transitions of one referral: exactly one wins, one event', async () => {
  // The same move five times at once.
  const r = await newReferral();
  const same = await Promise.all(Array.from({ length: 5 }, () => transition(r.id, 'assessing', TEST_ON)));
  assert.deepEqual(
    same.map((x) => x.status).sort(),
    [200, 409, 409, 409, 409],
    same.map(show).join('\n'),
  );
  let s = await snapshot(r.id);
  assert.deepEqual(s.events.map((e) => e.to), ['received', 'assessing']);
  // Two different exits at once from the same status.
  const [a, b] = await Promise.all([
    transition(r.id, 'reoriented', TEST_ON),
    transition(r.id, 'no_follow_up', TEST_ON),
  ]);
  assert.deepEqual([a.status, b.status].sort(), [200, 409], `${show(a)}\n${show(b)}`);
  const winner = a.status === 200 ? a : b;
  s = await snapshot(r.id);
  assert.equal(s.body.status, winner.json.status);
  assert.deepEqual(s.events.map((e) => e.from), [null, 'received', 'assessing']);
  assert.equal(s.events.at(-1).to, winner.json.status);
});

test('PATCH received_on moves status_dates.received and must stay on or before later status dates', async () => {
  const r = await newReferral();
  const t = await transition(r.id, 'assessing', stepDate(2));
  assert.equal(t.status, 200, show(t));
  // Earlier: fine, status_dates.received follows.
  const earlier = addDays(RECEIVED_ON, -3);
  const ok = await svc.api('PATCH', `/v1/referrals/${r.id}`, { token: coord, body: { received_on: earlier } });
  assert.equal(ok.status, 200, show(ok));
  assert.equal(ok.json.received_on, earlier);
  assert.deepEqual(ok.json.status_dates, { received: earlier, assessing: stepDate(2) });
  // After the assessing date: 422, nothing changes.
  const before = await snapshot(r.id);
  const late = await svc.api('PATCH', `/v1/referrals/${r.id}`, {
    token: coord,
    body: { received_on: addDays(stepDate(2), 1) },
  });
  assertProblem(late, 422, { fields: ['/received_on'] });
  assert.deepEqual(await snapshot(r.id), before);
  // The status itself never changes through PATCH.
  const st = await svc.api('PATCH', `/v1/referrals/${r.id}`, { token: coord, body: { status: 'accompanied' } });
  assertProblem(st, 422, { fields: ['/status'] });
  assert.deepEqual(await snapshot(r.id), before);
});

test('a malformed transition answers 422 with every error; nothing changes', async () => {
  const r = await newReferral();
  const before = await snapshot(r.id);
  const cases = [
    [{ to: 'closed', on: TEST_ON }, ['/to']],
    [{ to: 'assessing' }, ['/on']],
    [{ on: TEST_ON }, ['/to']],
    [{ to: 'assessing', on: '2025-02-30' }, ['/on']],
    [{ to: 'assessing', on: TEST_ON, when: 'now' }, ['/when']],
    [{ to: 42, on: 'soon', note: 7 }, ['/to', '/on', '/note']],
  ];
  for (const [body, fields] of cases) {
    const res = await svc.api('POST', `/v1/referrals/${r.id}/transitions`, { token: coord, body });
    assertProblem(res, 422, { fields: fields });
  }
  assert.deepEqual(await snapshot(r.id), before);
});

test('transitions: unknown referral 404, partner token 403', async () => {
  const missing = await transition('00000000-0000-4000-8000-000000000000', 'assessing', TEST_ON);
  assertProblem(missing, 404);
  const r = await newReferral();
  const before = await snapshot(r.id);
  const denied = await transition(r.id, 'assessing', TEST_ON, partner);
  assertProblem(denied, 403);
  assert.deepEqual(await snapshot(r.id), before);
});
