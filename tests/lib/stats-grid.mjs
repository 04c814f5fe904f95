// The questions the statistics answer (docs/statistics.md), written independently of the
// service, for tests that check what clients send: the dashboard's requests, the examples of
// the guides and the README.
//
//   import { onGrid, gridProblems } from '../lib/stats-grid.mjs';
//   onGrid('2024-04-01', '2024-06-30')            // true: a quarter
//   gridProblems(new URLSearchParams('platform=artois&ami=1'))   // ['platform and ami together']

/** The default period when `from` or `to` is absent: 2019-01-01 to the end of this year. */
export const DEFAULT_FROM = '2019-01-01';
export const defaultTo = (now = new Date()) => `${now.getFullYear()}-12-31`;

export const AGE_BANDS = ['under_18', 'age_18_25', 'age_26_34', 'age_35_44', 'age_45_54', 'age_55_64', 'age_65_plus'];
const PARAMETERS = ['from', 'to', 'platform', 'ami', 'age_band', 'granularity', 'format'];

/**
 * True when from..to (YYYY-MM-DD) is one month, one quarter, one calendar year, or a range of
 * whole calendar years (at most 100).
 */
export function onGrid(from, to) {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/;
  const a = d.exec(from ?? '');
  const b = d.exec(to ?? '');
  if (!a || !b || a[3] !== '01') return false;
  const [fy, fm] = [Number(a[1]), Number(a[2])];
  const [ty, tm, td] = [Number(b[1]), Number(b[2]), Number(b[3])];
  if (fm < 1 || fm > 12 || tm < 1 || tm > 12) return false;
  if (td !== new Date(Date.UTC(ty, tm, 0)).getUTCDate()) return false; // the last day of a month
  if (fy === ty && fm === tm) return true; // a month
  if (fy === ty && (fm - 1) % 3 === 0 && tm === fm + 2) return true; // a quarter
  return fm === 1 && tm === 12 && ty >= fy && ty - fy < 100; // a year or whole years
}

/** What is wrong with the query of a statistics request ([] when it is a grid question). */
export function gridProblems(query) {
  const problems = [];
  const from = query.get('from') ?? DEFAULT_FROM;
  const to = query.get('to') ?? defaultTo();
  if (!onGrid(from, to)) problems.push(`period ${from}..${to} off the grid`);
  for (const name of new Set(query.keys())) {
    if (!PARAMETERS.includes(name)) problems.push(`unknown parameter ${name}`);
    else if (query.getAll(name).length > 1) problems.push(`${name} given more than once`);
  }
  if (query.has('platform') && query.has('ami')) problems.push('platform and ami together');
  if (query.has('ami') && !['1', '2'].includes(query.get('ami'))) problems.push(`ami=${query.get('ami')}`);
  if (query.has('age_band') && !AGE_BANDS.includes(query.get('age_band'))) problems.push(`age_band=${query.get('age_band')}`);
  return problems;
}
