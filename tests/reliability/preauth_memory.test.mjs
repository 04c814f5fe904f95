// Memory before authentication: what a client without a token can make the service hold.
//
// The service answers a request from its headers, before reading any of its body, when it
// refuses it (no token, a bad token, a role the route does not allow, a body announced over
// the route's limit): the body is never read and the connection is closed after the answer.
// An accepted request keeps at most its route's limit of body. So the memory an unauthenticated
// client can pin is its connections' share of libmicrohttpd's per-connection memory (64 KiB),
// never a body.
//
//   1. 1 000 connections with no token, from eight addresses, each announcing a 32 MiB body
//      (Content-Length, and chunked) to the batch and single-record routes and sending it as
//      fast as the service takes it, while a real client keeps reading and writing with a
//      token: peak RSS, the real client's p99, errors and 5xx printed. Asserted: the RSS stays
//      under RSS_BOUND_MIB (plain build) and grows by less than GROWTH_BOUND_MIB over the
//      service's resting size (both builds); the real client gets no error and no 5xx; every
//      attacker was refused without its body being read.
//   2. Refusals come before the body: 401, 403 and 413 answered to a request that has sent
//      its headers and not one byte of its announced body.
//   3. LDA_BATCH_LISTEN: on the main listener a batch route takes 1 MiB (413 before the body
//      beyond), on the batch listener LDA_MAX_BATCH_BYTES.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService, freePort } from '../lib/service.mjs';
import { SANITIZED, SLOWDOWN, describeClient, floodInWorker, memKb, mib, realClient, rssSampler } from '../lib/load.mjs';
import { sleep } from '../lib/wait.mjs';
import { recentSiaoRecords } from '../lib/data.mjs';
import { rawUpload, request } from '../lib/http.mjs';

// Resident memory the service may reach during the flood (plain build): its resting size
// (~15 MiB) plus the real client's work, plus 1 000 connections' buffers; a body of the
// flood kept in memory would be 32 MiB on its own.
const RSS_BOUND_MIB = 160;
// What the flood may add to the resting size, on both builds (AddressSanitizer's own
// overhead is in the resting size, not in the growth).
const GROWTH_BOUND_MIB = SANITIZED ? 192 : 96;
const FLOOD = 1000;
const BODY = 32 << 20;

describe('memory before authentication', () => {
  let svc;
  let tok;

  before(async () => {
    svc = await startService({ env: { LDA_RATE_LIMIT_RPS: '0' } });
    tok = {
      admin: await svc.createToken('admin'),
      siao: await svc.createToken('siao', { platforms: ['artois', 'lens_henin'], source: 'preauth' }),
      analyst: await svc.createToken('analyst'),
    };
  });

  after(async () => {
    await svc?.stop();
  });

  test('1 000 connections with no token sending 32 MiB bodies: bounded memory, a real client served', async (t) => {
    // warm the service up, then take its resting size
    for (let i = 0; i < 20; i += 1) await request(svc.url, 'GET', '/v1/households?limit=5', { settle: true, token: tok.admin });
    await sleep(300);
    const rest = memKb(svc.child.pid).rss;
    const sampler = rssSampler(svc.child.pid);
    let n = 0;
    const client = realClient(svc.port, {
      clients: 2,
      pick: (i) =>
        i % 3 === 0
          ? { path: '/v1/households?limit=5', token: tok.admin }
          : i % 3 === 1
            ? { path: '/v1/platforms' }
            : { method: 'POST', path: '/v1/siao-requests/batch', token: tok.siao, body: recentSiaoRecords(`real-${n++}`, 5) },
    });
    const targets = ['/v1/siao-requests/batch', '/v1/households/batch', '/v1/referrals', '/v1/partners'];
    const t0 = Date.now();
    const jobs = Array.from({ length: FLOOD }, (_, i) => ({
      path: targets[i % targets.length],
      headers: { 'Content-Type': 'application/json' },
      total: BODY,
      chunked: i % 5 === 4,
      piece: 256 * 1024,
      localAddress: `127.0.0.${2 + (i % 8)}`,
      timeout: 60_000 * SLOWDOWN,
    }));
    const results = await floodInWorker(svc.port, jobs, 250);
    const floodMs = Date.now() - t0;
    await sleep(200);
    const real = await client.stop();
    const { peakKb } = sampler.stop();
    const after = memKb(svc.child.pid);
    const byStatus = {};
    for (const r of results) {
      const k = r.status ? String(r.status) : `error:${r.error}`;
      byStatus[k] = (byStatus[k] ?? 0) + 1;
    }
    const sentMax = Math.max(...results.map((r) => r.sent));
    const sentTotal = results.reduce((a, r) => a + r.sent, 0);
    t.diagnostic(
      `tried: ${FLOOD} connections without a token from 127.0.0.2-9, each announcing ${BODY >> 20} MiB (every fifth chunked) to ${targets.join(', ')}, 250 at a time, in ${floodMs} ms; ` +
        `a real client (2 kept-alive connections: households list with a token, platforms, SIAO batches of 5) meanwhile\n` +
        `held: answers ${JSON.stringify(byStatus)}; the flood wrote ${mib(sentTotal / 1024)} MiB in all (at most ${mib(sentMax / 1024)} MiB on one connection, into socket buffers: the service read none of it); ` +
        `service RSS at rest ${mib(rest)} MiB, peak ${mib(peakKb)} MiB (bound ${SANITIZED ? 'n/a (sanitizer)' : `${RSS_BOUND_MIB} MiB`}; growth ${mib(peakKb - rest)} MiB, bound ${GROWTH_BOUND_MIB} MiB), after ${mib(after.rss)} MiB; ` +
        `real client: ${describeClient(real)}`,
    );
    assert.equal(real.fiveXX, 0, `real client 5xx: ${real.samples.join(' | ')}`);
    assert.equal(real.errors, 0, `real client errors: ${real.samples.join(' | ')}`);
    assert.ok(real.count > 0, 'the real client was served');
    assert.ok(peakKb - rest < GROWTH_BOUND_MIB * 1024, `RSS grew by ${mib(peakKb - rest)} MiB`);
    if (!SANITIZED) assert.ok(peakKb < RSS_BOUND_MIB * 1024, `peak RSS ${mib(peakKb)} MiB`);
    // every flood connection was refused from its headers (401 no token; 413 first, for a
    // single-record route, whose limit the announced body is over) or cut while sending:
    // never a 2xx, never a 5xx
    for (const r of results) {
      assert.ok(r.status === 401 || r.status === 413 || r.status === 0, `a flood connection got ${r.status}`);
    }
    assert.equal(svc.exit, null, 'the service is running');
  });

  test('refusals come before the body: 401, 403 and 413 to requests that sent none of their body', async (t) => {
    // Answered from the headers, the body never sent: a body announced over 4 MiB without a
    // valid token (48 MiB with one), or any body of a client that waits for "100 Continue"
    // (curl does, for large bodies). Below that, a client that sends its body without waiting
    // has it read and discarded first (a connection closed with unread data is reset, and the
    // answer could be lost).
    const cases = [
      { what: 'no token, 32 MiB to a batch route', path: '/v1/siao-requests/batch', headers: {}, expect: 401 },
      { what: 'no token, 5 MiB to a single-record route', path: '/v1/referrals', headers: {}, expect: 401, size: 5 << 20 },
      { what: 'no token, 4 KiB with Expect: 100-continue', path: '/v1/partners', headers: { Expect: '100-continue' }, expect: 401, size: 4096 },
      { what: 'a malformed token, Expect: 100-continue', path: '/v1/referrals', headers: { Authorization: 'Bearer nope', Expect: '100-continue' }, expect: 401, size: 4096 },
      { what: 'an analyst, 64 MiB to a batch route', path: '/v1/siao-requests/batch', headers: { Authorization: `Bearer ${tok.analyst}` }, expect: 403, size: 64 << 20 },
      { what: 'an analyst, 4 KiB with Expect: 100-continue', path: '/v1/siao-requests/batch', headers: { Authorization: `Bearer ${tok.analyst}`, Expect: '100-continue' }, expect: 403, size: 4096 },
      { what: 'an admin, 1 MiB + 1 with Expect: 100-continue', path: '/v1/partners', headers: { Authorization: `Bearer ${tok.admin}`, Expect: '100-continue' }, expect: 413, size: (1 << 20) + 1 },
      { what: 'a siao token, 64 MiB to a batch route', path: '/v1/siao-requests/batch?source=x', headers: { Authorization: `Bearer ${tok.siao}` }, expect: 413, size: 64 << 20 },
      { what: 'a siao token, 32 MiB + 1 with Expect: 100-continue', path: '/v1/siao-requests/batch?source=x', headers: { Authorization: `Bearer ${tok.siao}`, Expect: '100-continue' }, expect: 413, size: (32 << 20) + 1 },
      { what: 'a GET announcing 8 MiB', method: 'GET', path: '/v1/platforms', headers: {}, expect: 413, size: 8 << 20 },
    ];
    const lines = [];
    for (const c of cases) {
      const size = c.size ?? BODY;
      const head = [
        `${c.method ?? 'POST'} ${c.path} HTTP/1.1`,
        'Host: 127.0.0.1',
        'Content-Type: application/json',
        `Content-Length: ${size}`,
        ...Object.entries(c.headers).map(([k, v]) => `${k}: ${v}`),
      ].join('\r\n');
      // headers only: the body never comes
      const r = await rawUpload(svc.port, { path: c.path, total: 0, head: `${head}\r\n\r\n`, timeout: 10_000 * SLOWDOWN });
      lines.push(`${c.what}: ${r.status || r.error} after ${r.ms} ms`);
      assert.equal(r.status, c.expect, `${c.what}: ${r.status || r.error} ${r.text ?? ''}`);
      assert.ok(r.ms < 5_000 * SLOWDOWN, `${c.what}: answered after ${r.ms} ms`);
      assert.match(r.text, /X-Content-Type-Options: nosniff/i);
      assert.doesNotMatch(r.text, /100 Continue/, `${c.what}: no 100 Continue for a refused request`);
    }
    // and a client that sends a small body without waiting gets its answer after it, cleanly
    const clean = await request(svc.url, 'POST', '/v1/partners', { settle: true, body: { name: 'x', kind: 'ccas' } });
    lines.push(`no token, a small body sent at once: ${clean.status}`);
    assert.equal(clean.status, 401);
    t.diagnostic(`tried: requests announcing a body and sending only their headers\nheld: ${lines.join('; ')}`);
  });
});

describe('batches on their own listener (LDA_BATCH_LISTEN)', () => {
  let svc;
  let batchPort;
  let siao;

  before(async () => {
    batchPort = await freePort();
    svc = await startService({ env: { LDA_BATCH_LISTEN: `127.0.0.1:${batchPort}`, LDA_RATE_LIMIT_RPS: '0' } });
    siao = await svc.createToken('siao', { platforms: ['artois', 'lens_henin'], source: 'listen' });
  });

  after(async () => {
    await svc?.stop();
  });

  test('on the main listener a batch takes 1 MiB; on the batch listener 32 MiB', async (t) => {
    const records = recentSiaoRecords('listen', 4000); // ~1.4 MiB
    const body = JSON.stringify(records);
    assert.ok(Buffer.byteLength(body) > 1 << 20);
    const main = await request(svc.url, 'POST', '/v1/siao-requests/batch', { settle: true, token: siao, raw: true, headers: { 'Content-Type': 'application/json' }, body, timeout: 120_000 });
    assert.equal(main.status, 413, main.text);
    assert.match(main.json.detail, /batch listener/);
    const small = await request(svc.url, 'POST', '/v1/siao-requests/batch', { settle: true, token: siao, body: recentSiaoRecords('listen-small', 10) });
    assert.equal(small.status, 200, small.text);
    const side = await request(`http://127.0.0.1:${batchPort}`, 'POST', '/v1/siao-requests/batch', { settle: true, token: siao, raw: true, headers: { 'Content-Type': 'application/json' }, body, timeout: 120_000 });
    assert.equal(side.status, 200, side.text);
    assert.equal(side.json.created, 4000, side.text.slice(0, 400));
    // the batch listener is a whole API: reads work there too
    const read = await request(`http://127.0.0.1:${batchPort}`, 'GET', '/v1/siao-requests?limit=1', { settle: true, token: siao });
    assert.equal(read.status, 200, read.text);
    t.diagnostic(
      `tried: a ${Math.round(Buffer.byteLength(body) / 1024)} KiB batch on the main listener and on LDA_BATCH_LISTEN\n` +
        `held: main ${main.status} (${main.json.detail}); a 10-record batch on main ${small.status}; batch listener ${side.status} (${side.json.created} created); a read there ${read.status}`,
    );
  });
});
