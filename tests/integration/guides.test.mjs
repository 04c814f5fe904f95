// The developer guides (docs/guides/*.md) stay true: every block fenced as ```sh test is run
// with `bash -euo pipefail` against a service loaded with the demo data, and must exit 0.
//
// The blocks see only these variables (the guides say so at the top):
//   LDA_URL             the service's base URL (started with LDA_CORS_ORIGINS=https://app.example.org)
//   TOKEN_ADMIN         admin
//   TOKEN_COORDINATOR   coordinator of artois and lens_henin
//   TOKEN_PARTNER       partner of artois
//   TOKEN_SIAO          siao of artois, source siao62
//   TOKEN_ANALYST       analyst
//   LDA_BI_URL          libpq URL of a login role in lda_bi (reads the reporting views only)
//   RECEIVER_PORT       a free port on 127.0.0.1 whose origin the service allows for webhooks
// Blocks of one guide run in order, in one scratch directory, each in a fresh bash.
//
// What is not run is checked too: every statistics request written elsewhere in the guides and
// in the README (plain ```sh blocks, text) asks a question of the statistics grid (whole
// months, one platform or one AMI or all, an age band: docs/statistics.md), and the BI guide
// documents exactly the views the database has in `reporting` and `research`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, startService, superuserUrl } from '../lib/service.mjs';
import { sourceDir } from '../lib/contract.mjs';
import { gridProblems } from '../lib/stats-grid.mjs';

const GUIDES_DIR = join(sourceDir(), 'docs', 'guides');
const REQUIRED_GUIDES = ['frontend.md', 'siao-integration.md', 'bi-analysts.md', 'webhooks.md'];
const CORS_ORIGIN = 'https://app.example.org';
const ALLOWED_VARS = new Set([
  'LDA_URL',
  'TOKEN_ADMIN',
  'TOKEN_COORDINATOR',
  'TOKEN_PARTNER',
  'TOKEN_SIAO',
  'TOKEN_ANALYST',
  'LDA_BI_URL',
  'RECEIVER_PORT',
  // bash's own
  'BASH_REMATCH',
  'PIPESTATUS',
]);
const BLOCK_TIMEOUT_MS = 60_000;

/** The ```sh test blocks of a Markdown file: [{ line, code }] (line: of the opening fence). */
export function testBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    if (!/^```sh test\s*$/.test(lines[i])) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end += 1;
    assert.ok(end < lines.length, `a \`\`\`sh test block opened at line ${i + 1} is never closed`);
    blocks.push({ line: i + 1, code: lines.slice(start, end).join('\n') + '\n' });
    i = end;
  }
  return blocks;
}

/** Upper-case variables a block refers to ($NAME or ${NAME...}). */
function variablesOf(code) {
  const names = new Set();
  for (const m of code.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)) names.add(m[1]);
  return [...names];
}

const guides = (() => {
  const files = readdirSync(GUIDES_DIR).filter((f) => f.endsWith('.md')).sort();
  return files.map((file) => ({ file, blocks: testBlocks(readFileSync(join(GUIDES_DIR, file), 'utf8')) }));
})();

function runBlock(code, env, cwd) {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', code], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      out += `\n[guides.test] no exit after ${BLOCK_TIMEOUT_MS} ms: SIGKILL`;
      child.kill('SIGKILL');
    }, BLOCK_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

let svc;
let blockEnv;
let biRole;
const scratch = mkdtempSync(join(tmpdir(), 'lda-guides-'));

let receiverPort;

before(async () => {
  receiverPort = await freePort();
  svc = await startService({
    env: { LDA_CORS_ORIGINS: CORS_ORIGIN, LDA_WEBHOOK_ALLOW: `http://127.0.0.1:${receiverPort}` },
  });
  const seeded = await svc.runCli(['seed-demo'], { timeout: 300_000 });
  assert.equal(seeded.code, 0, `lda-api seed-demo exited ${seeded.code ?? seeded.signal}\n${seeded.stderr}`);

  const [admin, coordinator, partner, siao, analyst] = await Promise.all([
    svc.createToken('admin', { name: 'guides-admin' }),
    svc.createToken('coordinator', { platforms: ['artois', 'lens_henin'], name: 'guides-coordinator' }),
    svc.createToken('partner', { platforms: ['artois'], name: 'guides-partner' }),
    svc.createToken('siao', { platforms: ['artois'], source: 'siao62', name: 'guides-siao' }),
    svc.createToken('analyst', { name: 'guides-analyst' }),
  ]);

  // A BI login role, as the BI guide tells the DBA to create (roles are cluster-wide: unique name).
  biRole = `bi_guides_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  await svc.sql(`CREATE ROLE ${biRole} LOGIN PASSWORD '${password}' IN ROLE lda_bi`);
  const biUrl = new URL(svc.dbUrl);
  biUrl.username = biRole;
  biUrl.password = password;

  blockEnv = {
    PATH: process.env.PATH,
    HOME: scratch,
    TMPDIR: scratch,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    PGCONNECT_TIMEOUT: '10',
    PSQLRC: '/dev/null',
    LDA_URL: svc.url,
    TOKEN_ADMIN: admin,
    TOKEN_COORDINATOR: coordinator,
    TOKEN_PARTNER: partner,
    TOKEN_SIAO: siao,
    TOKEN_ANALYST: analyst,
    LDA_BI_URL: biUrl.toString(),
    RECEIVER_PORT: String(receiverPort),
  };
});

after(async () => {
  try {
    await svc?.stop();
  } finally {
    if (biRole) {
      const c = new pg.Client({ connectionString: superuserUrl() });
      await c.connect();
      await c.query(`DROP ROLE IF EXISTS ${biRole}`).finally(() => c.end());
    }
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('the_guides_exist_and_each_has_tested_blocks', () => {
  for (const name of REQUIRED_GUIDES) {
    const guide = guides.find((g) => g.file === name);
    assert.ok(guide, `docs/guides/${name} is missing`);
    assert.ok(guide.blocks.length >= 3, `docs/guides/${name}: only ${guide.blocks.length} \`\`\`sh test block(s)`);
  }
});

test('blocks_use_only_the_documented_variables', () => {
  for (const { file, blocks } of guides) {
    for (const { line, code } of blocks) {
      const unknown = variablesOf(code).filter((v) => !ALLOWED_VARS.has(v));
      assert.deepEqual(unknown, [], `docs/guides/${file}:${line}: undocumented variable(s) ${unknown.join(', ')}`);
    }
  }
});

/** The Markdown without its ```sh test blocks (those are run, so checked by their answers). */
function withoutTestBlocks(markdown) {
  return markdown.replace(/^```sh test\s*\n[\s\S]*?^```\s*$/gm, '');
}

/** Every statistics request (path and query) written in a text: [{ path, query }]. */
export function statisticsRequests(text) {
  const out = [];
  for (const m of text.matchAll(/\/v1\/(?:stats\/(?:activity|prevention|housing|outcomes)|observatory\/youth(?:\/series)?)(?:\?([^\s'"`)<>\\]*))?/g)) {
    out.push({ path: m[0].split('?')[0], query: m[1] ?? '' });
  }
  return out;
}

test('statistics_requests_outside_the_tested_blocks_ask_grid_questions', () => {
  const texts = [['README.md', readFileSync(join(sourceDir(), 'README.md'), 'utf8')]];
  for (const { file } of guides) texts.push([`docs/guides/${file}`, withoutTestBlocks(readFileSync(join(GUIDES_DIR, file), 'utf8'))]);
  let seen = 0;
  for (const [name, text] of texts) {
    for (const { path, query } of statisticsRequests(text)) {
      if (!query) continue;
      seen += 1;
      assert.deepEqual(gridProblems(new URLSearchParams(query)), [], `${name}: ${path}?${query}`);
    }
  }
  assert.ok(seen >= 3, `only ${seen} statistics requests found outside the tested blocks`);
});

test('the_bi_guide_documents_exactly_the_reporting_and_research_views', async () => {
  const { rows } = await svc.sql(
    "SELECT table_schema || '.' || table_name AS name FROM information_schema.views WHERE table_schema IN ('reporting', 'research') ORDER BY 1",
  );
  const inDatabase = rows.map((r) => r.name);
  const guide = readFileSync(join(GUIDES_DIR, 'bi-analysts.md'), 'utf8');
  const inGuide = [...new Set([...guide.matchAll(/\b(reporting|research)\.([a-z_]+)\b/g)].map((m) => `${m[1]}.${m[2]}`))].sort();
  assert.deepEqual(inGuide, inDatabase, 'docs/guides/bi-analysts.md names these views; the database has those');
});

for (const { file, blocks } of guides) {
  describe(`docs/guides/${file}`, () => {
    const cwd = join(scratch, file.replace(/\.md$/, ''));
    before(() => mkdirSync(cwd, { recursive: true }));
    for (const { line, code } of blocks) {
      test(`block at line ${line}`, async () => {
        const r = await runBlock(code, blockEnv, cwd);
        assert.ok(
          r.code === 0,
          `docs/guides/${file}:${line}: the block exited ${r.code ?? r.signal}\n--- block ---\n${code}--- output ---\n${r.out}`,
        );
      });
    }
  });
}
