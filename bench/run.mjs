// lda-api benchmarks: figures measured side by side in one run, printed as ratios against
// PostgreSQL's own limits on the same machine, and written to bench/results/<time>.json.
//
//   ./dev bench                      (BENCH_SCALE=25 by default: ~1 M SIAO requests)
//   BENCH_SCALE=100 ./dev bench      (several million rows, as issue 6 asks; ~8 min of seeding)
//
// Paths measured:
//   ingest  records/s through POST /v1/siao-requests/batch (10 000 per request) against
//           `psql \copy` of the same rows into the same table
//   stats   the three statistics endpoints (one-year one-platform, whole period) against the
//           same figures computed by plain SQL over the raw rows with psql
//
// Every load is bounded and goes to 127.0.0.1 only. Absolute numbers on a shared 2-core
// machine are noise: read the ratios.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCALE = Number(process.env.BENCH_SCALE ?? 25);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PG_DIR = join(ROOT, 'bench', 'var', 'pg');
const PSQL = '/usr/lib/postgresql/15/bin/psql';

process.env.LDA_TEST_PG_URL_FILE = join(PG_DIR, 'url');
process.env.LDA_BIN ??= join(ROOT, 'build', 'lda-api');
const { startService } = await import(join(ROOT, 'tests', 'lib', 'harness.mjs'));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (...a) => console.error('bench:', ...a);

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Wall time of one psql invocation running `sql` (with \timing off: we time the process). */
function psqlTime(url, sql) {
  const t0 = performance.now();
  sh(PSQL, [url, '-qAt', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
  return (performance.now() - t0) / 1000;
}

/** Server-side time of `sql` as psql's \timing reports it (ms), median of RUNS. */
function psqlServerMs(url, sql) {
  const out = sh(PSQL, [url, '-qAt', '-v', 'ON_ERROR_STOP=1'], {
    input: `\\timing on\n${Array(RUNS).fill(sql + ';').join('\n')}\n`,
  });
  const times = [...out.matchAll(/Time: ([\d.]+) ms/g)].map((m) => Number(m[1]));
  return median(times);
}

function records(source, n, offset) {
  const platforms = ['artois', 'lens_henin', 'audomarois', 'boulonnais', 'montreuillois'];
  const out = [];
  for (let i = 0; i < n; i++) {
    const k = offset + i;
    out.push({
      external_id: `${source}-${k}`,
      received_at: new Date(Date.UTC(2024, k % 12, 1 + (k % 28), 8 + (k % 10))).toISOString(),
      platform: platforms[k % 5],
      channel: ['call_115', 'siao_insertion', 'street_outreach'][k % 3],
      person_key: `bench-person-${Math.floor(k / 3)}`,
      age: 16 + (k % 50),
      sex: ['female', 'male', 'unknown'][k % 3],
      situation: ['street', 'hosted_by_third_party', 'shelter_structure'][k % 3],
      needs: ['emergency_shelter', 'food'],
      response: ['sheltered', 'no_place_available', 'pending'][k % 3],
      alternatives_known: k % 4 === 0 ? null : k % 2 === 0,
    });
  }
  return out;
}

async function main() {
  sh(join(ROOT, 'scripts', 'pg-cluster.sh'), ['start', PG_DIR, 'auto'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const results = { started_at: new Date().toISOString(), scale: SCALE, runs: RUNS, host: { cpus: (await import('node:os')).cpus().length } };
  const svc = await startService({ env: { LDA_LOG_LEVEL: 'warn', LDA_STATEMENT_TIMEOUT_MS: '120000' } });
  try {
    log(`seeding the demo data at scale ${SCALE} (SIAO requests: 40 000 × ${SCALE})...`);
    const t0 = performance.now();
    const seeded = await svc.runCli(['seed-demo', '--scale', String(SCALE)], { timeout: 3_600_000 });
    if (seeded.code !== 0) throw new Error(`seed-demo failed: ${seeded.stderr}`);
    results.seed_seconds = Math.round((performance.now() - t0) / 100) / 10;
    const admin = await svc.createToken('admin');
    const siao = await svc.createToken('siao', { platforms: ['artois', 'lens_henin', 'audomarois', 'boulonnais', 'montreuillois'], source: 'bench' });

    // ---- ingest ----------------------------------------------------------------------
    const N = 10_000;
    const apiRates = [];
    const copyRates = [];
    for (let run = 0; run < RUNS; run++) {
      const recs = records(`api${run}`, N, run * N);
      const body = JSON.stringify(recs);
      const t1 = performance.now();
      const res = await fetch(`${svc.url}/v1/siao-requests/batch`, {
        method: 'POST', body, headers: { Authorization: `Bearer ${siao}`, 'Content-Type': 'application/json' },
      });
      const text = await res.text();
      const secs = (performance.now() - t1) / 1000;
      if (res.status !== 200 || JSON.parse(text).created !== N) throw new Error(`batch failed: ${res.status} ${text.slice(0, 200)}`);
      apiRates.push(N / secs);

      // the same rows, as psql \copy would load them (content_hash as the service computes it
      // is not comparable: use a constant, the work is the same)
      const csv = recs.map((r) => [
        `copy${run}`, r.external_id, r.received_at, r.platform, r.channel, r.person_key, r.age, r.sex,
        r.situation, `"{${r.needs.join(',')}}"`, r.response, r.alternatives_known ?? '', 'x'.repeat(64),
      ].join(',')).join('\n') + '\n';
      const file = join(ROOT, 'bench', 'var', `copy${run}.csv`);
      writeFileSync(file, csv);
      const secs2 = psqlTime(svc.dbUrl, `\\copy siao_request (source, external_id, received_at, platform, channel, person_key, age, sex, situation, needs, response, alternatives_known, content_hash) from '${file}' csv`);
      copyRates.push(N / secs2);
    }
    results.ingest = {
      records_per_batch: N,
      api_records_per_s: Math.round(median(apiRates)),
      copy_records_per_s: Math.round(median(copyRates)),
      ratio: Math.round((median(apiRates) / median(copyRates)) * 100) / 100,
      command_api: `POST /v1/siao-requests/batch (siao token, ${N} JSON records), median of ${RUNS}`,
      command_copy: `psql -c "\\copy siao_request (...) from 'file.csv' csv" (${N} rows), median of ${RUNS}`,
      target: '>= 0.7 (issue 8); >= 0.5 (issue 5)',
    };
    log('ingest', results.ingest);

    // ---- statistics ---------------------------------------------------------------------
    const analyst = await svc.createToken('analyst');
    const cases = {
      one_year_one_platform: { from: '2024-01-01', to: '2024-12-31', platforms: ['artois'] },
      whole_period: { from: '2019-01-01', to: '2025-12-31', platforms: null },
    };
    const naive = (c) => {
      const where = `received_at >= '${c.from}'::date::timestamp AT TIME ZONE 'Europe/Paris' AND received_at < ('${c.to}'::date + 1)::timestamp AT TIME ZONE 'Europe/Paris'` +
        (c.platforms ? ` AND platform = ANY('{${c.platforms.join(',')}}')` : '');
      return `SELECT count(*), count(*) FILTER (WHERE age BETWEEN 18 AND 25), count(DISTINCT person_key) FILTER (WHERE age BETWEEN 18 AND 25), ` +
        `(SELECT count(*) FROM (SELECT person_key FROM siao_request WHERE ${where} AND age BETWEEN 18 AND 25 AND person_key IS NOT NULL GROUP BY person_key HAVING count(*) >= 2) p), ` +
        `count(*) FILTER (WHERE age BETWEEN 18 AND 25 AND response = 'no_place_available'), ` +
        `(SELECT json_object_agg(k, n) FROM (SELECT coalesce(sex, 'not_collected') k, count(*) n FROM siao_request WHERE ${where} AND age BETWEEN 18 AND 25 GROUP BY 1) s), ` +
        `(SELECT json_object_agg(k, n) FROM (SELECT coalesce(nd, 'not_collected') k, count(*) n FROM siao_request LEFT JOIN LATERAL unnest(needs) nd ON true WHERE ${where} AND age BETWEEN 18 AND 25 GROUP BY 1) s) ` +
        `FROM siao_request WHERE ${where}`;
    };
    results.stats = {};
    for (const [name, c] of Object.entries(cases)) {
      const qs = `from=${c.from}&to=${c.to}${c.platforms ? c.platforms.map((p) => `&platform=${p}`).join('') : ''}`;
      const row = {};
      for (const [ep, path] of [['youth', '/v1/observatory/youth'], ['series', '/v1/observatory/youth/series'], ['activity', '/v1/stats/activity']]) {
        const times = [];
        for (let i = 0; i < RUNS; i++) {
          const t1 = performance.now();
          const res = await fetch(`${svc.url}${path}?${qs}`, { headers: { Authorization: `Bearer ${analyst}` } });
          await res.text();
          if (res.status !== 200) throw new Error(`${path} ${res.status}`);
          times.push(performance.now() - t1);
        }
        row[`${ep}_ms`] = Math.round(median(times) * 10) / 10;
      }
      row.naive_youth_sql_ms = Math.round(psqlServerMs(svc.dbUrl, naive(c)) * 10) / 10;
      row.ratio_naive_over_api_youth = Math.round((row.naive_youth_sql_ms / row.youth_ms) * 100) / 100;
      row.query = qs;
      results.stats[name] = row;
      log('stats', name, row);
    }
    results.stats.note = 'naive = the youth headline figures and two breakdowns by plain SQL over siao_request (psql \\timing, server side); api = full HTTP round trip. Target (issue 6): one-year one-platform in a few ms; >= 20x faster than naive SQL for the whole period.';
    const total = Number((await svc.sql('SELECT count(*) FROM siao_request')).rows[0].count);
    results.siao_requests = total;
  } finally {
    await svc.stop();
    sh(join(ROOT, 'scripts', 'pg-cluster.sh'), ['stop', PG_DIR], { stdio: 'ignore' });
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `${results.started_at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  console.log(`\nlda-api bench (scale ${SCALE}, ${results.siao_requests} SIAO requests, medians of ${RUNS})`);
  console.log(`ingest   API ${results.ingest.api_records_per_s} rec/s   psql \\copy ${results.ingest.copy_records_per_s} rows/s   ratio ${results.ingest.ratio}`);
  for (const [name, r] of Object.entries(results.stats)) {
    if (name === 'note') continue;
    console.log(`stats    ${name.padEnd(22)} youth ${r.youth_ms} ms  series ${r.series_ms} ms  activity ${r.activity_ms} ms  naive youth SQL ${r.naive_youth_sql_ms} ms  naive/api ${r.ratio_naive_over_api_youth}`);
  }
  console.log(`results: ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
