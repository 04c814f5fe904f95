// Record generators and small helpers for tests/integration/batch.test.mjs (batch
// ingestion): deterministic SIAO requests, households and referrals as a source pushes them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const CHANNELS = ['call_115', 'siao_insertion', 'street_outreach', 'day_centre', 'other'];
export const SEXES = ['female', 'male', 'other', 'unknown'];
export const COMPOSITIONS = ['single_person', 'couple_no_child', 'couple_with_children', 'single_parent', 'other'];
export const SITUATIONS = [
  'street',
  'squat',
  'hosted_by_third_party',
  'shelter_structure',
  'hotel',
  'institution',
  'precarious_housing',
  'housed',
  'other',
];
export const RESOURCES = ['rsa', 'aah', 'salary', 'unemployment_benefit', 'pension', 'youth_guarantee', 'none', 'other'];
export const NEEDS = ['emergency_shelter', 'housing', 'food', 'health', 'employment_training', 'rights_access', 'mobility', 'other'];
export const RESPONSES = [
  'sheltered',
  'housing_orientation',
  'no_place_available',
  'declined_by_person',
  'referred_elsewhere',
  'pending',
  'other',
];

/** The platforms every siao token of these tests covers (records alternate between them). */
export const SCOPE = ['artois', 'lens_henin'];

const BASE_MS = Date.UTC(2024, 0, 1, 6, 0, 0);

/** The external_id of record i of a prefix. */
export const extId = (prefix, i) => `${prefix}-${String(i).padStart(6, '0')}`;

/**
 * SIAO request number i of `prefix`: every field filled, deterministic, received in 2024
 * (7 minutes apart), alternately on artois and lens_henin.
 */
export function siaoRecord(prefix, i, over = {}) {
  return {
    external_id: extId(prefix, i),
    received_at: new Date(BASE_MS + i * 7 * 60_000).toISOString().replace('.000Z', 'Z'),
    platform: SCOPE[i % 2],
    channel: CHANNELS[i % CHANNELS.length],
    person_key: `pk-${prefix}-${i % 4000}`,
    age: 16 + (i % 50),
    sex: SEXES[i % SEXES.length],
    composition: COMPOSITIONS[i % COMPOSITIONS.length],
    situation: SITUATIONS[i % SITUATIONS.length],
    resources: [RESOURCES[i % RESOURCES.length]],
    needs: i % 2 ? ['emergency_shelter', 'food'] : [NEEDS[i % NEEDS.length]],
    response: RESPONSES[i % RESPONSES.length],
    alternatives_known: i % 3 === 0 ? null : i % 3 === 1,
    ...over,
  };
}

/** n SIAO requests of `prefix`, from index `from`. */
export function siaoRecords(prefix, n, from = 0) {
  const out = [];
  for (let i = from; i < from + n; i += 1) out.push(siaoRecord(prefix, i));
  return out;
}

/** Letters only: a name no other test uses (person_key folds case, accents, punctuation). */
export function uniqueName(prefix) {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (const b of randomBytes(10)) s += letters[b % 26];
  return `${prefix}${s}`;
}

/** A household record (HouseholdInput with external_id). */
export function householdRecord(externalId, platform, head = {}, over = {}) {
  return {
    external_id: externalId,
    platform,
    composition: 'single_person',
    adults: 1,
    children: 0,
    head: {
      last_name: uniqueName('Nom'),
      first_name: 'Camille',
      birth_date: '1990-05-17',
      sex: 'female',
      ...head,
    },
    resources: ['rsa'],
    housing_situation: 'hosted_by_third_party',
    vulnerabilities: [],
    ...over,
  };
}

/** A referral record (ReferralInput with external_id; household given by the caller). */
export function referralRecord(externalId, platform, household, over = {}) {
  return {
    external_id: externalId,
    ...household,
    platform,
    referrer_kind: 'siao',
    referrer_name: "SIAO 62 — antenne de l'Artois",
    received_on: '2025-03-10',
    has_social_note: false,
    reasons: ['homelessness'],
    ...over,
  };
}

export function show(res) {
  if (!res) return String(res);
  return `${res.status} ${res.text?.slice(0, 800)}`;
}

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

/** Asserts an RFC 9457 answer with this status (and, if given, an error at every field). */
export function assertProblem(res, status, fields = []) {
  assert.equal(res.status, status, `expected ${status}, got ${show(res)}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/, show(res));
  assert.equal(res.json?.status, status, show(res));
  assert.equal(res.json.request_id, res.headers['x-request-id'], `request_id = X-Request-Id: ${show(res)}`);
  for (const f of fields) {
    assert.ok(
      Array.isArray(res.json.errors) && res.json.errors.some((e) => e.field === f),
      `no error with field ${JSON.stringify(f)} in ${show(res)}`,
    );
  }
  return res.json;
}

/** The sorted list of error fields of a rejection. */
export const fieldsOf = (rejection) => rejection.errors.map((e) => e.field).sort();

/** NDJSON text of records (strings are taken as raw lines). */
export function ndjson(lines, eol = '\n') {
  return lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join(eol) + eol;
}
