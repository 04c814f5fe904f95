#!/usr/bin/env node
// Generates the perturbation table of the cell-key method (the rows of disclosure_ptable in
// db/migrations/011_disclosure_control.sql). Run once; its output is committed, so that the
// published figures never depend on this script again:
//
//   node scripts/ptable.mjs > /tmp/ptable.sql
//
// For a maximum noise D (1 to 5) and a count n at or above the threshold T, the row used is
// j = min(n - T, D). Row D (every count at least D above the threshold): noise 0 with
// probability 0.3, noise +k and -k (k = 1..D) with probability proportional to
// 1 - (k - 1) / (2 D) each: mean 0, variance 1.6 for D = 2. Rows j < D (counts close to the
// threshold): the noises below -j are removed (a published count never falls below the
// threshold), the positive side is scaled so that the mean stays 0, then the row is
// normalised; row 0 is "no noise". A cell key (the sum of the records' keys modulo
// N = 2^20) falls in one interval [key_from, key_to) of the row: that interval's noise is
// the cell's.
const N = 1 << 20;
const rows = [];
for (let D = 1; D <= 5; D++) {
  const base = new Map([[0, 0.3]]);
  let w = 0;
  for (let k = 1; k <= D; k++) w += 2 * (1 - (k - 1) / (2 * D));
  for (let k = 1; k <= D; k++) {
    const p = (0.7 * (1 - (k - 1) / (2 * D))) / w;
    base.set(k, p);
    base.set(-k, p);
  }
  for (let j = 0; j <= D; j++) {
    const row = new Map();
    let neg = 0, pos = 0;
    for (let d = -j; d <= D; d++) {
      row.set(d, base.get(d));
      if (d < 0) neg += -d * base.get(d);
      if (d > 0) pos += d * base.get(d);
    }
    const scale = j === D ? 1 : neg / pos;
    for (let d = 1; d <= D; d++) row.set(d, row.get(d) * scale);
    const sum = [...row.values()].reduce((a, b) => a + b, 0);
    let cum = 0, from = 0;
    for (let d = -j; d <= D; d++) {
      cum += row.get(d) / sum;
      const to = d === D ? N : Math.round(cum * N);
      if (to > from) rows.push(`(${D}, ${j}, ${d}, ${from}, ${to})`);
      from = to;
    }
  }
}
console.log('INSERT INTO disclosure_ptable (max_noise, excess, noise, key_from, key_to) VALUES');
console.log('  ' + rows.join(',\n  ') + ';');
