// The service under test: one lda-api process over its own fresh database, its CLI, its
// tokens, SQL on its database, its logs.
//
//   import { startService } from '../lib/service.mjs';
//   const svc = await startService({ env: { LDA_STATS_MIN_CELL: '5' } });
//   const res = await svc.api('GET', '/v1/platforms', { token });   // http.mjs request()
//   await svc.stop();   // SIGTERM, asserts exit code 0, drops the database
//
// A service over a private cluster that a test may stop and crash: cluster.mjs.
//
// Environment (set by tests/CMakeLists.txt; the defaults suit a manual `node --test FILE`
// from the source tree after `ctest --test-dir build -R pg_cluster_start`):
//   LDA_BIN                the binary under test           (default build/lda-api)
//   LDA_TEST_PG_URL_FILE   file holding the superuser URL   (default build/test-pg/url)
//   LDA_TEST_PG_URL        the URL itself, instead of the file
//   LDA_SOURCE_DIR         the source tree (openapi.yaml)   (default: from this file)
//
// Every response that api() returns has been checked against openapi.yaml (contract.mjs):
// a route, status or body the spec does not describe fails the test (unless validate: false).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import readline from 'node:readline';
import assert from 'node:assert/strict';
import pg from 'pg';
import { sourceDir } from './contract.mjs';
import { request } from './http.mjs';

/** The pseudonymisation key every test service runs with (64 hex digits). */
export const TEST_PSEUDONYM_KEY = '6c64612d6170692d746573742d6b65792d6e6f742d612d7365637265742d3031';

const START_TIMEOUT_MS = 60_000; // sanitizer builds start slowly on 2 busy cores
const STOP_TIMEOUT_MS = 30_000;
const MIGRATE_LOCK_KEY = 7_243_001; // serialises migrations of parallel tests (cluster roles)

export function binaryPath() {
  return process.env.LDA_BIN ?? join(sourceDir(), 'build', 'lda-api');
}

/** The test cluster's superuser URL (…/postgres). */
export function superuserUrl() {
  if (process.env.LDA_TEST_PG_URL) return process.env.LDA_TEST_PG_URL;
  const file = process.env.LDA_TEST_PG_URL_FILE ?? join(sourceDir(), 'build', 'test-pg', 'url');
  if (!existsSync(file)) {
    throw new Error(`no test cluster URL in ${file}: run scripts/pg-cluster.sh start (ctest's pg fixture does)`);
  }
  return readFileSync(file, 'utf8').trim();
}

function databaseUrl(base, name) {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A TCP port nothing listens on at 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The environment a service process gets: ours without any LDA_* variable, then `extra`. */
function serviceEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LDA_')) env[k] = v;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined || v === null) delete env[k];
    else env[k] = String(v);
  }
  return env;
}

/**
 * Runs the binary to completion. Resolves { code, signal, stdout, stderr } whatever the exit
 * status; rejects only when it cannot start or exceeds `timeout` ms (then it is killed).
 */
export function runBinary(args, { env = {}, input, timeout = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(binaryPath(), args, {
      env: serviceEnv(env),
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${binaryPath()} ${args.join(' ')}: no exit after ${timeout} ms\n${stderr}`));
    }, timeout);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// Services still running when the test process exits are killed, so that a test that forgot
// stop() (or threw before it) does not leave a server behind or hang the runner.
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

function tail(lines, n = 40) {
  return lines.slice(-n).join('\n');
}

/**
 * Creates a fresh database t_<random> on the test cluster, runs `lda-api migrate` on it,
 * starts `lda-api serve` on a free loopback port and waits for /healthz.
 *
 * opts.env      extra environment for the service (and for migrate/runCli); undefined unsets
 * opts.migrate  false to skip `migrate` (to test a server refusing a schema that is behind)
 * opts.waitReady false to return before /healthz answers 200
 *
 * Returns a Service (see the class below).
 */
export async function startService(opts = {}) {
  const admin = superuserUrl();
  const dbName = `t_${randomBytes(6).toString('hex')}`;
  const dbUrl = databaseUrl(admin, dbName);
  await withClient(admin, (c) => c.query(`CREATE DATABASE "${dbName}"`));
  const svc = new Service({ admin, dbName, dbUrl, env: opts.env ?? {} });
  try {
    if (opts.migrate !== false) await svc.migrate();
    await svc.start({ waitReady: opts.waitReady !== false });
  } catch (err) {
    await svc.stop({ check: false }).catch(() => {});
    throw err;
  }
  return svc;
}

export class Service {
  constructor({ admin, dbName, dbUrl, env }) {
    this.admin = admin;
    this.dbName = dbName;
    /** libpq URL of this service's database (superuser). */
    this.dbUrl = dbUrl;
    this.baseEnv = env;
    /** stderr lines of every process this service ran (serve), in order, raw text. */
    this.logs = [];
    /** stdout lines of serve. */
    this.stdout = [];
    this.child = null;
    this.url = null;
    this.port = null;
    this.exit = null;
    this.sqlClient = null;
    this.stopped = false;
  }

  env(extra = {}) {
    return {
      LDA_DATABASE_URL: this.dbUrl,
      LDA_PSEUDONYM_KEY: TEST_PSEUDONYM_KEY,
      // Shared CI machines (and the sanitizer build) can be slow: tests that check the
      // statement timeout set their own.
      LDA_STATEMENT_TIMEOUT_MS: '30000',
      ...this.baseEnv,
      ...extra,
    };
  }

  /** Runs `lda-api migrate` on this database; throws with its output unless it exits 0. */
  async migrate(env = {}) {
    // Migrations create cluster-wide roles: serialise them across parallel test processes.
    await withClient(this.admin, async (lock) => {
      await lock.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK_KEY]);
      const r = await runBinary(['migrate'], { env: this.env(env) });
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK_KEY]);
      if (r.code !== 0) {
        throw new Error(`lda-api migrate exited ${r.code ?? r.signal}\n${r.stderr}${r.stdout}`);
      }
    });
  }

  /** Runs another subcommand against this database: resolves { code, signal, stdout, stderr }. */
  runCli(args, { env = {}, input, timeout } = {}) {
    return runBinary(args, { env: this.env(env), input, timeout });
  }

  /**
   * `lda-api token create` on this database; returns the token.
   * createToken('siao', { platforms: ['artois'], source: 'siao62', name: 'SI-SIAO' })
   */
  async createToken(role, { platforms = [], source, name } = {}) {
    const args = ['token', 'create', '--role', role, '--name', name ?? `test-${role}`];
    for (const p of platforms) args.push('--platform', p);
    if (source !== undefined) args.push('--source', source);
    const r = await this.runCli(args);
    if (r.code !== 0) throw new Error(`lda-api ${args.join(' ')} exited ${r.code ?? r.signal}\n${r.stderr}`);
    const token = r.stdout.trim();
    assert.match(token, /^\S+$/, `token create printed more than a token: ${JSON.stringify(r.stdout)}`);
    return token;
  }

  /** Starts `serve` (again) on a new free port; waits for /healthz unless waitReady is false. */
  async start({ env = {}, waitReady = true } = {}) {
    assert.equal(this.child, null, 'the service is already running');
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const firstLine = this.logs.length;
      this.#spawn(port, env);
      if (!waitReady) return this;
      try {
        await this.#waitHealthy();
        return this;
      } catch (err) {
        const mine = this.logs.slice(firstLine).join('\n');
        if (attempt < 3 && this.exit && /address already in use|EADDRINUSE/i.test(mine)) {
          this.child = null;
          continue;
        }
        await this.kill('SIGKILL');
        throw err;
      }
    }
  }

  #spawn(port, env) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.exit = null;
    const child = spawn(binaryPath(), ['serve'], {
      env: serviceEnv(this.env({ LDA_LISTEN: `127.0.0.1:${port}`, ...env })),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    this.exited = new Promise((resolve) => {
      child.on('error', (err) => {
        this.logs.push(`[harness] spawn failed: ${err.message}`);
        live.delete(child);
        this.exit = { code: null, signal: null, error: err };
        resolve(this.exit);
      });
      child.on('close', (code, signal) => {
        live.delete(child);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    readline.createInterface({ input: child.stderr }).on('line', (l) => this.logs.push(l));
    readline.createInterface({ input: child.stdout }).on('line', (l) => this.stdout.push(l));
    // Let the test process end even if a test forgets stop(); the exit hook kills the server.
    child.unref();
    child.stdout.unref?.();
    child.stderr.unref?.();
  }

  #ref() {
    this.child?.ref();
    this.child?.stdout?.ref?.();
    this.child?.stderr?.ref?.();
  }

  async #waitHealthy() {
    const deadline = Date.now() + START_TIMEOUT_MS;
    this.#ref();
    try {
      while (Date.now() < deadline) {
        if (this.exit) {
          throw new Error(
            `lda-api serve exited (${this.exit.code ?? this.exit.signal}) before /healthz answered\n${tail(this.logs)}`,
          );
        }
        try {
          const res = await request(this.url, 'GET', '/healthz', { timeout: 2_000, keepAlive: false, validate: false });
          if (res.status === 200) return;
        } catch {
          /* not listening yet */
        }
        await sleep(50);
      }
      throw new Error(`lda-api serve: /healthz not 200 after ${START_TIMEOUT_MS} ms\n${tail(this.logs)}`);
    } finally {
      this.child?.unref();
      this.child?.stdout?.unref?.();
      this.child?.stderr?.unref?.();
    }
  }

  /** One HTTP request to this service: request(this.url, method, path, opts) of http.mjs. */
  async api(method, path, opts = {}) {
    assert.ok(this.url, 'the service is not started');
    return request(this.url, method, path, opts);
  }

  /** Runs SQL on this service's database as superuser; resolves pg's Result ({ rows, rowCount }). */
  async sql(text, params = []) {
    if (!this.sqlClient) {
      this.sqlClient = new pg.Client({ connectionString: this.dbUrl });
      await this.sqlClient.connect();
    }
    return this.sqlClient.query(text, params);
  }

  /** The stderr lines that parse as JSON objects (the service's structured log). */
  logEntries() {
    const out = [];
    for (const line of this.logs) {
      try {
        const v = JSON.parse(line);
        if (v && typeof v === 'object') out.push(v);
      } catch {
        /* not a log record */
      }
    }
    return out;
  }

  /** Waits until predicate(line, entry|undefined) holds for a stderr line; returns that line. */
  async waitForLog(predicate, timeout = 5_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      for (const line of this.logs) {
        let entry;
        try {
          entry = JSON.parse(line);
        } catch {
          entry = undefined;
        }
        if (predicate(line, entry)) return line;
      }
      if (Date.now() > deadline) throw new Error(`no matching log line after ${timeout} ms\n${tail(this.logs)}`);
      await sleep(25);
    }
  }

  /** Sends `signal` to serve and waits for it to exit; resolves { code, signal }. */
  async kill(signal = 'SIGTERM', timeout = STOP_TIMEOUT_MS) {
    const child = this.child;
    if (!child) return this.exit;
    this.#ref();
    if (!this.exit) child.kill(signal);
    const timer = setTimeout(() => {
      this.logs.push(`[harness] no exit ${timeout} ms after ${signal}: SIGKILL`);
      child.kill('SIGKILL');
    }, timeout);
    const exit = await this.exited;
    clearTimeout(timer);
    this.child = null;
    return exit;
  }

  /** Stops serve (asserting a clean exit after SIGTERM unless signal is given) and starts it again. */
  async restart({ env = {}, signal = 'SIGTERM' } = {}) {
    const exit = await this.kill(signal);
    if (signal === 'SIGTERM') this.#assertCleanExit(exit, 'restart');
    await this.start({ env });
    return this;
  }

  #assertCleanExit(exit, what) {
    assert.ok(
      exit && exit.code === 0 && !exit.signal,
      `lda-api serve (${what}): expected exit code 0 after SIGTERM, got ${
        exit ? exit.code ?? exit.signal : 'no exit'
      }\n${tail(this.logs)}`,
    );
  }

  /**
   * SIGTERM, wait, assert exit code 0 (unless check is false), then drop the database.
   * Idempotent.
   */
  async stop({ check = true } = {}) {
    if (this.stopped) return;
    this.stopped = true;
    let failure;
    try {
      if (this.child) {
        const exitedByItself = this.exit !== null;
        const exit = await this.kill('SIGTERM');
        if (check && exitedByItself) {
          failure = new assert.AssertionError({
            message: `lda-api serve had already exited (${exit.code ?? exit.signal}) before stop()\n${tail(this.logs)}`,
          });
        } else if (check) {
          this.#assertCleanExit(exit, 'stop');
        }
      }
    } catch (err) {
      failure = err;
    }
    try {
      if (this.sqlClient) await this.sqlClient.end().catch(() => {});
      this.sqlClient = null;
      await withClient(this.admin, (c) => c.query(`DROP DATABASE IF EXISTS "${this.dbName}" WITH (FORCE)`));
    } catch (err) {
      failure ??= err;
    }
    if (failure) throw failure;
  }
}

/** Service environment of suites that send thousands of requests: no per-token rate limit. */
export const NO_RATE_LIMIT_ENV = { LDA_RATE_LIMIT_RPS: '0' };
