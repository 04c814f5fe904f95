// Defence in depth: PostgreSQL itself enforces the platform scope (row-level security) for
// the service's role, so that a handler that forgot its check still could not return
// another platform's row; and the audit log is append-only for that role.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService } from '../lib/service.mjs';

let svc;
let admin;

before(async () => {
  svc = await startService();
  admin = await svc.createToken('admin');
  const household = (platform, last) => ({
    platform, composition: 'single_person', adults: 1, children: 0,
    head: { last_name: last, first_name: 'Camille', birth_date: '1990-02-03', sex: 'female' },
    housing_situation: 'street',
  });
  for (const [platform, last] of [['artois', 'Lefebvre'], ['lens_henin', 'Mercier'], ['lens_henin', 'Dubois']]) {
    const res = await svc.api('POST', '/v1/households', { token: admin, body: household(platform, last) });
    assert.equal(res.status, 201);
  }
});

after(async () => {
  await svc?.stop();
});

/** Runs `fn(query)` inside a transaction as lda_app, rolled back afterwards. */
async function asServiceRole(scope, fn) {
  await svc.sql('BEGIN');
  try {
    await svc.sql('SET LOCAL ROLE lda_app');
    if (scope !== null) await svc.sql("SELECT set_config('lda.scope', $1, true)", [scope]);
    return await fn((text, params) => svc.sql(text, params));
  } finally {
    await svc.sql('ROLLBACK');
  }
}

test('the service role sees only the platforms of its scope, whatever the query asks', async () => {
  const rows = await asServiceRole('artois', (q) =>
    q("SELECT platform, count(*)::int AS n FROM household GROUP BY platform ORDER BY platform"));
  assert.deepEqual(rows.rows, [{ platform: 'artois', n: 1 }]);
  const other = await asServiceRole('artois', (q) =>
    q("SELECT count(*)::int AS n FROM household WHERE platform = 'lens_henin'"));
  assert.equal(other.rows[0].n, 0);
});

test('without a scope the service role sees nothing (deny by default)', async () => {
  const rows = await asServiceRole(null, (q) => q('SELECT count(*)::int AS n FROM household'));
  assert.equal(rows.rows[0].n, 0);
});

test('scope * sees every platform', async () => {
  const rows = await asServiceRole('*', (q) => q('SELECT count(*)::int AS n FROM household'));
  assert.equal(rows.rows[0].n, 3);
});

test('the service role cannot write a row outside its scope', async () => {
  await assert.rejects(
    asServiceRole('artois', (q) => q(
      `INSERT INTO household (platform, composition, adults, children, head_sex, housing_situation)
       VALUES ('lens_henin', 'single_person', 1, 0, 'male', 'street')`)),
    /row-level security/);
});

test('the audit log is append-only for the service role', async () => {
  const res = await svc.api('GET', '/v1/audit-events?limit=1', { token: admin });
  assert.equal(res.status, 200);
  assert.ok(res.json.items.length >= 1, 'creating households left audit events');
  await assert.rejects(asServiceRole('*', (q) => q('UPDATE audit_event SET status = 0')), /permission denied/);
  await assert.rejects(asServiceRole('*', (q) => q('DELETE FROM audit_event')), /permission denied/);
  const ins = await asServiceRole('*', (q) => q(
    "INSERT INTO audit_event (action, resource_type) VALUES ('read', 'household') RETURNING id"));
  assert.equal(ins.rowCount, 1);
});

test('the service role owns no table and is no superuser', async () => {
  const r = await svc.sql(
    "SELECT rolsuper, (SELECT count(*)::int FROM pg_tables t WHERE t.tableowner = 'lda_app') AS owned FROM pg_roles WHERE rolname = 'lda_app'");
  assert.deepEqual(r.rows[0], { rolsuper: false, owned: 0 });
});
