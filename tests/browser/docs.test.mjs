// GET /docs in headless Chromium: Swagger UI renders openapi.yaml from this service, lists the
// operations, "Try it out" → "Execute" reaches this very server, the Authorize dialog sends
// the bearer token, and the page asks nothing of any other host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startService } from '../lib/service.mjs';
import { sourceDir } from '../lib/contract.mjs';
import { launchBrowser, assertLoopbackOnly, artifactsDir, fetchText } from './_lib.mjs';

let svc;
let browser;
let analyst;

before(async () => {
  svc = await startService({ env: { LDA_WEB_DIR: join(sourceDir(), 'web') } });
  analyst = await svc.createToken('analyst');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await svc?.stop();
});

test('the page and its assets are served by the service itself', async () => {
  const page = await fetchText(svc, '/docs');
  assert.equal(page.status, 200);
  assert.match(page.type, /^text\/html/);
  assert.match(page.text, /<title>lda-api — référence de l'API<\/title>/);
  assert.doesNotMatch(page.text, /https?:\/\/(?!127\.0\.0\.1)/, 'no absolute URL to another host');
  assert.doesNotMatch(page.text, /\son[a-z]+\s*=/i, 'no inline event handler');
  for (const path of ['/vendor/swagger-ui-bundle.js', '/vendor/swagger-ui.css', '/assets/docs.js', '/assets/docs.css']) {
    const res = await fetchText(svc, path);
    assert.equal(res.status, 200, `${path}: ${res.status} (scripts/web-deps.sh fills web/vendor/)`);
    assert.ok(res.text.length > 100, path);
  }
});

test('Swagger UI lists the operations, executes GET /v1/platforms, and sends the token given to Authorize', async () => {
  const { page, requests, errors } = browser;
  await page.goto(`${svc.url}/docs`);
  assert.equal(await page.title(), "lda-api — référence de l'API");

  const platforms = page.locator('.opblock-summary-path[data-path="/v1/platforms"]');
  await platforms.first().waitFor();
  assert.equal(await platforms.count(), 1);
  assert.equal(await page.locator('.opblock-summary-path[data-path="/v1/observatory/youth"]').count(), 1);
  assert.equal(await page.locator('.opblock-summary-path[data-path="/v1/observatory/youth/series"]').count(), 1);
  assert.ok((await page.locator('.opblock').count()) > 20, 'every operation is listed');

  // The only server offered is this one (the document's own `servers` name another port).
  const servers = await page.locator('.servers select option').allInnerTexts();
  assert.deepEqual(servers.map((s) => s.split(' ')[0]), [svc.url]);

  // GET /v1/platforms: expand, Try it out (already on: tryItOutEnabled), Execute.
  const block = page.locator('.opblock', { has: platforms });
  await platforms.click();
  const tryIt = block.locator('button.try-out__btn', { hasText: 'Try it out' });
  if (await tryIt.count()) await tryIt.click();
  await block.locator('button.execute').click();
  const status = block.locator('.live-responses-table tbody .response-col_status');
  await status.first().waitFor();
  assert.equal((await status.first().innerText()).trim(), '200');
  assert.match(await block.locator('.request-url').innerText(), new RegExp(`${svc.url}/v1/platforms`));
  assert.match(await block.locator('.live-responses-table tbody .response-col_description').innerText(), /artois/);

  // Authorize with a bearer token, then execute a protected route.
  await page.locator('.auth-wrapper button.authorize').click();
  const dialog = page.locator('.modal-ux');
  await dialog.waitFor();
  await dialog.locator('input#auth-bearer-value').fill(analyst);
  await dialog.locator('button.authorize[type="submit"]').click();
  await dialog.locator('button.btn-done').click();
  await dialog.waitFor({ state: 'detached' });

  const youthPath = page.locator('.opblock-summary-path[data-path="/v1/observatory/youth"]');
  const youth = page.locator('.opblock', { has: youthPath });
  await youthPath.click();
  const youthTry = youth.locator('button.try-out__btn', { hasText: 'Try it out' });
  if (await youthTry.count()) await youthTry.click();
  // Try it out fills every parameter with its example; `platform` and `ami` are exclusive
  // (one platform, one AMI or all): ask about one platform.
  await youth.locator('tr[data-param-name="ami"] select').selectOption('');
  const sent = page.waitForRequest((req) => new URL(req.url()).pathname === '/v1/observatory/youth');
  await youth.locator('button.execute').click();
  const req = await sent;
  assert.equal(req.headers().authorization, `Bearer ${analyst}`);
  const asked = new URL(req.url()).searchParams;
  assert.equal(asked.get('from'), '2024-01-01');
  assert.equal(asked.get('to'), '2024-12-31');
  assert.deepEqual(asked.getAll('platform'), ['artois']);
  assert.equal(asked.has('ami'), false);
  const youthStatus = youth.locator('.live-responses-table tbody .response-col_status');
  await youthStatus.first().waitFor();
  assert.equal((await youthStatus.first().innerText()).trim(), '200');

  await page.screenshot({ path: join(artifactsDir(), 'docs.png'), fullPage: true });

  assertLoopbackOnly(requests);
  assert.deepEqual(errors, [], 'no console error (a blocked resource or a CSP violation shows here)');
});

test('the token given to Authorize is not kept by the browser', async () => {
  const { page } = browser;
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.ok(!stored.includes(analyst), 'persistAuthorization is off');
});
