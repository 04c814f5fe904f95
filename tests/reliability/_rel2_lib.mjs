// Shared helpers of the reliability suites faults, abuse and load: a private
// PostgreSQL cluster that a test may stop and restart (the shared test cluster serves other
// tests in parallel and must stay up), a harness Service on it, time-bounded load loops with
// a tally of what was answered, request bodies, and the service's resident memory.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Service } from '../lib/harness.mjs';
import { sourceDir, getContract, isJsonMediaType, mediaTypeOf } from '../lib/contract.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** True on the sanitizer build (set by tests/CMakeLists.txt). */
export const SANITIZED = ['1', 'ON', 'TRUE', 'true', 'on'].includes(process.env.LDA_SANITIZED ?? '');

/** Time budgets are multiplied by this on the sanitizer build (~3x slower on 2 busy cores). */
export const SLOWDOWN = SANITIZED ? 3 : 1;

const PG_CLUSTER = join(sourceDir(), 'scripts', 'pg-cluster.sh');
const PGBIN = process.env.LDA_PGBIN ?? '/usr/lib/postgresql/15/bin';

function run(file, args, timeout = 180_000) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/**
 * A private PostgreSQL cluster in a mkdtemp folder (scripts/pg-cluster.sh), on a port of its
 * own. stop() is a fast shutdown, crash() an immediate one (no checkpoint: the next start
 * replays the WAL), start() comes back on the same port (the service's URL names it).
 */
export class PrivateCluster {
  async start() {
    if (!this.workDir) {
      this.workDir = mkdtempSync(join(tmpdir(), 'lda-rel2-'));
      this.dir = join(this.workDir, 'pg');
    }
    await run(PG_CLUSTER, ['start', this.dir, this.port ? String(this.port) : 'auto']);
    this.superUrl = readFileSync(join(this.dir, 'url'), 'utf8').trim();
    this.port = Number(new URL(this.superUrl).port);
    return this;
  }

  async stop() {
    if (this.dir) await run(PG_CLUSTER, ['stop', this.dir]);
  }

  /** `pg_ctl stop -m immediate`: the postmaster and its backends quit without a checkpoint. */
  async crash() {
    const data = join(realpathSync(this.dir), 'data');
    const args = [join(PGBIN, 'pg_ctl'), 'stop', '-D', data, '-m', 'immediate', '-w', '-t', '60'];
    if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', ...args]);
    else await run(args[0], args.slice(1));
  }

  /** The server log (pg-cluster.sh writes it beside the data folder). */
  log() {
    try {
      return readFileSync(join(realpathSync(this.dir), 'pg.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** libpq URL of a database of this cluster (superuser). */
  urlOf(db) {
    const u = new URL(this.superUrl);
    u.pathname = `/${db}`;
    return u.toString();
  }

  /** Stops the cluster (when started) and removes its folder. */
  async destroy() {
    try {
      if (this.dir) await this.stop();
    } finally {
      if (this.workDir) rmSync(this.workDir, { recursive: true, force: true });
      this.workDir = null;
      this.dir = null;
    }
  }
}

/**
 * Runs one statement on `url` with a connection of its own (closed after), so that no idle
 * client is left to fail when the cluster goes down.
 */
export async function sqlOnce(url, text, params = []) {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {}); // a backend terminated under us: the query rejects anyway
  await c.connect();
  try {
    return await c.query(text, params);
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * A harness Service (tests/lib/harness.mjs) over a fresh database of a private cluster:
 * migrated and started. stop() drops the database (the cluster must then be up).
 */
export async function startPrivateService(cluster, env = {}) {
  const dbName = `r_${randomBytes(6).toString('hex')}`;
  await sqlOnce(cluster.superUrl, `CREATE DATABASE "${dbName}"`);
  const svc = new Service({ admin: cluster.superUrl, dbName, dbUrl: cluster.urlOf(dbName), env });
  try {
    await svc.migrate();
    await svc.start();
  } catch (err) {
    await svc.stop({ check: false }).catch(() => {});
    throw err;
  }
  return svc;
}

/** VmRSS of a process, in KiB (from /proc/PID/status). */
export function rssKb(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
  assert.ok(m, `no VmRSS for ${pid}`);
  return Number(m[1]);
}

// ------------------------------------------------------------------------------ requests

/**
 * One request with fetch; never rejects. Resolves
 *   { op, status, ms, at, headers, text, json, error }
 * where status is 0 and error the cause when no HTTP answer came (connection refused, reset,
 * timeout). `validate`: check the answer against openapi.yaml (an off-spec answer is recorded
 * as error 'contract: ...').
 */
export async function call(baseUrl, method, path, { body, token, headers = {}, timeout = 30_000, validate = true, op } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
  }
  const t0 = Date.now();
  const out = { op: op ?? `${method} ${path.split('?')[0]}`, status: 0, ms: 0, at: t0, headers: {}, text: '', json: undefined, error: null };
  try {
    const res = await fetch(baseUrl + path, { method, headers: h, body: payload, signal: AbortSignal.timeout(timeout) });
    out.text = await res.text();
    out.status = res.status;
    out.headers = Object.fromEntries(res.headers);
    if (out.text.length && isJsonMediaType(mediaTypeOf(out.headers['content-type']))) {
      try {
        out.json = JSON.parse(out.text);
      } catch {
        /* the contract check reports it */
      }
    }
    if (validate) {
      try {
        getContract().validateResponse({ method, path, status: out.status, headers: out.headers, text: out.text });
      } catch (err) {
        out.error = `contract: ${err.message.split('\n')[0]}`;
      }
    }
  } catch (err) {
    out.error = err.cause?.code ?? err.name ?? String(err);
  }
  out.ms = Date.now() - t0;
  return out;
}

/** True for an RFC 9457 503 with a Retry-After in seconds. */
export function isProper503(r) {
  return (
    r.status === 503 &&
    /^application\/problem\+json/.test(r.headers['content-type'] ?? '') &&
    r.json?.status === 503 &&
    /^\d+$/.test(r.headers['retry-after'] ?? '')
  );
}

/** Counts answers by op and status; keeps a few examples of each unexpected kind. */
export class Tally {
  constructor() {
    this.byOp = new Map();
    this.latency = new Map();
    this.samples = [];
    this.total = 0;
    this.maxMs = 0;
  }

  add(r, expected = (x) => x.status >= 200 && x.status < 300) {
    this.total += 1;
    this.maxMs = Math.max(this.maxMs, r.ms);
    const key = r.error ? `error:${r.error}` : String(r.status);
    let m = this.byOp.get(r.op);
    if (!m) this.byOp.set(r.op, (m = new Map()));
    m.set(key, (m.get(key) ?? 0) + 1);
    let l = this.latency.get(r.op);
    if (!l) this.latency.set(r.op, (l = []));
    if (l.length < 100_000) l.push(r.ms);
    if (!expected(r) && this.samples.length < 10) {
      this.samples.push(`${r.op} → ${key} after ${r.ms} ms ${r.text.slice(0, 300)}`);
    }
    return r;
  }

  /** Number of answers matching pred(statusKey). */
  count(pred) {
    let n = 0;
    for (const m of this.byOp.values()) for (const [k, v] of m) if (pred(k)) n += v;
    return n;
  }

  toString() {
    const lines = [];
    for (const [op, m] of [...this.byOp].sort()) {
      const l = [...(this.latency.get(op) ?? [])].sort((a, b) => a - b);
      const p = (q) => l[Math.min(l.length - 1, Math.floor(q * l.length))];
      lines.push(`  ${op}: ${[...m].sort().map(([k, v]) => `${k}×${v}`).join(' ')} (p50 ${p(0.5)} ms, p99 ${p(0.99)} ms)`);
    }
    return lines.join('\n');
  }
}

/**
 * Runs `clients` loops of `step(clientIndex, iteration)` until stop() is called, `maxMs`
 * elapse or `maxIterations` steps ran in all. Returns { stop, done } (done resolves when every
 * loop has ended).
 */
export function loadLoop({ clients, step, maxMs, maxIterations = 1_000_000, pauseMs = 0 }) {
  let stopped = false;
  let iterations = 0;
  const deadline = Date.now() + maxMs;
  const loops = [];
  for (let c = 0; c < clients; c += 1) {
    loops.push(
      (async () => {
        while (!stopped && Date.now() < deadline && iterations < maxIterations) {
          iterations += 1;
          await step(c, iterations);
          if (pauseMs) await sleep(pauseMs);
        }
      })(),
    );
  }
  return {
    stop() {
      stopped = true;
    },
    done: Promise.all(loops).then(() => iterations),
  };
}

// ------------------------------------------------------------------------------ bodies

/** Today's date in Europe/Paris (what the service calls "today"), minus `days`. */
export function daysAgo(days) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
  const d = new Date(`${today}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}

/** Letters only: a name no other request uses (person_key folds case, accents, punctuation). */
export function uniqueName(prefix) {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (const b of randomBytes(10)) s += letters[b % 26];
  return `${prefix}${s}`;
}

/** A POST /v1/referrals body with a new household inline (a new person each time). */
export function newReferral(platform = 'artois') {
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
export function newMeasure() {
  return { kind: 'adsl', operator: 'Association Rel', started_on: daysAgo(2) };
}

/** n SIAO requests with external ids `${prefix}-<i>`, received in the last days. */
export function siaoRecords(prefix, n, platforms = ['artois', 'lens_henin']) {
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

/** The lines of a service's stderr that a sanitizer wrote (ASan, LSan, UBSan). */
export function sanitizerLines(logs) {
  return logs.filter((l) => /AddressSanitizer|LeakSanitizer|runtime error:|SUMMARY: /.test(l));
}
