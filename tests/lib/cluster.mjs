// A private PostgreSQL cluster that a test may stop, crash and restart (the shared test
// cluster serves other tests in parallel and must stay up), and a Service (service.mjs) over a
// fresh database of it.
//
//   const cluster = await new PrivateCluster().start();
//   const svc = await startPrivateService(cluster, { LDA_RATE_LIMIT_RPS: '0' });
//   await cluster.crash(); await cluster.start();
//   await svc.stop(); await cluster.destroy();
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Service } from './service.mjs';
import { sourceDir } from './contract.mjs';

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
      this.workDir = mkdtempSync(join(tmpdir(), 'lda-cluster-'));
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
 * A Service (service.mjs) over a fresh database of a private cluster:
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
