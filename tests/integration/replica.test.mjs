// LDA_DATABASE_URL_READ: the statistics read from the replica it names; everything else
// (reference data, writes, auth) stays on the primary.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService, superuserUrl } from '../lib/service.mjs';

const services = [];
after(async () => {
  for (const s of services) await s.stop();
});

test('statistics go to the read replica, the rest to the primary', async () => {
  // A "replica" that cannot answer: the statistics fail (503), the primary still serves.
  const broken = new URL(superuserUrl());
  broken.pathname = '/no_such_replica_database';
  const svc = await startService({ env: { LDA_DATABASE_URL_READ: broken.toString() } });
  services.push(svc);
  const analyst = await svc.createToken('analyst');
  const platforms = await svc.api('GET', '/v1/platforms');
  assert.equal(platforms.status, 200);
  const stats = await svc.api('GET', '/v1/observatory/youth?from=2024-01-01&to=2024-12-31', { token: analyst });
  assert.equal(stats.status, 503);
  assert.equal(stats.headers['retry-after'], '1');
});

test('with a working replica URL the statistics answer from it', async () => {
  const probe = await startService();
  services.push(probe);
  // The same database as a replica stands in for a streaming standby here.
  const svc = await startService({ env: { LDA_DATABASE_URL_READ: probe.dbUrl } });
  services.push(svc);
  const siao = await probe.createToken('siao', { platforms: ['artois'], source: 'replica-test' });
  const rec = { external_id: 'r1', received_at: '2024-03-01T10:00:00+01:00', platform: 'artois', channel: 'call_115', age: 20 };
  const pushed = await probe.api('POST', '/v1/siao-requests/batch', { token: siao, body: [rec] });
  assert.equal(pushed.status, 200);
  const analyst = await svc.createToken('analyst');
  const stats = await svc.api('GET', '/v1/observatory/youth?from=2024-01-01&to=2024-12-31&format=json', { token: analyst });
  assert.equal(stats.status, 200);
  // one request, read from the replica's data (hidden: under the threshold)
  assert.equal(stats.json.requests_total, null);
  assert.equal(stats.json.disclosure.method, 'cell_key');
  assert.ok(!stats.json.disclosure.exact.includes('requests_total'), JSON.stringify(stats.json.disclosure));
  assert.deepEqual(stats.json.by_platform.find((c) => c.code === 'artois'), {
    code: 'artois', label_fr: 'Artois', count: null, share: null, status: 'A',
  });
});
