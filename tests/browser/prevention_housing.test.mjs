// GET /prevention and GET /housing in headless Chromium, on the demo data: an analyst pastes a
// token; the headline figures, the charts and the tables render from the API (the default
// period is the last full calendar year with data); the controls ask only grid questions (no
// age band, no granularity on these pages); every value hidden by disclosure control reads
// "secret statistique" (never 0); the crossed table of the prevention cohorts follows its
// selects; the CSV download is the API's CSV; errors are shown; the token follows the user
// from one dashboard to the other; and the pages ask nothing of any other host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startService } from '../lib/service.mjs';
import { gridProblems } from '../lib/stats-grid.mjs';
import { sourceDir } from '../lib/contract.mjs';
import { launchBrowser, assertLoopbackOnly, artifactsDir, fetchText } from './_lib.mjs';

let svc;
let browser;
let analyst;
const nf = new Intl.NumberFormat('fr-FR');
const SECRET = 'secret statistique';
const SCRIPTS = ['/vendor/chart.umd.min.js', '/assets/observatory-format.js', '/assets/observatory-question.js',
  '/assets/observatory-charts.js', '/assets/stats-page.js'];

before(async () => {
  svc = await startService({ env: { LDA_WEB_DIR: join(sourceDir(), 'web') } });
  const seeded = await svc.runCli(['seed-demo'], { timeout: 300_000 });
  assert.equal(seeded.code, 0, `lda-api seed-demo exited ${seeded.code ?? seeded.signal}\n${seeded.stderr}`);
  analyst = await svc.createToken('analyst');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await svc?.stop();
});

// ---- helpers -------------------------------------------------------------------------------

async function api(path) {
  const res = await svc.api('GET', path, { token: analyst });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

/** Runs the action, then waits until the page has finished the load it started. */
async function settled(page, action) {
  const before = await page.evaluate(() => Number(document.body.dataset.loads ?? 0));
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.loads ?? 0) > n, before);
}

/** The headline cards (or those of `selector`): { key: { text, status } }. */
async function cards(page, selector = '#headline') {
  return page.$$eval(`${selector} .figure`, (list) =>
    Object.fromEntries(list.map((c) => [c.dataset.key, { text: c.querySelector('.figure__value').textContent.trim(), status: c.dataset.status }])));
}

/** A count as the page writes it: "secret statistique" when hidden. */
const shown = (v, unit = '') => (v === null ? SECRET : `${nf.format(v)}${unit}`);

/** The statistics requests the page made to `path`, as URLSearchParams. */
function asked(path) {
  return browser.requests.filter((u) => new URL(u).pathname === path).map((u) => new URL(u).searchParams);
}

async function charts(page, ids) {
  return page.evaluate((list) => list.map((id) => {
    const canvas = document.getElementById(id);
    const chart = canvas && window.Chart && window.Chart.getChart(canvas);
    return chart ? { id, type: chart.config.type, datasets: chart.data.datasets.length, labels: chart.data.labels.length } : { id, chart: false };
  }), ids);
}

/** The cells of a table: rows of cell texts (header row first). */
async function tableText(page, id) {
  return page.$$eval(`#${id} tr`, (rows) => rows.map((r) => [...r.children].map((c) => c.textContent.trim())));
}

async function useToken(page, path, token) {
  await page.goto(`${svc.url}${path}`);
  await page.locator('#platform option[value="montreuillois"]').waitFor({ state: 'attached' });
  await page.fill('#token', token);
  await settled(page, () => page.click('#token-use'));
}

// ---- tests ---------------------------------------------------------------------------------

test('the pages and their assets are served by the service itself, as strict pages', async () => {
  for (const [path, script] of [['/prevention', '/assets/prevention.js'], ['/housing', '/assets/housing.js']]) {
    const page = await fetchText(svc, path);
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.text, /Content-Security-Policy/);
    assert.doesNotMatch(page.text, /\son[a-z]+\s*=/i, 'no inline event handler');
    assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(page.text, /https?:\/\/(?!127\.0\.0\.1)/, 'no absolute URL to another host');
    assert.doesNotMatch(page.text, /type="date"|type="number"|id="age_band"|id="granularity"/, 'periods are chosen; no age band, no granularity');
    const scripts = [...page.text.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(scripts, [...SCRIPTS, script]);
    for (const asset of [...scripts, '/assets/observatory.css', '/assets/site.css', '/assets/stats-page.css']) {
      assert.equal((await fetchText(svc, asset)).status, 200, `${asset} (scripts/web-deps.sh fills web/vendor/)`);
    }
    for (const other of ['/docs', '/observatory', '/prevention', '/housing']) assert.match(page.text, new RegExp(`href="${other}"`), `${path} links to ${other}`);
  }
});

test('prevention: the last full year with data by default, its figures, charts and tables as the API says', async () => {
  const { page } = browser;
  await useToken(page, '/prevention', analyst);
  assert.equal(await page.getAttribute('body', 'data-state'), 'ready');
  const period = await page.$eval('#period-dates', (p) => ({ from: p.dataset.from, to: p.dataset.to }));
  assert.deepEqual(period, { from: '2022-01-01', to: '2022-12-31' }, 'the demo data end in 2022');
  const doc = await api('/v1/stats/prevention?from=2022-01-01&to=2022-12-31');
  const f = await cards(page);
  assert.deepEqual(Object.keys(f), ['cases', 'debt_median', 'actions', 'cases_with_action']);
  assert.equal(f.cases.text, shown(doc.cases));
  assert.equal(f.cases.status, 'P');
  assert.equal(f.debt_median.text, doc.debt_eur.median === null ? SECRET : `${nf.format(doc.debt_eur.median)} €`);
  assert.equal(f.actions.text, shown(doc.actions));
  assert.equal(f.cases_with_action.text, shown(doc.cases_with_action));
  assert.match(await page.textContent('#scope'), /Année 2022 · toutes les plateformes/);
  for (const c of await charts(page, ['chart-first-action', 'chart-entry-stage', 'chart-debt-band', 'chart-follow-up', 'chart-actions'])) {
    assert.notEqual(c.chart, false, `${c.id} drawn`);
  }
  const fu = (await charts(page, ['chart-follow-up']))[0];
  assert.deepEqual([fu.type, fu.labels, fu.datasets], ['bar', 3, 8], 'one stacked bar per horizon, one segment per situation');
  // the situations table: a row per situation, a column per horizon, hidden values as secrets
  const fuTable = await tableText(page, 'table-follow-up');
  assert.deepEqual(fuTable[0], ['Situation', '6 mois', '12 mois', '24 mois']);
  doc.follow_up[1].situations.forEach((c, i) => {
    assert.ok(fuTable[i + 1][2].startsWith(shown(c.count)), `12 months ${c.code}: ${fuTable[i + 1][2]}`);
  });
  // the breakdown tables
  const stages = await tableText(page, 'table-entry-stage');
  doc.by_entry_stage.forEach((c, i) => assert.equal(stages[i + 1][1], shown(c.count), c.code));
  // no request but grid questions, never an age band
  for (const q of asked('/v1/stats/prevention')) {
    assert.deepEqual(gridProblems(q), [], q.toString());
    assert.ok(!q.has('age_band') && !q.has('granularity'), q.toString());
  }
  await page.screenshot({ path: join(artifactsDir(), 'prevention.png'), fullPage: true });
});

test('prevention: the 2021 VEJ cohort of the AMI 1, and the crossed table follows its selects', async () => {
  const { page } = browser;
  await page.selectOption('#period-kind', 'year');
  await page.selectOption('#year', '2021');
  await settled(page, () => page.selectOption('#platform', 'ami:1'));
  const doc = await api('/v1/stats/prevention?ami=1&from=2021-01-01&to=2021-12-31');
  assert.ok(Math.abs(doc.cases - 185) <= 2);
  assert.equal((await cards(page)).cases.text, shown(doc.cases));
  assert.match(await page.textContent('#scope'), /AMI 1/);
  // situation at 12 months by first action (the default), then by platform at 6 months
  let cross = await tableText(page, 'table-cross');
  const at12 = doc.follow_up[1];
  assert.deepEqual(cross.slice(1).map((r) => r[0]), at12.by_first_action.map((r) => r.label_fr));
  at12.by_first_action.forEach((row, i) => row.situations.forEach((c, j) => assert.equal(cross[i + 1][j + 2], shown(c.count), `${row.code} ${c.code}`)));
  await page.selectOption('#cross-by', 'by_platform');
  await page.selectOption('#cross-at', '6');
  cross = await tableText(page, 'table-cross');
  const at6 = doc.follow_up[0];
  assert.deepEqual(cross.slice(1).map((r) => r[0]), ['Artois', 'Lens-Hénin']);
  at6.by_platform.forEach((row, i) => {
    assert.equal(cross[i + 1][1], shown(row.cases));
    row.situations.forEach((c, j) => assert.equal(cross[i + 1][j + 2], shown(c.count), `${row.code} ${c.code}`));
  });
  assert.ok(cross.flat().includes(SECRET), 'small cells read "secret statistique"');
  assert.ok(at6.by_platform.flatMap((r) => r.situations).some((c) => c.count === null));
  await page.screenshot({ path: join(artifactsDir(), 'prevention-vej-2021.png'), fullPage: true });
});

test('prevention: the CSV download is the API\'s CSV for the question shown', async () => {
  const { page } = browser;
  const downloaded = page.waitForEvent('download');
  await page.click('#download');
  const download = await downloaded;
  assert.equal(download.suggestedFilename(), 'prevention_2021-01-01_2021-12-31_ami1.csv');
  const text = readFileSync(await download.path(), 'utf8');
  const res = await svc.api('GET', '/v1/stats/prevention?ami=1&from=2021-01-01&to=2021-12-31&format=csv', { token: analyst });
  assert.equal(text, res.text);
});

test('housing: the token follows the user; placements, delays, occupancy, tension and fluidity as the API says', async () => {
  const { page } = browser;
  await page.goto(`${svc.url}/housing`);
  await page.waitForFunction(() => document.body.dataset.state === 'ready');
  assert.equal(await page.inputValue('#token'), analyst, 'the token of this tab is kept');
  const period = await page.$eval('#period-dates', (p) => ({ from: p.dataset.from, to: p.dataset.to }));
  assert.deepEqual(period, { from: '2022-01-01', to: '2022-12-31' });
  const doc = await api('/v1/stats/housing?from=2022-01-01&to=2022-12-31');
  const f = await cards(page);
  assert.deepEqual(Object.keys(f), ['placements', 'median_days', 'waiting', 'free_places', 'small_units_tension']);
  assert.equal(f.placements.text, shown(doc.placements));
  assert.equal(f.median_days.text, doc.time_to_placement[0].median_days === null ? SECRET : `${nf.format(doc.time_to_placement[0].median_days)} jours`);
  assert.equal(f.waiting.text, shown(doc.tension.waiting));
  assert.equal(f.free_places.text, shown(doc.tension.free_places));
  assert.equal(await page.textContent('#tension-on'), 'le 31 décembre 2022');
  const occupancy = await tableText(page, 'table-occupancy');
  assert.deepEqual(occupancy.slice(1).map((r) => r[0]), doc.occupancy.map((o) => o.label_fr));
  doc.occupancy.forEach((o, i) => assert.equal(occupancy[i + 1][2], shown(o.placements), o.code));
  const delays = await tableText(page, 'table-delay');
  assert.equal(delays.length, 1 + doc.time_to_placement.length);
  doc.time_to_placement.forEach((d, i) => assert.equal(delays[i + 1][2], shown(d.median_days), d.code));
  const waiting = await tableText(page, 'table-waiting');
  doc.tension.waiting_by_composition.forEach((c, i) => assert.equal(waiting[i + 1][1], shown(c.count), c.code));
  const fl = await cards(page, '#fluidity');
  assert.equal(fl.meetings.text, shown(doc.fluidity.meetings));
  assert.equal(fl.households_presented.text, shown(doc.fluidity.households_presented));
  for (const c of await charts(page, ['chart-offer-kind', 'chart-typology', 'chart-waiting', 'chart-free-places'])) assert.notEqual(c.chart, false, c.id);
  // a small platform: hidden counts read "secret statistique", never 0
  await settled(page, () => page.selectOption('#platform', 'montreuillois'));
  const small = await api('/v1/stats/housing?platform=montreuillois&from=2022-01-01&to=2022-12-31');
  assert.equal((await cards(page)).placements.text, shown(small.placements));
  const hidden = [...small.by_offer_kind, ...small.by_typology].filter((c) => c.count === null);
  assert.ok(hidden.length > 0, 'the demo has small cells there');
  const kinds = await tableText(page, 'table-offer-kind');
  small.by_offer_kind.forEach((c, i) => assert.equal(kinds[i + 1][1], shown(c.count), c.code));
  for (const q of asked('/v1/stats/housing')) assert.deepEqual(gridProblems(q), [], q.toString());
  await page.screenshot({ path: join(artifactsDir(), 'housing.png'), fullPage: true });
});

test('errors are shown clearly: no token, a role without statistics (403)', async () => {
  const { page } = browser;
  await page.click('#token-forget');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await page.goto(`${svc.url}/prevention`);
  await page.locator('#platform option[value="montreuillois"]').waitFor({ state: 'attached' });
  assert.match(await page.textContent('#status'), /Collez un jeton/);
  assert.equal(await page.isVisible('#results'), false);
  const partner = await svc.createToken('partner', { platforms: ['artois'] });
  await page.fill('#token', partner);
  await settled(page, () => page.click('#token-use'));
  assert.match(await page.textContent('#error'), /Accès refusé \(403\)/);
  assert.equal(await page.isVisible('#results'), false);
  await page.click('#token-forget');
});

test('the pages made no request to another host and logged no error', async () => {
  assertLoopbackOnly(browser.requests);
  const unexpected = browser.errors.filter((e) => !/status of 40[13] /.test(e));
  assert.deepEqual(unexpected, []);
});
