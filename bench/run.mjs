// lda-api benchmarks: every figure measured side by side in one run, against the
// limits of PostgreSQL itself on the same machine (pgbench running the SQL the service runs,
// `psql \copy`) and of a bare libmicrohttpd server; printed as a table of figures and ratios
// with the exact command lines, and written to bench/results/<time>.json.
//
//   ./dev bench                      (or `make bench`): builds build/, then runs this file
//   BENCH_SCALE=100 ./dev bench      the statistics on 4 million SIAO requests (~20 min)
//   LDA_BIN=build-x/lda-api node bench/run.mjs     another build (lda-bench-hello beside it)
//
// Environment: BENCH_SCALE (seed-demo --scale, default 50: 2 million SIAO requests, about ten
// minutes in all), BENCH_DURATION (seconds per wrk / pgbench load, default 5), BENCH_RUNS
// (repetitions of the ingest and statistics timings, default 5), BENCH_ONLY (comma-separated
// subset of: reads,list,write,stats,outcomes,ingest; start-up is always measured), LDA_THREADS /
// LDA_DB_POOL (passed to the service; the pgbench clients follow LDA_DB_POOL).
//
// Paths measured (see docs/performance.md for what limits each):
//   startup  spawn to the first 200 of /readyz (median of 3 starts)
//   reads    GET /v1/households/{id} as a coordinator (auth, scope, row-level security, audit,
//            JSON) and GET /v1/platforms/{code}, wrk at 64 and 256 connections, against
//            pgbench -M prepared running the same SELECT as the same role with the same scope,
//            with as many clients as the service has PostgreSQL connections; the bare
//            lda-bench-hello server in the same run; the server's peak RSS (VmHWM) after it
//   list     GET /v1/referrals?limit=50 with filters, against pgbench on the same statement
//   write    POST /v1/referrals with an inline household (wrk + Lua, every body a new
//            person), against pgbench running the same transaction (same INSERTs)
//   stats    the three statistics endpoints (one-year one-platform, whole period) against the
//            same figures by plain SQL over the raw rows; GET /v1/observatory/youth with wrk
//            against pgbench running the statements the endpoint runs
//   outcomes GET /v1/stats/outcomes over the whole period of the referrals (2019-2022, all
//            platforms, cohorts by year) against the same figures recomputed by plain SQL from
//            the case tables (each referral's dates through the view lda_outcome_referral, the
//            Kaplan–Meier curves by window functions, every group and measure)
//   ingest   records/s through POST /v1/siao-requests/batch (10 000 per request) against
//            `psql \copy` of the same rows into the same table
//
// "The SQL the service runs" is not copied here: the service is run once with
// log_min_duration_statement = 0 on its database, each request is made, and the statements it
// executed (with their parameters) are read back from the server log and turned into pgbench
// scripts: a parameter becomes a pgbench variable (-D), a NULL one the literal NULL (pgbench
// has no NULL variable). Per-request statements only: the audit writer's INSERT (batched in
// the background), the token lookup (cached) and the scope (set once per connection) are left
// out. Every load is bounded and goes to 127.0.0.1 only. Absolute numbers on a shared machine
// are noise: read the ratios.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, existsSync, readdirSync, rmSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import os from 'node:os';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCALE = Number(process.env.BENCH_SCALE ?? 50);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'reads,list,write,stats,outcomes,ingest').split(',').map((s) => s.trim()));
const THREADS = Number(process.env.LDA_THREADS ?? 8);
const POOL = Number(process.env.LDA_DB_POOL ?? 8);
const PG_DIR = join(ROOT, 'bench', 'var', 'pg');
const VAR = join(ROOT, 'bench', 'var');
const PGBIN = process.env.LDA_PGBIN ?? '/usr/lib/postgresql/15/bin';
const PSQL = join(PGBIN, 'psql');
const PGBENCH = join(PGBIN, 'pgbench');
const PLATFORMS = ['artois', 'lens_henin', 'audomarois', 'boulonnais', 'montreuillois'];

process.env.LDA_TEST_PG_URL_FILE = join(PG_DIR, 'url');
process.env.LDA_BIN ??= join(ROOT, 'build', 'lda-api');
const HELLO = process.env.LDA_BENCH_HELLO ?? join(dirname(process.env.LDA_BIN), 'lda-bench-hello');
const { startService, freePort } = await import(join(ROOT, 'tests', 'lib', 'service.mjs'));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 10 ** d) / 10 ** d);
const ratio = (a, b) => (a && b ? round(a / b, 2) : null);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('bench:', ...a);

/** The exact command lines, in the order they ran (secrets replaced by $NAME). */
const commands = [];
const secrets = new Map();
function shellQuote(s) {
  return /^[\w@%+=:,./$-]+$/.test(s) ? s : `'${String(s).replace(/'/g, "'\\''")}'`;
}
function recordCommand(cmd, args, env = {}) {
  let line = [...Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`), cmd, ...args.map(shellQuote)].join(' ');
  for (const [secret, name] of secrets) line = line.split(secret).join(name);
  line = line.split(ROOT + '/').join('');
  commands.push(line);
  return line;
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Runs a load generator to completion: resolves its stdout (rejects on a non-zero exit). */
function runTool(cmd, args, { env = {}, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out + err) : reject(new Error(`${cmd} exited ${code}: ${err}${out}`))));
  });
}

// ---- wrk and pgbench -----------------------------------------------------------------------

function wrkMs(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60000 }[m[2]];
}

/** wrk for DURATION seconds: { rps, p50_ms, p99_ms, requests, errors, command }. */
async function wrk(url, { conns, headers = {}, script, scriptArgs = [] }) {
  const args = ['-t', '2', '-c', String(conns), '-d', `${DURATION}s`, '--latency', '--timeout', '10s'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  if (script) args.push('-s', script);
  args.push(url);
  if (scriptArgs.length) args.push('--', ...scriptArgs);
  const command = recordCommand('wrk', args);
  const out = await runTool('wrk', args);
  const num = (re) => (re.exec(out) ? Number(re.exec(out)[1]) : 0);
  const lat = (p) => wrkMs((new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out) ?? [])[1] ?? '');
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const result = {
    rps: round(num(/Requests\/sec:\s+([\d.]+)/)),
    p50_ms: round(lat(50), 2),
    p99_ms: round(lat(99), 2),
    requests: num(/(\d+) requests in/),
    errors: num(/Non-2xx or 3xx responses: (\d+)/) + (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
    command,
  };
  if (result.errors) log(`wrk ${url}: ${result.errors} errors (non-2xx or socket)`);
  return result;
}

/**
 * pgbench -M prepared for DURATION seconds on `statements` (each { sql, vars }) as the
 * service's role and session settings, scope `scope`: { tps, p50_ms, p99_ms, command }.
 * `head` is prepended to the script (\set lines).
 */
async function pgbench(name, dbUrl, statements, { scope, clients = POOL, head = [] }) {
  const file = join(VAR, `pgbench-${name}.sql`);
  const defines = [];
  const lines = [...head];
  for (const st of statements) {
    lines.push(st.sql + ';');
    if (st.after) lines.push(st.after);
    for (const [k, v] of Object.entries(st.vars ?? {})) defines.push('-D', `${k}=${v}`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
  const logDir = join(VAR, `pgbench-${name}-log`);
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const args = ['-n', '-M', 'prepared', '-c', String(clients), '-j', String(Math.min(2, clients)), '-T', String(DURATION), '-f', file,
    ...defines, '--log', `--log-prefix=${join(logDir, 'tx')}`, dbUrl];
  const env = {
    PGOPTIONS: `-c role=lda_app -c lda.scope=${scope} -c TimeZone=Europe/Paris -c DateStyle=ISO -c IntervalStyle=iso_8601`,
  };
  const command = recordCommand('pgbench', args, env);
  const out = await runTool(PGBENCH, args, { env });
  const failed = /number of failed transactions: (\d+)/.exec(out);
  if (failed && Number(failed[1]) > 0) log(`pgbench ${name}: ${failed[1]} failed transactions`);
  const lat = [];
  for (const f of readdirSync(logDir)) {
    for (const line of readFileSync(join(logDir, f), 'utf8').split('\n')) {
      const cols = line.split(' ');
      if (cols.length >= 3) lat.push(Number(cols[2]) / 1000);
    }
  }
  lat.sort((a, b) => a - b);
  const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((lat.length * p) / 100))] : null);
  return {
    tps: round(Number((/tps = ([\d.]+) \(without initial connection time\)/.exec(out) ?? [])[1])),
    p50_ms: round(pct(50), 2),
    p99_ms: round(pct(99), 2),
    failed: failed ? Number(failed[1]) : 0,
    script: readFileSync(file, 'utf8').trim().split('\n'),
    command,
  };
}

// ---- the SQL the service runs ------------------------------------------------------------

function readLogFrom(file, offset) {
  const size = statSync(file).size;
  if (size <= offset) return '';
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(size - offset);
  readSync(fd, buf, 0, buf.length, offset);
  closeSync(fd);
  return buf.toString('utf8');
}

/** The statements a backend executed, from log_min_duration_statement = 0 lines. */
function parseStatements(text) {
  const out = [];
  const last = new Map(); // pid -> the last statement it logged
  for (const line of text.split('\n')) {
    const m = /\[(\d+)\] (LOG|DETAIL):\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, pid, kind, rest] = m;
    if (kind === 'LOG') {
      const s = /^duration: [\d.]+ ms\s+(?:execute [^:]+|statement): (.*)$/.exec(rest);
      if (!s) continue;
      const st = { sql: s[1], params: [] };
      out.push(st);
      last.set(pid, st);
    } else if (rest.startsWith('parameters: ') && last.has(pid)) {
      const st = last.get(pid);
      for (const p of rest.slice(12).matchAll(/\$(\d+) = (NULL|'((?:[^']|'')*)')/g)) {
        st.params[Number(p[1]) - 1] = p[2] === 'NULL' ? null : p[3].replace(/''/g, "'");
      }
      last.delete(pid);
    }
  }
  // per-request work only: the audit writer flushes in the background, token lookups and the
  // scope are cached per process / per connection
  return out.filter((s) => !/INSERT INTO audit_event|FROM token|set_config\('lda\.scope'/.test(s.sql));
}

/**
 * A pgbench statement from a captured one: $n becomes :<prefix>n (defined with -D) or NULL;
 * `rename` maps a parameter value to a pgbench variable instead (\set, \gset).
 */
function toPgbench(st, prefix, rename = new Map()) {
  const vars = {};
  const sql = st.sql.replace(/\$(\d+)/g, (_, n) => {
    const v = st.params[Number(n) - 1];
    if (v === null || v === undefined) return 'NULL';
    if (rename.has(v)) return `:${rename.get(v)}`;
    vars[`${prefix}${n}`] = v;
    return `:${prefix}${n}`;
  });
  return { sql, vars };
}

async function captureSql(svc, requests) {
  const logFile = join(PG_DIR, 'pg.log');
  await svc.kill();
  await svc.sql(`ALTER DATABASE "${svc.dbName}" SET log_min_duration_statement = 0`);
  await svc.sql(`ALTER DATABASE "${svc.dbName}" SET log_parameter_max_length = -1`);
  await svc.start();
  const captured = {};
  try {
    for (const req of requests) {
      const call = () => fetch(svc.url + req.path, { method: req.method ?? 'GET', headers: req.headers, body: req.body?.() });
      for (let i = 0; i < 2; i++) await (await call()).arrayBuffer(); // warm: auth cached, scope set
      await sleep(300 + (req.cacheMs ?? 0)); // the audit writer flushes what the warm-up queued
      const offset = statSync(logFile).size;
      const res = await call();
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${req.name}: ${res.status} ${text.slice(0, 200)}`);
      await sleep(100);
      captured[req.name] = { statements: parseStatements(readLogFrom(logFile, offset)), response: text };
      if (!captured[req.name].statements.length) throw new Error(`${req.name}: no statement found in ${logFile}`);
    }
  } finally {
    await svc.kill();
    await svc.sql(`ALTER DATABASE "${svc.dbName}" RESET log_min_duration_statement`);
    await svc.sql(`ALTER DATABASE "${svc.dbName}" RESET log_parameter_max_length`);
  }
  return captured;
}

// ---- the server ----------------------------------------------------------------------------

function vmHwmKb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : null;
}

/** Starts the service `times` times; resolves the median ms from spawn to /readyz 200. */
async function startupMs(svc, times = 3) {
  const ms = [];
  for (let i = 0; i < times; i++) {
    if (svc.child) await svc.kill();
    const t0 = performance.now();
    await svc.start({ waitReady: false });
    for (;;) {
      try {
        const res = await fetch(`${svc.url}/readyz`);
        await res.arrayBuffer();
        if (res.status === 200) break;
      } catch {
        /* not listening yet */
      }
      if (svc.exit) throw new Error(`lda-api serve exited during start-up: ${svc.logs.slice(-5).join('\n')}`);
      if (performance.now() - t0 > 30_000) throw new Error('/readyz not 200 after 30 s');
      await sleep(2);
    }
    ms.push(performance.now() - t0);
  }
  return round(median(ms), 1);
}

async function startHello() {
  if (!existsSync(HELLO)) throw new Error(`${HELLO} not found: cmake --build <build dir> --target lda-bench-hello`);
  const port = await freePort();
  recordCommand(HELLO, [String(port), String(THREADS)]);
  const child = spawn(HELLO, [String(port), String(THREADS)], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      await res.arrayBuffer();
      if (res.status === 200) return { url: `http://127.0.0.1:${port}/`, child };
    } catch {
      /* not yet */
    }
    await sleep(10);
  }
  child.kill('SIGKILL');
  throw new Error('lda-bench-hello did not answer');
}

// ---- ingest --------------------------------------------------------------------------------

function siaoRecords(source, n, offset) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const k = offset + i;
    out.push({
      external_id: `${source}-${k}`,
      received_at: new Date(Date.UTC(2024, k % 12, 1 + (k % 28), 8 + (k % 10))).toISOString(),
      platform: PLATFORMS[k % 5],
      channel: ['call_115', 'siao_insertion', 'street_outreach'][k % 3],
      person_key: `bench-person-${Math.floor(k / 3)}`,
      age: 16 + (k % 50),
      sex: ['female', 'male', 'unknown'][k % 3],
      situation: ['street', 'hosted_by_third_party', 'shelter_structure'][k % 3],
      needs: ['emergency_shelter', 'food'],
      response: ['sheltered', 'no_place_available', 'pending'][k % 3],
      alternatives_known: k % 4 === 0 ? null : k % 2 === 0,
    });
  }
  return out;
}

/** Wall time of one psql invocation (the process: connection, \copy, exit). */
function psqlTime(url, sql) {
  const t0 = performance.now();
  sh(PSQL, [url, '-qAt', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
  return (performance.now() - t0) / 1000;
}

/** Server-side time of `sql` as psql's \timing reports it (ms), median of RUNS. */
function psqlServerMs(url, sql) {
  const out = sh(PSQL, [url, '-qAt', '-v', 'ON_ERROR_STOP=1'], {
    input: `\\timing on\n${Array(RUNS).fill(sql + ';').join('\n')}\n`,
  });
  return median([...out.matchAll(/Time: ([\d.]+) ms/g)].map((m) => Number(m[1])));
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** CPU seconds (user + system) of a process, from /proc. */
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** PostgreSQL CPU seconds of the statements logged (log_statement_stats) from `offset` on. */
function pgCpuSeconds(offset) {
  let t = 0;
  for (const m of readLogFrom(join(PG_DIR, 'pg.log'), offset).matchAll(/!\s+([\d.]+) s user, ([\d.]+) s system/g)) {
    t += Number(m[1]) + Number(m[2]);
  }
  return t;
}

/*
 * Wall time (records/s, what the targets are about) and CPU time, which a busy machine
 * distorts much less: the server's (/proc) and PostgreSQL's for the statements of each side
 * (log_statement_stats on the database; the service is restarted so that its connections log
 * them too).
 */
async function benchIngest(svc, siao) {
  const N = 10_000;
  const api = [];
  const again = [];
  const copy = [];
  const cpu = { server: [], pg: [], copy_pg: [] };
  const logFile = join(PG_DIR, 'pg.log');
  await svc.sql(`ALTER DATABASE "${svc.dbName}" SET log_statement_stats = on`);
  await svc.restart();
  commands.push(`POST ${svc.url}/v1/siao-requests/batch  (siao token; a JSON array of ${N} new records, siaoRecords() in bench/run.mjs; then the same body again; ${RUNS} times, median)`);
  try {
    for (let run = 0; run < RUNS; run++) {
      const recs = siaoRecords(`api${run}`, N, run * N);
      const body = JSON.stringify(recs);
      const post = async () => {
        const t0 = performance.now();
        const res = await fetch(`${svc.url}/v1/siao-requests/batch`, {
          method: 'POST', body, headers: { Authorization: `Bearer ${siao}`, 'Content-Type': 'application/json' },
        });
        const text = await res.text();
        const secs = (performance.now() - t0) / 1000;
        if (res.status !== 200) throw new Error(`batch failed: ${res.status} ${text.slice(0, 200)}`);
        return { secs, report: JSON.parse(text) };
      };
      const offset = statSync(logFile).size;
      const cpu0 = cpuSeconds(svc.child.pid);
      const first = await post();
      cpu.server.push(cpuSeconds(svc.child.pid) - cpu0);
      if (first.report.created !== N) throw new Error(`batch: ${JSON.stringify(first.report).slice(0, 200)}`);
      api.push(N / first.secs);
      await sleep(300); // the log lines of the last statements
      cpu.pg.push(pgCpuSeconds(offset));
      const second = await post(); // the same records again: all unchanged
      if (second.report.unchanged !== N) throw new Error(`batch again: ${JSON.stringify(second.report).slice(0, 200)}`);
      again.push(N / second.secs);

      // the same rows, as psql \copy loads them (a constant content_hash: the work is the same)
      const csv = recs.map((r) => [
        `copy${run}`, r.external_id, r.received_at, r.platform, r.channel, r.person_key, r.age, r.sex,
        r.situation, `"{${r.needs.join(',')}}"`, r.response, r.alternatives_known ?? '', 'x'.repeat(64),
      ].join(',')).join('\n') + '\n';
      const file = join(VAR, `copy${run}.csv`);
      writeFileSync(file, csv);
      const sql = `\\copy siao_request (source, external_id, received_at, platform, channel, person_key, age, sex, situation, needs, response, alternatives_known, content_hash) from '${file}' csv`;
      if (run === 0) recordCommand('psql', ['$DB', '-qAt', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
      await sleep(300);
      const offset2 = statSync(logFile).size;
      copy.push(N / psqlTime(svc.dbUrl, sql));
      await sleep(300);
      cpu.copy_pg.push(pgCpuSeconds(offset2));
    }
  } finally {
    await svc.sql(`ALTER DATABASE "${svc.dbName}" RESET log_statement_stats`);
  }
  const cpuApi = median(cpu.server) + median(cpu.pg);
  return {
    records_per_batch: N,
    api_records_per_s: round(median(api)),
    api_unchanged_records_per_s: round(median(again)),
    copy_records_per_s: round(median(copy)),
    ratio: ratio(median(api), median(copy)),
    cpu_seconds: {
      api_server: round(median(cpu.server), 3),
      api_postgres: round(median(cpu.pg), 3),
      copy_postgres: round(median(cpu.copy_pg), 3),
      ratio_copy_over_api: ratio(median(cpu.copy_pg), cpuApi),
    },
    runs: RUNS,
  };
}

// ---- statistics ------------------------------------------------------------------------------

// Questions of the statistics grid (whole months; one platform, one AMI or all).
const STATS_CASES = {
  one_year_one_platform: { from: '2024-01-01', to: '2024-12-31', platform: 'artois', platforms: ['artois'] },
  whole_period: { from: '2019-01-01', to: '2025-12-31', platform: null, platforms: null },
};
const statsQuery = (c) => `from=${c.from}&to=${c.to}${c.platform ? `&platform=${c.platform}` : ''}`;

function naiveYouthSql(c) {
  const where = `received_at >= '${c.from}'::date::timestamp AT TIME ZONE 'Europe/Paris' AND received_at < ('${c.to}'::date + 1)::timestamp AT TIME ZONE 'Europe/Paris'` +
    (c.platforms ? ` AND platform = ANY('{${c.platforms.join(',')}}')` : '');
  return `SELECT count(*), count(*) FILTER (WHERE age BETWEEN 18 AND 25), count(DISTINCT person_key) FILTER (WHERE age BETWEEN 18 AND 25), ` +
    `(SELECT count(*) FROM (SELECT person_key FROM siao_request WHERE ${where} AND age BETWEEN 18 AND 25 AND person_key IS NOT NULL GROUP BY person_key HAVING count(*) >= 2) p), ` +
    `count(*) FILTER (WHERE age BETWEEN 18 AND 25 AND response = 'no_place_available'), ` +
    `(SELECT json_object_agg(k, n) FROM (SELECT coalesce(sex, 'not_collected') k, count(*) n FROM siao_request WHERE ${where} AND age BETWEEN 18 AND 25 GROUP BY 1) s), ` +
    `(SELECT json_object_agg(k, n) FROM (SELECT coalesce(nd, 'not_collected') k, count(*) n FROM siao_request LEFT JOIN LATERAL unnest(needs) nd ON true WHERE ${where} AND age BETWEEN 18 AND 25 GROUP BY 1) s) ` +
    `FROM siao_request WHERE ${where}`;
}

async function benchStatsTimings(svc, analyst) {
  const out = {};
  for (const [name, c] of Object.entries(STATS_CASES)) {
    const qs = statsQuery(c);
    const row = { query: qs };
    for (const [ep, path] of [['youth', '/v1/observatory/youth'], ['series', '/v1/observatory/youth/series'], ['activity', '/v1/stats/activity']]) {
      const times = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        const res = await fetch(`${svc.url}${path}?${qs}`, { headers: { Authorization: `Bearer ${analyst}` } });
        await res.text();
        if (res.status !== 200) throw new Error(`${path} ${res.status}`);
        times.push(performance.now() - t0);
      }
      row[`${ep}_ms`] = round(median(times), 1);
    }
    const sql = naiveYouthSql(c);
    row.naive_sql = sql;
    commands.push(`psql $DB -qAt -v ON_ERROR_STOP=1  (stdin: \\timing on, then ${RUNS} x the naive SQL of results.stats.${name}.naive_sql; median of psql's Time)`);
    commands.push(`${RUNS} x GET ${'/v1/observatory/youth, /v1/observatory/youth/series, /v1/stats/activity'}?${qs} (analyst token, one at a time; median)`);
    row.naive_youth_sql_ms = round(psqlServerMs(svc.dbUrl, sql), 1);
    row.ratio_naive_over_api_youth = ratio(row.naive_youth_sql_ms, row.youth_ms);
    out[name] = row;
    log('stats', name, row);
  }
  return out;
}

// ---- outcome cohorts ------------------------------------------------------------------------

const OUTCOMES_QUERY = 'from=2019-01-01&to=2022-12-31';

/** The outcome figures of 2019-2022, all platforms, recomputed from the case tables: each
 * referral's dates (lda_outcome_referral, over referral, measure and household), the
 * observation date, every case's time and event per measure, then per group (the cohort and
 * each breakdown code) and measure the counts, the Kaplan–Meier curve, the shares at the
 * horizons and the quartiles. */
function naiveOutcomesSql() {
  return `WITH asof AS (
  SELECT least((now() AT TIME ZONE 'Europe/Paris')::date,
               (date_trunc('month', max(last_on)) + interval '1 month - 1 day')::date) AS d
  FROM lda_outcome_referral),
f AS (SELECT * FROM lda_outcome_referral WHERE received_on >= DATE '2019-01-01' AND received_on < DATE '2023-01-01'),
obs AS (
  SELECT m.measure,
         CASE m.measure
           WHEN 'support' THEN greatest(0, least(coalesce(f.support_on, a.d), a.d) - f.received_on)
           WHEN 'housing' THEN greatest(0, least(coalesce(f.housing_on, a.d), a.d) - f.received_on)
           WHEN 'retention' THEN greatest(0, least(coalesce(f.loss_on, a.d), a.d) - f.housing_on)
           ELSE greatest(0, least(coalesce(f.return_on, a.d), a.d) - f.ended_housed_on) END AS t,
         coalesce(CASE m.measure
           WHEN 'support' THEN f.support_on <= a.d WHEN 'housing' THEN f.housing_on <= a.d
           WHEN 'retention' THEN f.loss_on <= a.d ELSE f.return_on <= a.d END, false) AS ev,
         f.kind, f.composition, f.age_band, f.history
  FROM f, asof a, (VALUES ('support'), ('housing'), ('retention'), ('returns')) m (measure)
  WHERE m.measure IN ('support', 'housing') OR (m.measure = 'retention' AND f.housing_on <= a.d)
     OR (m.measure = 'returns' AND f.ended_housed_on <= a.d)),
g AS (
  SELECT o.measure, d.dim, d.code, o.t, o.ev FROM obs o,
    LATERAL (VALUES ('all', ''), ('kind', o.kind), ('composition', o.composition),
                    ('age_band', o.age_band), ('history', o.history)) d (dim, code)),
steps AS (SELECT measure, dim, code, t, count(*) FILTER (WHERE ev) AS d, count(*) AS n_t FROM g GROUP BY 1, 2, 3, 4),
risk AS (SELECT s.*, sum(n_t) OVER (PARTITION BY measure, dim, code ORDER BY t DESC) AS at_risk FROM steps s),
km AS (
  SELECT r.*, CASE WHEN bool_or(d = at_risk) OVER w THEN 0
                   ELSE exp(sum(ln(nullif(1 - d::float8 / at_risk, 0))) OVER w) END AS s
  FROM risk r WINDOW w AS (PARTITION BY measure, dim, code ORDER BY t))
SELECT measure, dim, code, sum(n_t) AS cases, sum(d) AS events,
       min(s) FILTER (WHERE t <= 91) AS s3, min(s) FILTER (WHERE t <= 183) AS s6,
       min(s) FILTER (WHERE t <= 365) AS s12, min(s) FILTER (WHERE t <= 731) AS s24,
       min(t) FILTER (WHERE s <= 0.75 AND d > 0) AS q1, min(t) FILTER (WHERE s <= 0.5 AND d > 0) AS median,
       min(t) FILTER (WHERE s <= 0.25 AND d > 0) AS q3
FROM km GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`;
}

async function benchOutcomes(svc, analyst) {
  const path = `/v1/stats/outcomes?${OUTCOMES_QUERY}`;
  const times = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const t0 = performance.now();
    const res = await fetch(`${svc.url}${path}`, { headers: { Authorization: `Bearer ${analyst}` } });
    await res.text();
    if (res.status !== 200) throw new Error(`${path} ${res.status}`);
    if (i > 0) times.push(performance.now() - t0); // the first prepares the statements
  }
  const sql = naiveOutcomesSql();
  const row = { query: OUTCOMES_QUERY, api_ms: round(median(times), 1), naive_sql: sql };
  commands.push(`${RUNS} x GET ${path} (analyst token, one at a time, after one warm-up; median)`);
  commands.push(`psql $DB -qAt -v ON_ERROR_STOP=1  (stdin: \\timing on, then ${RUNS} x the naive SQL of results.outcomes.naive_sql; median of psql's Time)`);
  row.naive_sql_ms = round(psqlServerMs(svc.dbUrl, sql), 1);
  row.ratio_naive_over_api = ratio(row.naive_sql_ms, row.api_ms);
  row.referrals = Number((await svc.sql('SELECT count(*) FROM referral')).rows[0].count);
  log('outcomes', { ...row, naive_sql: undefined });
  return row;
}

// ---- the run -------------------------------------------------------------------------------

function referralBody(tag, i) {
  return JSON.stringify({
    platform: 'artois', received_on: '2024-03-01', referrer_kind: 'ccas', referrer_name: 'CCAS d\'Arras',
    reasons: ['homelessness'],
    household: {
      platform: 'artois', composition: 'single_person', adults: 1, children: 0, housing_situation: 'street',
      head: { last_name: `Capture${tag}${i}`, first_name: 'Bench', birth_date: '1990-01-15', sex: 'female' },
    },
  });
}

async function main() {
  mkdirSync(VAR, { recursive: true });
  sh(join(ROOT, 'scripts', 'pg-cluster.sh'), ['start', PG_DIR, 'auto'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const results = {
    started_at: new Date().toISOString(),
    scale: SCALE, duration_s: DURATION, runs: RUNS, threads: THREADS, db_pool: POOL,
    host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg_at_start: os.loadavg().map((x) => round(x, 2)) },
    binary: process.env.LDA_BIN,
  };
  const svcEnv = {
    LDA_LOG_LEVEL: 'warn', LDA_STATEMENT_TIMEOUT_MS: '120000', LDA_RATE_LIMIT_RPS: '0',
    LDA_THREADS: String(THREADS), LDA_DB_POOL: String(POOL),
  };
  const svc = await startService({ env: svcEnv });
  let hello = null;
  try {
    log(`seeding the demo data at scale ${SCALE} (${40_000 * SCALE} SIAO requests)...`);
    const t0 = performance.now();
    recordCommand(process.env.LDA_BIN, ['seed-demo', '--scale', String(SCALE)]);
    const seeded = await svc.runCli(['seed-demo', '--scale', String(SCALE)], { timeout: 3_600_000 });
    if (seeded.code !== 0) throw new Error(`seed-demo failed: ${seeded.stderr}`);
    results.seed_seconds = round((performance.now() - t0) / 1000, 1);
    results.siao_requests = Number((await svc.sql('SELECT count(*) FROM siao_request')).rows[0].count);

    const coordinator = await svc.createToken('coordinator', { platforms: ['artois', 'lens_henin'] });
    const siao = await svc.createToken('siao', { platforms: PLATFORMS, source: 'bench' });
    const analyst = await svc.createToken('analyst');
    secrets.set(coordinator, '$COORDINATOR');
    secrets.set(siao, '$SIAO');
    secrets.set(analyst, '$ANALYST');
    secrets.set(svc.dbUrl, '$DB');
    const household = (await svc.sql("SELECT id FROM household WHERE platform IN ('artois', 'lens_henin') AND erased_at IS NULL ORDER BY id LIMIT 1")).rows[0].id;
    const LIST = '/v1/referrals?limit=50&platform=artois&received_from=2020-01-01';
    const YOUTH = `/v1/observatory/youth?${statsQuery(STATS_CASES.one_year_one_platform)}`;
    const auth = (t) => ({ Authorization: `Bearer ${t}` });

    // the SQL of each path, as the service runs it
    log('capturing the SQL the service runs (log_min_duration_statement = 0)...');
    const captured = await captureSql(svc, [
      { name: 'household', path: `/v1/households/${household}`, headers: auth(coordinator), part: 'reads' },
      // the service keeps platform documents 1 s in memory (resources/reference.c): the
      // captured request waits for that to expire, so that it shows the SQL of a miss
      { name: 'platform', path: '/v1/platforms/artois', part: 'reads', cacheMs: 1000 },
      { name: 'list', path: LIST, headers: auth(coordinator), part: 'list' },
      { name: 'write', method: 'POST', path: '/v1/referrals', headers: { ...auth(coordinator), 'Content-Type': 'application/json' }, body: (() => { let i = 0; return () => referralBody(Date.now(), i++); })(), part: 'write' },
      { name: 'youth', path: YOUTH, headers: auth(analyst), part: 'stats' },
    ].filter((q) => ONLY.has(q.part)));
    results.sql = Object.fromEntries(Object.entries(captured).map(([k, v]) => [k, v.statements.map((s) => s.sql)]));

    // start-up, then the server every load below runs against (its VmHWM is its own)
    results.startup_ms = await startupMs(svc);
    log(`start-up to /readyz 200: ${results.startup_ms} ms`);
    const pid = svc.child.pid;

    if (ONLY.has('reads')) {
      hello = await startHello();
      const r = {};
      const one = (name) => captured[name].statements.map((s, i) => toPgbench(s, `s${i}p`));
      r.pgbench_household = await pgbench('household', svc.dbUrl, one('household'), { scope: 'artois,lens_henin' });
      r.pgbench_platform = await pgbench('platform', svc.dbUrl, one('platform'), { scope: '' });
      // the baseline of the household read: the plain SELECT of the row, nothing else (no
      // audit, no scope check), 8 clients, the same role and scope
      r.pgbench_household_plain_c8 = await pgbench('household-plain', svc.dbUrl, [{ sql: 'SELECT * FROM household WHERE id = :hid', vars: { hid: household } }], { scope: 'artois,lens_henin', clients: 8 });
      r.household_c8 = await wrk(`${svc.url}/v1/households/${household}`, { conns: 8, headers: auth(coordinator) });
      log(`reads c8: household ${r.household_c8.rps} req/s, plain SELECT ${r.pgbench_household_plain_c8.tps} tps`);
      for (const c of [64, 256]) {
        r[`hello_c${c}`] = await wrk(hello.url, { conns: c });
        r[`platform_c${c}`] = await wrk(`${svc.url}/v1/platforms/artois`, { conns: c });
        r[`household_c${c}`] = await wrk(`${svc.url}/v1/households/${household}`, { conns: c, headers: auth(coordinator) });
        log(`reads c${c}: hello ${r[`hello_c${c}`].rps}, platform ${r[`platform_c${c}`].rps}, household ${r[`household_c${c}`].rps} req/s`);
      }
      r.vm_hwm_kb_after_c256 = vmHwmKb(pid);
      r.hello_vm_hwm_kb_after_c256 = vmHwmKb(hello.child.pid);
      hello.child.kill('SIGTERM');
      hello = null;
      results.reads = r;
    }

    if (ONLY.has('list')) {
      const stmts = captured.list.statements.map((s, i) => toPgbench(s, `s${i}p`));
      results.list = {
        path: LIST,
        api_c64: await wrk(svc.url + LIST, { conns: 64, headers: auth(coordinator) }),
        pgbench: await pgbench('list', svc.dbUrl, stmts, { scope: 'artois,lens_henin' }),
      };
      log(`list: ${results.list.api_c64.rps} req/s, pgbench ${results.list.pgbench.tps} tps`);
    }

    if (ONLY.has('write')) {
      // pgbench: the same transaction, a new person_key each time (the household is new,
      // as with wrk), the household id carried from the first INSERT to the second
      const cap = captured.write;
      const inline = cap.statements.findIndex((s) => /INSERT INTO household/.test(s.sql));
      const personKey = cap.statements[inline].params.find((v) => /^[0-9a-f]{64}$/.test(v ?? ''));
      const householdId = JSON.parse(cap.response).household;
      const stmts = cap.statements.map((s, i) => {
        const rename = new Map(i === inline ? [[personKey, 'pk']] : [[householdId, 'h_id']]);
        const st = toPgbench(s, `s${i}p`, rename);
        if (i === inline) {
          // \gset names variables after the columns: an unnamed boolean column gets a name
          st.sql = st.sql.replace(/, (true|false) FROM/g, ', $1 AS c_$1 FROM');
          st.after = '\\gset h_';
        }
        return st;
      });
      const tag = Date.now().toString(36);
      results.write = {
        api_c64: await wrk(`${svc.url}/v1/referrals`, { conns: 64, script: join(ROOT, 'bench', 'referral.lua'), scriptArgs: [tag, coordinator] }),
        pgbench: await pgbench('write', svc.dbUrl, stmts, { scope: 'artois,lens_henin', head: ['\\set pk random(1, 1000000000000)'] }),
      };
      log(`write: ${results.write.api_c64.rps} req/s, pgbench ${results.write.pgbench.tps} tps`);
    }

    if (ONLY.has('stats')) {
      results.stats = await benchStatsTimings(svc, analyst);
      const stmts = captured.youth.statements.map((s, i) => toPgbench(s, `s${i}p`));
      results.stats.youth_one_year_one_platform_load = {
        path: YOUTH,
        api_c64: await wrk(svc.url + YOUTH, { conns: 64, headers: auth(analyst) }),
        pgbench: await pgbench('youth', svc.dbUrl, stmts, { scope: '*' }),
      };
      log(`youth load: ${results.stats.youth_one_year_one_platform_load.api_c64.rps} req/s, pgbench ${results.stats.youth_one_year_one_platform_load.pgbench.tps} tps`);
    }
    if (ONLY.has('outcomes')) results.outcomes = await benchOutcomes(svc, analyst);
    if (ONLY.has('ingest')) {
      results.ingest = await benchIngest(svc, siao);
      log('ingest', results.ingest);
    }

    // the server that ran the last part (the ingest restarts it): its peak is a batch's
    results.vm_hwm_kb_at_end = vmHwmKb(svc.child.pid);
    results.host.loadavg_at_end = os.loadavg().map((x) => round(x, 2));
  } finally {
    hello?.child.kill('SIGTERM');
    await svc.stop();
    sh(join(ROOT, 'scripts', 'pg-cluster.sh'), ['stop', PG_DIR], { stdio: 'ignore' });
  }
  results.finished_at = new Date().toISOString();
  results.commands = commands;
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `${results.started_at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  printTable(results);
  console.log(`\nresults: ${file}`);
}

// ---- the table -----------------------------------------------------------------------------

function printTable(R) {
  const rows = [];
  const add = (path, api, base, r, target, met) => rows.push([path, api, base, r ?? '', target, met === undefined ? '' : met ? 'yes' : 'NO']);
  const fmt = (w) => (w ? `${w.rps} req/s, p50 ${w.p50_ms} ms, p99 ${w.p99_ms} ms${w.errors ? `, ${w.errors} errors` : ''}` : 'n/a');
  const fmtB = (p) => (p ? `${p.tps} tps, p50 ${p.p50_ms} ms, p99 ${p.p99_ms} ms` : 'n/a');
  if (R.reads) {
    const r = R.reads;
    if (r.household_c8 && r.pgbench_household_plain_c8) {
      const q8 = ratio(r.household_c8.rps, r.pgbench_household_plain_c8.tps);
      add('GET /v1/households/{id}, c8', fmt(r.household_c8), `pgbench plain SELECT * FROM household WHERE id = $1, 8 clients: ${fmtB(r.pgbench_household_plain_c8)}`, q8, '>= 0.5', q8 >= 0.5);
      const h64 = r.household_c64;
      const tail = round(h64.p99_ms / h64.p50_ms, 1);
      add('GET /v1/households/{id}, c64: p99 / p50', `${tail}`, '', '', '<= 3 (no head-of-line blocking)', tail <= 3);
    }
    for (const c of [64, 256]) {
      const h = r[`household_c${c}`];
      const q = ratio(h.rps, r.pgbench_household.tps);
      add(`GET /v1/households/{id}, c${c}`, fmt(h), `pgbench ${fmtB(r.pgbench_household)}`, q,
        c === 64 ? '>= 0.45, p99 <= 20 ms' : '', c === 64 ? q >= 0.45 && h.p99_ms <= 20 : undefined);
    }
    for (const c of [64, 256]) {
      const p = r[`platform_c${c}`];
      const q = ratio(p.rps, r[`hello_c${c}`].rps);
      add(`GET /v1/platforms/{code}, c${c}`, fmt(p), `hello ${fmt(r[`hello_c${c}`])}`, q,
        c === 64 ? '>= 0.5 x hello, >= 25 000 req/s' : '', c === 64 ? q >= 0.5 && p.rps >= 25000 : undefined);
      add(`  same, against pgbench`, '', `pgbench ${fmtB(r.pgbench_platform)}`, ratio(p.rps, r.pgbench_platform.tps), '', undefined);
    }
    const mb = round(r.vm_hwm_kb_after_c256 / 1024, 1);
    add('memory: peak RSS (VmHWM) after c256', `${mb} MB`, `hello ${round(r.hello_vm_hwm_kb_after_c256 / 1024, 1)} MB`, '', '<= 40 MB', mb <= 40);
  }
  if (R.startup_ms !== undefined) add('start-up: spawn to /readyz 200', `${R.startup_ms} ms`, '', '', '', undefined);
  if (R.list) add(`GET ${R.list.path}, c64`, fmt(R.list.api_c64), `pgbench ${fmtB(R.list.pgbench)}`, ratio(R.list.api_c64.rps, R.list.pgbench.tps), '', undefined);
  if (R.write) add('POST /v1/referrals (inline household), c64', fmt(R.write.api_c64), `pgbench ${fmtB(R.write.pgbench)}`, ratio(R.write.api_c64.rps, R.write.pgbench.tps), '', undefined);
  if (R.ingest) {
    const i = R.ingest;
    add('POST /v1/siao-requests/batch (10 000 new)', `${i.api_records_per_s} rec/s`, `psql \\copy ${i.copy_records_per_s} rows/s`, i.ratio, '>= 0.7', i.ratio >= 0.7);
    add('  same 10 000 again (all unchanged)', `${i.api_unchanged_records_per_s} rec/s`, '', ratio(i.api_unchanged_records_per_s, i.copy_records_per_s), '', undefined);
    const c = i.cpu_seconds;
    add('  CPU per 10 000 new records', `server ${c.api_server} s + PostgreSQL ${c.api_postgres} s`, `PostgreSQL ${c.copy_postgres} s`, c.ratio_copy_over_api, '', undefined);
  }
  if (R.stats) {
    const s = R.stats;
    const y = s.youth_one_year_one_platform_load;
    if (y) add('GET /v1/observatory/youth 2024 artois, c64', fmt(y.api_c64), `pgbench ${fmtB(y.pgbench)}`, ratio(y.api_c64.rps, y.pgbench.tps), '>= 0.8', ratio(y.api_c64.rps, y.pgbench.tps) >= 0.8);
    for (const [name, row] of Object.entries(s)) {
      if (!row.query) continue;
      add(`statistics ${name} (one request)`, `youth ${row.youth_ms} ms, series ${row.series_ms} ms, activity ${row.activity_ms} ms`,
        `naive SQL ${row.naive_youth_sql_ms} ms`, `${row.ratio_naive_over_api_youth} x faster`,
        name === 'whole_period' ? '>= 20 x faster' : '', name === 'whole_period' ? row.ratio_naive_over_api_youth >= 20 : undefined);
    }
  }
  if (R.outcomes) {
    const o = R.outcomes;
    add(`GET /v1/stats/outcomes 2019-2022, all platforms (${o.referrals} referrals)`, `${o.api_ms} ms`, `naive SQL ${o.naive_sql_ms} ms`,
      `${o.ratio_naive_over_api} x faster`, '>= 20 x faster', o.ratio_naive_over_api >= 20);
  }
  const head = ['path', 'lda-api', 'baseline (same run)', 'ratio', 'target', 'met'];
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((row) => String(row[k]).length)));
  const line = (cells) => '| ' + cells.map((c, k) => String(c).padEnd(widths[k])).join(' | ') + ' |';
  console.log(`\nlda-api bench ${R.started_at}: scale ${R.scale} (${R.siao_requests} SIAO requests), ${R.duration_s} s per load, ` +
    `${R.threads} threads, ${R.db_pool} connections, ${R.host.cpus} CPUs, load average at start ${R.host.loadavg_at_start.join(' ')}`);
  console.log(line(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const row of rows) console.log(line(row));
  console.log('\ncommands:');
  for (const c of R.commands) console.log(`  ${c}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
