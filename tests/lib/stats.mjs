// Helpers of the statistics suites: the platforms and their AMI, a seeded PRNG, dates, an
// RFC 4180 CSV parser. (Bounded concurrency: load.mjs pool.)
import assert from 'node:assert/strict';

export const PLATFORMS = ['artois', 'lens_henin', 'audomarois', 'boulonnais', 'montreuillois'];
export const AMI = { artois: 1, lens_henin: 1, audomarois: 2, boulonnais: 2, montreuillois: 2 };

// ------------------------------------------------------------------------------ PRNG

/** mulberry32: a small seeded PRNG, so that a failing case can be replayed from its seed. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), // inclusive
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
  };
}

// ------------------------------------------------------------------------------ dates

export function addDays(date, n) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
export function dayNumber(date) {
  return Math.round(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
}
export function fromDayNumber(n) {
  return new Date(n * 86_400_000).toISOString().slice(0, 10);
}
export function lastDayOfMonth(y, m) {
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10); // m: 1..12
}
// ------------------------------------------------------------------------------ CSV

/**
 * Parses RFC 4180 text: records end with CRLF (a bare LF or CR outside quotes is an error),
 * fields may be quoted ("" for a quote). Returns an array of records (arrays of strings).
 */
export function parseCsv(text) {
  const records = [];
  let rec = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let wasQuoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i += 1;
        continue;
      }
      field += ch;
      i += 1;
      continue;
    }
    if (ch === '"') {
      assert.equal(field, '', `CSV: a quote inside an unquoted field at offset ${i}`);
      quoted = true;
      wasQuoted = true;
      i += 1;
    } else if (ch === ',') {
      rec.push(field);
      field = '';
      wasQuoted = false;
      i += 1;
    } else if (ch === '\r') {
      assert.equal(text[i + 1], '\n', `CSV: a CR without LF at offset ${i}`);
      rec.push(field);
      records.push(rec);
      rec = [];
      field = '';
      wasQuoted = false;
      i += 2;
    } else if (ch === '\n') {
      assert.fail(`CSV: a bare LF (not CRLF) at offset ${i}`);
    } else {
      assert.ok(!wasQuoted, `CSV: text after a closing quote at offset ${i}`);
      field += ch;
      i += 1;
    }
  }
  assert.ok(!quoted, 'CSV: unterminated quoted field');
  assert.ok(field === '' && rec.length === 0, 'CSV: the last record does not end with CRLF');
  return records;
}
