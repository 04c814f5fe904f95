// GET /observatory in headless Chromium: an analyst pastes a token, the headline figures, the
// two trend charts and the two breakdown charts render from the API, filters change them,
// values hidden by disclosure control read "secret statistique" (never 0), the CSV download
// works, errors are shown, and the page asks nothing of any other host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startService, binaryHasCommand } from '../lib/harness.mjs';
import { sourceDir } from '../lib/contract.mjs';
import {
  launchBrowser, assertLoopbackOnly, artifactsDir, fetchText, pushSiaoRequests, sparseSiaoRequests, SPARSE_MONTH,
} from './_lib.mjs';

let svc;
let browser;
let analyst;
let dataFrom = 'seed-demo';
const nf = new Intl.NumberFormat('fr-FR');
const pf = new Intl.NumberFormat('fr-FR', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
const CHARTS = ['chart-youth-share', 'chart-unmet', 'chart-need', 'chart-situation'];

before(async () => {
  svc = await startService({ env: { LDA_WEB_DIR: join(sourceDir(), 'web') } });
  const admin = await svc.createToken('admin');
  // The demo data when the binary has it; our own synthetic SIAO requests otherwise (or when
  // it holds none). Then five requests in June 2018, a selection under the threshold.
  if (await binaryHasCommand('seed-demo')) {
    const seeded = await svc.runCli(['seed-demo'], { timeout: 60_000 });
    assert.equal(seeded.code, 0, `lda-api seed-demo exited ${seeded.code ?? seeded.signal}\n${seeded.stderr}`);
  }
  const { rows } = await svc.sql('SELECT count(*)::int AS n FROM siao_request');
  if (rows[0].n === 0) {
    dataFrom = 'synthetic';
    await pushSiaoRequests(svc, admin);
  }
  await pushSiaoRequests(svc, admin, sparseSiaoRequests(), 'web-test');
  analyst = await svc.createToken('analyst');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await svc?.stop();
});

/** The API's own answer, for comparison with what the page shows. */
async function youth(query) {
  const res = await svc.api('GET', `/v1/observatory/youth?${query}`, { token: analyst });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

/** The last full calendar year that has SIAO requests, as the API counts them. */
async function lastFullYear() {
  const today = new Date().toISOString().slice(0, 10);
  const res = await svc.api('GET', `/v1/observatory/youth/series?granularity=year&from=2000-01-01&to=${today}`, { token: analyst });
  assert.equal(res.status, 200, res.text);
  const thisYear = new Date().getFullYear();
  const years = res.json.items.map((i) => [Number.parseInt(i.period, 10), i.requests_total]).filter(([y, n]) => y < thisYear && n !== 0);
  assert.ok(years.length > 0, 'the data has a full year');
  return years[years.length - 1][0];
}

async function figures(page) {
  return page.$$eval('#headline .figure', (cards) =>
    Object.fromEntries(cards.map((c) => [c.dataset.key, c.querySelector('dd').textContent.trim()])),
  );
}

async function chartData(page) {
  return page.evaluate((ids) => {
    return ids.map((id) => {
      const canvas = document.getElementById(id);
      const chart = canvas && window.Chart && window.Chart.getChart(canvas);
      if (!chart) return { id, chart: false };
      const box = canvas.getBoundingClientRect();
      return {
        id,
        chart: true,
        type: chart.config.type,
        labels: chart.data.labels.length,
        data: chart.data.datasets[0].data,
        width: box.width,
        height: box.height,
      };
    });
  }, CHARTS);
}

/** Runs the action, then waits until the page has finished the load it started (the page
 * counts finished loads in <body data-loads>; a reload starts again from 0). */
async function settled(page, action, { reload = false } = {}) {
  const before = reload ? 0 : await page.evaluate(() => Number(document.body.dataset.loads ?? 0));
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.loads ?? 0) > n, before);
}

test('the page and its assets are served by the service itself, as a strict page', async () => {
  const page = await fetchText(svc, '/observatory');
  assert.equal(page.status, 200);
  assert.match(page.type, /^text\/html/);
  assert.match(page.text, /Content-Security-Policy/);
  assert.doesNotMatch(page.text, /\son[a-z]+\s*=/i, 'no inline event handler');
  assert.doesNotMatch(page.text, /<script>(?!<\/script>)|<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  assert.doesNotMatch(page.text, /https?:\/\/(?!127\.0\.0\.1)/, 'no absolute URL to another host');
  for (const path of ['/vendor/chart.umd.min.js', '/assets/observatory.js', '/assets/observatory.css', '/assets/site.css']) {
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

test('with an analyst token: headline figures, two trend charts, two breakdown charts, for the last full year of data', async () => {
  const { page } = browser;
  await page.goto(`${svc.url}/observatory`);
  await page.fill('#token', analyst);
  await settled(page, () => page.click('#token-use'));
  assert.equal(await page.isVisible('#error'), false, await page.textContent('#error'));

  // Default period: the last full calendar year that has data.
  const year = await lastFullYear();
  assert.equal(await page.inputValue('#from'), `${year}-01-01`);
  assert.equal(await page.inputValue('#to'), `${year}-12-31`);
  assert.equal(await page.inputValue('#age_min'), '18');
  assert.equal(await page.inputValue('#age_max'), '25');

  // The token is in sessionStorage only.
  assert.equal(await page.evaluate(() => sessionStorage.getItem('lda.observatory.token')), analyst);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  assert.ok(!(await page.evaluate(() => document.cookie)).includes(analyst));

  const api = await youth(`from=${year}-01-01&to=${year}-12-31&age_min=18&age_max=25`);
  const f = await figures(page);
  assert.deepEqual(Object.keys(f), [
    'requests_total', 'youth_requests', 'youth_share', 'youth_persons', 'repeat_persons', 'unmet_rate', 'no_alternative_share',
  ]);
  for (const [k, v] of Object.entries(f)) assert.ok(v.length > 0 && v !== 'secret statistique', `${k}: "${v}" (${dataFrom} data)`);
  assert.equal(f.requests_total, nf.format(api.requests_total));
  assert.equal(f.youth_requests, nf.format(api.youth_requests));
  assert.equal(f.youth_share, pf.format(api.youth_share));
  assert.equal(f.youth_persons, nf.format(api.youth_persons));
  assert.equal(f.repeat_persons, nf.format(api.repeat_persons));
  assert.equal(f.unmet_rate, pf.format(api.unmet_rate));
  assert.equal(f.no_alternative_share, pf.format(api.no_alternative_share));

  const charts = await chartData(page);
  for (const c of charts) {
    assert.ok(c.chart, `${c.id}: no Chart.js instance`);
    assert.ok(c.width > 100 && c.height > 100, `${c.id}: drawn at ${c.width}x${c.height}`);
    assert.ok(c.labels > 0 && c.data.length === c.labels, `${c.id}: no data`);
  }
  const [share, unmet, need, situation] = charts;
  assert.equal(share.type, 'line');
  assert.equal(share.data.length, 12, 'one point a month');
  assert.ok(share.data.every((v) => typeof v === 'number' && v > 0), JSON.stringify(share.data));
  assert.ok(unmet.data.every((v) => typeof v === 'number' && v > 0), JSON.stringify(unmet.data));
  assert.equal(need.type, 'bar');
  // Every bar is the API's count; a hidden cell is a missing bar (null), never 0.
  assert.deepEqual(need.data, api.by_need.map((c) => c.count));
  assert.deepEqual(situation.data, api.by_situation.map((c) => c.count));
  const rows = await page.$$eval('#table-need tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
  assert.deepEqual(rows.map((r) => r[0]), api.by_need.map((c) => c.label_fr));
  api.by_need.forEach((c, i) => assert.equal(rows[i][1], c.count === null ? 'secret statistique' : nf.format(c.count), c.code));
  assert.match(await page.textContent('#legend'), /secret statistique/);

  await page.screenshot({ path: join(artifactsDir(), 'observatory.png'), fullPage: true });
});

test('changing the platform or the period changes the figures; granularity changes the trend', async () => {
  const { page } = browser;
  const before = await figures(page);
  const from = await page.inputValue('#from');
  const to = await page.inputValue('#to');

  await settled(page, () => page.selectOption('#platform', 'artois'));
  const artois = await figures(page);
  assert.notDeepEqual(artois, before);
  const apiArtois = await youth(`from=${from}&to=${to}&platform=artois`);
  assert.equal(artois.youth_requests, nf.format(apiArtois.youth_requests));
  assert.match(await page.textContent('#scope'), /Artois/);

  await page.fill('#from', '2022-01-01');
  await settled(page, () => page.click('#apply'));
  await page.fill('#to', '2022-12-31');
  await settled(page, () => page.click('#apply'));
  const artois2022 = await figures(page);
  assert.notDeepEqual(artois2022, artois);
  const api2022 = await youth('from=2022-01-01&to=2022-12-31&platform=artois');
  assert.equal(artois2022.youth_requests, nf.format(api2022.youth_requests));
  assert.equal(artois2022.youth_share, pf.format(api2022.youth_share));

  await settled(page, () => page.selectOption('#granularity', 'quarter'));
  const [share] = await chartData(page);
  assert.equal(share.data.length, 4, 'one point a quarter');

  await settled(page, () => page.selectOption('#platform', 'tous'));
  await settled(page, () => page.selectOption('#granularity', 'month'));
  await page.fill('#from', from);
  await page.fill('#to', to);
  await settled(page, () => page.click('#apply'));
  assert.deepEqual(await figures(page), before);
});

test('"Télécharger en CSV" saves the long-format CSV of the selection', async () => {
  const { page } = browser;
  const from = await page.inputValue('#from');
  const to = await page.inputValue('#to');
  const downloaded = page.waitForEvent('download');
  await page.click('#download');
  const download = await downloaded;
  assert.equal(download.suggestedFilename(), `observatoire-jeunes_${from}_${to}_18-25ans.csv`);
  const text = readFileSync(await download.path(), 'utf8');
  assert.ok(text.startsWith('section,code,label_fr,count,share,status\r\n'), text.slice(0, 200));
  const api = await svc.api('GET', `/v1/observatory/youth?from=${from}&to=${to}&age_min=18&age_max=25&format=csv`, { token: analyst });
  assert.equal(text, api.text, 'the file is the API\'s CSV, byte for byte');
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('téléchargé'));
});

test('a selection under the disclosure threshold reads "secret statistique", never 0', async () => {
  const { page } = browser;
  // June 2018 holds five requests (sparseSiaoRequests): every count from 1 to 10 is hidden.
  await page.fill('#from', SPARSE_MONTH.from);
  await page.fill('#to', SPARSE_MONTH.to);
  await settled(page, () => page.click('#apply'));
  const api = await youth(`from=${SPARSE_MONTH.from}&to=${SPARSE_MONTH.to}`);
  const f = await figures(page);
  for (const key of ['requests_total', 'youth_requests', 'youth_share', 'youth_persons', 'unmet_rate', 'no_alternative_share']) {
    assert.equal(api[key], null, key);
    assert.equal(f[key], 'secret statistique', `${key}: "${f[key]}"`);
  }
  const hiddenCards = await page.$$eval('#headline .figure[data-secret="true"] dd', (dds) => dds.map((d) => d.textContent));
  assert.ok(hiddenCards.length >= 6);
  assert.ok(hiddenCards.every((t) => !/\d/.test(t)), JSON.stringify(hiddenCards));

  // The month's trend point is hidden too: null in the chart (a gap), named under it, and
  // "secret statistique" in its table.
  const [share, , need, situation] = await chartData(page);
  assert.deepEqual(share.data, [null]);
  assert.match(await page.textContent('#note-youth-share'), /secret statistique/);
  const cells = await page.$$eval('#table-youth-share tbody td:last-child', (tds) => tds.map((t) => t.textContent.trim()));
  assert.deepEqual(cells, ['secret statistique']);

  // Breakdowns: every hidden cell is a missing bar (null), a true zero stays 0.
  assert.deepEqual(need.data, api.by_need.map((c) => c.count));
  assert.ok(need.data.includes(null) && !need.data.some((v) => v > 0), JSON.stringify(need.data));
  assert.deepEqual(situation.data, api.by_situation.map((c) => c.count));
  const rows = await page.$$eval('#table-need tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
  api.by_need.forEach((c, i) => {
    if (c.count === null) assert.deepEqual(rows[i].slice(1), ['secret statistique', 'secret statistique'], c.code);
  });
  await page.screenshot({ path: join(artifactsDir(), 'observatory-secret.png'), fullPage: true });

  // The CSV of this selection: hidden cells are empty, with status A (or D).
  const downloaded = page.waitForEvent('download');
  await page.click('#download');
  const text = readFileSync(await (await downloaded).path(), 'utf8');
  assert.match(text, /\r\nheadline,youth_requests,[^\r\n]*,,,A\r\n/);
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
  assert.ok(f.youth_requests && f.youth_requests !== 'secret statistique');
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
    await page.keyboard.press('ArrowDown'); // first platform after "Toutes"
  });
  assert.match(await page.textContent('#scope'), /plateforme /);
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
