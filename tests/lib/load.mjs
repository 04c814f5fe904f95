// Bounded load: loops that stop at a deadline or an iteration count, a tally of answers by
// operation and status, a "real client" that keeps calling the service while something else
// happens, the service's resident memory, floods of raw uploads in a worker thread.
//
//   const t = new Tally();
//   const loop = loadLoop({ clients: 4, maxMs: 10_000, step: async () => t.add(await request(url, 'GET', '/healthz', { settle: true })) });
//   await loop.done; console.log(t.toString());
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import assert from 'node:assert/strict';
import { request } from './http.mjs';
import { sleep } from './wait.mjs';

/** True on the sanitizer build (set by tests/CMakeLists.txt). */
export const SANITIZED = ['1', 'ON', 'TRUE', 'true', 'on'].includes(process.env.LDA_SANITIZED ?? '');

/** Time budgets are multiplied by this on the sanitizer build (~3x slower on 2 busy cores). */
export const SLOWDOWN = SANITIZED ? 3 : 1;

/** VmRSS of a process, in KiB (from /proc/PID/status). */
export function rssKb(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
  assert.ok(m, `no VmRSS for ${pid}`);
  return Number(m[1]);
}

/** True for an RFC 9457 503 with a Retry-After in seconds. */
export function isProper503(r) {
  return (
    r.status === 503 &&
    /^application\/problem\+json/.test(r.headers['content-type'] ?? '') &&
    r.json?.status === 503 &&
    /^\d+$/.test(r.headers['retry-after'] ?? '')
  );
}

/** Counts answers by op and status; keeps a few examples of each unexpected kind. */
export class Tally {
  constructor() {
    this.byOp = new Map();
    this.latency = new Map();
    this.samples = [];
    this.total = 0;
    this.maxMs = 0;
  }

  add(r, expected = (x) => x.status >= 200 && x.status < 300) {
    this.total += 1;
    this.maxMs = Math.max(this.maxMs, r.ms);
    const key = r.error ? `error:${r.error}` : String(r.status);
    let m = this.byOp.get(r.op);
    if (!m) this.byOp.set(r.op, (m = new Map()));
    m.set(key, (m.get(key) ?? 0) + 1);
    let l = this.latency.get(r.op);
    if (!l) this.latency.set(r.op, (l = []));
    if (l.length < 100_000) l.push(r.ms);
    if (!expected(r) && this.samples.length < 10) {
      this.samples.push(`${r.op} → ${key} after ${r.ms} ms ${r.text.slice(0, 300)}`);
    }
    return r;
  }

  /** Number of answers matching pred(statusKey). */
  count(pred) {
    let n = 0;
    for (const m of this.byOp.values()) for (const [k, v] of m) if (pred(k)) n += v;
    return n;
  }

  toString() {
    const lines = [];
    for (const [op, m] of [...this.byOp].sort()) {
      const l = [...(this.latency.get(op) ?? [])].sort((a, b) => a - b);
      const p = (q) => l[Math.min(l.length - 1, Math.floor(q * l.length))];
      lines.push(`  ${op}: ${[...m].sort().map(([k, v]) => `${k}×${v}`).join(' ')} (p50 ${p(0.5)} ms, p99 ${p(0.99)} ms)`);
    }
    return lines.join('\n');
  }
}

/**
 * Runs `clients` loops of `step(clientIndex, iteration)` until stop() is called, `maxMs`
 * elapse or `maxIterations` steps ran in all. Returns { stop, done } (done resolves when every
 * loop has ended).
 */
export function loadLoop({ clients, step, maxMs, maxIterations = 1_000_000, pauseMs = 0 }) {
  let stopped = false;
  let iterations = 0;
  const deadline = Date.now() + maxMs;
  const loops = [];
  for (let c = 0; c < clients; c += 1) {
    loops.push(
      (async () => {
        while (!stopped && Date.now() < deadline && iterations < maxIterations) {
          iterations += 1;
          await step(c, iterations);
          if (pauseMs) await sleep(pauseMs);
        }
      })(),
    );
  }
  return {
    stop() {
      stopped = true;
    },
    done: Promise.all(loops).then(() => iterations),
  };
}

/** The lines of a service's stderr that a sanitizer wrote (ASan, LSan, UBSan). */
export function sanitizerLines(logs) {
  return logs.filter((l) => /AddressSanitizer|LeakSanitizer|runtime error:|SUMMARY: /.test(l));
}

/** VmRSS and VmHWM (peak) of a process, in KiB. */
export function memKb(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(s.match(/^VmRSS:\s+(\d+)\s+kB/m)?.[1] ?? 0);
  const hwm = Number(s.match(/^VmHWM:\s+(\d+)\s+kB/m)?.[1] ?? 0);
  return { rss, hwm };
}

/** Samples a process's VmRSS every `everyMs`; stop() resolves { peakKb, samples }. */
export function rssSampler(pid, everyMs = 20) {
  let peak = 0;
  let samples = 0;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, memKb(pid).rss);
      samples += 1;
    } catch {
      /* the process is gone */
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      try {
        peak = Math.max(peak, memKb(pid).rss);
      } catch {
        /* gone */
      }
      return { peakKb: peak, samples };
    },
  };
}

export const mib = (kb) => Math.round(kb / 1024);

/** The q-quantile of numbers (0 when empty). */
export function quantile(xs, q) {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/**
 * A real client: `clients` loops over kept-alive connections from 127.0.0.1, each calling
 * requests from `pick(i)` ({ method, path, token, body }) until stop(). Resolves, on stop(),
 * { count, errors, fiveXX, statuses, p50, p99, max, samples } (latencies in ms).
 */
export function realClient(port, { clients = 2, pick, pauseMs = 20 }) {
  let stopped = false;
  const lat = [];
  const statuses = new Map();
  const samples = [];
  let errors = 0;
  let fiveXX = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const base = `http://127.0.0.1:${port}`;
  const one = ({ method = 'GET', path, token, body }) => request(base, method, path, { token, body, agent, validate: false, settle: true });
  const loops = [];
  let i = 0;
  for (let c = 0; c < clients; c += 1) {
    loops.push(
      (async () => {
        while (!stopped) {
          const r = await one(pick(i++));
          lat.push(r.ms);
          const key = r.error ? `error:${r.error}` : String(r.status);
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          if (r.error) errors += 1;
          if (r.status >= 500) fiveXX += 1;
          if ((r.error || r.status >= 500) && samples.length < 5) samples.push(`${key} ${r.text ?? ''}`.slice(0, 300));
          if (pauseMs) await sleep(pauseMs);
        }
      })(),
    );
  }
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
      return {
        count: lat.length,
        errors,
        fiveXX,
        statuses: Object.fromEntries(statuses),
        p50: quantile(lat, 0.5),
        p99: quantile(lat, 0.99),
        max: quantile(lat, 1),
        samples,
      };
    },
  };
}

/** "p50 4 ms, p99 31 ms, max 80 ms over 812 requests, 0 errors, 0 5xx {"200":812}". */
export function describeClient(r) {
  return `p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms over ${r.count} requests, ${r.errors} errors, ${r.fiveXX} 5xx ${JSON.stringify(r.statuses)}`;
}

/** A token of the form the service issues, that it never issued. */
export function bogusToken(i = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let s = 'lda_';
  for (let k = 0; k < 43; k += 1) s += alphabet[(Math.random() * 64) | 0];
  return i >= 0 ? s : s;
}

/** Runs `fn` over items with at most `parallel` at once; resolves the results in order. */
export async function pool(items, parallel, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (next < items.length) {
        const k = next++;
        out[k] = await fn(items[k], k);
      }
    }),
  );
  return out;
}

/** Runs rawUpload jobs in a worker thread (_flood_worker.mjs); resolves their results. */
export async function floodInWorker(port, jobs, parallel) {
  const { Worker } = await import('node:worker_threads');
  const worker = new Worker(new URL('./flood-worker.mjs', import.meta.url), { workerData: { port, jobs, parallel } });
  return new Promise((resolve, reject) => {
    worker.once('message', (m) => {
      resolve(m);
      worker.terminate();
    });
    worker.once('error', reject);
  });
}

/** Threads: of /proc/<pid>/status. */
export async function threadCount(pid) {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(text.match(/^Threads:\s+(\d+)/m)[1]);
}

/** Prints one summary line (visible in ctest's output). */
export function summary(t, line) {
  console.log(`# ${line}`);
}
