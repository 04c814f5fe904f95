// GET /outcomes in headless Chromium, on the demo data: an analyst pastes a token; the page
// asks GET /v1/stats/outcomes (whole calendar years only, all platforms or one AMI or one
// platform, cohorts by year or quarter) and shows the whole cohort's figures, the
// Kaplan–Meier curves of each cohort (time to housing, time to support) with their tables,
// and the tables by cohort and by profile, each value as the API publishes it ("secret
// statistique" where it is null, never 0); the CSV download works; a bad token is an error
// shown; and the page asks nothing of any other host. A screenshot goes to test-artifacts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startService } from '../lib/service.mjs';
import { gridProblems } from '../lib/stats-grid.mjs';
import { sourceDir } from '../lib/contract.mjs';
import { launchBrowser, assertLoopbackOnly, artifactsDir, fetchText } from './_lib.mjs';

let svc, browser, analyst;
const SECRET = 'secret statistique';
const pct = new Intl.NumberFormat('fr-FR', { style: 'percent', maximumFractionDigits: 0 });

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

async function settled(page, action) {
  const before = await page.evaluate(() => Number(document.body.dataset.loads ?? 0));
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.loads ?? 0) > n, before);
}

function lastQuestion() {
  const asked = browser.requests.filter((u) => new URL(u).pathname === '/v1/stats/outcomes');
  assert.ok(asked.length > 0, 'the page asked nothing');
  return new URL(asked[asked.length - 1]).searchParams;
}

async function api(query) {
  const res = await svc.api('GET', `/v1/stats/outcomes?${query}`, { token: analyst });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

const shown = (v) => (v === null ? SECRET : pct.format(v));

test('the page and its scripts are served, with a strict content security policy', async () => {
  const page = await fetchText(svc, '/outcomes');
  assert.equal(page.status, 200);
  assert.match(page.type, /^text\/html/);
  assert.match(page.text, /Content-Security-Policy" content="default-src 'self'; script-src 'self'/);
  const scripts = [...page.text.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(scripts, ['/vendor/chart.umd.min.js', '/assets/observatory-format.js', '/assets/outcomes.js']);
  for (const s of [...scripts, '/assets/outcomes.css']) assert.equal((await fetchText(svc, s)).status, 200, s);
});

test('without a token the page says so; a bad token is an error shown', async () => {
  const { page } = browser;
  await page.goto(`${svc.url}/outcomes`);
  await page.waitForFunction(() => Number(document.body.dataset.loads ?? 0) > 0);
  assert.equal(await page.getAttribute('body', 'data-state'), 'no-token');
  await page.fill('#token', 'not-a-token');
  await settled(page, () => page.click('#token-use'));
  assert.equal(await page.getAttribute('body', 'data-state'), 'error');
  assert.match(await page.textContent('#error'), /Jeton/);
});

test('an analyst sees 2019–2022: the cohort, the survival curves of each year, the tables, as the API publishes them', async () => {
  const { page } = browser;
  await page.fill('#token', analyst);
  await settled(page, () => page.click('#token-use'));
  assert.equal(await page.getAttribute('body', 'data-state'), 'ok', await page.textContent('#error'));
  const q = lastQuestion();
  assert.deepEqual(gridProblems(q), []);
  assert.equal(q.get('from'), '2019-01-01');
  assert.equal(q.get('to'), '2022-12-31');
  const doc = await api(q.toString());
  assert.match(await page.textContent('#headline'), /1\s266/);
  assert.match(await page.textContent('#scope'), /31 décembre 2022/);
  // the curves: one dataset per cohort, 24 points, the API's shares in percent (gaps where hidden)
  for (const [canvas, table, key] of [['chart-housing', 'table-housing', 'time_to_housing'], ['chart-support', 'table-support', 'time_to_support']]) {
    const sets = await page.evaluate((id) => window.Chart.getChart(id).data.datasets.map((d) => ({ label: d.label, data: d.data })), canvas);
    assert.deepEqual(sets.map((d) => d.label), ['2019', '2020', '2021', '2022']);
    sets.forEach((d, i) => assert.deepEqual(d.data, doc.by_cohort[i][key].curve.map((p) => (p.share === null ? null : Math.round(p.share * 100)))));
    const rows = await page.$$eval(`#${table} tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
    const flat = (x) => x.replace(/\s/g, ' ');
    rows.forEach((r, i) => assert.deepEqual(r.map(flat), doc.by_cohort[i][key].curve.map((p) => flat(shown(p.share)))));
  }
  const housed12 = doc.by_cohort.map((c) => c.time_to_housing.within.find((w) => w.months === 12).share);
  assert.ok(housed12.some((x) => x !== null), 'no share published at all');
  const cohortRows = await page.$$eval('#table-cohorts tbody tr', (trs) => trs.map((tr) => tr.querySelector('th').textContent));
  assert.deepEqual(cohortRows, ['2019', '2020', '2021', '2022']);
  const groups = await page.textContent('#table-groups');
  assert.match(groups, /Première saisine/);
  assert.match(groups, /Déjà connu/);
  assert.match(groups, /ENVAUL/);
  assert.ok(groups.includes(SECRET), 'small groups read "secret statistique"');
  await page.screenshot({ path: join(artifactsDir(), 'outcomes.png'), fullPage: true });
});

test('the controls ask grid questions only: an AMI, one year, cohorts by quarter', async () => {
  const { page } = browser;
  await settled(page, () => page.selectOption('#platform', 'ami:2'));
  await settled(page, () => page.selectOption('#year-from', '2021'));
  await settled(page, () => page.selectOption('#year-to', '2021'));
  await settled(page, () => page.selectOption('#granularity', 'quarter'));
  const q = lastQuestion();
  assert.deepEqual(gridProblems(q), []);
  assert.deepEqual(Object.fromEntries(q), { from: '2021-01-01', to: '2021-12-31', ami: '2', granularity: 'quarter' });
  const labels = await page.evaluate(() => window.Chart.getChart('chart-housing').data.datasets.map((d) => d.label));
  assert.deepEqual(labels, ['T1 2021', 'T2 2021', 'T3 2021', 'T4 2021']);
  // a year to before the year from follows it
  await settled(page, () => page.selectOption('#year-to', '2020'));
  assert.deepEqual(gridProblems(lastQuestion()), []);
  assert.equal(lastQuestion().get('from'), '2020-01-01');
});

test('the CSV download is the API\'s CSV for the same question', async () => {
  const { page } = browser;
  const downloaded = page.waitForEvent('download');
  await page.click('#download');
  const download = await downloaded;
  assert.equal(download.suggestedFilename(), 'resultats-cohortes.csv');
  const path = await download.path();
  const { readFileSync } = await import('node:fs');
  const text = readFileSync(path, 'utf8');
  assert.match(text, /^cohort,section,code,measure,figure,value,status\r\n/);
});

test('the page made no request to another host and logged no error', async () => {
  assertLoopbackOnly(browser.requests);
  const unexpected = browser.errors.filter((e) => !/status of 40[13] /.test(e));
  assert.deepEqual(unexpected, []);
});
