// Reading the service's Prometheus exposition (GET /metrics).
//
//   const all = parseMetrics(res.text); samples(all, 'lda_http_requests_total', { status: '200' });
//   metric(res.text, 'lda_db_pool_size')    // one sample by its exact name{labels}, NaN if absent

/**
 * Parses Prometheus text: returns [{ name, labels: {..}, value }] for every sample line.
 */
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let l;
      while ((l = re.exec(m[3])) !== null) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    const v = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    out.push({ name: m[1], labels, value: v });
  }
  return out;
}

/** The samples named `name` whose labels include every entry of `labels`. */
export function samples(metrics, name, labels = {}) {
  return metrics.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of a Prometheus sample `name{labels}` in an exposition text (NaN when absent). */
export function metric(text, name) {
  const esc = name.replace(/[{}"\\[\]()|.+*?^$]/g, '\\$&');
  const m = text.match(new RegExp(`^${esc} ([0-9.e+-]+)$`, 'm'));
  return m ? Number(m[1]) : NaN;
}
