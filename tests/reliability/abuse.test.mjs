// Abuse suite: hostile or broken clients must not starve real ones nor crash the
// service.
//
//   1. Slowloris: hundreds of connections sending their request headers one byte at a time,
//      and hundreds of idle connections, while a real client keeps opening new connections
//      and being served within a bounded time; idle connections are closed after
//      LDA_CONNECTION_TIMEOUT_S.
//   2. A flood over the per-address cap (LDA_MAX_CONNECTIONS_PER_IP), all from one address:
//      the connections over the cap are closed at once, a client already connected keeps
//      being served, and new connections are served again as soon as the flood goes.
//   3. A flood over the global cap (LDA_MAX_CONNECTIONS): at most the cap is served at once,
//      the others wait in the listen queue (none is lost), a client already connected keeps
//      being served.
//   4. 10 000 clients that send part of a POST body (Content-Length or chunked, single-record
//      and batch routes) and then close or reset the connection: the service keeps answering,
//      its memory stays bounded, and it exits 0 on SIGTERM. On the sanitizer build
//      (LDA_SANITIZED=1) this also proves no AddressSanitizer, LeakSanitizer (run at exit:
//      a leak makes the exit status non-zero, which stop() rejects) or UBSan finding; the
//      service's stderr is searched for their reports too. Then 1 000 clients that send a
//      whole request and close before reading the answer: the pool gets every connection back.
//
// Everything runs on 127.0.0.1, so the "real" client shares the flooding address: in 2 it is
// a connection opened before the flood (the cap is per address). Every loop is bounded in
// time and count. Each test prints what it tried and what held (t.diagnostic).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startService } from '../lib/service.mjs';
import { request } from '../lib/http.mjs';
import { SANITIZED, SLOWDOWN, rssKb, sanitizerLines } from '../lib/load.mjs';
import { sleep } from '../lib/wait.mjs';

const IDLE_TIMEOUT_S = 4; // LDA_CONNECTION_TIMEOUT_S of these services

/** GET `path` through `agent` (false: a new connection); resolves { status, ms, error }. */
function get(port, path, agent = false, timeout = 10_000 * SLOWDOWN) {
  return request(`http://127.0.0.1:${port}`, 'GET', path, { agent, timeout, validate: false, settle: true });
}

/**
 * Opens a raw connection; resolves { socket, state } once connected (or refused). state
 * tracks { closedAt, gotData } as the server acts on it. Never rejects.
 */
function rawConnect(port) {
  return new Promise((resolve) => {
    const state = { connected: false, closedAt: null, gotData: '', error: null };
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    socket.on('connect', () => {
      state.connected = true;
      resolve({ socket, state });
    });
    socket.on('data', (d) => {
      if (state.gotData.length < 200) state.gotData += d.toString('latin1');
    });
    socket.on('error', (e) => {
      state.error = e.code ?? e.message;
    });
    socket.on('close', () => {
      state.closedAt ??= Date.now();
      resolve({ socket, state });
    });
  });
}

/** Opens n raw connections, `parallel` at a time. */
async function openMany(port, n, parallel = 50) {
  const out = [];
  for (let i = 0; i < n; i += parallel) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, () => rawConnect(port)))));
  }
  return out;
}

function closeAll(conns) {
  for (const c of conns) c.socket.destroy();
}

const pct = (xs, p) => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

describe('slow, idle and flooding clients', () => {
  let svc;

  before(async () => {
    svc = await startService({ env: { LDA_CONNECTION_TIMEOUT_S: String(IDLE_TIMEOUT_S), LDA_RATE_LIMIT_RPS: '0' } });
  });

  after(async () => {
    await svc?.stop();
  });

  test('slowloris and idle connections: a real client keeps being served; idle ones are closed after the timeout', async (t) => {
    const TRICKLE = 250;
    const IDLE = 250;
    const DURATION_MS = 12_000;
    const trickle = await openMany(svc.port, TRICKLE);
    const idle = await openMany(svc.port, IDLE);
    const openedAt = Date.now();
    // headers one byte at a time, a byte per connection every ~500 ms, never ending
    const head = Buffer.from('GET /v1/platforms HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    let sent = 0;
    let k = 0;
    const timer = setInterval(() => {
      for (let j = 0; j < TRICKLE / 10; j += 1, k += 1) {
        const c = trickle[k % TRICKLE];
        const pos = Math.floor(k / TRICKLE);
        if (!c.socket.destroyed && c.state.closedAt === null) {
          c.socket.write(pos < head.length ? head.subarray(pos, pos + 1) : 'a');
          sent += 1;
        }
      }
    }, 50);
    const fresh = [];
    const kept = [];
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (Date.now() - openedAt < DURATION_MS) {
        const [a, b] = await Promise.all([get(svc.port, '/v1/platforms'), get(svc.port, '/v1/platforms', keepAlive)]);
        fresh.push(a);
        kept.push(b);
        await sleep(200);
      }
    } finally {
      clearInterval(timer);
      keepAlive.destroy();
    }
    const idleClosed = idle.filter((c) => c.state.closedAt !== null);
    const idleCloseAfter = idleClosed.map((c) => c.state.closedAt - openedAt);
    const trickleOpen = trickle.filter((c) => c.state.closedAt === null).length;
    closeAll(trickle);
    closeAll(idle);
    const lat = [...fresh, ...kept].map((r) => r.ms);
    t.diagnostic(
      `tried: ${TRICKLE} connections sending headers a byte at a time (${sent} bytes in ${DURATION_MS} ms) and ${IDLE} idle connections, ` +
        `LDA_CONNECTION_TIMEOUT_S=${IDLE_TIMEOUT_S}; meanwhile ${fresh.length} requests on new connections and ${kept.length} on a kept-alive one\n` +
        `held: real requests ${[...fresh, ...kept].filter((r) => r.status === 200).length}/${fresh.length + kept.length} answered 200, ` +
        `latency p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms, max ${pct(lat, 100)} ms; ` +
        `${idleClosed.length}/${IDLE} idle connections closed by the server after ${pct(idleCloseAfter, 0)}–${pct(idleCloseAfter, 100)} ms; ` +
        `${trickleOpen}/${TRICKLE} trickling connections still open at the end (each byte restarts libmicrohttpd's idle timer: the per-address and global caps bound them)`,
    );
    const bad = [...fresh, ...kept].filter((r) => r.status !== 200);
    assert.deepEqual(bad, [], 'every real request answered 200');
    assert.ok(pct(lat, 100) <= 2_000 * SLOWDOWN, `a real request took ${pct(lat, 100)} ms`);
    assert.equal(idleClosed.length, IDLE, 'every idle connection was closed by the server');
    assert.ok(pct(idleCloseAfter, 100) <= (IDLE_TIMEOUT_S + 3) * 1_000 * SLOWDOWN, `an idle connection lived ${pct(idleCloseAfter, 100)} ms`);
    assert.ok(pct(idleCloseAfter, 0) >= (IDLE_TIMEOUT_S - 1) * 1_000, `an idle connection was closed after only ${pct(idleCloseAfter, 0)} ms`);
    assert.equal(svc.exit, null, 'the service is running');
  });

  test('a flood over the per-address cap: refused at once; a connected client keeps being served; new connections served after', async (t) => {
    const CAP = 100;
    const FLOOD = 400;
    await svc.restart({ env: { LDA_MAX_CONNECTIONS_PER_IP: String(CAP) } });
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(svc.port, '/v1/platforms', keepAlive);
      assert.equal(first.status, 200);
      const t0 = Date.now();
      const flood = await openMany(svc.port, FLOOD, 100);
      const floodMs = Date.now() - t0;
      // meanwhile and after: the kept-alive client, and one new connection
      const kept = [];
      for (let i = 0; i < 10; i += 1) {
        kept.push(await get(svc.port, '/v1/platforms', keepAlive));
        await sleep(100);
      }
      const duringFresh = await get(svc.port, '/v1/platforms');
      const refused = flood.filter((c) => c.state.closedAt !== null || !c.state.connected);
      const held = FLOOD - refused.length;
      closeAll(flood);
      await sleep(300);
      const afterFresh = await get(svc.port, '/v1/platforms');
      const log = svc.logEntries().filter((e) => e.msg === 'http server').length;
      t.diagnostic(
        `tried: ${FLOOD} connections from 127.0.0.1 in ${floodMs} ms with LDA_MAX_CONNECTIONS_PER_IP=${CAP} (a kept-alive client holding one)\n` +
          `held: ${held} flood connections kept, ${refused.length} closed by the server at once; kept-alive client ${kept.filter((r) => r.status === 200).length}/10 × 200 ` +
          `(max ${Math.max(...kept.map((r) => r.ms))} ms); a new connection during the flood: ${duringFresh.status || duringFresh.error} (same address: over the cap); ` +
          `after the flood: ${afterFresh.status} in ${afterFresh.ms} ms; ${log} libmicrohttpd warnings logged`,
      );
      assert.ok(held <= CAP - 1, `${held} flood connections held (cap ${CAP}, one taken by the client)`);
      assert.ok(held >= CAP - 10, `only ${held} flood connections held: the cap is lower than configured`);
      assert.deepEqual(kept.filter((r) => r.status !== 200), [], 'the connected client kept being served');
      assert.ok(Math.max(...kept.map((r) => r.ms)) <= 1_000 * SLOWDOWN, 'within a second');
      assert.equal(afterFresh.status, 200, 'new connections are served once the flood is gone');
      assert.ok(afterFresh.ms <= 1_000 * SLOWDOWN, `the first new connection after took ${afterFresh.ms} ms`);
    } finally {
      keepAlive.destroy();
    }
  });

  test('a flood over the global cap: at most the cap served at once, the rest wait (none lost); a connected client keeps being served', async (t) => {
    const CAP = 64;
    const FLOOD = 160;
    await svc.restart({ env: { LDA_MAX_CONNECTIONS: String(CAP), LDA_MAX_CONNECTIONS_PER_IP: '0' } });
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await get(svc.port, '/v1/platforms', keepAlive)).status, 200);
      // every flood connection sends one request and keeps the connection open
      const flood = await openMany(svc.port, FLOOD, 80);
      const t0 = Date.now();
      for (const c of flood) c.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await sleep(1_000);
      const answeredAt1s = flood.filter((c) => c.state.gotData.startsWith('HTTP/1.1 200')).length;
      const kept = [];
      for (let i = 0; i < 10; i += 1) {
        kept.push(await get(svc.port, '/v1/platforms', keepAlive));
        await sleep(100);
      }
      // the waiting ones are served as the idle timeout frees slots
      const limit = (Math.ceil(FLOOD / CAP) + 2) * (IDLE_TIMEOUT_S + 1) * 1_000 * SLOWDOWN;
      while (Date.now() - t0 < limit && flood.some((c) => !c.state.gotData)) await sleep(200);
      const answered = flood.filter((c) => c.state.gotData.startsWith('HTTP/1.1 200')).length;
      const allMs = Date.now() - t0;
      closeAll(flood);
      await sleep(300);
      const afterFresh = await get(svc.port, '/v1/platforms');
      t.diagnostic(
        `tried: ${FLOOD} connections each sending a request and staying open, LDA_MAX_CONNECTIONS=${CAP}, LDA_THREADS 8 (the cap is shared among them)\n` +
          `held: ${answeredAt1s} answered within 1 s, all ${answered} answered after ${allMs} ms (as idle timeouts freed slots); ` +
          `kept-alive client ${kept.filter((r) => r.status === 200).length}/10 × 200 (max ${Math.max(...kept.map((r) => r.ms))} ms); after: ${afterFresh.status} in ${afterFresh.ms} ms`,
      );
      assert.ok(answeredAt1s <= CAP, `${answeredAt1s} served at once (cap ${CAP})`);
      assert.ok(answeredAt1s >= 1, 'the flood was served at all');
      assert.equal(answered, FLOOD, 'every waiting connection was served in the end (none dropped)');
      assert.deepEqual(kept.filter((r) => r.status !== 200), [], 'the connected client kept being served');
      assert.equal(afterFresh.status, 200);
    } finally {
      keepAlive.destroy();
    }
  });

  test('a request header over the per-connection memory limit is refused and the service keeps serving', async (t) => {
    await svc.restart({ env: {} });
    const c = await rawConnect(svc.port);
    c.socket.write(`GET /v1/platforms HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(300_000)}\r\n\r\n`);
    const t0 = Date.now();
    while (c.state.closedAt === null && !c.state.gotData && Date.now() - t0 < 10_000) await sleep(50);
    c.socket.destroy();
    const status = c.state.gotData.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? (c.state.closedAt ? 'closed' : 'nothing');
    const next = await get(svc.port, '/v1/platforms');
    t.diagnostic(`tried: a 300 000-byte header line (limit 128 KiB a connection) → ${status}; next request ${next.status}`);
    assert.ok(['431', '413', 'closed'].includes(status), `answer to an oversized header: ${status}`);
    assert.equal(next.status, 200);
  });
});

describe('10 000 client aborts mid-upload (and 1 000 before the answer)', () => {
  const TOTAL = 10_000;
  const PARALLEL = 50;
  let svc;
  let token;
  let siao;
  let admin;

  before(async () => {
    svc = await startService({ env: { LDA_RATE_LIMIT_RPS: '0' } });
    token = await svc.createToken('coordinator', { platforms: ['artois'], name: 'abort-coord' });
    siao = await svc.createToken('siao', { platforms: ['artois'], source: 'abort', name: 'abort-siao' });
    admin = await svc.createToken('admin', { name: 'abort-metrics' });
  });

  after(async () => {
    await svc?.stop();
  });

  /** One aborted upload, kind = i % 4. Resolves when the socket is gone. */
  function abortOne(i) {
    return new Promise((resolve) => {
      const kind = i % 4;
      const s = net.connect({ host: '127.0.0.1', port: svc.port });
      let done = false;
      const finish = () => {
        if (!done) {
          done = true;
          resolve();
        }
      };
      s.on('error', finish);
      s.on('close', finish);
      s.on('connect', () => {
        const part = (n) => '{"records":"' + 'x'.repeat(Math.max(0, n - 13));
        let head;
        let body;
        switch (kind) {
          case 0: // single-record route, declared length, part of it
            body = part(50 + (i % 3000));
            head = `POST /v1/referrals HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n`;
            break;
          case 1: // batch route, 2 MiB declared, up to 64 KiB sent
            body = part(1_000 + (i % 64) * 1_000);
            head = `POST /v1/siao-requests/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${siao}\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n`;
            break;
          case 2: // chunked, no final chunk
            body = `400\r\n${'y'.repeat(1024)}\r\n400\r\n${'z'.repeat(300)}`;
            head = `POST /v1/households/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${siao}\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n`;
            break;
          default: // declared length, then a reset instead of a close
            body = part(10 + (i % 500));
            head = `POST /v1/referrals HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
        }
        s.write(head + body, () => {
          setTimeout(() => {
            if (kind === 3 && typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
            else s.destroy();
            finish();
          }, i % 7);
        });
      });
    });
  }

  test('the service keeps answering, memory stays bounded, no sanitizer finding', async (t) => {
    const pid = svc.child.pid;
    // warm up the routes once, so that the baseline includes their first allocations
    for (let i = 0; i < 20; i += 1) abortOne(i);
    await sleep(500);
    assert.equal((await request(svc.url, 'GET', '/v1/platforms', { settle: true })).status, 200);
    const rss0 = rssKb(pid);
    const t0 = Date.now();
    const checks = [];
    const rss = [];
    let next = 0;
    const worker = async () => {
      while (next < TOTAL && Date.now() - t0 < 240_000) {
        const i = next;
        next += 1;
        await abortOne(i);
        if (i % 1_000 === 999) {
          // a real client: another address than the aborting ones (which may be at their
          // per-address connection cap while the server closes their connections), and a
          // connection of its own (a pooled idle one could race the server's idle close)
          checks.push(await request(svc.url, 'GET', '/v1/platforms', { settle: true, keepAlive: false, localAddress: '127.0.0.7' }));
          rss.push(rssKb(pid));
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const ms = Date.now() - t0;
    // and 1 000 clients that send a whole request and go away before the answer (the handler
    // runs its query, then writes to a closed connection)
    let gone = 0;
    const goneWorker = async () => {
      while (gone < 1_000 && Date.now() - t0 < 300_000) {
        gone += 1;
        await new Promise((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port: svc.port });
          s.on('error', resolve);
          s.on('close', resolve);
          s.on('connect', () =>
            s.write(`GET /v1/referrals?limit=500 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n\r\n`, () =>
              setTimeout(() => s.destroy(), gone % 5),
            ),
          );
        });
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, goneWorker));
    // the last abandoned requests finish their queries (on a busy machine, a few seconds)
    const after = await request(svc.url, 'GET', '/v1/platforms', { settle: true, keepAlive: false, localAddress: '127.0.0.7' });
    let metrics;
    let inflight;
    let leased;
    const settle = Date.now() + 15_000 * SLOWDOWN;
    do {
      await sleep(500);
      metrics = await request(svc.url, 'GET', '/metrics', { settle: true, token: admin });
      inflight = Number(metrics.text.match(/^lda_http_requests_in_flight (\d+)/m)?.[1]);
      leased = Number(metrics.text.match(/^lda_db_pool_connections\{state="in_use"\} (\d+)/m)?.[1]);
    } while ((inflight !== 1 || leased !== 0) && Date.now() < settle);
    const rss1 = rssKb(pid);
    const stored = (await svc.sql('SELECT (SELECT count(*) FROM referral)::int + (SELECT count(*) FROM siao_request)::int + (SELECT count(*) FROM household)::int AS n')).rows[0].n;
    t.diagnostic(
      `tried: ${next} connections (${PARALLEL} at a time, ${ms} ms) sending part of a POST body then closing (¾) or resetting (¼): ` +
        `single-record route with Content-Length, batch route with 2 MiB declared and up to 64 KiB sent, chunked batch without its last chunk\n` +
        `then ${gone} clients sending a whole GET /v1/referrals?limit=500 and closing before the answer\n` +
        `held: ${checks.filter((r) => r.status === 200).length}/${checks.length} checks during and the one after answered ${after.status}; ` +
        `in flight after: ${inflight - 1} (besides the /metrics request itself); pooled connections leased: ${leased}; rows stored: ${stored}; RSS ${Math.round(rss0 / 1024)} MiB before, ${rss.map((x) => Math.round(x / 1024)).join('/')} MiB every 1 000, ${Math.round(rss1 / 1024)} MiB after` +
        (SANITIZED ? ' (sanitizer build: ASan keeps freed memory in quarantine)' : ''),
    );
    assert.equal(next, TOTAL, `only ${next} aborts in the time allowed`);
    assert.deepEqual(checks.filter((r) => r.status !== 200), [], 'answered 200 all along');
    assert.equal(after.status, 200);
    assert.equal(inflight, 1, 'no request left in flight (the one counted is this /metrics request)');
    assert.equal(leased, 0, 'every pooled connection was given back');
    assert.equal(stored, 0, 'no aborted upload stored anything');
    assert.equal(svc.exit, null, 'the service is running');
    assert.equal(svc.child.pid, pid);
    // a leak of each aborted body (up to 64 KiB) would show as hundreds of MiB
    if (!SANITIZED) assert.ok(rss1 - rss0 < 64 * 1024, `RSS grew by ${Math.round((rss1 - rss0) / 1024)} MiB`);

    // SIGTERM: exit 0 (with LeakSanitizer on the sanitizer build: a leak makes it non-zero)
    await svc.stop();
    const found = sanitizerLines(svc.logs);
    t.diagnostic(`stopped with exit 0; sanitizer report lines on stderr: ${found.length}${SANITIZED ? ' (sanitizer build)' : ''}`);
    assert.deepEqual(found, [], 'no sanitizer report');
  });
});
