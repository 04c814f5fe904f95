// The test suites' one HTTP client (node:http), and its raw-socket side for what a well-formed
// client cannot send (malformed heads, uploads that stop half way).
//
//   import { request, show } from '../lib/http.mjs';
//   const res = await request(svc.url, 'GET', '/v1/platforms', { token });
//   // Service.api(method, path, opts) is request(svc.url, method, path, opts)
//
// request() options:
//   token        sent as Authorization: Bearer <token> (unless headers name Authorization)
//   body         a value sent as JSON (Content-Type application/json unless headers say otherwise)
//   raw          true: send `body` as is (string/Buffer), no Content-Type added
//   chunks       strings/Buffers written one by one (chunked encoding without Content-Length)
//   headers      extra request headers
//   timeout      ms for the whole exchange (default 30 s)
//   keepAlive    true (default): a connection of the process's keep-alive pool; false: a
//                connection of its own, closed after the answer
//   agent        an http.Agent of the caller's (wins over keepAlive)
//   localAddress the client address (any 127.x.y.z on Linux)
//   validate     false: skip the openapi.yaml check (only for deliberately off-spec probes)
//   settle       true: never reject; a failed exchange resolves with status 0 and `error`, an
//                off-spec answer with error 'contract: ...' (load loops tally these)
//   op           the name the answer carries (default "METHOD /path"), for tallies
//
// It resolves { op, status, headers, text, json, ms, at, error, complete, bodyBytes,
// declaredLength, socket, writtenAt }: headers with lower-case names, json the parsed body of a
// JSON media type (undefined otherwise), complete whether the body ended normally (and matched
// Content-Length), writtenAt when the request had been fully written. Without `settle` it
// rejects with the socket error when no answer came (err.phase = 'before-response').
//
// rawExchange(port, data) writes bytes as they are and parses the first answer; rawUpload(port,
// {...}) streams a body until the server answers or closes.
import http from 'node:http';
import net from 'node:net';
import { getContract, isJsonMediaType, mediaTypeOf } from './contract.mjs';

// Like fetch's pool: idle connections are closed by the client after 4 s, before the server's
// own idle timeout can race a new request on them.
const keepAliveAgent = new http.Agent({ keepAlive: true, timeout: 4_000 });

/** "STATUS first 800 characters of the body", for assertion messages. */
export function show(res) {
  if (!res) return String(res);
  return `${res.status} ${res.error ? `(${res.error}) ` : ''}${res.text?.slice(0, 800) ?? ''}`;
}

/** Checks an answer against openapi.yaml (throws an AssertionError when it does not follow it). */
export function validateResponse(method, path, { status, headers, text }) {
  return getContract().validateResponse({ method, path, status, headers, text });
}

function parseJsonBody(out) {
  if (out.text.length && isJsonMediaType(mediaTypeOf(out.headers['content-type']))) {
    try {
      out.json = JSON.parse(out.text);
    } catch {
      /* reported by the contract check or by the caller */
    }
  }
}

/** One request; see the header of this file. */
export function request(baseUrl, method, path, opts = {}) {
  const {
    token,
    body,
    raw = false,
    chunks,
    headers = {},
    timeout = 30_000,
    keepAlive = true,
    agent,
    localAddress,
    validate = true,
    settle = false,
    op,
  } = opts;
  const h = { ...headers };
  const has = (name) => Object.keys(h).some((k) => k.toLowerCase() === name);
  if (token !== undefined && token !== null && token !== '' && !has('authorization')) h.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    if (raw) payload = body;
    else payload = JSON.stringify(body);
    if (!raw && !has('content-type')) h['Content-Type'] = 'application/json';
    if (!has('content-length')) h['Content-Length'] = Buffer.byteLength(payload);
  }
  const t0 = Date.now();
  const out = {
    op: op ?? `${method} ${path.split('?')[0]}`,
    status: 0,
    headers: {},
    text: '',
    json: undefined,
    ms: 0,
    at: t0,
    error: null,
    complete: false,
    bodyBytes: 0,
    declaredLength: null,
    socket: null,
    writtenAt: null,
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      out.ms = Date.now() - t0;
      if (!err) {
        resolve(out);
        return;
      }
      if (settle) {
        out.error = err.code ?? err.name ?? String(err);
        resolve(out);
        return;
      }
      reject(err);
    };
    let req;
    try {
      req = http.request(
        new URL(baseUrl + path),
        { method, headers: h, agent: agent ?? (keepAlive ? keepAliveAgent : false), localAddress },
        (res) => {
          out.socket = res.socket;
          const parts = [];
          let ended = false;
          res.on('data', (d) => {
            parts.push(d);
            out.bodyBytes += d.length;
          });
          const done = (complete) => {
            if (ended) return;
            ended = true;
            out.status = res.statusCode;
            out.headers = { ...res.headers };
            out.text = Buffer.concat(parts).toString('utf8');
            out.declaredLength = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : null;
            out.complete = complete && (out.declaredLength === null || out.declaredLength === out.bodyBytes);
            parseJsonBody(out);
            if (validate && out.complete) {
              try {
                validateResponse(method, path, out);
              } catch (err) {
                if (!settle) {
                  finish(err);
                  return;
                }
                out.error = `contract: ${err.message.split('\n')[0]}`;
              }
            }
            finish(null);
          };
          res.on('end', () => done(true));
          res.on('aborted', () => done(false));
          res.on('error', () => done(false));
          res.on('close', () => done(res.complete));
        },
      );
    } catch (err) {
      finish(err);
      return;
    }
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer to ${method} ${path} after ${timeout} ms`), { code: 'TimeoutError' })), timeout);
    req.on('error', (err) => {
      if (settled || out.status) return;
      err.phase = 'before-response';
      err.writtenAt = out.writtenAt;
      finish(err);
    });
    req.on('finish', () => {
      out.writtenAt = Date.now();
    });
    if (chunks) {
      for (const c of chunks) req.write(c);
      req.end();
    } else {
      req.end(payload);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Raw sockets

/**
 * Writes `data` (string/Buffer, or an array written piece by piece) on a fresh connection and
 * resolves the parsed answer { status, headers, text, json, raw, complete } (the first response
 * only), or { error } when the connection closed without one. Never rejects.
 */
export function rawExchange(port, data, { timeout = 15_000, halfClose = true } = {}) {
  return new Promise((resolve) => {
    const chunks = [];
    let done = false;
    const sock = net.connect(port, '127.0.0.1');
    const finish = (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const buf = Buffer.concat(chunks);
      if (!buf.length) {
        resolve({ error: err ? err.message : 'no answer' });
        return;
      }
      resolve(parseRawResponse(buf));
    };
    const timer = setTimeout(() => finish(new Error('timeout')), timeout);
    sock.on('connect', async () => {
      const pieces = Array.isArray(data) ? data : [data];
      for (const p of pieces) {
        if (!sock.writable) break;
        await new Promise((r) => sock.write(p, r));
      }
      if (halfClose && sock.writable) sock.end();
    });
    sock.on('data', (d) => {
      chunks.push(d);
      const parsed = parseRawResponse(Buffer.concat(chunks));
      if (parsed.complete) finish();
    });
    sock.on('error', (e) => finish(e));
    sock.on('close', () => finish());
  });
}

/** Parses the first HTTP/1.1 answer of `buf` (Content-Length or chunked body). */
export function parseRawResponse(buf) {
  const raw = buf.toString('latin1');
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { raw, complete: false, status: 0, headers: {}, text: '' };
  const lines = raw.slice(0, end).split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let bodyBuf = buf.subarray(Buffer.byteLength(raw.slice(0, end + 4), 'latin1'));
  let complete = false;
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    complete = bodyBuf.length >= n;
    bodyBuf = bodyBuf.subarray(0, n);
  } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts = [];
    let off = 0;
    const s = bodyBuf.toString('latin1');
    for (;;) {
      const nl = s.indexOf('\r\n', off);
      if (nl < 0) break;
      const size = parseInt(s.slice(off, nl), 16);
      if (Number.isNaN(size)) break;
      if (size === 0) {
        complete = true;
        break;
      }
      parts.push(bodyBuf.subarray(nl + 2, nl + 2 + size));
      off = nl + 2 + size + 2;
    }
    bodyBuf = Buffer.concat(parts);
  }
  const text = bodyBuf.toString('utf8');
  let json;
  if (/json/.test(headers['content-type'] ?? '')) {
    try {
      json = JSON.parse(text);
    } catch {
      /* reported by the caller */
    }
  }
  return { raw, complete, status, headers, text, json };
}

/**
 * A raw upload over its own connection: the request head, then `total` bytes of `fill` in
 * pieces of `piece` bytes (chunked encoding when `chunked`), stopping as soon as the server
 * answers or closes. Resolves { status, sent, ms, answeredBeforeBody, error, text } and never
 * rejects. `localAddress` picks the client address; `head` replaces the generated head.
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
