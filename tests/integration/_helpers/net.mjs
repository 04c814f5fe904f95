// Small helpers shared by foundation/access/outage tests: raw HTTP requests (node:http, for
// chunked bodies, keep-alive agents and partial responses) whose answers are still checked
// against openapi.yaml, Prometheus text parsing, bounded polling.
import http from 'node:http';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { getContract, isJsonMediaType, mediaTypeOf } from '../../lib/contract.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Checks a response against openapi.yaml (throws an AssertionError when it does not follow it). */
export function validateResponse(method, path, { status, headers, text }) {
  return getContract().validateResponse({ method, path, status, headers, text });
}

/**
 * One request with node:http. Resolves
 *   { status, headers, text, json, complete, bodyBytes, declaredLength, socket }
 * where `complete` says the body ended normally (and matched Content-Length when there was one).
 * Rejects with the socket error when no response head arrived (err.phase = 'before-response',
 * err.writtenAt = when the request had been fully written, or null).
 * A response whose body is cut resolves with complete=false (never rejects).
 *
 * opts.chunks  array of strings/Buffers written one by one (chunked when no Content-Length
 *              header is given); opts.body a single string/Buffer (Content-Length set).
 * opts.agent   an http.Agent (default: a fresh connection, closed after the answer).
 * opts.validate false to skip the openapi.yaml check.
 */
export function httpRequest(baseUrl, method, path, opts = {}) {
  const { headers = {}, body, chunks, agent = false, timeout = 30_000, validate = true } = opts;
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-length')) {
      h['Content-Length'] = Buffer.byteLength(body);
    }
    let settled = false;
    let writtenAt = null; // when the whole request had been handed to the socket
    const req = http.request(baseUrl + path, { method, headers: h, agent }, (res) => {
      const socket = res.socket;
      const parts = [];
      let bytes = 0;
      let finished = false;
      res.on('data', (d) => {
        parts.push(d);
        bytes += d.length;
      });
      const done = (complete) => {
        if (finished) return;
        finished = true;
        settled = true;
        const text = Buffer.concat(parts).toString('utf8');
        const declared = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : null;
        const out = {
          status: res.statusCode,
          headers: { ...res.headers },
          text,
          json: undefined,
          complete: complete && (declared === null || declared === bytes),
          bodyBytes: bytes,
          declaredLength: declared,
          socket,
          writtenAt,
        };
        if (text.length && isJsonMediaType(mediaTypeOf(out.headers['content-type']))) {
          try {
            out.json = JSON.parse(text);
          } catch {
            /* reported by the contract check or by the caller */
          }
        }
        if (validate && out.complete) {
          try {
            validateResponse(method, path, out);
          } catch (err) {
            reject(err);
            return;
          }
        }
        resolve(out);
      };
      res.on('end', () => done(true));
      res.on('aborted', () => done(false));
      res.on('error', () => done(false));
      res.on('close', () => done(res.complete));
    });
    req.setTimeout(timeout, () => req.destroy(new Error(`no answer to ${method} ${path} after ${timeout} ms`)));
    req.on('error', (err) => {
      if (settled) return;
      settled = true;
      err.phase = 'before-response';
      err.writtenAt = writtenAt;
      reject(err);
    });
    req.on('finish', () => {
      writtenAt = Date.now();
    });
    if (chunks) {
      for (const c of chunks) req.write(c);
      req.end();
    } else {
      req.end(body);
    }
  });
}

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

/** Polls fn() every `interval` ms until it returns a truthy value or `timeout` ms pass. */
export async function pollUntil(fn, { timeout, interval = 100 }) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() >= deadline) return last;
    await sleep(interval);
  }
}

/** Threads: of /proc/<pid>/status. */
export async function threadCount(pid) {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(text.match(/^Threads:\s+(\d+)/m)[1]);
}

export const PROBLEM_TYPE = {
  400: '/problems/bad-request',
  401: '/problems/unauthorized',
  403: '/problems/forbidden',
  404: '/problems/not-found',
  405: '/problems/method-not-allowed',
  409: '/problems/conflict',
  412: '/problems/precondition-failed',
  413: '/problems/payload-too-large',
  415: '/problems/unsupported-media-type',
  422: '/problems/validation',
  429: '/problems/rate-limited',
  500: '/problems/internal',
  503: '/problems/unavailable',
};

/**
 * Asserts an RFC 9457 problem answer: status, application/problem+json, the type of the
 * status, request_id equal to the X-Request-Id header, instance the request path.
 */
export async function assertProblem(res, status, path, message = '') {
  const what = `${message}${message ? ': ' : ''}${path}`;
  assert.equal(res.status, status, `${what}: expected ${status}, got ${res.status} ${res.text?.slice(0, 300)}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/, `${what}: content-type`);
  assert.ok(res.json, `${what}: no JSON problem body`);
  assert.equal(res.json.status, status, `${what}: problem status`);
  assert.equal(res.json.type, PROBLEM_TYPE[status], `${what}: problem type`);
  assert.equal(res.json.request_id, res.headers['x-request-id'], `${what}: request_id = X-Request-Id`);
  if (path !== undefined) assert.equal(res.json.instance, path.split('?')[0], `${what}: instance`);
  return res.json;
}

/** Resolves what `promise` resolves, or null after `ms` (the timer is cleared either way). */
export function within(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
