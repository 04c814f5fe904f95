// Shared pieces of the suites that prove what a client without a valid token can cost the
// service (preauth_memory, batch_memory, auth_flood) and of the other hardening suites:
// raw HTTP uploads that can stop half way, a sampler of the service's resident memory, and
// a "real client" that keeps calling the service while something else happens, with the
// figures every suite prints (peak RSS, p99, errors, 5xx).
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { sleep } from './_rel2_lib.mjs';

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
 * A raw upload over its own connection: the request head, then `total` bytes of `fill` in
 * pieces of `piece` bytes (chunked encoding when `chunked`), stopping as soon as the server
 * answers or closes. Resolves { status, sent, ms, answeredBeforeBody, error } and never
 * rejects. `localAddress` picks the client address (any 127.x.y.z on Linux).
 */
export function rawUpload(port, { method = 'POST', path, headers = {}, total, piece = 64 * 1024, chunked = false, localAddress, fill = 'x', timeout = 30_000, head }) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const out = { status: 0, sent: 0, ms: 0, answeredBeforeBody: false, error: null };
    let answered = false;
    let data = '';
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const done = () => {
      clearTimeout(timer);
      out.ms = Date.now() - t0;
      socket.destroy();
      resolve(out);
    };
    const timer = setTimeout(() => {
      out.error ??= 'timeout';
      done();
    }, timeout);
    socket.on('data', (d) => {
      data += d.toString('latin1');
      const m = data.match(/^HTTP\/1\.1 (\d{3})/);
      if (m && !answered) {
        answered = true;
        out.status = Number(m[1]);
        out.answeredBeforeBody = out.sent === 0;
        out.text = data;
      }
      if (answered && /\r\n\r\n/.test(data)) {
        out.text = data;
      }
    });
    socket.on('error', (e) => {
      out.error ??= e.code ?? e.message;
    });
    socket.on('close', done);
    socket.on('connect', async () => {
      const h = { Host: '127.0.0.1', ...headers };
      if (chunked) h['Transfer-Encoding'] = 'chunked';
      else if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-length')) h['Content-Length'] = String(total);
      const lines = [`${method} ${path} HTTP/1.1`, ...Object.entries(h).map(([k, v]) => `${k}: ${v}`)];
      socket.write(head ?? `${lines.join('\r\n')}\r\n\r\n`);
      const block = Buffer.alloc(piece, fill);
      while (out.sent < total && !answered && !socket.destroyed) {
        const n = Math.min(piece, total - out.sent);
        const buf = n === piece ? block : block.subarray(0, n);
        const ok = chunked ? socket.write(`${n.toString(16)}\r\n`) && socket.write(buf) && socket.write('\r\n') : socket.write(buf);
        out.sent += n;
        if (!ok) await new Promise((r) => socket.once('drain', r).once('close', r));
      }
      if (chunked && !answered && !socket.destroyed) socket.write('0\r\n\r\n');
    });
  });
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
  const one = ({ method = 'GET', path, token, body }) =>
    new Promise((resolve) => {
      const t0 = Date.now();
      const headers = {};
      if (token) headers.Authorization = `Bearer ${token}`;
      let payload;
      if (body !== undefined) {
        payload = JSON.stringify(body);
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = Buffer.byteLength(payload);
      }
      const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent, timeout: 30_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          if (text.length < 400) text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode, ms: Date.now() - t0, text }));
        res.on('error', (e) => resolve({ status: 0, ms: Date.now() - t0, error: e.code ?? e.message }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve({ status: 0, ms: Date.now() - t0, error: e.code ?? e.message }));
      req.end(payload);
    });
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

/** The value of a Prometheus sample `name{labels}` in an exposition text (NaN when absent). */
export function metric(text, name) {
  const esc = name.replace(/[{}"\\[\]()|.+*?^$]/g, '\\$&');
  const m = text.match(new RegExp(`^${esc} ([0-9.e+-]+)$`, 'm'));
  return m ? Number(m[1]) : NaN;
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
  const worker = new Worker(new URL('./_flood_worker.mjs', import.meta.url), { workerData: { port, jobs, parallel } });
  return new Promise((resolve, reject) => {
    worker.once('message', (m) => {
      resolve(m);
      worker.terminate();
    });
    worker.once('error', reject);
  });
}
