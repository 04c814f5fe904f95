// A fingerprint of a service's database (row count and md5 of every table), to prove that a
// rejected request changed nothing.
//
//   const before = await fingerprint(svc); ...; assert.deepEqual(changedTables(before, await fingerprint(svc)), []);

const FINGERPRINT_TABLES = [
  'platform',
  'funding',
  'api_token',
  'partner',
  'household',
  'referral',
  'referral_event',
  'measure',
  'siao_request',
  'idempotency_key',
  'app_secret',
  'webhook_endpoint',
  'prevention_rule',
  'prevention_case',
  'prevention_stage_event',
  'prevention_action',
  'prevention_follow_up',
  'housing_offer',
  'placement',
  'fluidity_meeting',
  'fluidity_presentation',
];

/**
 * { table: "count:md5" } over every row of the service's tables (superuser). The audit log is
 * left out: reads append to it (the suites check it apart, by request id).
 */
export async function fingerprint(svc, tables = FINGERPRINT_TABLES) {
  const parts = tables.map(
    (t) => `SELECT '${t}' AS t, count(*)::text || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '-') AS f FROM ${t} x`,
  );
  const r = await svc.sql(parts.join(' UNION ALL '));
  return Object.fromEntries(r.rows.map((row) => [row.t, row.f]));
}

/** The tables whose fingerprint differs. */
export function changedTables(a, b) {
  return Object.keys(a).filter((t) => a[t] !== b[t]);
}

export const rowCounts = (fp) => Object.fromEntries(Object.entries(fp).map(([t, f]) => [t, Number(f.split(':')[0])]));
