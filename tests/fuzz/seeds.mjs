#!/usr/bin/env node
// Writes the seed corpus of the libFuzzer targets of tests/fuzz/ (one directory per target)
// and their dictionary, from openapi.yaml's examples and the hand-written seeds of
// tests/fuzz/seeds/. Run by the build (target fuzz_corpus); nothing it writes is committed.
//
//   node tests/fuzz/seeds.mjs openapi.yaml tests/fuzz/seeds OUT_DIR
//
// From the spec: request bodies (each to the target of its operation; batch examples, JSON
// and NDJSON, to `batch` and their records to the record targets), query strings (every
// parameter example of every operation, all at once and one by one), cursors (the examples,
// and cursors encoded like cursor_encode from the ids and sort keys of the response
// examples), problem documents (status, instance, request id, detail, errors). The
// dictionary (OUT_DIR/lda.dict) holds the spec's property names, enumeration codes and query
// parameter names.
//
// A hand-written seeds file (seeds/TARGET.txt) holds blocks, each opened by a line
// `%% NAME` (or `%%x NAME`: \xHH escapes in the block are decoded to bytes); the newline
// that ends a block's last line is not part of it. Lines before the first block are comments.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const [specPath, seedsDir, outDir] = process.argv.slice(2);
if (!specPath || !seedsDir || !outDir) {
  console.error('usage: node seeds.mjs openapi.yaml SEEDS_DIR OUT_DIR');
  process.exit(2);
}

const TARGETS = ['batch', 'cursor', 'household', 'housing', 'measure', 'partner', 'prevention',
  'problem', 'query', 'referral', 'siao_request', 'token', 'transition'];
const corpus = Object.fromEntries(TARGETS.map((t) => [t, new Map()]));
const contents = Object.fromEntries(TARGETS.map((t) => [t, new Set()]));
const add = (target, name, data) => {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(String(data), 'utf8');
  if (contents[target].has(bytes.toString('latin1'))) return; // the same seed twice
  contents[target].add(bytes.toString('latin1'));
  const key = name.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 100);
  let unique = key;
  for (let i = 2; corpus[target].has(unique); i++) unique = `${key}-${i}`;
  corpus[target].set(unique, bytes);
};
const dict = new Set();

// ---- the spec ------------------------------------------------------------------------------
let YAML = null;
try {
  YAML = (await import('yaml')).default;
} catch {
  console.warn('seeds.mjs: the npm package `yaml` is missing (scripts/npm-deps.sh): ' +
    'hand-written seeds only');
}

if (YAML) {
  const doc = YAML.parse(readFileSync(specPath, 'utf8'), { maxAliasCount: -1 });
  const deref = (node) => {
    for (let i = 0; node && typeof node === 'object' && typeof node.$ref === 'string' && i < 20; i++) {
      node = node.$ref.slice(2).split('/').reduce((n, t) => n?.[t.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
    }
    return node;
  };
  const examplesOf = (media) => {
    const out = [];
    if (!media) return out;
    if (media.example !== undefined) out.push(['example', media.example]);
    for (const [name, ex] of Object.entries(media.examples ?? {})) {
      const e = deref(ex);
      if (e?.value !== undefined) out.push([name, e.value]);
    }
    return out;
  };

  const BODY_TARGETS = {
    'post /v1/households': 'household',
    'patch /v1/households/{id}': 'household',
    'post /v1/referrals': 'referral',
    'patch /v1/referrals/{id}': 'referral',
    'post /v1/referrals/{id}/measures': 'measure',
    'patch /v1/measures/{id}': 'measure',
    'post /v1/partners': 'partner',
    'patch /v1/partners/{id}': 'partner',
    'post /v1/referrals/{id}/transitions': 'transition',
    'post /v1/tokens': 'token',
    // targets whose input starts with a byte naming the body (fuzz_prevention.c, fuzz_housing.c)
    'post /v1/prevention-cases': ['prevention', 'c'],
    'patch /v1/prevention-cases/{id}': ['prevention', 'p'],
    'post /v1/prevention-cases/{id}/stages': ['prevention', 's'],
    'post /v1/prevention-cases/{id}/actions': ['prevention', 'a'],
    'patch /v1/prevention-actions/{id}': ['prevention', 'a'],
    'post /v1/prevention-cases/{id}/follow-ups': ['prevention', 'f'],
    'post /v1/prevention-rules': ['prevention', 'r'],
    'patch /v1/prevention-rules/{id}': ['prevention', 'r'],
    'post /v1/housing-offers': ['housing', 'o'],
    'patch /v1/housing-offers/{id}': ['housing', 'o'],
    'post /v1/placements': ['housing', 'p'],
    'patch /v1/placements/{id}': ['housing', 'p'],
    'post /v1/fluidity-meetings': ['housing', 'm'],
    'patch /v1/fluidity-meetings/{id}': ['housing', 'm'],
  };
  const BATCH_KINDS = {
    '/v1/siao-requests/batch': ['s', 'siao_request'],
    '/v1/households/batch': ['h', 'household'],
    '/v1/referrals/batch': ['r', 'referral'],
    '/v1/prevention-cases/batch': ['c', ['prevention', 'c']],
    '/v1/prevention-actions/batch': ['a', ['prevention', 'a']],
    '/v1/prevention-follow-ups/batch': ['f', ['prevention', 'f']],
    '/v1/housing-offers/batch': ['o', ['housing', 'o']],
    '/v1/placements/batch': ['p', ['housing', 'p']],
  };
  /** Adds a body to a target: [target, selector byte] targets get the byte first. */
  const addBody = (target, name, text) => {
    if (Array.isArray(target)) add(target[0], name, `${target[1]}${text}`);
    else add(target, name, text);
  };
  const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
  const pathExample = (path, params) =>
    path.replace(/\{([^}]+)\}/g, (_, name) => {
      const p = params.find((x) => x.in === 'path' && x.name === name);
      return encodeURIComponent(String(p?.example ?? '7c1d9e4b-2a3f-4b8c-8d5e-6f0a1b2c3d4e'));
    });

  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const opName = op.operationId ?? `${method}${path}`;
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map(deref).filter(Boolean);

      // request bodies
      const content = deref(op.requestBody)?.content ?? {};
      const target = BODY_TARGETS[`${method} ${path}`];
      const batch = method === 'post' ? BATCH_KINDS[path] : undefined;
      for (const [type, media] of Object.entries(content)) {
        for (const [exName, value] of examplesOf(media)) {
          const name = `${opName}-${exName}`;
          if (target) {
            addBody(target, name, JSON.stringify(value));
            if (target === 'referral' && value && typeof value.household === 'object')
              add('household', `${name}-household`, JSON.stringify(value.household));
          }
          if (batch) {
            const [k, recordTarget] = batch;
            const ndjson = type === 'application/x-ndjson';
            const text = typeof value === 'string' ? value : JSON.stringify(value);
            add('batch', `${name}-${ndjson ? 'ndjson' : 'json'}`, `${k}${ndjson ? 'n' : 'j'}${text}`);
            add('batch', `${name}-${ndjson ? 'ndjson' : 'json'}-scoped`, `${k}${ndjson ? 'N' : 'J'}${text}`);
            if (Array.isArray(value))
              value.forEach((rec, i) => addBody(recordTarget, `${name}-record${i}`, JSON.stringify(rec)));
          }
        }
      }

      // query strings
      const query = params.filter((p) => p.in === 'query' && p.example !== undefined);
      if (query.length) {
        const base = pathExample(path, params);
        const pair = (p) => {
          const values = Array.isArray(p.example) ? p.example : [p.example];
          return values.map((v) => `${encodeURIComponent(p.name)}=${encodeURIComponent(String(v))}`).join('&');
        };
        add('query', `${opName}-all`, `${base}?${query.map(pair).join('&')}`);
        for (const p of query) add('query', `${opName}-${p.name}`, `${base}?${pair(p)}`);
      }
      for (const p of params) {
        if (p.in === 'query') dict.add(`${p.name}=`);
        if (p.name === 'cursor' && typeof p.example === 'string') add('cursor', `${opName}-param`, p.example);
      }

      // problem documents and response examples
      for (const [status, resp] of Object.entries(op.responses ?? {})) {
        const r = deref(resp);
        for (const [type, media] of Object.entries(r?.content ?? {})) {
          for (const [exName, value] of examplesOf(media)) {
            walk(value, (o) => cursorSeeds(o, `${opName}-${status}-${exName}`));
            if (type !== 'application/problem+json' || !value || typeof value !== 'object') continue;
            const { type: _t, title: _ti, status: st, detail, instance, request_id: rid, errors, ...extra } = value;
            const head = `${st ?? status}\n${instance ?? pathExample(path, params)}\n${rid ?? ''}\n${detail ?? ''}\n`;
            add('problem', `${opName}-${status}-${exName}`, head + (errors ? JSON.stringify(errors) : ''));
            if (Object.keys(extra).length) add('problem', `${opName}-${status}-${exName}-extra`, head + JSON.stringify(extra));
          }
        }
      }
    }
  }
  for (const ex of Object.values(doc.components?.examples ?? {}))
    walk(deref(ex)?.value, (o) => cursorSeeds(o, 'component-example'));

  // the dictionary: property names and enumeration codes, as JSON strings
  walk(doc.components?.schemas ?? {}, (o) => {
    for (const k of Object.keys(o.properties ?? {})) dict.add(JSON.stringify(k));
    for (const v of o.enum ?? []) if (typeof v === 'string') dict.add(JSON.stringify(v));
  });
}

function walk(value, visit) {
  if (Array.isArray(value)) value.forEach((v) => walk(v, visit));
  else if (value && typeof value === 'object') {
    visit(value);
    Object.values(value).forEach((v) => walk(v, visit));
  }
}

// cursors as cursor_encode makes them: base64url (no padding) of the compact JSON [key, id]
function cursorSeeds(o, name) {
  if (typeof o.next_cursor === 'string') add('cursor', `${name}-next`, o.next_cursor);
  if (typeof o.id !== 'string') return;
  for (const k of ['updated_at', 'created_at', 'started_on', 'name']) {
    if (typeof o[k] === 'string')
      add('cursor', `${name}-${k}`, Buffer.from(JSON.stringify([o[k], o.id])).toString('base64url'));
  }
}

// ---- hand-written seeds --------------------------------------------------------------------
const unescape = (text) => {
  const bytes = [];
  for (let i = 0; i < text.length;) {
    const m = /^\\x([0-9a-fA-F]{2})/.exec(text.slice(i, i + 4));
    if (m) {
      bytes.push(Buffer.from([parseInt(m[1], 16)]));
      i += 4;
    } else {
      const cp = text.codePointAt(i);
      const ch = String.fromCodePoint(cp);
      bytes.push(Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
  }
  return Buffer.concat(bytes);
};
for (const file of existsSync(seedsDir) ? readdirSync(seedsDir) : []) {
  if (!file.endsWith('.txt')) continue;
  const target = basename(file, '.txt');
  if (!corpus[target]) {
    console.error(`seeds.mjs: ${file}: no fuzz target ${target}`);
    process.exit(1);
  }
  let current = null;
  const blocks = [];
  for (const line of readFileSync(join(seedsDir, file), 'utf8').split('\n')) {
    const m = /^%%(x?) (.+)$/.exec(line);
    if (m) blocks.push((current = { hex: m[1] === 'x', name: m[2].trim(), lines: [] }));
    else if (current) current.lines.push(line);
  }
  for (const b of blocks) {
    while (b.lines.length && b.lines[b.lines.length - 1] === '') b.lines.pop();
    const text = b.lines.join('\n');
    add(target, `hand-${b.name}`, b.hex ? unescape(text) : text);
  }
}

// ---- write ---------------------------------------------------------------------------------
mkdirSync(outDir, { recursive: true });
let total = 0;
for (const t of TARGETS) {
  const dir = join(outDir, t);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of corpus[t]) writeFileSync(join(dir, name), bytes);
  total += corpus[t].size;
}
const esc = (s) => [...Buffer.from(s, 'utf8')]
  .map((b) => (b === 0x22 || b === 0x5c ? `\\${String.fromCharCode(b)}` : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`))
  .join('');
writeFileSync(join(outDir, 'lda.dict'), [...dict].sort().map((w) => `"${esc(w)}"`).join('\n') + '\n');
writeFileSync(join(outDir, '.stamp'), '');
console.log(`seeds.mjs: ${total} seeds for ${TARGETS.length} targets in ${outDir} ` +
  `(${TARGETS.map((t) => `${t} ${corpus[t].size}`).join(', ')}); dictionary: ${dict.size} words`);
