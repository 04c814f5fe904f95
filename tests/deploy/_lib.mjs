// Helpers of the deployment tests (ctest label `deploy`): private PostgreSQL clusters with
// the roles of a real deployment, instances that log in as the service's least-privileged
// role, buildah, and an HTTPS client that trusts a test certificate.
//
// Environment (set by tests/CMakeLists.txt):
//   LDA_BIN         the binary under test (default build/lda-api)
//   LDA_DEPLOY_DIR  the deploy tests' folder in the build directory (default build/deploy)
//   LDA_SOURCE_DIR  the source tree
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, realpathSync, rmSync, mkdirSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import pg from 'pg';
import { sourceDir, getContract, isJsonMediaType, mediaTypeOf } from '../lib/contract.mjs';
import { runBinary, Service, freePort, TEST_PSEUDONYM_KEY } from '../lib/harness.mjs';

export { freePort, TEST_PSEUDONYM_KEY };
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function deployDir() {
  const dir = process.env.LDA_DEPLOY_DIR ?? join(sourceDir(), 'build', 'deploy');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Runs a program to completion: { code, signal, stdout, stderr }; throws on failure unless allowFail. */
export function run(cmd, args, { env = {}, input, timeout = 600_000, allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const r = { code, signal, stdout, stderr };
      if (!allowFail && code !== 0) {
        reject(new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}\n${stderr}${stdout}`));
      } else resolve(r);
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

const PG_CLUSTER = () => join(sourceDir(), 'scripts', 'pg-cluster.sh');
const ROLES_SCRIPT = () => join(sourceDir(), 'docker', 'initdb', '10-lda-roles.sh');

function urlWith(base, { user, password, port, db }) {
  const u = new URL(base);
  if (user !== undefined) u.username = encodeURIComponent(user);
  if (password !== undefined) u.password = encodeURIComponent(password);
  if (port !== undefined) u.port = String(port);
  if (db !== undefined) u.pathname = `/${db}`;
  return u.toString();
}

/**
 * A private PostgreSQL cluster in LDA_DEPLOY_DIR/<name> (scripts/pg-cluster.sh), made afresh.
 * replicaOf: a running Cluster this one is a streaming standby of.
 */
export class Cluster {
  static async start(name, { replicaOf } = {}) {
    const dir = join(deployDir(), name);
    await Cluster.#remove(dir);
    const args = replicaOf ? ['replica', dir, replicaOf.dir, 'auto'] : ['start', dir, 'auto'];
    await run(PG_CLUSTER(), args, { timeout: 300_000 });
    return new Cluster(dir);
  }

  static async #remove(dir) {
    if (!existsSync(dir)) return;
    await run(PG_CLUSTER(), ['stop', dir], { allowFail: true });
    const real = lstatSync(dir).isSymbolicLink() ? realpathSync(dir) : dir;
    rmSync(real, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }

  constructor(dir) {
    this.dir = dir;
    this.refresh();
  }

  refresh() {
    /** superuser URL, …/postgres */
    this.superUrl = readFileSync(join(this.dir, 'url'), 'utf8').trim();
    this.port = Number(new URL(this.superUrl).port);
    this.password = readFileSync(join(this.dir, 'password'), 'utf8').trim();
  }

  url(db, { user, password } = {}) {
    return urlWith(this.superUrl, { db, user, password });
  }

  /** Runs SQL as the superuser on database db; resolves pg's Result. */
  async sql(db, text, params = []) {
    const client = new pg.Client({ connectionString: this.url(db) });
    await client.connect();
    try {
      return await client.query(text, params);
    } finally {
      await client.end();
    }
  }

  async stop() {
    await run(PG_CLUSTER(), ['stop', this.dir], { allowFail: true });
  }

  /** Starts it again (same data, same port when still free). */
  async restart() {
    await run(PG_CLUSTER(), ['start', this.dir, 'auto'], { timeout: 300_000 });
    this.refresh();
  }
}

/**
 * The database and roles of a deployment, made as docker/compose.yaml makes them: database
 * `db` created by the superuser, then docker/initdb/10-lda-roles.sh (lda_owner owns it,
 * lda_api logs in as a member of lda_app only), then `lda-api migrate` as lda_owner (unless
 * migrate is false).
 * Resolves { db, ownerUrl, appUrl, appUrlOn(cluster) }.
 */
export async function deployDatabase(cluster, db = 'lda', { migrate = true } = {}) {
  await cluster.sql('postgres', `CREATE DATABASE "${db}"`);
  const ownerPassword = randomBytes(12).toString('hex');
  const appPassword = randomBytes(12).toString('hex');
  await run(ROLES_SCRIPT(), [], {
    env: {
      PGHOST: '127.0.0.1',
      PGPORT: String(cluster.port),
      PGPASSWORD: cluster.password,
      POSTGRES_USER: 'postgres',
      POSTGRES_DB: db,
      LDA_OWNER_PASSWORD: ownerPassword,
      LDA_APP_PASSWORD: appPassword,
    },
  });
  const ownerUrl = cluster.url(db, { user: 'lda_owner', password: ownerPassword });
  const appUrlOn = (c) => c.url(db, { user: 'lda_api', password: appPassword });
  const out = { db, ownerUrl, appUrl: appUrlOn(cluster), appUrlOn };
  if (migrate) await cli(ownerUrl, ['migrate']);
  return out;
}

/** Runs a subcommand of LDA_BIN against url; resolves its stdout; throws unless it exits 0. */
export async function cli(url, args, { timeout = 300_000 } = {}) {
  const r = await runBinary(args, {
    env: { LDA_DATABASE_URL: url, LDA_PSEUDONYM_KEY: TEST_PSEUDONYM_KEY },
    timeout,
  });
  if (r.code !== 0) throw new Error(`lda-api ${args.join(' ')} exited ${r.code ?? r.signal}\n${r.stderr}`);
  return r.stdout;
}

/** `lda-api token create` as the owner; resolves the token. */
export async function createToken(ownerUrl, role, { platforms = [], source, name } = {}) {
  const args = ['token', 'create', '--role', role, '--name', name ?? `deploy-${role}`];
  for (const p of platforms) args.push('--platform', p);
  if (source) args.push('--source', source);
  return (await cli(ownerUrl, args)).trim();
}

/**
 * An instance of `lda-api serve` (the harness's Service) logging in with url (lda_api),
 * on a free loopback port. Stop it with kill(): its database is shared.
 */
export async function startInstance(url, env = {}) {
  const u = new URL(url);
  const svc = new Service({ admin: null, dbName: u.pathname.slice(1), dbUrl: url, env });
  await svc.start();
  return svc;
}

/** Asserts that a SIGTERM-stopped instance exited 0. */
export async function stopInstance(svc) {
  if (!svc.child) return;
  const exit = await svc.kill('SIGTERM');
  assert.ok(exit && exit.code === 0, `lda-api serve: exit ${exit?.code ?? exit?.signal} after SIGTERM`);
}

/**
 * An HTTPS client for https://127.0.0.1:port that trusts `ca` (PEM), keeps up to
 * maxSockets connections alive, and checks every answer against openapi.yaml.
 */
export class HttpsClient {
  constructor({ port, ca, maxSockets = 16, servername = 'localhost' }) {
    this.port = port;
    this.servername = servername;
    this.agent = new https.Agent({ ca, keepAlive: true, maxSockets, servername });
  }

  /** One request; resolves { status, headers, text, json } (rejects on a network error). */
  request(method, path, { body, headers = {}, token, timeout = 30_000, validate = true } = {}) {
    const h = { ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    let payload;
    if (body !== undefined) {
      payload = Buffer.isBuffer(body) || typeof body === 'string' ? body : JSON.stringify(body);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
      h['Content-Length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port: this.port, method, path, headers: h, agent: this.agent, timeout },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const out = { status: res.statusCode, headers: res.headers, text, json: undefined };
            if (text.length && isJsonMediaType(mediaTypeOf(res.headers['content-type']))) {
              try {
                out.json = JSON.parse(text);
              } catch {
                /* reported by the contract check */
              }
            }
            try {
              if (validate) getContract().validateResponse({ method, path, status: out.status, headers: out.headers, text });
            } catch (err) {
              reject(err);
              return;
            }
            resolve(out);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout after ${timeout} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close() {
    this.agent.destroy();
  }
}

/** The value of an unlabelled Prometheus sample in a /metrics text, or undefined. */
export function metric(text, name) {
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
}
