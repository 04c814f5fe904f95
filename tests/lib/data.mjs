// Request bodies and records the suites send, valid unless said otherwise, unique where the
// service wants them unique (names: letters only, since person_key folds case, accents and
// punctuation).
//
//   case management  householdBody, referralBody (household by id), inlineReferralBody (a new
//                    household inline), plainHouseholdBody (no vulnerability), measureBody,
//                    partnerBody; recentReferralBody, recentMeasureBody (dated days ago)
//   SIAO push        siaoRecord (one, by external id), batchSiaoRecord(s) (deterministic, every
//                    field filled, 2024), recentSiaoRecords (received in the last days),
//                    householdRecord / referralRecord (over the bodies above),
//                    batchHouseholdRecord / batchReferralRecord (as a source pushes them)
//   prevention       caseBody, caseRecord, ruleBody (a year of its own), SEEDED_AMI1_RULE
//   housing offer    offerBody, placementBody (a stay of its own), meetingBody
//   names and dates  uniqueLetters, uniqueName, TODAY, daysAgo
import { randomBytes } from 'node:crypto';

let seq = 0;
/** Letters only, unique in this process: person_key folds case, accents and punctuation. */
export function uniqueLetters(prefix = 'x') {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (const b of randomBytes(10)) s += letters[b % 26];
  seq += 1;
  let n = seq;
  let t = '';
  do {
    t = letters[n % 26] + t;
    n = Math.floor(n / 26);
  } while (n > 0);
  return `${prefix}${t}${s}`;
}


/** Letters only: a name of `prefix` and 10 random letters. */
export function uniqueName(prefix) {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (const b of randomBytes(10)) s += letters[b % 26];
  return `${prefix}${s}`;
}

export const TODAY = new Date().toISOString().slice(0, 10);

export function householdBody(platform = 'artois', over = {}) {
  return {
    platform,
    external_ref: `ref-${uniqueLetters('r')}`,
    composition: 'single_person',
    adults: 1,
    children: 0,
    head: { last_name: uniqueLetters('Nom'), first_name: uniqueLetters('Prenom'), birth_date: '1990-05-17', sex: 'female' },
    resources: ['rsa'],
    housing_situation: 'street',
    vulnerabilities: ['eviction'],
    ...over,
  };
}

export function referralBody(household, platform = 'artois', over = {}) {
  return {
    household,
    platform,
    referrer_kind: 'ccas',
    referrer_name: 'CCAS de test',
    received_on: '2025-01-10',
    has_social_note: true,
    reasons: ['homelessness'],
    decision_note: 'Note de décision',
    concertation: { held_on: '2025-01-12', household_present: true },
    ...over,
  };
}

export const measureBody = (over = {}) => ({
  kind: 'adsl',
  operator: 'La Vie Active',
  started_on: '2025-01-20',
  ended_on: '2025-02-20',
  end_reason: 'goals_met',
  housing_outcome: 'accessed',
  housing_type: 'social_housing',
  housing_on: '2025-02-01',
  ...over,
});

export const partnerBody = (over = {}) => ({ name: `Partenaire ${uniqueLetters('p')}`, kind: 'ccas', platform: 'artois', ...over });

export function siaoRecord(externalId, over = {}) {
  return {
    external_id: externalId,
    received_at: '2024-03-10T22:14:05+01:00',
    platform: 'artois',
    channel: 'call_115',
    person_key: `pk-${externalId}`,
    age: 21,
    birth_year: null,
    sex: 'male',
    composition: 'single_person',
    situation: 'street',
    resources: ['none'],
    needs: ['emergency_shelter', 'food'],
    response: 'no_place_available',
    alternatives_known: false,
    ...over,
  };
}

export function householdRecord(externalId, over = {}) {
  const h = householdBody('artois');
  delete h.external_ref;
  return { external_id: externalId, ...h, ...over };
}

export function referralRecord(externalId, householdExternalId, over = {}) {
  const r = referralBody(undefined, 'artois');
  delete r.household;
  return { external_id: externalId, household_external_id: householdExternalId, ...r, ...over };
}

// Eviction prevention and the housing offer.

export function caseBody(household, platform = 'artois', over = {}) {
  return {
    household,
    platform,
    landlord_kind: 'social',
    debt_eur: 2400,
    debt_on: '2025-01-05',
    stage: 'payment_order',
    stage_on: '2025-01-02',
    ...over,
  };
}

export function caseRecord(externalId, householdExternalId, over = {}) {
  const c = caseBody(undefined, 'artois');
  delete c.household;
  return { external_id: externalId, household_external_id: householdExternalId, ...c, stage: 'summons', stage_on: '2025-01-10', ...over };
}

let ruleYear = 2100;
/** The AMI 1 rule the migrations create (open-ended): close it before 2100 with
 * `PATCH /v1/prevention-rules/${SEEDED_AMI1_RULE}` {valid_to: '2099-12-31'} so that ruleBody()
 * periods are free. */
export const SEEDED_AMI1_RULE = '5f0c2a1e-7b3d-4e6a-9c2f-1a0b3c4d5e61';
/** A PEX rule of a year of its own (2101, 2102...): rules of one AMI never overlap. */
export function ruleBody(over = {}) {
  const y = (ruleYear += 1);
  return { ami: 1, valid_from: `${y}-01-01`, valid_to: `${y}-12-31`, debt_min_eur: 1500, debt_max_eur: 4000, note: 'Critères PEX', ...over };
}

export const offerBody = (over = {}) => ({
  platform: 'artois',
  kind: 'sas_flat',
  landlord_kind: 'social',
  typology: 't1',
  capacity: 1,
  available_from: '2024-01-01',
  label: 'Logement SAS',
  ...over,
});

let stayDay = 0;
/** A stay of one day of its own (from 2020-01-02 on): placements of one referral in one offer
 * of capacity 1 never overlap. */
export function nextStay() {
  const d = new Date(Date.UTC(2020, 0, 2 + (stayDay += 1)));
  const e = new Date(d.getTime() + 86_400_000);
  return { entered_on: d.toISOString().slice(0, 10), left_on: e.toISOString().slice(0, 10) };
}

export const placementBody = (referral, offer, over = {}) => ({ referral, offer, ...nextStay(), exit_reason: 'permanent_housing', ...over });

export const meetingBody = (presented, over = {}) => ({
  platform: 'artois',
  held_on: '2025-03-01',
  landlords_present: ['Pas-de-Calais Habitat'],
  households_presented: presented,
  proposals_made: 1,
  proposals_accepted: 1,
  ...over,
});

export function plainHouseholdBody(platform = 'artois', over = {}) {
  return {
    platform,
    external_ref: `ref-${uniqueLetters('r')}`,
    composition: 'single_person',
    adults: 1,
    children: 0,
    head: { last_name: uniqueLetters('Nom'), first_name: uniqueLetters('Prenom'), birth_date: '1990-05-17', sex: 'female' },
    resources: ['rsa'],
    housing_situation: 'street',
    vulnerabilities: [],
    ...over,
  };
}

export function inlineReferralBody(platform = 'artois', over = {}) {
  return {
    household: plainHouseholdBody(platform),
    platform,
    referrer_kind: 'ccas',
    referrer_name: 'CCAS de test',
    received_on: '2025-01-10',
    reasons: ['homelessness'],
    ...over,
  };
}


// ------------------------------------------------------------------------------ dated days ago

/** Today's date in Europe/Paris (what the service calls "today"), minus `days`. */
export function daysAgo(days) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
  const d = new Date(`${today}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}

/** A POST /v1/referrals body with a new household inline (a new person each time). */
export function recentReferralBody(platform = 'artois') {
  return {
    household: {
      platform,
      composition: 'single_person',
      adults: 1,
      children: 0,
      head: { last_name: uniqueName('Rel'), first_name: 'Camille', birth_date: '1990-05-17', sex: 'female' },
      resources: ['rsa'],
      housing_situation: 'hosted_by_third_party',
      vulnerabilities: [],
    },
    platform,
    referrer_kind: 'ccas',
    referrer_name: 'CCAS de Béthune',
    received_on: daysAgo(10),
    has_social_note: false,
    reasons: ['homelessness'],
  };
}

/** A POST /v1/referrals/{id}/measures body. */
export function recentMeasureBody() {
  return { kind: 'adsl', operator: 'Association Rel', started_on: daysAgo(2) };
}

/** n SIAO requests with external ids `${prefix}-<i>`, received in the last days. */
export function recentSiaoRecords(prefix, n, platforms = ['artois', 'lens_henin']) {
  const base = Date.now() - 3 * 86_400_000;
  const out = [];
  for (let i = 0; i < n; i += 1) {
    out.push({
      external_id: `${prefix}-${i}`,
      received_at: new Date(base + i * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      platform: platforms[i % platforms.length],
      channel: 'call_115',
      person_key: `pk-${prefix}-${i}`,
      age: 18 + (i % 30),
      sex: i % 2 ? 'female' : 'male',
      composition: 'single_person',
      situation: 'street',
      resources: ['none'],
      needs: ['emergency_shelter'],
      response: i % 3 ? 'sheltered' : 'no_place_available',
      alternatives_known: i % 2 === 0,
    });
  }
  return out;
}


// ------------------------------------------------------------------------------ batches of a source

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
export function batchSiaoRecord(prefix, i, over = {}) {
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
export function batchSiaoRecords(prefix, n, from = 0) {
  const out = [];
  for (let i = from; i < from + n; i += 1) out.push(batchSiaoRecord(prefix, i));
  return out;
}

/** A household record (HouseholdInput with external_id). */
export function batchHouseholdRecord(externalId, platform, head = {}, over = {}) {
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
export function batchReferralRecord(externalId, platform, household, over = {}) {
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
