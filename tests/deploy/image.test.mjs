// The container image of docker/Dockerfile, built by tests/deploy/build-image.sh (ctest
// fixture deploy_image), run for real: its lda-api migrates a PostgreSQL on loopback as the
// database owner, serves as the least-privileged login role (member of lda_app only), answers
// /readyz and authenticated calls, serves the pages and their bundles from inside the image,
// passes its own HEALTHCHECK, and stops cleanly on SIGTERM. The image holds no compiler,
// no -dev package and no node, and runs as a non-root user.
//
// `buildah run --isolation chroot --network host` runs the image's own files (no Docker
// engine, and podman cannot run containers on these machines).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import readline from 'node:readline';
import { getContract } from '../lib/contract.mjs';
import {
  Cluster,
  deployDatabase,
  deployDir,
  freePort,
  run,
  sleep,
  TEST_PSEUDONYM_KEY,
} from './_lib.mjs';

const IMAGE = 'localhost/lda-api:test';
const storage = () => [
  '--root',
  join(deployDir(), 'containers', 'storage'),
  '--runroot',
  join(deployDir(), 'containers', 'run'),
];
const buildah = (args, opts) => run('buildah', [...storage(), ...args], opts);
const runArgs = (ctr, env, cmd) => [
  'run',
  '--isolation',
  'chroot',
  '--network',
  'host',
  ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
  ctr,
  '--',
  ...cmd,
];

let cluster;
let dbs;
let ctr;
let config;
const timings = {};

before(async () => {
  let t = Date.now();
  cluster = await Cluster.start('image-pg');
  // Roles and database as compose makes them; the image itself runs the migrations below.
  dbs = await deployDatabase(cluster, 'lda', { migrate: false });
  timings.database_ms = Date.now() - t;
  t = Date.now();
  // working containers an interrupted run left behind (this storage is the deploy tests' own)
  await buildah(['rm', '--all'], { allowFail: true });
  ctr = (await buildah(['from', '--pull-never', '--name', `lda-image-test-${process.pid}`, IMAGE])).stdout.trim();
  const inspected = JSON.parse((await buildah(['inspect', '--type', 'image', IMAGE])).stdout);
  config = inspected.Docker.config;
  timings.container_ms = Date.now() - t;
});

after(async () => {
  if (ctr) await buildah(['rm', ctr], { allowFail: true });
  if (cluster) await cluster.stop();
  const sizeFile = join(deployDir(), 'image-size');
  const size = existsSync(sizeFile) ? readFileSync(sizeFile, 'utf8').trim() : '?';
  console.log(`# image ${IMAGE}: ${size}; timings ${JSON.stringify(timings)}`);
});

test('image_config_runs_as_non_root_with_a_healthcheck', () => {
  assert.match(config.User, /^[1-9][0-9]*(:[1-9][0-9]*)?$/, `User is ${config.User}: not a non-root uid`);
  assert.deepEqual(config.Entrypoint, ['lda-api']);
  assert.deepEqual(config.Cmd, ['serve']);
  assert.equal(config.StopSignal, 'SIGTERM');
  assert.ok(config.ExposedPorts?.['8080/tcp'], 'port 8080 exposed');
  assert.ok(config.Healthcheck?.Test?.length, 'HEALTHCHECK kept (buildah --format docker)');
  assert.match(config.Healthcheck.Test.join(' '), /\/healthz/);
  assert.ok(config.Env.includes('LDA_WEB_DIR=/usr/local/share/lda-api/web'));
});

test('image_holds_runtime_libraries_only', async () => {
  const { stdout } = await buildah(runArgs(ctr, {}, ['dpkg-query', '-W', '-f', '${Package}\\n']));
  const packages = stdout.split('\n').filter(Boolean);
  assert.ok(packages.includes('libulfius2.7') && packages.includes('libpq5'), 'runtime libraries installed');
  const forbidden = packages.filter(
    (p) => /-dev$/.test(p) || /^(gcc(-\d+)?|cpp(-\d+)?|g\+\+(-\d+)?|clang.*|make|cmake|binutils|nodejs|npm)$/.test(p),
  );
  assert.deepEqual(forbidden, [], `build-only packages in the final image: ${forbidden.join(' ')}`);
  // the binary's libraries all resolve inside the image
  const ldd = await buildah(runArgs(ctr, {}, ['ldd', '/usr/local/bin/lda-api']));
  assert.doesNotMatch(ldd.stdout, /not found/);
});

/** PIDs of the processes named `name` below `pid` (the buildah run process tree). */
function descendantsNamed(pid, name) {
  const parent = new Map();
  const comm = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      comm.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
      parent.set(Number(entry), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  const out = [];
  for (const [p, c] of comm) {
    if (c !== name) continue;
    for (let q = parent.get(p); q; q = parent.get(q)) {
      if (q === pid) {
        out.push(p);
        break;
      }
    }
  }
  return out;
}

async function fetchChecked(url, path, opts = {}) {
  const res = await fetch(url + path, { ...opts, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  const headers = Object.fromEntries(res.headers);
  getContract().validateResponse({ method: opts.method ?? 'GET', path, status: res.status, headers, text });
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers, text, json };
}

test('image_migrates_serves_as_lda_api_and_stops_on_sigterm', async () => {
  // migrate and token create: the image's binary, as the database owner
  let t = Date.now();
  const migrate = await buildah(runArgs(ctr, { LDA_DATABASE_URL: dbs.ownerUrl }, ['lda-api', 'migrate']));
  assert.match(migrate.stderr, /"schema up to date"/);
  timings.migrate_ms = Date.now() - t;
  const token = async (...args) =>
    (
      await buildah(
        runArgs(ctr, { LDA_DATABASE_URL: dbs.ownerUrl, LDA_PSEUDONYM_KEY: TEST_PSEUDONYM_KEY }, [
          'lda-api',
          'token',
          'create',
          ...args,
        ]),
      )
    ).stdout.trim();
  const coordinator = await token('--role', 'coordinator', '--name', 'image-test', '--platform', 'artois');
  const analyst = await token('--role', 'analyst', '--name', 'image-test');

  // serve: as lda_api, which may only be lda_app
  const port = await freePort();
  const env = {
    LDA_DATABASE_URL: dbs.appUrl,
    LDA_LISTEN: `127.0.0.1:${port}`,
    LDA_PSEUDONYM_KEY: TEST_PSEUDONYM_KEY,
  };
  t = Date.now();
  const child = spawn('buildah', [...storage(), ...runArgs(ctr, env, ['lda-api', 'serve'])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = [];
  readline.createInterface({ input: child.stderr }).on('line', (l) => logs.push(l));
  readline.createInterface({ input: child.stdout }).on('line', (l) => logs.push(l));
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  try {
    let ready;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(100)) {
      try {
        ready = await fetchChecked(url, '/readyz');
        if (ready.status === 200) break;
      } catch {
        /* not listening yet */
      }
    }
    assert.equal(ready?.status, 200, `/readyz from the image\n${logs.join('\n')}`);
    timings.serve_ready_ms = Date.now() - t;

    const who = await fetchChecked(url, '/v1/households?limit=1', { headers: { Authorization: `Bearer ${coordinator}` } });
    assert.equal(who.status, 200);
    const created = await fetchChecked(url, '/v1/households', {
      method: 'POST',
      headers: { Authorization: `Bearer ${coordinator}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        platform: 'artois',
        composition: 'single_person',
        adults: 1,
        children: 0,
        head: { last_name: 'Image', first_name: 'Test', birth_date: '1990-01-01', sex: 'unknown' },
        housing_situation: 'street',
      }),
    });
    assert.equal(created.status, 201, created.text);
    const read = await fetchChecked(url, `/v1/households/${created.json.id}`, {
      headers: { Authorization: `Bearer ${coordinator}` },
    });
    assert.equal(read.status, 200);
    assert.equal(read.json.head.last_name, 'Image');
    const stats = await fetchChecked(url, '/v1/observatory/youth?from=2024-01-01&to=2024-12-31', {
      headers: { Authorization: `Bearer ${analyst}` },
    });
    assert.equal(stats.status, 200);
    assert.equal((await fetchChecked(url, '/v1/households')).status, 401);

    // the pages and their bundles come from inside the image
    for (const page of ['/docs', '/observatory', '/vendor/swagger-ui-bundle.js', '/vendor/chart.umd.min.js']) {
      const res = await fetchChecked(url, page);
      assert.equal(res.status, 200, page);
      assert.ok(res.text.length > 500, `${page} has content`);
    }

    // the image's own HEALTHCHECK command, run inside it
    const [kind, ...rest] = config.Healthcheck.Test;
    const hcArgs = kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest.join(' ')] : rest;
    const hc = await buildah(runArgs(ctr, { LDA_LISTEN: env.LDA_LISTEN }, hcArgs), { allowFail: true });
    assert.equal(hc.code, 0, `HEALTHCHECK failed: ${hc.stderr}`);

    // what the service's sessions are: lda_app, reached from a login that is nothing else
    const roles = await cluster.sql(
      'lda',
      `SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls,
              array(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                     WHERE m.member = r.oid ORDER BY 1) AS member_of
         FROM pg_roles r WHERE r.rolname = 'lda_api'`,
    );
    assert.deepEqual(roles.rows, [
      { rolname: 'lda_api', rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolbypassrls: false, member_of: ['lda_app'] },
    ]);
    const sessions = await cluster.sql(
      'lda',
      "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = 'lda' AND application_name = 'lda-api'",
    );
    assert.deepEqual(sessions.rows.map((r) => r.usename), ['lda_api']);
  } finally {
    // STOPSIGNAL SIGTERM goes to lda-api itself (PID 1 in a container)
    const pids = descendantsNamed(child.pid, 'lda-api');
    for (const pid of pids) process.kill(pid, 'SIGTERM');
    if (!pids.length) child.kill('SIGKILL');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const exit = await exited;
    clearTimeout(timer);
    assert.equal(pids.length, 1, 'one lda-api process in the container');
    assert.equal(exit.code, 0, `exit after SIGTERM: ${exit.code ?? exit.signal}\n${logs.slice(-20).join('\n')}`);
    assert.ok(logs.some((l) => /"msg":"stopped"/.test(l)), 'the service logged its clean stop');
  }
});
