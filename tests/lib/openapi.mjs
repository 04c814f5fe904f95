// openapi.yaml walked as data: every operation with its parameters and request body schemas,
// the members of a schema, concrete paths for templates (the bad-input, auth and privacy
// suites derive their requests from it, so that a new operation is covered without editing them).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { getContract } from './contract.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export function specDoc() {
  return getContract().doc;
}

/** Follows local $refs to the node they name. */
export function deref(node) {
  const doc = specDoc();
  const seen = new Set();
  while (node && typeof node === 'object' && typeof node.$ref === 'string') {
    assert.ok(!seen.has(node.$ref), `$ref cycle ${node.$ref}`);
    seen.add(node.$ref);
    const tokens = node.$ref
      .slice(2)
      .split('/')
      .map((t) => decodeURIComponent(t).replace(/~1/g, '/').replace(/~0/g, '~'));
    node = tokens.reduce((n, t) => n?.[t], doc);
  }
  return node;
}

/**
 * Every operation of the spec: { method (upper case), template, op, params: [{ name, in,
 * schema, required }], body: { mediaType: schema } | null }.
 */
export function operations() {
  const out = [];
  for (const [template, rawItem] of Object.entries(specDoc().paths)) {
    const item = deref(rawItem);
    const shared = (item.parameters ?? []).map(deref);
    for (const m of METHODS) {
      if (!item[m]) continue;
      const op = item[m];
      const params = [...shared];
      for (const p of (op.parameters ?? []).map(deref)) {
        const i = params.findIndex((q) => q.name === p.name && q.in === p.in);
        if (i >= 0) params[i] = p;
        else params.push(p);
      }
      let body = null;
      if (op.requestBody) {
        body = {};
        for (const [mt, c] of Object.entries(deref(op.requestBody).content ?? {})) body[mt] = deref(c.schema);
      }
      out.push({ method: m.toUpperCase(), template, op, params, body });
    }
  }
  return out;
}

/** The methods the spec documents for a path template (upper case). */
export function documentedMethods(template) {
  const item = deref(specDoc().paths[template]);
  return METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
}

/** "METHOD template" of an operation. */
export const opKey = (o) => `${o.method} ${o.template}`;

/** True for a schema that is plain text: a string with no format, pattern or enum. */
function isPlainText(schema) {
  const s = deref(schema);
  if (!s || s.oneOf || s.anyOf || s.enum || s.format || s.pattern || s.const !== undefined) return false;
  const types = Array.isArray(s.type) ? s.type : [s.type];
  return types.includes('string') && types.every((t) => t === 'string' || t === 'null');
}

/** The object schemas a (possibly oneOf) schema allows. */
function objectAlternatives(schema) {
  const s = deref(schema);
  if (!s) return [];
  if (s.properties) return [s];
  if (s.oneOf || s.anyOf) return (s.oneOf ?? s.anyOf).flatMap(objectAlternatives);
  return [];
}

/**
 * Every member of an object schema, as JSON pointers (arrays of names), descending into nested
 * objects where `base` holds an object at that place. Each: { ptr, schema, text } where `text`
 * says the member is plain text (a value of any characters is valid there).
 */
export function schemaFields(schema, base, ptr = []) {
  const out = [];
  for (const obj of objectAlternatives(schema)) {
    for (const [name, sub] of Object.entries(obj.properties)) {
      const p = [...ptr, name];
      out.push({ ptr: p, schema: deref(sub), text: isPlainText(sub) });
      const here = base?.[name];
      if (here && typeof here === 'object' && !Array.isArray(here)) out.push(...schemaFields(sub, here, p));
    }
    break; // the first object alternative describes the members
  }
  return out;
}

/** A deep copy of `obj` with the member at `ptr` set to `value`. */
export function withValue(obj, ptr, value) {
  const copy = structuredClone(obj);
  let node = copy;
  for (const k of ptr.slice(0, -1)) node = node[k];
  node[ptr[ptr.length - 1]] = value;
  return copy;
}

/** The value at `ptr`, or undefined. */
export const valueAt = (obj, ptr) => ptr.reduce((n, k) => (n == null ? undefined : n[k]), obj);

/** A concrete path for a template: {id} → id, {code} → artois, {name} → a file name. */
export function concretePath(template, ids = {}) {
  return template.replace(/\{([^}]+)\}/g, (_, name) => {
    if (ids[name] !== undefined) return ids[name];
    if (name === 'code') return 'artois';
    if (name === 'name') return 'docs.js';
    return randomUUID();
  });
}
