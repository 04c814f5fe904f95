import http from 'node:http';
import { readFileSync } from 'node:fs';
import { startService, runBinary, superuserUrl } from '../lib/harness.mjs';
const svc = await startService({ env: { LDA_MAX_BODY_BYTES: '2048' } });
const admin = await svc.createToken('admin', { name: 'x' });
const show = async (m, p, o = {}) => { const r = await svc.api(m, p, { validate: false, ...o }); console.log(m, p, r.status, JSON.stringify(r.headers), r.text.slice(0, 300)); return r; };
const threads = () => readFileSync(`/proc/${svc.child.pid}/status`, 'utf8').match(/^Threads:\s+(\d+)/m)[1];
try {
  const big = JSON.stringify({ name: 'x'.repeat(3000), kind: 'ccas' });
  await show('POST', '/v1/partners', { token: admin, body: big, raw: true, headers: { 'content-type': 'application/json' } });
  // chunked
  await new Promise((resolve) => {
    const req = http.request(`${svc.url}/v1/partners`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let t = ''; res.setEncoding('utf8'); res.on('data', (d) => (t += d)); res.on('end', () => { console.log('chunked', res.statusCode, JSON.stringify(res.headers), t); resolve(); });
    });
    req.on('error', (e) => { console.log('chunked err', e.message); resolve(); });
    for (let i = 0; i < 10; i++) req.write(i === 0 ? '{"name":"' + 'y'.repeat(500) : 'y'.repeat(500));
    req.end('","kind":"ccas"}');
  });
  await show('GET', '/v1/partners', { token: admin });
  console.log('threads', threads());
  await show('GET', '/openapi.yaml');
  await show('GET', '/v1/vocabularies');
  await show('GET', '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
} finally { await svc.stop(); }
let r = await runBinary(['serve'], { env: { LDA_THREADS: 'abc', LDA_DATABASE_URL: superuserUrl() }, timeout: 10000 });
console.log('THREADS', r.code, JSON.stringify(r.stderr), JSON.stringify(r.stdout));
const s2 = await startService({ migrate: false, waitReady: false });
const ex = await Promise.race([s2.exited, new Promise((r) => setTimeout(() => r('timeout'), 10000))]);
console.log('unmigrated', ex, s2.logs);
await s2.stop({ check: false });
