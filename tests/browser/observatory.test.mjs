// GET /observatory in headless Chromium: an analyst pastes a token; the headline figures, the
// three trend charts (from the series) and the two breakdown charts render from the API; the
// controls ask only the questions the statistics answer (whole months: a month, a quarter, a
// year, a range of years; all platforms, one AMI or one platform; a fixed age band); every
// figure says whether it is exact or protected (±max_noise), values hidden by disclosure
// control read "secret statistique" (never 0); the CSV download works; errors are shown; and
// the page asks nothing of any other host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startService } from '../lib/service.mjs';
import { onGrid, gridProblems } from '../lib/stats-grid.mjs';
import { sourceDir } from '../lib/contract.mjs';
import {
  launchBrowser, assertLoopbackOnly, artifactsDir, fetchText, pushSiaoRequests, sparseSiaoRequests, SPARSE_MONTH,
} from './_lib.mjs';

let svc;
let browser;
let analyst;
let ageBands = [];
const nf = new Intl.NumberFormat('fr-FR');
const pf = new Intl.NumberFormat('fr-FR', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
const CHARTS = ['chart-youth-requests', 'chart-youth-share', 'chart-unmet', 'chart-need', 'chart-situation'];
const HEADLINE = ['requests_total', 'youth_requests', 'youth_share', 'youth_persons', 'repeat_persons', 'unmet_rate', 'no_alternative_share'];
const SECRET = 'secret statistique';

before(async () => {
  svc = await startService({ env: { LDA_WEB_DIR: join(sourceDir(), 'web') } });
  const admin = await svc.createToken('admin');
  // The demo data, then five requests in June 2018, a selection under the threshold.
  const seeded = await svc.runCli(['seed-demo'], { timeout: 60_000 });
  assert.equal(seeded.code, 0, `lda-api seed-demo exited ${seeded.code ?? seeded.signal}\n${seeded.stderr}`);
  const { rows } = await svc.sql('SELECT count(*)::int AS n FROM siao_request');
  assert.ok(rows[0].n > 0, 'the demo data holds SIAO requests');
  await pushSiaoRequests(svc, admin, sparseSiaoRequests(), 'web-test');
  analyst = await svc.createToken('analyst');
  ageBands = (await svc.api('GET', '/v1/vocabularies')).json.age_band.map((b) => b.code);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await svc?.stop();
});

test('the grid check used below accepts the grid and nothing else', () => {
  for (const [from, to] of [['2024-03-01', '2024-03-31'], ['2024-02-01', '2024-02-29'], ['2024-04-01', '2024-06-30'],
    ['2024-01-01', '2024-12-31'], ['2019-01-01', '2022-12-31']]) assert.ok(onGrid(from, to), `${from}..${to}`);
  for (const [from, to] of [['2024-03-02', '2024-03-31'], ['2024-03-01', '2024-03-30'], ['2023-02-01', '2023-02-29'],
    ['2024-02-01', '2024-04-30'], ['2024-01-01', '2024-11-30'], ['2024-01-01', '2025-06-30'], ['2024-12-01', '2024-01-31'],
    ['2024-01-01', undefined]]) assert.ok(!onGrid(from, to), `${from}..${to}`);
  const problems = (q) => gridProblems(new URLSearchParams(q));
  assert.deepEqual(problems('from=2024-01-01&to=2024-12-31&ami=2&age_band=age_26_34&granularity=month'), []);
  assert.deepEqual(problems('platform=artois&ami=1'), ['platform and ami together']);
  assert.deepEqual(problems('platform=artois&platform=lens_henin'), ['platform given more than once']);
  assert.deepEqual(problems('age_min=18'), ['unknown parameter age_min']);
  assert.deepEqual(problems('from=2024-01-01&to=2024-11-30'), ['period 2024-01-01..2024-11-30 off the grid']);
});

// ---- helpers -------------------------------------------------------------------------------

/** The API's own answer, for comparison with what the page shows. */
async function youth(query, path = '/v1/observatory/youth') {
  const res = await svc.api('GET', `${path}?${query}`, { token: analyst });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

/** The last full calendar year that has SIAO requests, as the API counts them. */
async function lastFullYear() {
  const thisYear = new Date().getFullYear();
  const series = await youth(`granularity=year&from=2000-01-01&to=${thisYear}-12-31`, '/v1/observatory/youth/series');
  const years = series.items.map((i) => [Number.parseInt(i.period, 10), i.requests_total]).filter(([y, n]) => y < thisYear && n !== 0);
  assert.ok(years.length > 0, 'the data has a full year');
  return years[years.length - 1][0];
}

/** The headline cards: { key: { text, status } }. */
async function figures(page) {
  return page.$$eval('#headline .figure', (cards) =>
    Object.fromEntries(cards.map((c) => [c.dataset.key, { text: c.querySelector('.figure__value').textContent.trim(), status: c.dataset.status }])),
  );
}

const texts = (f) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v.text]));

/** The status a headline figure of an API answer must show: E, P, A (hidden) or na (0/0). */
function expectedStatus(api, key) {
  const over = { youth_share: 'requests_total', unmet_rate: 'youth_requests', no_alternative_share: 'youth_requests' }[key];
  if (api[key] === null) return over && api[over] === 0 ? 'na' : 'A';
  return api.disclosure.exact.includes(key) ? 'E' : 'P';
}

function expectedText(api, key) {
  const status = expectedStatus(api, key);
  if (status === 'A') return SECRET;
  if (status === 'na') return 'sans objet';
  return /share|rate/.test(key) ? pf.format(api[key]) : nf.format(api[key]);
}

/** Every headline card shows the API's value and how it is protected. */
async function assertHeadline(page, api) {
  const f = await figures(page);
  assert.deepEqual(Object.keys(f), HEADLINE);
  for (const key of HEADLINE) {
    assert.equal(f[key].text, expectedText(api, key), `${key} (demo data)`);
    assert.equal(f[key].status, expectedStatus(api, key), `${key}: exact ${JSON.stringify(api.disclosure.exact)}`);
  }
  const badges = await page.$$eval('#headline .figure', (cards) => cards.map((c) => c.querySelector('.badge')?.textContent ?? ''));
  HEADLINE.forEach((key, i) => {
    const want = { E: 'exact', P: `protégé ±${api.disclosure.max_noise}`, A: '', na: 'sans objet' }[expectedStatus(api, key)];
    assert.equal(badges[i], want, key);
  });
  return f;
}

async function chartData(page) {
  return page.evaluate((ids) => {
    return ids.map((id) => {
      const canvas = document.getElementById(id);
      const chart = canvas && window.Chart && window.Chart.getChart(canvas);
      if (!chart) return { id, chart: false };
      const box = canvas.getBoundingClientRect();
      const ds = chart.data.datasets[0];
      return {
        id,
        chart: true,
        type: chart.config.type,
        labels: chart.data.labels.length,
        data: ds.data,
        pointStyle: ds.pointStyle,
        width: box.width,
        height: box.height,
      };
    });
  }, CHARTS);
}

/** What the page asked for last: the query of its last GET /v1/observatory/youth. */
function lastQuestion() {
  const asked = browser.requests.filter((u) => new URL(u).pathname === '/v1/observatory/youth');
  assert.ok(asked.length > 0, 'the page asked nothing');
  return new URL(asked[asked.length - 1]).searchParams;
}

/** Runs the action, then waits until the page has finished the load it started (the page
 * counts finished loads in <body data-loads>; a reload starts again from 0). */
async function settled(page, action, { reload = false } = {}) {
  const before = reload ? 0 : await page.evaluate(() => Number(document.body.dataset.loads ?? 0));
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.loads ?? 0) > n, before);
}

/** Chooses a period with the pickers (each change starts a load, debounced), then shows it. */
async function choosePeriod(page, { kind, year, month, quarter, yearTo }) {
  await page.selectOption('#period-kind', kind);
  if (yearTo !== undefined) await page.selectOption('#year-to', String(yearTo));
  await page.selectOption('#year', String(year));
  if (month !== undefined) await page.selectOption('#month', String(month));
  if (quarter !== undefined) await page.selectOption('#quarter', String(quarter));
  await settled(page, () => page.click('#apply'));
}

async function shownPeriod(page) {
  return page.$eval('#period-dates', (p) => ({ from: p.dataset.from, to: p.dataset.to }));
}

// ---- tests ---------------------------------------------------------------------------------

test('the page and its assets are served by the service itself, as a strict page', async () => {
  const page = await fetchText(svc, '/observatory');
  assert.equal(page.status, 200);
  assert.match(page.type, /^text\/html/);
  assert.match(page.text, /Content-Security-Policy/);
  assert.doesNotMatch(page.text, /\son[a-z]+\s*=/i, 'no inline event handler');
  assert.doesNotMatch(page.text, /<script>(?!<\/script>)|<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  assert.doesNotMatch(page.text, /https?:\/\/(?!127\.0\.0\.1)/, 'no absolute URL to another host');
  assert.doesNotMatch(page.text, /type="date"|type="number"/, 'no free date or age: the periods and bands are chosen');
  const scripts = [...page.text.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(scripts, ['/vendor/chart.umd.min.js', '/assets/observatory-format.js', '/assets/observatory-question.js',
    '/assets/observatory-charts.js', '/assets/observatory.js']);
  for (const path of [...scripts, '/assets/observatory.css', '/assets/site.css']) {
    const res = await fetchText(svc, path);
    assert.equal(res.status, 200, `${path}: ${res.status} (scripts/web-deps.sh fills web/vendor/)`);
  }
});

test('errors are shown clearly: no token, unknown token (401), a role without statistics (403)', async () => {
  const { page } = browser;
  await page.goto(`${svc.url}/observatory`);
  await page.locator('#platform option[value="montreuillois"]').waitFor({ state: 'attached' });
  assert.match(await page.textContent('#status'), /Collez un jeton/);
  assert.equal(await page.isVisible('#results'), false);

  await page.fill('#token', 'lda_not-a-real-token');
  await settled(page, () => page.click('#token-use'));
  assert.match(await page.textContent('#error'), /401/);
  assert.match(await page.textContent('#error'), /Jeton refusé/);
  assert.equal(await page.isVisible('#results'), false);

  const partner = await svc.createToken('partner', { platforms: ['artois'] });
  await page.fill('#token', partner);
  await settled(page, () => page.click('#token-use'));
  assert.match(await page.textContent('#error'), /Accès refusé \(403\)/);

  await page.click('#token-forget');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});

test('with an analyst token: headline figures with their protection, three trend charts, two breakdown charts, for the last full year of data', async () => {
  const { page } = browser;
  await page.goto(`${svc.url}/observatory`);
  await page.fill('#token', analyst);
  await settled(page, () => page.click('#token-use'));
  assert.equal(await page.isVisible('#error'), false, await page.textContent('#error'));

  // Default question: the last full calendar year that has data, all platforms, 18 to 25.
  const year = await lastFullYear();
  assert.equal(await page.inputValue('#period-kind'), 'year');
  assert.equal(await page.inputValue('#year'), String(year));
  assert.deepEqual(await shownPeriod(page), { from: `${year}-01-01`, to: `${year}-12-31` });
  assert.equal(await page.inputValue('#platform'), 'all');
  assert.equal(await page.inputValue('#age_band'), 'age_18_25');
  assert.deepEqual(await page.$$eval('#age_band option', (os) => os.map((o) => o.value)), ageBands, 'the vocabulary\'s bands');
  // The first year offered is the first year with data (the five requests of June 2018).
  assert.equal(await page.$eval('#year option', (o) => o.value), '2018');

  // The token is in sessionStorage only.
  assert.equal(await page.evaluate(() => sessionStorage.getItem('lda.observatory.token')), analyst);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  assert.ok(!(await page.evaluate(() => document.cookie)).includes(analyst));

  const api = await youth(`from=${year}-01-01&to=${year}-12-31`);
  const f = await assertHeadline(page, api);
  for (const [k, v] of Object.entries(f)) assert.ok(v.text !== SECRET, `${k} hidden (demo data)`);
  // A year of all platforms: the official figures are exact, the others protected.
  assert.equal(f.requests_total.status, 'E');
  assert.equal(f.youth_requests.status, 'E');
  assert.equal(f.youth_persons.status, 'P');
  assert.match(await page.textContent('#scope'), new RegExp(`Année ${year} · toutes les plateformes · jeunes de 18 à 25 ans`));

  // How the figures are protected, from the answer's disclosure block.
  const d = api.disclosure;
  const disclosure = await page.textContent('#disclosure');
  assert.match(disclosure, new RegExp(`protégé ±${d.max_noise}`));
  assert.match(disclosure, new RegExp(`de la valeur réelle de ${d.max_noise} au plus`));
  assert.match(disclosure, new RegExp(`de 1 à ${d.threshold - 1} est masqué`));
  assert.match(disclosure, /Exacts sur cette sélection : demandes, demandes des jeunes/);

  const series = await youth(`from=${year}-01-01&to=${year}-12-31&granularity=month`, '/v1/observatory/youth/series');
  const charts = await chartData(page);
  for (const c of charts) {
    assert.ok(c.chart, `${c.id}: no Chart.js instance`);
    assert.ok(c.width > 100 && c.height > 100, `${c.id}: drawn at ${c.width}x${c.height}`);
    assert.ok(c.labels > 0 && c.data.length === c.labels, `${c.id}: no data`);
  }
  const [requests, share, unmet, need, situation] = charts;
  assert.equal(requests.type, 'line');
  assert.equal(requests.data.length, 12, 'one point a month');
  assert.deepEqual(requests.data, series.items.map((i) => i.youth_requests), 'the series\' counts');
  assert.ok(requests.pointStyle.every((s) => s === 'circle'), 'months are protected, not exact');
  assert.ok(share.data.every((v) => typeof v === 'number' && v > 0), JSON.stringify(share.data));
  assert.ok(unmet.data.every((v) => typeof v === 'number' && v > 0), JSON.stringify(unmet.data));
  assert.equal(need.type, 'bar');
  // Every bar is the API's count; a hidden cell is a missing bar (null), never 0.
  assert.deepEqual(need.data, api.by_need.map((c) => c.count));
  assert.deepEqual(situation.data, api.by_situation.map((c) => c.count));
  const rows = await page.$$eval('#table-need tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
  assert.deepEqual(rows.map((r) => r[0]), api.by_need.map((c) => c.label_fr));
  api.by_need.forEach((c, i) => {
    assert.equal(rows[i][1], c.count === null ? SECRET : nf.format(c.count), c.code);
    assert.equal(rows[i][3], { E: 'exact', P: 'protégé', A: 'masqué' }[c.status], c.code);
  });
  const seriesRows = await page.$$eval('#table-youth-requests tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
  assert.equal(seriesRows.length, 12);
  assert.ok(seriesRows.every((r) => r[4] === `protégés ±${d.max_noise}`), JSON.stringify(seriesRows));

  await page.screenshot({ path: join(artifactsDir(), 'observatory.png'), fullPage: true });
});

test('platform, AMI, period and age band change the question; the trend follows the granularity; exact yearly points are marked', async () => {
  const { page } = browser;
  const before = await figures(page);
  const { from, to } = await shownPeriod(page);
  const year = Number(from.slice(0, 4));

  await settled(page, () => page.selectOption('#platform', 'artois'));
  const artois = await figures(page);
  assert.notDeepEqual(texts(artois), texts(before));
  assert.equal(lastQuestion().get('platform'), 'artois');
  await assertHeadline(page, await youth(`from=${from}&to=${to}&platform=artois`));
  assert.equal(artois.youth_requests.status, 'P', 'one platform: protected');
  assert.match(await page.textContent('#scope'), /plateforme Artois/);

  await settled(page, () => page.selectOption('#platform', 'ami:1'));
  const q = lastQuestion();
  assert.equal(q.get('ami'), '1');
  assert.equal(q.has('platform'), false);
  const apiAmi = await youth(`from=${from}&to=${to}&ami=1`);
  const ami = await assertHeadline(page, apiAmi);
  assert.equal(ami.youth_requests.status, 'E', 'one AMI, one year: exact');
  assert.match(await page.textContent('#scope'), /AMI 1 \(Artois, Lens-Hénin\)/);

  // A quarter: the granularities coarser than the period are not offered.
  await choosePeriod(page, { kind: 'quarter', year: 2022, quarter: 2 });
  assert.deepEqual(await shownPeriod(page), { from: '2022-04-01', to: '2022-06-30' });
  assert.deepEqual(await page.$$eval('#granularity option', (os) => os.map((o) => [o.value, o.disabled])),
    [['month', false], ['quarter', false], ['year', true]]);
  await assertHeadline(page, await youth('from=2022-04-01&to=2022-06-30&ami=1'));
  assert.match(await page.textContent('#scope'), /2e trimestre 2022 \(avril à juin\)/);
  let [trend] = await chartData(page);
  assert.equal(trend.data.length, 3, 'one point a month');
  await settled(page, () => page.selectOption('#granularity', 'quarter'));
  [trend] = await chartData(page);
  assert.equal(trend.data.length, 1, 'one point: the quarter');

  // A month: only "par mois".
  await choosePeriod(page, { kind: 'month', year: 2022, month: 2 });
  assert.deepEqual(await shownPeriod(page), { from: '2022-02-01', to: '2022-02-28' });
  assert.equal(await page.inputValue('#granularity'), 'month');
  assert.equal(await page.$eval('#month-field', (e) => e.hidden), false);
  assert.equal(await page.$eval('#quarter-field', (e) => e.hidden), true);

  // A range of years, by year: the yearly points of an AMI carry exact figures (diamonds).
  await choosePeriod(page, { kind: 'years', year: 2021, yearTo: 2023 });
  assert.deepEqual(await shownPeriod(page), { from: '2021-01-01', to: '2023-12-31' });
  await settled(page, () => page.selectOption('#granularity', 'year'));
  const series = await youth('from=2021-01-01&to=2023-12-31&ami=1&granularity=year', '/v1/observatory/youth/series');
  [trend] = await chartData(page);
  assert.deepEqual(trend.data, series.items.map((i) => i.youth_requests));
  assert.deepEqual(trend.pointStyle, series.items.map((i) => (i.exact.includes('youth_requests') ? 'rectRot' : 'circle')));
  assert.ok(trend.pointStyle.includes('rectRot'), JSON.stringify(series.items.map((i) => i.exact)));
  const protection = await page.$$eval('#table-youth-requests tbody tr td:last-child', (tds) => tds.map((t) => t.textContent));
  assert.ok(protection.every((t) => t.startsWith('exacts : demandes, demandes des jeunes')), JSON.stringify(protection));
  assert.match(await page.textContent('#scope'), /Années 2021 à 2023/);
  await page.screenshot({ path: join(artifactsDir(), 'observatory-years.png'), fullPage: true });

  // Another age band: the question names it, youth_requests is no longer an official figure.
  await settled(page, () => page.selectOption('#age_band', 'age_26_34'));
  assert.equal(lastQuestion().get('age_band'), 'age_26_34');
  const band = await assertHeadline(page, await youth('from=2021-01-01&to=2023-12-31&ami=1&age_band=age_26_34'));
  assert.equal(band.youth_requests.status, 'P');
  assert.equal(band.requests_total.status, 'E');
  assert.equal(await page.textContent('#lead-ages'), '26 à 34 ans');
  assert.match(await page.textContent('#scope'), /jeunes de 26 à 34 ans/);

  // Back to the first question: the same figures.
  await page.selectOption('#age_band', 'age_18_25');
  await page.selectOption('#platform', 'all');
  await page.selectOption('#granularity', 'month');
  await choosePeriod(page, { kind: 'year', year });
  assert.deepEqual(await figures(page), before);
});

test('a scoped token: "all platforms" shows its AMI, a platform outside it is refused (403)', async () => {
  const { page } = browser;
  const coordinator = await svc.createToken('coordinator', { platforms: ['artois', 'lens_henin'] });
  await page.fill('#token', coordinator);
  await settled(page, () => page.click('#token-use'));
  assert.equal(await page.isVisible('#error'), false, await page.textContent('#error'));
  assert.match(await page.textContent('#scope'), /AMI 1 \(Artois, Lens-Hénin\)/);
  await settled(page, () => page.selectOption('#platform', 'boulonnais'));
  assert.match(await page.textContent('#error'), /Accès refusé \(403\)/);
  await settled(page, () => page.selectOption('#platform', 'all'));
  await page.fill('#token', analyst);
  await settled(page, () => page.click('#token-use'));
  assert.equal(await page.isVisible('#error'), false, await page.textContent('#error'));
});

test('"Télécharger en CSV" saves the long-format CSV of the question, statuses E, P or A', async () => {
  const { page } = browser;
  const { from, to } = await shownPeriod(page);
  const downloaded = page.waitForEvent('download');
  await page.click('#download');
  const download = await downloaded;
  assert.equal(download.suggestedFilename(), `observatoire-jeunes_${from}_${to}_age_18_25.csv`);
  const text = readFileSync(await download.path(), 'utf8');
  assert.ok(text.startsWith('section,code,label_fr,count,share,status\r\n'), text.slice(0, 200));
  const api = await svc.api('GET', `/v1/observatory/youth?from=${from}&to=${to}&format=csv`, { token: analyst });
  assert.equal(text, api.text, 'the file is the API\'s CSV, byte for byte');
  const statuses = new Set(text.trim().split('\r\n').slice(1).map((l) => l.slice(l.lastIndexOf(',') + 1)));
  assert.ok([...statuses].every((s) => ['E', 'P', 'A'].includes(s)), [...statuses].join());
  assert.match(text, /\r\nheadline,requests_total,[^\r\n]*,[0-9]+,,E\r\n/);
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('téléchargé'));
});

test('a question under the disclosure threshold reads "secret statistique", never 0; 0/0 reads "sans objet"', async () => {
  const { page } = browser;
  // June 2018 holds five requests (sparseSiaoRequests): every count from 1 to 10 is hidden.
  const [year, month] = SPARSE_MONTH.from.split('-').map(Number);
  await choosePeriod(page, { kind: 'month', year, month });
  assert.deepEqual(await shownPeriod(page), SPARSE_MONTH);
  const api = await youth(`from=${SPARSE_MONTH.from}&to=${SPARSE_MONTH.to}`);
  const f = await assertHeadline(page, api);
  for (const key of ['requests_total', 'youth_requests', 'youth_share', 'youth_persons', 'unmet_rate', 'no_alternative_share']) {
    assert.equal(api[key], null, key);
    assert.equal(f[key].text, SECRET, `${key}: "${f[key].text}"`);
    assert.equal(f[key].status, 'A', key);
  }
  const hiddenCards = await page.$$eval('#headline .figure[data-secret="true"] dd', (dds) => dds.map((d) => d.textContent));
  assert.ok(hiddenCards.length >= 6);
  assert.ok(hiddenCards.every((t) => !/\d/.test(t)), JSON.stringify(hiddenCards));
  assert.match(await page.textContent('#disclosure'), /Aucun chiffre exact sur cette sélection/);
  assert.match(await page.textContent('#disclosure'), /Sur cette sélection : [1-9][0-9]* valeurs masquées/);

  // The month's trend points are hidden too: null in the charts (a gap), named under them,
  // and "secret statistique" in their tables.
  const [requests, share, , need, situation] = await chartData(page);
  assert.deepEqual(requests.data, [null]);
  assert.deepEqual(share.data, [null]);
  assert.match(await page.textContent('#note-youth-share'), /secret statistique/);
  const cells = await page.$$eval('#table-youth-share tbody td', (tds) => tds.map((t) => t.textContent.trim()));
  assert.deepEqual(cells, [SECRET, SECRET, SECRET, `protégés ±${api.disclosure.max_noise}`]);

  // Breakdowns: every hidden cell is a missing bar (null), a true zero stays 0.
  assert.deepEqual(need.data, api.by_need.map((c) => c.count));
  assert.ok(need.data.includes(null) && !need.data.some((v) => v > 0), JSON.stringify(need.data));
  assert.deepEqual(situation.data, api.by_situation.map((c) => c.count));
  const rows = await page.$$eval('#table-need tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
  api.by_need.forEach((c, i) => {
    if (c.count === null) assert.deepEqual(rows[i].slice(1), [SECRET, SECRET, 'masqué'], c.code);
    else assert.deepEqual(rows[i].slice(1, 2), ['0'], c.code);
  });
  await page.screenshot({ path: join(artifactsDir(), 'observatory-secret.png'), fullPage: true });

  // The CSV of this question: hidden cells are empty, with status A.
  const downloaded = page.waitForEvent('download');
  await page.click('#download');
  const text = readFileSync(await (await downloaded).path(), 'utf8');
  assert.match(text, /\r\nheadline,youth_requests,[^\r\n]*,,,A\r\n/);

  // January 2018 has no request at all: the counts are 0 (published), the rates have no
  // denominator ("sans objet"), nothing reads "secret statistique".
  await choosePeriod(page, { kind: 'month', year, month: 1 });
  const empty = await youth('from=2018-01-01&to=2018-01-31');
  const e = await assertHeadline(page, empty);
  assert.equal(e.requests_total.text, '0');
  assert.equal(e.youth_share.text, 'sans objet');
  assert.ok(!(await page.textContent('#headline')).includes(SECRET));
});

test('the controls send only grid periods, one platform or one AMI or neither, and an age band', async () => {
  const { page } = browser;
  // Every period the pickers can produce is on the grid, and is what the page says.
  const years = await page.$$eval('#year option', (os) => os.map((o) => Number(o.value)));
  for (const kind of ['month', 'quarter', 'year', 'years']) {
    await page.selectOption('#period-kind', kind);
    const choices = { month: [1, 2, 3, 6, 9, 12], quarter: [1, 2, 3, 4], year: [null], years: [null] }[kind];
    for (const y of [years[0], 2020, years[years.length - 1]]) {
      for (const c of choices) {
        await page.selectOption('#year', String(y));
        if (kind === 'month') await page.selectOption('#month', String(c));
        if (kind === 'quarter') await page.selectOption('#quarter', String(c));
        if (kind === 'years') await page.selectOption('#year-to', String(years[years.length - 1]));
        const p = await shownPeriod(page);
        assert.ok(onGrid(p.from, p.to), `${kind} ${y} ${c}: ${p.from}..${p.to}`);
        assert.equal(p.from.slice(0, 4), String(y));
      }
    }
  }
  // "to" before "from" cannot be chosen: the other year follows.
  await page.selectOption('#year', String(years[years.length - 1]));
  await page.selectOption('#year-to', String(years[0]));
  assert.deepEqual(await shownPeriod(page), { from: `${years[0]}-01-01`, to: `${years[0]}-12-31` });
  await settled(page, () => page.click('#apply'));
  assert.equal(await page.isVisible('#error'), false, await page.textContent('#error'));

  // Every statistics request the page made during this whole file.
  const asked = browser.requests.map((u) => new URL(u)).filter((u) => u.pathname.startsWith('/v1/observatory/youth'));
  assert.ok(asked.length > 20, `${asked.length} requests`);
  for (const u of asked) {
    const q = u.searchParams;
    assert.ok(q.has('from') && q.has('to'), `the page names its period: ${u.search}`);
    assert.deepEqual(gridProblems(q), [], u.search);
    assert.ok(ageBands.includes(q.get('age_band')), u.search);
  }
});

test('a network failure is shown, then a reload keeps the token of the tab', async () => {
  const { page } = browser;
  await page.route('**/v1/observatory/**', (route) => route.abort('connectionrefused'));
  await page.click('#apply');
  await page.locator('#error').waitFor({ state: 'visible' });
  assert.match(await page.textContent('#error'), /erreur réseau/);
  assert.equal(await page.isVisible('#results'), false);
  await page.unroute('**/v1/observatory/**');

  // The token survives a reload of the tab (sessionStorage), and the figures come back.
  await settled(page, () => page.reload(), { reload: true });
  assert.equal(await page.inputValue('#token'), analyst);
  assert.equal(await page.isVisible('#results'), true);
  const f = await figures(page);
  assert.ok(f.youth_requests.text && f.youth_requests.text !== SECRET);
});

test('accessible: every control has a label, the page works from the keyboard', async () => {
  const { page } = browser;
  const unlabeled = await page.$$eval('input, select, button', (els) =>
    els
      .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
      .map((e) => e.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(unlabeled, []);
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  // Keyboard: the skip link comes first, then the navigation, then the token field.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
  await page.focus('#platform');
  await settled(page, async () => {
    await page.keyboard.press('ArrowDown'); // AMI 1, after "Toutes les plateformes"
  });
  assert.match(await page.textContent('#scope'), /AMI 1/);
});

test('the page made no request to another host and logged no error', async () => {
  assertLoopbackOnly(browser.requests);
  // The 401/403 answers and the aborted requests of the tests above are logged by Chromium as
  // failed resources: everything else (a CSP violation, a script error) is a failure.
  const unexpected = browser.errors.filter(
    (e) => !/status of 40[13] |net::ERR_CONNECTION_REFUSED/.test(e),
  );
  assert.deepEqual(unexpected, []);
});
