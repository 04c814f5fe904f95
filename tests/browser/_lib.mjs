// Browser-test helpers: Debian's Chromium driven by playwright-core (never a downloaded
// browser), a service with synthetic SIAO requests, and request bookkeeping.
//
//   const b = await launchBrowser();                 // { browser, context, page, requests }
//   const svc = await startService();  await pushSiaoRequests(svc);
//
// Environment: LDA_CHROMIUM (default /usr/bin/chromium), LDA_TEST_ARTIFACTS (folder of the
// screenshots; default build/test-artifacts), plus those of tests/lib/service.mjs.
import { mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { sourceDir } from '../lib/contract.mjs';

export const CHROMIUM = process.env.LDA_CHROMIUM ?? '/usr/bin/chromium';

// The machine's closed network refuses Chromium's own background connections: switch them off.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-dev-shm-usage',
  '--lang=fr-FR',
];

export function artifactsDir() {
  const dir = process.env.LDA_TEST_ARTIFACTS ?? join(sourceDir(), 'build', 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Starts Chromium with a fresh profile and one page. Every request the page makes is kept in
 * `requests` (URL strings), every console error and page error in `errors`.
 * close() ends the browser and removes the profile.
 */
export async function launchBrowser({ viewport = { width: 1280, height: 900 } } = {}) {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium (scripts/install-deps.sh)`);
  const profile = mkdtempSync(join(tmpdir(), 'lda-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    ignoreDefaultArgs: ['--enable-automation'],
    viewport,
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
    acceptDownloads: true,
    timeout: 30_000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const requests = [];
  const errors = [];
  context.on('request', (req) => requests.push(req.url()));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.setDefaultTimeout(20_000);
  return {
    context,
    page,
    requests,
    errors,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Asserts that every URL requested went to 127.0.0.1 (or was a data:/blob: URL). */
export function assertLoopbackOnly(requests) {
  assert.ok(requests.length > 0, 'the page made no request at all');
  const foreign = requests.filter((u) => {
    if (u.startsWith('data:') || u.startsWith('blob:') || u === 'about:blank') return false;
    try {
      return new URL(u).hostname !== '127.0.0.1';
    } catch {
      return true;
    }
  });
  assert.deepEqual(foreign, [], 'requests to another host than 127.0.0.1');
}

/** A page or asset of the service (these routes are outside the API contract). */
export async function fetchText(svc, path) {
  const res = await svc.api('GET', path, { timeout: 15_000, validate: false });
  return { status: res.status, type: res.headers['content-type'] ?? '', text: res.text };
}

// ---- synthetic SIAO requests ---------------------------------------------------------------

/** A small deterministic PRNG (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (r, items) => items[Math.floor(r() * items.length)];
function weighted(r, pairs) {
  const total = pairs.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of pairs) {
    x -= w;
    if (x < 0) return v;
  }
  return pairs[pairs.length - 1][0];
}

/**
 * SIAO requests from 2022 to 2024 (the last full year of data is 2024), about 900 a year on
 * each of artois, lens_henin, audomarois and boulonnais, and only a handful on montreuillois
 * (5 in 2024: a query on it alone is under the disclosure threshold). The youth share grows
 * year on year (about 20 %, 26 %, 32 %), and so does the share answered "no place available".
 * The need `mobility` is rare (a few a year): a breakdown cell hidden by the primary rule.
 */
export function syntheticSiaoRequests() {
  const r = rng(20240601);
  const records = [];
  const big = ['artois', 'lens_henin', 'audomarois', 'boulonnais'];
  const years = [2022, 2023, 2024];
  const youthShare = { 2022: 0.2, 2023: 0.26, 2024: 0.32 };
  const unmet = { 2022: 0.28, 2023: 0.34, 2024: 0.4 };
  // A pool of persons per age group, so that some come back in the same year.
  const youthPersons = Array.from({ length: 500 }, (_, i) => `Y${String(i).padStart(4, '0')}`);
  const adultPersons = Array.from({ length: 2500 }, (_, i) => `A${String(i).padStart(5, '0')}`);
  let n = 0;
  const push = (year, platform, young) => {
    const month = 1 + Math.floor(r() * 12);
    const day = 1 + Math.floor(r() * 28);
    const hour = 8 + Math.floor(r() * 12);
    const age = young ? 18 + Math.floor(r() * 8) : weighted(r, [[16, 1], [17, 1], [30 + Math.floor(r() * 35), 30]]);
    const needs = new Set([weighted(r, [['emergency_shelter', 5], ['housing', 4], ['food', 2], ['health', 1]])]);
    if (r() < 0.45) needs.add(pick(r, ['food', 'health', 'employment_training', 'rights_access', 'other']));
    if (r() < 0.006) needs.add('mobility');
    n += 1;
    records.push({
      external_id: `WEB-${year}-${String(n).padStart(6, '0')}`,
      received_at: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:15:00+01:00`,
      platform,
      channel: weighted(r, [['call_115', 6], ['siao_insertion', 3], ['street_outreach', 1], ['day_centre', 1]]),
      person_key: young ? pick(r, youthPersons) : pick(r, adultPersons),
      age,
      sex: weighted(r, [['male', 6], ['female', 4], ['unknown', 0.3]]),
      composition: weighted(r, [['single_person', 7], ['single_parent', 2], ['couple_no_child', 1]]),
      situation: weighted(r, [
        ['street', 3], ['hosted_by_third_party', 4], ['shelter_structure', 2], ['squat', 1],
        ['hotel', 1], ['institution', 0.8], ['precarious_housing', 1], ['housed', 0.8], ['unknown', 0.5],
      ]),
      needs: [...needs],
      response: r() < unmet[year] ? 'no_place_available'
        : weighted(r, [['sheltered', 5], ['housing_orientation', 2], ['referred_elsewhere', 2], ['declined_by_person', 1], ['pending', 1]]),
      alternatives_known: weighted(r, [[false, 5], [true, 3], [null, 1]]),
    });
  };
  for (const year of years) {
    for (const platform of big) {
      const count = 850 + Math.floor(r() * 100);
      for (let i = 0; i < count; i++) push(year, platform, r() < youthShare[year]);
    }
    const tiny = year === 2024 ? 5 : 30;
    for (let i = 0; i < tiny; i++) push(year, 'montreuillois', i % 2 === 0);
  }
  return records;
}

/**
 * Five youth requests in June 2018 on artois, before any demo or synthetic data: a selection
 * of that month is under the disclosure threshold (every count from 1 to 10 is hidden).
 */
export const SPARSE_MONTH = { from: '2018-06-01', to: '2018-06-30' };
export function sparseSiaoRequests() {
  return [19, 20, 21, 22, 23].map((age, i) => ({
    external_id: `WEB-SPARSE-${i + 1}`,
    received_at: `2018-06-${String(4 + i * 5).padStart(2, '0')}T10:30:00+02:00`,
    platform: 'artois',
    channel: 'call_115',
    person_key: `SPARSE-${i % 3}`,
    age,
    sex: i % 2 ? 'female' : 'male',
    situation: i < 3 ? 'street' : 'hosted_by_third_party',
    needs: i < 4 ? ['emergency_shelter', 'housing'] : ['housing'],
    response: i < 3 ? 'no_place_available' : 'sheltered',
    alternatives_known: i === 0 ? true : false,
  }));
}

/** Pushes SIAO requests through the batch route (admin token), in chunks of 5 000. */
export async function pushSiaoRequests(svc, adminToken, records = syntheticSiaoRequests(), source = 'siao62') {
  for (let i = 0; i < records.length; i += 5000) {
    const chunk = records.slice(i, i + 5000);
    const res = await svc.api('POST', `/v1/siao-requests/batch?source=${source}&atomic=true`, {
      token: adminToken,
      body: chunk,
      timeout: 120_000,
    });
    assert.equal(res.status, 200, `batch of SIAO requests: ${res.status} ${res.text.slice(0, 500)}`);
  }
  return records.length;
}
