// An audit log one can rely on.
//
//   1. A full audit queue pushes back: with the audit table locked (the writer cannot empty
//      the queue) and LDA_AUDIT_QUEUE_MAX=100, reads of personal data go on until the queue is
//      full, then authenticated requests answer 503 problem+json with Retry-After, and
//      /metrics counts them; a batch whose records would not fit in the queue is refused
//      (503) and stores nothing; once the lock is gone every queued event is written: as many
//      read events as reads answered 200, none dropped.
//   2. Tokens created and revoked, through the API and on the command line, are audited
//      (written in the same statement as the change itself).
//   3. A batch records which records it touched: one `batch` event per record it created or
//      updated (none for those unchanged), plus one for the batch.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startService } from '../lib/service.mjs';
import { request } from '../lib/http.mjs';
import { SLOWDOWN, isProper503 } from '../lib/load.mjs';
import { sleep } from '../lib/wait.mjs';
import { metric } from '../lib/metrics.mjs';

function household(name, platform = 'artois') {
  return {
    platform,
    composition: 'single_person',
    adults: 1,
    children: 0,
    head: { last_name: name, first_name: 'Audit', birth_date: '1991-04-05', sex: 'female' },
    housing_situation: 'street',
  };
}

const letters = (n) => Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyz'[(Math.random() * 26) | 0]).join('');

describe('audit log', () => {
  let svc;
  let tok;
  let adminId;

  before(async () => {
    svc = await startService({ env: { LDA_AUDIT_QUEUE_MAX: '100', LDA_RATE_LIMIT_RPS: '0', LDA_STATEMENT_TIMEOUT_MS: '2000' } });
    tok = {
      admin: await svc.createToken('admin', { name: 'audit-admin' }),
      siao: await svc.createToken('siao', { platforms: ['artois'], source: 'auditsrc', name: 'audit-siao' }),
    };
    adminId = (await svc.sql("SELECT id::text FROM api_token WHERE name = 'audit-admin'")).rows[0].id;
  });

  after(async () => {
    await svc?.stop();
  });

  test('a full audit queue answers 503 instead of dropping events; nothing is lost', async (t) => {
    const h = await request(svc.url, 'POST', '/v1/households', { settle: true, token: tok.admin, body: household(`Plein${letters(8)}`) });
    assert.equal(h.status, 201, h.text);
    const id = h.json.id;
    const records = Array.from({ length: 150 }, (_, i) => ({ external_id: `full-${i}`, ...household(`Lot${letters(10)}`) }));
    const locker = new pg.Client({ connectionString: svc.dbUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE audit_event IN ACCESS EXCLUSIVE MODE');
    let reads200 = 0;
    const answers = [];
    let batch;
    let refused;
    try {
      // a batch of 150 records cannot have its 151 events queued (at most 100): refused
      batch = await request(svc.url, 'POST', '/v1/households/batch', { settle: true, token: tok.siao, body: records, timeout: 60_000 });
      for (let i = 0; i < 300 && !refused; i += 1) {
        const r = await request(svc.url, 'GET', `/v1/households/${id}`, { settle: true, token: tok.admin });
        answers.push(r.status);
        if (r.status === 200) reads200 += 1;
        else refused = r;
      }
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    const stored = (await svc.sql("SELECT count(*)::int AS n FROM household WHERE source = 'auditsrc'")).rows[0].n;
    // once the lock is gone, the writer empties the queue
    let written = 0;
    const deadline = Date.now() + 20_000 * SLOWDOWN;
    while (Date.now() < deadline) {
      written = (await svc.sql("SELECT count(*)::int AS n FROM audit_event WHERE action = 'read' AND resource_id = $1", [id])).rows[0].n;
      if (written >= reads200) break;
      await sleep(200);
    }
    const metrics = await request(svc.url, 'GET', '/metrics', { settle: true, token: tok.admin });
    const again = await request(svc.url, 'GET', `/v1/households/${id}`, { settle: true, token: tok.admin });
    t.diagnostic(
      `tried: the audit table locked, LDA_AUDIT_QUEUE_MAX=100: a households batch of 150 records, then reads of one household until refused\n` +
        `held: batch → ${batch.status} (${batch.json?.detail}), ${stored} households stored; ${reads200} reads answered 200, then ${refused?.status} (${refused?.json?.detail}, Retry-After ${refused?.headers['retry-after']}); ` +
        `lock released: ${written} read events written for ${reads200} reads; lda_audit_refused_total ${metric(metrics.text, 'lda_audit_refused_total')}, ` +
        `lda_audit_write_failures_total ${metric(metrics.text, 'lda_audit_write_failures_total')}, queue now ${metric(metrics.text, 'lda_audit_queue_events')}; a read after: ${again.status}`,
    );
    assert.ok(isProper503(batch), `batch: ${batch.status} ${batch.text}`);
    assert.equal(stored, 0, 'the refused batch stored nothing');
    assert.ok(refused && isProper503(refused), `reads were never refused: ${answers.slice(-5)}`);
    assert.ok(reads200 >= 95 && reads200 <= 100, `${reads200} reads before the queue was full (events being written count too)`);
    assert.equal(written, reads200, 'every answered read has its event: none dropped');
    assert.ok(metric(metrics.text, 'lda_audit_refused_total') >= 2);
    assert.equal(again.status, 200, 'served again once the queue is written');
  });

  test('tokens created and revoked, by the API and the command line, are audited', async (t) => {
    const created = await request(svc.url, 'POST', '/v1/tokens', { settle: true, token: tok.admin, body: { role: 'analyst', name: 'audited analyst' } });
    assert.equal(created.status, 201, created.text);
    const revoked = await request(svc.url, 'DELETE', `/v1/tokens/${created.json.id}`, { settle: true, token: tok.admin });
    assert.equal(revoked.status, 204);
    const cli = await svc.runCli(['token', 'create', '--role', 'analyst', '--name', 'cli audited']);
    assert.equal(cli.code, 0, cli.stderr);
    const cliId = (await svc.sql("SELECT id::text FROM api_token WHERE name = 'cli audited'")).rows[0].id;
    const cliRevoke = await svc.runCli(['token', 'revoke', cliId]);
    assert.equal(cliRevoke.code, 0, cliRevoke.stderr);
    const list = await request(svc.url, 'GET', '/v1/audit-events?resource_type=token&limit=500', { settle: true, token: tok.admin });
    assert.equal(list.status, 200, list.text);
    const ev = (rid, action) => list.json.items.find((e) => e.resource_id === rid && e.action === action);
    const apiCreate = ev(created.json.id, 'create');
    const apiRevoke = ev(created.json.id, 'delete');
    const cliCreate = ev(cliId, 'create');
    const cliRevokeEv = ev(cliId, 'delete');
    t.diagnostic(`held: ${JSON.stringify([apiCreate, apiRevoke, cliCreate, cliRevokeEv].map((e) => e && { action: e.action, token_id: e.token_id, role: e.role, request_id: e.request_id, status: e.status }))}`);
    assert.ok(apiCreate && apiCreate.token_id === adminId && apiCreate.role === 'admin' && apiCreate.status === 201);
    assert.equal(apiCreate.request_id, created.headers['x-request-id']);
    assert.ok(apiRevoke && apiRevoke.token_id === adminId && apiRevoke.status === 204);
    assert.ok(cliCreate && cliCreate.token_id === null && cliCreate.request_id === 'cli');
    assert.ok(cliRevokeEv && cliRevokeEv.token_id === null && cliRevokeEv.request_id === 'cli');
    assert.ok(!list.text.includes(created.json.token), 'never the secret');
  });

  test('a batch records which records it touched', async (t) => {
    const records = Array.from({ length: 3 }, (_, i) => ({ external_id: `touch-${i}`, ...household(`Touch${letters(10)}`) }));
    const first = await request(svc.url, 'POST', '/v1/households/batch', { settle: true, token: tok.siao, body: records });
    assert.equal(first.status, 200, first.text);
    const changed = records.map((r, i) => (i === 0 ? { ...r, children: 1, composition: 'single_parent' } : r));
    const second = await request(svc.url, 'POST', '/v1/households/batch', { settle: true, token: tok.siao, body: changed });
    assert.equal(second.status, 200, second.text);
    const ids = (await svc.sql("SELECT id::text, external_ref FROM household WHERE source = 'auditsrc' AND external_ref LIKE 'touch-%' ORDER BY external_ref")).rows;
    const events = async (reqId) => (await svc.sql("SELECT resource_id::text AS rid FROM audit_event WHERE action = 'batch' AND request_id = $1 ORDER BY id", [reqId])).rows.map((r) => r.rid);
    await request(svc.url, 'GET', '/v1/audit-events?limit=1', { settle: true, token: tok.admin }); // flushes the queue
    const e1 = await events(first.headers['x-request-id']);
    const e2 = await events(second.headers['x-request-id']);
    t.diagnostic(`held: first batch (3 created) → events ${JSON.stringify(e1)}; second (1 updated, 2 unchanged) → ${JSON.stringify(e2)}`);
    assert.deepEqual([...e1].sort(), [null, ...ids.map((r) => r.id)].sort());
    assert.deepEqual([...e2].sort(), [null, ids[0].id].sort());
  });
});
