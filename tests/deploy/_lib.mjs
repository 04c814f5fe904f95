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
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import https from 'node:https';
import { join } from 'node:path';
import readline from 'node:readline';
import assert from 'node:assert/strict';
import pg from 'pg';
import { sourceDir, getContract, isJsonMediaType, mediaTypeOf } from '../lib/contract.mjs';
import { runBinary, binaryPath, freePort, TEST_PSEUDONYM_KEY } from '../lib/service.mjs';

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
 * One `lda-api serve` process on a fixed loopback port (so that a proxy can find it again
 * after a restart), logging in with `url`. logs: its stderr lines.
 */
export class Instance {
  constructor({ url, port, env = {}, name = 'instance' }) {
    this.dbUrl = url;
    this.port = port;
    this.env = env;
    this.name = name;
    this.url = `http://127.0.0.1:${port}`;
    this.logs = [];
    this.child = null;
    this.exited = null;
  }

  static async start(opts) {
    const inst = new Instance({ ...opts, port: opts.port ?? (await freePort()) });
    await inst.start();
    return inst;
  }

  async start(env = {}) {
    assert.equal(this.child, null, `${this.name} is already running`);
    const full = {
      LDA_DATABASE_URL: this.dbUrl,
      LDA_LISTEN: `127.0.0.1:${this.port}`,
      LDA_PSEUDONYM_KEY: TEST_PSEUDONYM_KEY,
      LDA_STATEMENT_TIMEOUT_MS: '30000',
      ...this.env,
      ...env,
    };
    const childEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LDA_')) childEnv[k] = v;
    Object.assign(childEnv, full);
    const child = spawn(binaryPath(), ['serve'], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    live.add(child);
    this.exited = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        live.delete(child);
        resolve({ code, signal });
      }),
    );
    readline.createInterface({ input: child.stderr }).on('line', (l) => this.logs.push(l));
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(50)) {
      const done = await Promise.race([this.exited, sleep(0).then(() => null)]);
      if (done) throw new Error(`${this.name} exited (${done.code ?? done.signal})\n${this.logs.slice(-20).join('\n')}`);
      try {
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) return this;
      } catch {
        /* not listening yet */
      }
    }
    throw new Error(`${this.name}: /readyz not 200 after 60 s\n${this.logs.slice(-20).join('\n')}`);
  }

  /** Sends signal and waits for the exit: { code, signal }. */
  async kill(signal = 'SIGTERM') {
    const child = this.child;
    if (!child) return null;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const exit = await this.exited;
    clearTimeout(timer);
    this.child = null;
    return exit;
  }

  /** SIGTERM; asserts a clean exit. */
  async stop() {
    if (!this.child) return;
    const exit = await this.kill('SIGTERM');
    assert.ok(exit && exit.code === 0, `${this.name}: exit ${exit?.code ?? exit?.signal} after SIGTERM`);
  }

  /** True when its log holds a request line with this request id. */
  served(requestId) {
    return this.logs.some((l) => l.includes(`"request_id":"${requestId}"`));
  }
}

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
});

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

/**
 * Debian's nginx with docker/nginx/lda-api.conf.template rendered for two upstreams, TLS
 * on 127.0.0.1:port with a self-signed certificate made here by openssl. Runs as `nobody`
 * when the tests run as root (nginx never needs root on a high port), in a private folder.
 * ca: the certificate (PEM) to trust; accessLog(): the parsed access log lines.
 */
export class Proxy {
  static async start({ upstreams }) {
    const dir = mkdtempSync(join(tmpdir(), 'lda-proxy-'));
    chmodSync(dir, 0o755);
    const p = new Proxy(dir, await freePort());
    await p.#prepare(upstreams);
    await p.start();
    return p;
  }

  constructor(dir, port) {
    this.dir = dir;
    this.port = port;
    this.child = null;
    this.output = [];
  }

  async #prepare(upstreams) {
    const d = this.dir;
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(d, 'key.pem'), '-out', join(d, 'cert.pem'), '-days', '2',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ]);
    this.ca = readFileSync(join(d, 'cert.pem'), 'utf8');
    const values = {
      LDA_PROXY_LISTEN: `127.0.0.1:${this.port}`,
      LDA_PROXY_SERVER_NAME: 'localhost',
      LDA_TLS_CERTIFICATE: join(d, 'cert.pem'),
      LDA_TLS_CERTIFICATE_KEY: join(d, 'key.pem'),
      LDA_UPSTREAM_1: upstreams[0],
      LDA_UPSTREAM_2: upstreams[1],
      LDA_PROXY_ACCESS_LOG: join(d, 'access.log'),
      LDA_PROXY_ERROR_LOG: join(d, 'error.log'),
    };
    this.conf = renderTemplate(readFileSync(join(sourceDir(), 'docker', 'nginx', 'lda-api.conf.template'), 'utf8'), values);
    writeFileSync(join(d, 'lda-api.conf'), this.conf);
    for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(d, 'tmp', t), { recursive: true });
    // What the official nginx image's nginx.conf does around conf.d/, with private paths.
    writeFileSync(
      join(d, 'nginx.conf'),
      `worker_processes 1;
pid ${d}/nginx.pid;
error_log ${d}/error.log warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log off;
    client_body_temp_path ${d}/tmp/body;
    proxy_temp_path ${d}/tmp/proxy;
    fastcgi_temp_path ${d}/tmp/fastcgi;
    uwsgi_temp_path ${d}/tmp/uwsgi;
    scgi_temp_path ${d}/tmp/scgi;
    include ${d}/lda-api.conf;
}
`,
    );
    if (process.getuid() === 0) await run('chown', ['-R', 'nobody:nogroup', d]);
  }

  #command(...args) {
    const nginx = ['/usr/sbin/nginx', '-p', this.dir, '-c', join(this.dir, 'nginx.conf'), '-e', join(this.dir, 'error.log'), ...args];
    // setpriv execs nginx as nobody: the child is nginx's master process itself
    return process.getuid() === 0
      ? ['setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', ...nginx]]
      : [nginx[0], nginx.slice(1)];
  }

  /** `nginx -t` on the rendered configuration, then nginx in the foreground. */
  async start() {
    const [cmd, args] = this.#command('-t');
    await run(cmd, args);
    const [cmd2, args2] = this.#command('-g', 'daemon off;');
    const child = spawn(cmd2, args2, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    child.stdout.on('data', (c) => this.output.push(String(c)));
    child.stderr.on('data', (c) => this.output.push(String(c)));
    this.exited = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        live.delete(child);
        resolve({ code, signal });
      }),
    );
    const client = this.client({ maxSockets: 1 });
    try {
      for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
        try {
          const res = await client.request('GET', '/healthz');
          if (res.status === 200) return this;
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`nginx did not answer: ${err.message}\n${this.output.join('')}`);
        }
      }
    } finally {
      client.close();
    }
  }

  client(opts = {}) {
    return new HttpsClient({ port: this.port, ca: this.ca, ...opts });
  }

  /** The access log as objects (one JSON object a line). */
  accessLog() {
    const file = join(this.dir, 'access.log');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  }

  /** Graceful stop (SIGQUIT), then the folder goes. */
  async stop() {
    if (this.child) {
      this.child.kill('SIGQUIT');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), 15_000);
      await this.exited;
      clearTimeout(timer);
      this.child = null;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Replaces ${NAME} with values[NAME]; every ${...} must have a value. */
export function renderTemplate(text, values) {
  const out = text.replace(/\$\{([A-Z0-9_]+)\}/g, (m, name) => {
    assert.ok(name in values, `the template needs ${name}`);
    return values[name];
  });
  const left = out.match(/\$\{[^}]*\}?/);
  assert.ok(!left, `the template holds ${left?.[0]}, which the renderer does not know`);
  return out;
}

/**
 * A plain-HTTP client of one instance (url), every answer checked against openapi.yaml:
 * api(method, path, { token, body, headers }) resolves { status, headers, text, json }.
 */
export function httpApi(url) {
  return async (method, path, { token, body, headers = {}, validate = true } = {}) => {
    const h = { ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    if (body !== undefined) h['Content-Type'] = 'application/json';
    const res = await fetch(url + path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    const out = { status: res.status, headers: Object.fromEntries(res.headers), text, json: undefined };
    if (text.length && isJsonMediaType(mediaTypeOf(out.headers['content-type']))) out.json = JSON.parse(text);
    if (validate) getContract().validateResponse({ method, path, status: out.status, headers: out.headers, text });
    return out;
  };
}
