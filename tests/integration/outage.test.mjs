// A database outage: the service runs on a PRIVATE PostgreSQL cluster (the shared test cluster
// is used by other tests in parallel and must stay up), which is stopped under it and started
// again. While it is down, /readyz and the database-backed routes answer 503 problem+json with
// Retry-After, quickly, and the public reference data (held in memory) still answers 200; once
// it is back they answer 200 again, without restarting the service, and
// lda_db_reconnections_total (read on the metrics listener) shows the reconnection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';
import pg from 'pg';
import { binaryPath, freePort, runBinary, TEST_PSEUDONYM_KEY } from '../lib/service.mjs';
import { sourceDir } from '../lib/contract.mjs';
import { request } from '../lib/http.mjs';
import { parseMetrics, samples } from '../lib/metrics.mjs';
import { sleep } from '../lib/wait.mjs';
import { assertProblem } from '../lib/problems.mjs';

const PG_CLUSTER = join(sourceDir(), 'scripts', 'pg-cluster.sh');
const START_TIMEOUT_MS = 60_000;

let workDir; // mkdtemp: holds the private cluster
let clusterDir;
let clusterStarted = false;
let pgPort;
let dbUrl;
let child = null;
let exitInfo = null;
let exited;
let baseUrl;
let metricsUrl;
let adminToken;
const logs = [];
let reconnectionsBefore;

function pgCluster(...args) {
  return new Promise((resolve, reject) => {
    execFile(PG_CLUSTER, args, { timeout: 180_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`pg-cluster.sh ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** One request (http.mjs, checked against openapi.yaml); resolves { status, headers, text, json, ms }. */
function api(method, path, { timeout = 10_000, token, base = baseUrl } = {}) {
  return request(base, method, path, { timeout, token });
}

async function reconnections() {
  const res = await api('GET', '/metrics', { base: metricsUrl });
  assert.equal(res.status, 200);
  const s = samples(parseMetrics(res.text), 'lda_db_reconnections_total');
  assert.equal(s.length, 1, 'lda_db_reconnections_total is exposed');
  return s[0].value;
}

function serviceEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LDA_')) env[k] = v;
  return { ...env, ...extra };
}

async function startServe() {
  const port = await freePort();
  const mport = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  metricsUrl = `http://127.0.0.1:${mport}`;
  child = spawn(binaryPath(), ['serve'], {
    env: serviceEnv({
      LDA_DATABASE_URL: dbUrl,
      LDA_LISTEN: `127.0.0.1:${port}`,
      LDA_METRICS_LISTEN: `127.0.0.1:${mport}`,
      LDA_PSEUDONYM_KEY: TEST_PSEUDONYM_KEY,
      LDA_DB_POOL: '4',
      LDA_THREADS: '4',
    }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  exited = new Promise((resolve) => {
    child.on('error', (err) => {
      exitInfo = { code: null, signal: null, error: err };
      resolve(exitInfo);
    });
    child.on('close', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  readline.createInterface({ input: child.stderr }).on('line', (l) => logs.push(l));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exitInfo) throw new Error(`serve exited (${exitInfo.code ?? exitInfo.signal})\n${logs.slice(-20).join('\n')}`);
    try {
      const res = await request(baseUrl, 'GET', '/healthz', { timeout: 2_000, keepAlive: false, validate: false });
      if (res.status === 200) return;
    } catch {
      /* not yet listening */
    }
    await sleep(50);
  }
  throw new Error(`serve: /healthz not 200 after ${START_TIMEOUT_MS} ms\n${logs.slice(-20).join('\n')}`);
}

async function stopServe(signal = 'SIGTERM') {
  if (!child) return exitInfo;
  if (!exitInfo) child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const info = await exited;
  clearTimeout(timer);
  child = null;
  return info;
}

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'lda-outage-'));
  clusterDir = join(workDir, 'pg');
  clusterStarted = true; // from here on, after() stops it (a no-op when it did not start)
  await pgCluster('start', clusterDir, 'auto');
  const superUrl = readFileSync(join(clusterDir, 'url'), 'utf8').trim();
  pgPort = new URL(superUrl).port;
  const admin = new pg.Client({ connectionString: superUrl });
  await admin.connect();
  try {
    await admin.query('CREATE DATABASE lda_outage');
  } finally {
    await admin.end();
  }
  const u = new URL(superUrl);
  u.pathname = '/lda_outage';
  dbUrl = u.toString();
  const m = await runBinary(['migrate'], { env: { LDA_DATABASE_URL: dbUrl, LDA_PSEUDONYM_KEY: TEST_PSEUDONYM_KEY } });
  assert.equal(m.code, 0, `lda-api migrate: ${m.stderr}${m.stdout}`);
  const tk = await runBinary(['token', 'create', '--role', 'admin', '--name', 'outage'], {
    env: { LDA_DATABASE_URL: dbUrl, LDA_PSEUDONYM_KEY: TEST_PSEUDONYM_KEY },
  });
  assert.equal(tk.code, 0, tk.stderr);
  adminToken = tk.stdout.trim();
  await startServe();
});

after(async () => {
  try {
    await stopServe('SIGKILL'); // only when a test failed before the clean stop
  } finally {
    try {
      if (clusterStarted) await pgCluster('stop', clusterDir);
    } finally {
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    }
  }
});

test('serves_normally_before_the_outage', async () => {
  assert.equal((await api('GET', '/readyz')).status, 200);
  assert.equal((await api('GET', '/v1/platforms')).status, 200);
  assert.equal((await api('GET', '/v1/households?limit=1', { token: adminToken })).status, 200);
  reconnectionsBefore = await reconnections();
});

test('database_down_readyz_and_database_routes_answer_503_with_retry_after_within_2_s', async (t) => {
  const pid = child.pid;
  await pgCluster('stop', clusterDir);
  const downAt = Date.now();
  const seen = [];
  let ready;
  let households;
  let platforms;
  for (let i = 0; i < 100 && Date.now() - downAt < 10_000; i += 1) {
    [ready, households, platforms] = await Promise.all([
      api('GET', '/readyz'),
      api('GET', '/v1/households?limit=1', { token: adminToken }),
      api('GET', '/v1/platforms'),
    ]);
    seen.push(`${ready.status}/${households.status}/${platforms.status}`);
    if (ready.status === 503 && households.status === 503) break;
    await sleep(100);
  }
  const elapsed = Date.now() - downAt;
  t.diagnostic(`503 ${elapsed} ms after the database stopped; answers seen (readyz/households/platforms): ${seen.join(' ')}`);
  await assertProblem(ready, 503, { path: '/readyz', what: 'readyz with the database down' });
  await assertProblem(households, 503, { path: '/v1/households', what: 'households with the database down' });
  assert.equal(platforms.status, 200, 'the reference data is served from memory while the database is down');
  assert.equal(platforms.json.items.length, 5);
  assert.ok(elapsed <= 2_000, `503 only ${elapsed} ms after the database stopped (${seen.join(' ')})`);
  for (const res of [ready, households]) {
    assert.match(res.headers['retry-after'] ?? '', /^\d+$/, 'Retry-After in seconds');
    assert.ok(res.ms <= 2_000, `an answer took ${res.ms} ms`);
  }
  assert.ok(!seen.some((s) => s.includes('500')), `no 500 while the database is down: ${seen.join(' ')}`);
  // Liveness does not depend on the database.
  assert.equal((await api('GET', '/healthz')).status, 200);
  assert.equal(child.pid, pid);
  assert.equal(exitInfo, null, 'the service is still running');
});

test('database_back_answers_200_within_5_s_without_a_restart', async (t) => {
  const pid = child.pid;
  // The same port as before: the service's URL names it.
  await pgCluster('start', clusterDir, pgPort);
  const upAt = Date.now();
  const seen = [];
  let ready;
  let platforms;
  for (let i = 0; i < 200 && Date.now() - upAt < 15_000; i += 1) {
    [ready, platforms] = await Promise.all([api('GET', '/readyz'), api('GET', '/v1/platforms')]);
    seen.push(`${ready.status}/${platforms.status}`);
    if (ready.status === 200 && platforms.status === 200) break;
    await sleep(100);
  }
  const elapsed = Date.now() - upAt;
  t.diagnostic(`200 ${elapsed} ms after the database came back; answers seen: ${seen.join(' ')}`);
  assert.equal(ready.status, 200, `readyz: ${ready.text}`);
  assert.equal(platforms.status, 200, `platforms: ${platforms.text}`);
  assert.equal(platforms.json.items.length, 5);
  assert.ok(elapsed <= 5_000, `200 only ${elapsed} ms after the database came back`);
  assert.equal(exitInfo, null, 'the service never exited');
  assert.equal(child.pid, pid, 'same process');
});

test('lda_db_reconnections_total_grew', async () => {
  const now = await reconnections();
  assert.ok(now > reconnectionsBefore, `lda_db_reconnections_total ${reconnectionsBefore} → ${now}`);
});

test('sigterm_after_the_outage_exits_0', async () => {
  const info = await stopServe('SIGTERM');
  assert.ok(info, 'exited');
  assert.equal(info.signal, null, `killed by ${info.signal}`);
  assert.equal(info.code, 0, `exit code\n${logs.slice(-20).join('\n')}`);
});
