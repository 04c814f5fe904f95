// docker/compose.yaml stays valid for people who have Docker (no Docker engine runs where
// the tests run): parsed as Compose parses it (YAML 1.1 merge keys), and checked against what
// the other deploy tests build and run: the same Dockerfile (image.test.mjs), the roles
// script (every deploy test makes its database with it), the nginx template (proxy.test.mjs),
// and the service's own list of settings (`lda-api --help`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { sourceDir } from '../lib/contract.mjs';
import { runBinary } from '../lib/service.mjs';

const DOCKER = join(sourceDir(), 'docker');
const text = readFileSync(join(DOCKER, 'compose.yaml'), 'utf8');
const doc = YAML.parseDocument(text, { merge: true, version: '1.1' });
const compose = doc.toJS({ maxAliasCount: 100 });
const services = compose.services;
const apis = ['api-1', 'api-2'];
const USES_IMAGE = ['migrate', ...apis];

/** Compose-style: a URL's parts, with ${VAR:?...} / ${VAR:-...} left as written. */
function urlParts(url) {
  const m = url.match(/^postgresql:\/\/([^:]+):(.+)@([^:/]+):(\d+)\/(\w+)$/);
  assert.ok(m, `not a libpq URL: ${url}`);
  return { user: m[1], password: m[2], host: m[3], port: m[4], db: m[5] };
}

test('compose_parses_with_no_error', () => {
  assert.deepEqual(doc.errors, []);
  assert.deepEqual(doc.warnings, []);
  assert.deepEqual(Object.keys(services).sort(), ['api-1', 'api-2', 'db', 'migrate', 'proxy']);
  for (const [name, s] of Object.entries(services)) {
    assert.ok(s.image, `${name} names its image`);
    for (const d of Object.keys(s.depends_on ?? {})) assert.ok(services[d], `${name} depends on ${d}, which exists`);
  }
  for (const v of services.db.volumes) {
    const [source] = v.split(':');
    if (!source.startsWith('.')) assert.ok(source in (compose.volumes ?? {}), `volume ${source} is declared`);
  }
});

test('compose_builds_the_dockerfile_the_tests_build_and_run', () => {
  for (const name of USES_IMAGE) {
    const s = services[name];
    assert.equal(s.image, 'lda-api:local');
    assert.equal(resolve(DOCKER, s.build.context), sourceDir(), `${name}: the repository root is the context`);
    assert.equal(s.build.dockerfile, 'docker/Dockerfile');
  }
  assert.ok(existsSync(join(sourceDir(), 'docker', 'Dockerfile')));
  assert.deepEqual(services.migrate.command, ['migrate']);
  for (const name of apis) {
    assert.deepEqual(services[name].command, ['serve']);
    // the image's HEALTHCHECK reads LDA_LISTEN's port; the proxy reaches that port
    assert.equal(services[name].environment.LDA_LISTEN, '0.0.0.0:8080');
    assert.equal(services.proxy.depends_on[name].condition, 'service_healthy');
    assert.equal(services[name].depends_on.migrate.condition, 'service_completed_successfully');
    assert.equal(services[name].ports, undefined, `${name} publishes no port: only the proxy does`);
  }
});

test('compose_logs_the_api_in_as_lda_api_and_migrates_as_lda_owner', () => {
  const roles = readFileSync(join(DOCKER, 'initdb', '10-lda-roles.sh'), 'utf8');
  assert.ok(statSync(join(DOCKER, 'initdb', '10-lda-roles.sh')).mode & 0o111, 'the roles script is executable');
  assert.ok(services.db.volumes.includes('./initdb:/docker-entrypoint-initdb.d:ro'));
  for (const v of ['POSTGRES_DB', 'LDA_OWNER_PASSWORD', 'LDA_APP_PASSWORD']) {
    assert.ok(services.db.environment[v], `db sets ${v} for the roles script`);
    assert.match(roles, new RegExp(`\\$\\{${v}:\\?\\}`), `the roles script requires ${v}`);
  }
  assert.match(roles, /CREATE ROLE lda_api LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS\s+PASSWORD :'app_password' IN ROLE lda_app;/);
  assert.match(roles, /CREATE ROLE lda_owner LOGIN NOSUPERUSER/);
  const db = services.db.environment.POSTGRES_DB;
  const owner = urlParts(services.migrate.environment.LDA_DATABASE_URL);
  assert.deepEqual([owner.user, owner.host, owner.db], ['lda_owner', 'db', db]);
  assert.equal(owner.password, services.db.environment.LDA_OWNER_PASSWORD);
  for (const name of apis) {
    const app = urlParts(services[name].environment.LDA_DATABASE_URL);
    assert.deepEqual([app.user, app.host, app.db], ['lda_api', 'db', db]);
    assert.equal(app.password, services.db.environment.LDA_APP_PASSWORD);
  }
});

test('compose_sets_only_settings_the_service_knows', async () => {
  const help = await runBinary(['--help'], { timeout: 30_000 });
  const known = new Set([...(help.stdout + help.stderr).matchAll(/^\s+(LDA_[A-Z0-9_]+)\s/gm)].map((m) => m[1]));
  assert.ok(known.has('LDA_DATABASE_URL') && known.has('LDA_LISTEN'));
  for (const name of USES_IMAGE) {
    for (const v of Object.keys(services[name].environment)) {
      assert.ok(known.has(v), `${name}: ${v} is not a setting of lda-api`);
    }
  }
  // every substitution is either required (:?) or has a default (:-): none is silently empty
  for (const m of text.matchAll(/\$\{([A-Z0-9_]+)([^}]*)\}/g)) {
    assert.match(m[2], /^(:\?|:-)/, `\${${m[1]}} has neither a default nor a required message`);
  }
});

test('compose_proxy_renders_the_template_the_proxy_test_runs', () => {
  const p = services.proxy;
  const mount = p.volumes.find((v) => v.includes('/etc/nginx/templates/'));
  assert.ok(mount, 'the template is mounted where the nginx image renders templates');
  const [source, target] = mount.split(':');
  assert.equal(resolve(DOCKER, source), join(DOCKER, 'nginx', 'lda-api.conf.template'));
  assert.match(target, /\.template$/);
  const template = readFileSync(join(DOCKER, 'nginx', 'lda-api.conf.template'), 'utf8');
  const needed = new Set([...template.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]));
  assert.ok(needed.size >= 6);
  for (const v of needed) assert.ok(p.environment[v] !== undefined, `proxy: ${v} is set for the template`);
  assert.deepEqual([p.environment.LDA_UPSTREAM_1, p.environment.LDA_UPSTREAM_2], apis.map((a) => `${a}:8080`));
  for (const port of p.ports) assert.match(port, /^127\.0\.0\.1:\d+:443$/, 'published on the host loopback');
  assert.ok(p.volumes.some((v) => v.startsWith('./tls:')));
  assert.match(p.image, /^nginx:1\.22/);
});
