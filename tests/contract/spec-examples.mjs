#!/usr/bin/env node
// Checks the examples of openapi.yaml (ctest contract_spec_examples):
//
//  1. every `example` / `examples` is valid against its schema — media types (request bodies
//     and responses, with `examples` entries resolved through #/components/examples),
//     parameters, headers, and schemas themselves (`example`, and the JSON Schema `examples`
//     array) at any depth. Schemas are compiled with Ajv's JSON Schema 2020-12 dialect and
//     ajv-formats, the whole document added as one schema so that every $ref resolves into
//     #/components. Formats are asserted (a bad date or uuid in an example is an error).
//     An application/x-ndjson example is checked line by line against the record schema (the
//     items of the application/json array beside it); a text/csv example must have the same
//     number of fields on every row.
//  2. every operation has a 2xx answer with an example (a 2xx answer without a body, such as
//     204, needs none; other media types of a 2xx answer without an example are listed as
//     notes), and a request body, when it has one, has an example for each of its media types;
//  3. every schema of #/components/schemas is exemplified: reached by at least one example
//     (walking the example instance through the schema: properties present, array items,
//     the oneOf/anyOf branches the value matches), or carrying an example of its own.
//
// Prints every problem (with its JSON pointer in the document) and exits 1 if there is any.
//
//   node tests/contract/spec-examples.mjs [openapi.yaml]
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const specPath = resolve(process.argv[2] ?? join(ROOT, 'openapi.yaml'));
const doc = YAML.parse(readFileSync(specPath, 'utf8'), { maxAliasCount: -1 });

if (!String(doc.openapi ?? '').startsWith('3.1')) {
  console.error(`${specPath}: expected an OpenAPI 3.1 document, got ${doc.openapi}`);
  process.exit(1);
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const SPEC = 'spec';

const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, logger: false, validateFormats: true });
addFormats(ajv);
ajv.addFormat('int32', { type: 'number', validate: (x) => Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31 });
ajv.addFormat('int64', { type: 'number', validate: (x) => Number.isInteger(x) });
ajv.addFormat('float', { type: 'number', validate: () => true });
ajv.addFormat('double', { type: 'number', validate: () => true });
ajv.addFormat('byte', /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
ajv.addFormat('binary', true);
ajv.addFormat('password', true);
ajv.addSchema(doc, SPEC);

// ---------------------------------------------------------------------------------------------
const problems = [];
const notes = [];
let checked = 0;

const tok = (t) => String(t).replace(/~/g, '~0').replace(/\//g, '~1');
const show = (ptr) => '#/' + ptr.map(tok).join('/');
const fragment = (ptr) => '#/' + ptr.map((t) => encodeURIComponent(tok(t))).join('/');
const fail = (ptr, msg) => problems.push(`${show(ptr)}: ${msg}`);

function get(ptr) {
  let node = doc;
  for (const t of ptr) node = node?.[t];
  return node;
}

/** Follows a local $ref ('#/components/...') to [node, pointer]. */
function deref(node, ptr) {
  const seen = new Set();
  while (node && typeof node === 'object' && typeof node.$ref === 'string') {
    const ref = node.$ref;
    if (!ref.startsWith('#/') || seen.has(ref)) {
      fail(ptr, `unresolvable $ref ${ref}`);
      return [undefined, ptr];
    }
    seen.add(ref);
    ptr = ref.slice(2).split('/').map((t) => decodeURIComponent(t).replace(/~1/g, '/').replace(/~0/g, '~'));
    node = get(ptr);
    if (node === undefined) fail(ptr, `$ref ${ref} points at nothing`);
  }
  return [node, ptr];
}

const validators = new Map();
function validatorAt(schemaPtr) {
  const key = fragment(schemaPtr);
  let v = validators.get(key);
  if (!v) {
    v = ajv.compile({ $ref: `${SPEC}${key}` });
    validators.set(key, v);
  }
  return v;
}

function describe(value, max = 160) {
  const s = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value);
  return s === undefined ? String(value) : s.length > max ? s.slice(0, max) + '…' : s;
}

function formatErrors(errors) {
  return (errors ?? [])
    .slice(0, 8)
    .map((e) => `    ${e.instancePath || '(root)'} ${e.message}${e.params && Object.keys(e.params).length ? ' ' + describe(e.params, 120) : ''}`)
    .join('\n');
}

// Coverage of #/components/schemas: names reached by some example.
const covered = new Set();

/** Walks an instance through a schema, marking each component schema it passes through. */
function cover(schemaPtr, instance, depth = 0) {
  if (depth > 64) return;
  let schema = get(schemaPtr);
  if (!schema || typeof schema !== 'object') return;
  if (typeof schema.$ref === 'string') {
    const [target, targetPtr] = deref(schema, schemaPtr);
    if (targetPtr[0] === 'components' && targetPtr[1] === 'schemas' && targetPtr.length === 3) covered.add(targetPtr[2]);
    if (target) cover(targetPtr, instance, depth + 1);
    return;
  }
  for (const kw of ['allOf']) {
    (schema[kw] ?? []).forEach((_, i) => cover([...schemaPtr, kw, i], instance, depth + 1));
  }
  for (const kw of ['oneOf', 'anyOf']) {
    (schema[kw] ?? []).forEach((_, i) => {
      const branch = [...schemaPtr, kw, i];
      if (validatorAt(branch)(instance)) cover(branch, instance, depth + 1);
    });
  }
  if (instance && typeof instance === 'object' && !Array.isArray(instance)) {
    for (const [k, v] of Object.entries(instance)) {
      if (schema.properties && k in schema.properties) cover([...schemaPtr, 'properties', k], v, depth + 1);
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        cover([...schemaPtr, 'additionalProperties'], v, depth + 1);
      }
    }
  }
  if (Array.isArray(instance)) {
    instance.forEach((v, i) => {
      if (Array.isArray(schema.prefixItems) && i < schema.prefixItems.length) cover([...schemaPtr, 'prefixItems', i], v, depth + 1);
      else if (schema.items && typeof schema.items === 'object') cover([...schemaPtr, 'items'], v, depth + 1);
    });
  }
}

/** Validates one example value against the schema at schemaPtr. */
function checkValue(where, schemaPtr, value, what) {
  checked += 1;
  const validate = validatorAt(schemaPtr);
  if (!validate(value)) {
    fail(where, `${what} does not match its schema (${show(schemaPtr)}):\n${formatErrors(validate.errors)}\n    example: ${describe(value)}`);
    return false;
  }
  cover(schemaPtr, value);
  return true;
}

/** The example values of a media type / parameter / header object: [{ ptr, value, name }]. */
function examplesOf(obj, ptr) {
  const out = [];
  if (obj.example !== undefined) out.push({ ptr: [...ptr, 'example'], value: obj.example, name: 'example' });
  if (obj.examples && typeof obj.examples === 'object') {
    for (const [name, ex] of Object.entries(obj.examples)) {
      const exPtr = [...ptr, 'examples', name];
      const [resolved, resolvedPtr] = deref(ex, exPtr);
      if (!resolved) continue;
      if (resolved.externalValue !== undefined && resolved.value === undefined) {
        fail(exPtr, `example "${name}" has only an externalValue, which cannot be checked`);
        continue;
      }
      if (resolved.value === undefined) {
        fail(resolvedPtr, `example "${name}" has no value`);
        continue;
      }
      out.push({ ptr: exPtr, value: resolved.value, name: `example "${name}"${resolvedPtr !== exPtr ? ` (${show(resolvedPtr)})` : ''}` });
    }
  }
  return out;
}

const usedComponentExamples = new Set();
function noteComponentExamples(obj) {
  for (const ex of Object.values(obj.examples ?? {})) {
    if (ex && typeof ex.$ref === 'string') usedComponentExamples.add(ex.$ref.split('/').pop());
  }
}

/** Splits CSV text (RFC 4180) into rows of fields; null when a quote is left open. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (quoted) return null;
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/**
 * A media type object: its examples against its schema. `siblings` is the content map it is
 * in (for NDJSON, the JSON array schema beside it gives the record schema).
 */
function checkMediaType(mt, ptr, siblings, siblingsPtr) {
  const mediaType = ptr[ptr.length - 1];
  noteComponentExamples(mt);
  const exs = examplesOf(mt, ptr);
  if (!mt.schema) {
    if (exs.length) fail(ptr, 'examples without a schema to check them against');
    return exs.length;
  }
  const schemaPtr = [...ptr, 'schema'];
  walkSchema(mt.schema, schemaPtr);
  for (const { ptr: exPtr, value, name } of exs) {
    if (!checkValue(exPtr, schemaPtr, value, name)) continue;
    if (mediaType === 'application/x-ndjson') {
      const json = siblings['application/json'];
      const [arraySchema, arrayPtr] = json?.schema ? deref(json.schema, [...siblingsPtr, 'application/json', 'schema']) : [];
      if (!arraySchema?.items) {
        notes.push(`${show(exPtr)}: no application/json array schema beside it: NDJSON lines not checked`);
        continue;
      }
      String(value)
        .split('\n')
        .forEach((line, i) => {
          if (!line.trim()) return;
          let record;
          try {
            record = JSON.parse(line);
          } catch (err) {
            fail(exPtr, `${name}, line ${i + 1}: not JSON (${err.message})`);
            return;
          }
          checkValue(exPtr, [...arrayPtr, 'items'], record, `${name}, line ${i + 1}`);
        });
    } else if (mediaType === 'text/csv' && typeof value === 'string') {
      const rows = parseCsv(value.replace(/\r?\n$/, ''));
      if (!rows) fail(exPtr, `${name}: a quoted CSV field is not closed`);
      else {
        const width = rows[0].length;
        rows.forEach((r, i) => {
          if (r.length !== width) fail(exPtr, `${name}: CSV row ${i + 1} has ${r.length} fields, the header ${width}`);
        });
      }
    } else if (/[/+]json$/.test(mediaType) && typeof value === 'string' && mt.schema && deref(mt.schema, schemaPtr)[0]?.type !== 'string') {
      fail(exPtr, `${name}: a JSON example written as a string (YAML block) instead of a value`);
    }
  }
  return exs.length;
}

function checkParameterOrHeader(obj, ptr) {
  const exs = examplesOf(obj, ptr);
  noteComponentExamples(obj);
  if (obj.schema) {
    walkSchema(obj.schema, [...ptr, 'schema']);
    for (const { ptr: exPtr, value, name } of exs) checkValue(exPtr, [...ptr, 'schema'], value, name);
  } else if (obj.content) {
    for (const [mtName, mt] of Object.entries(obj.content)) checkMediaType(mt, [...ptr, 'content', mtName], obj.content, [...ptr, 'content']);
  } else if (exs.length) fail(ptr, 'examples without a schema');
}

const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'dependentSchemas'];
const SUBSCHEMA_ARRAYS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SUBSCHEMA_SINGLE = ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties'];

/** Every schema node under ptr: its own `example` and `examples` (array) against itself. */
function walkSchema(schema, ptr) {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return;
  if (schema.example !== undefined) checkValue([...ptr, 'example'], ptr, schema.example, 'example');
  if (Array.isArray(schema.examples)) {
    schema.examples.forEach((v, i) => checkValue([...ptr, 'examples', i], ptr, v, `examples[${i}]`));
  } else if (schema.examples !== undefined) {
    fail([...ptr, 'examples'], 'in a schema, `examples` must be an array (JSON Schema 2020-12)');
  }
  for (const kw of SUBSCHEMA_MAPS) {
    for (const [k, sub] of Object.entries(schema[kw] ?? {})) walkSchema(sub, [...ptr, kw, k]);
  }
  for (const kw of SUBSCHEMA_ARRAYS) (schema[kw] ?? []).forEach((sub, i) => walkSchema(sub, [...ptr, kw, i]));
  for (const kw of SUBSCHEMA_SINGLE) if (schema[kw] && typeof schema[kw] === 'object') walkSchema(schema[kw], [...ptr, kw]);
}

/** A response object (or $ref): returns the number of media types and how many have examples. */
function checkResponse(resp, ptr, seen) {
  const [r, rPtr] = deref(resp, ptr);
  if (!r) return { media: 0, exemplified: 0 };
  const key = show(rPtr);
  const already = seen.has(key);
  seen.add(key);
  let media = 0;
  let exemplified = 0;
  for (const [mtName, mt] of Object.entries(r.content ?? {})) {
    media += 1;
    const mtPtr = [...rPtr, 'content', mtName];
    const n = already ? examplesOf(mt, mtPtr).length : checkMediaType(mt, mtPtr, r.content, [...rPtr, 'content']);
    if (n > 0) exemplified += 1;
  }
  if (!already) {
    for (const [h, header] of Object.entries(r.headers ?? {})) {
      const [hd, hPtr] = deref(header, [...rPtr, 'headers', h]);
      if (hd && !seen.has(show(hPtr))) {
        seen.add(show(hPtr));
        checkParameterOrHeader(hd, hPtr);
      }
    }
  }
  return { media, exemplified };
}

// ---------------------------------------------------------------------------------------------
const seen = new Set();
let operations = 0;

for (const [path, item] of Object.entries(doc.paths ?? {})) {
  const itemPtr = ['paths', path];
  const checkParams = (list, listPtr) =>
    (list ?? []).forEach((p, i) => {
      const [param, pPtr] = deref(p, [...listPtr, i]);
      if (param && !seen.has(show(pPtr))) {
        seen.add(show(pPtr));
        checkParameterOrHeader(param, pPtr);
      }
    });
  checkParams(item.parameters, [...itemPtr, 'parameters']);
  for (const method of METHODS) {
    const op = item[method];
    if (!op) continue;
    operations += 1;
    const opPtr = [...itemPtr, method];
    const opName = `${method.toUpperCase()} ${path} (${op.operationId ?? 'no operationId'})`;
    checkParams(op.parameters, [...opPtr, 'parameters']);

    if (op.requestBody) {
      const [body, bPtr] = deref(op.requestBody, [...opPtr, 'requestBody']);
      if (body) {
        for (const [mtName, mt] of Object.entries(body.content ?? {})) {
          const mtPtr = [...bPtr, 'content', mtName];
          const n = seen.has(show(mtPtr)) ? examplesOf(mt, mtPtr).length : checkMediaType(mt, mtPtr, body.content, [...bPtr, 'content']);
          seen.add(show(mtPtr));
          if (n === 0) fail(mtPtr, `${opName}: the request body (${mtName}) has no example`);
        }
      }
    }

    let has2xx = false;
    let exemplified2xx = false;
    const unexemplified = [];
    for (const [status, resp] of Object.entries(op.responses ?? {})) {
      const { media, exemplified } = checkResponse(resp, [...opPtr, 'responses', status], seen);
      if (!/^2(\d\d|XX)$/.test(status)) continue;
      has2xx = true;
      if (media === 0 || exemplified > 0) exemplified2xx = true;
      const [r] = deref(resp, [...opPtr, 'responses', status]);
      for (const [n, mt] of Object.entries(r?.content ?? {})) {
        if (examplesOf(mt, [n]).length === 0) unexemplified.push(`${status} ${n}`);
      }
    }
    if (has2xx && !exemplified2xx) {
      fail(opPtr, `${opName}: no 2xx answer has an example (${unexemplified.join(', ')})`);
    } else if (unexemplified.length) {
      notes.push(`${opName}: no example for ${unexemplified.join(', ')}`);
    }
    if (!has2xx) fail(opPtr, `${opName}: no 2xx answer declared`);
  }
}

// Components not reached from a path (or reached already: `seen` skips them).
const comps = doc.components ?? {};
for (const [name, r] of Object.entries(comps.responses ?? {})) checkResponse(r, ['components', 'responses', name], seen);
for (const kind of ['parameters', 'headers']) {
  for (const [name, obj] of Object.entries(comps[kind] ?? {})) {
    const ptr = ['components', kind, name];
    if (seen.has(show(ptr))) continue;
    seen.add(show(ptr));
    const [o, oPtr] = deref(obj, ptr);
    if (o) checkParameterOrHeader(o, oPtr);
  }
}
for (const [name, body] of Object.entries(comps.requestBodies ?? {})) {
  for (const [mtName, mt] of Object.entries(body.content ?? {})) {
    const mtPtr = ['components', 'requestBodies', name, 'content', mtName];
    if (!seen.has(show(mtPtr))) checkMediaType(mt, mtPtr, body.content, ['components', 'requestBodies', name, 'content']);
  }
}
for (const [name, schema] of Object.entries(comps.schemas ?? {})) walkSchema(schema, ['components', 'schemas', name]);

for (const name of Object.keys(comps.examples ?? {})) {
  if (!usedComponentExamples.has(name)) fail(['components', 'examples', name], 'never referenced, so never checked against a schema');
}

// Coverage: a component schema with an example of its own counts as exemplified.
for (const [name, schema] of Object.entries(comps.schemas ?? {})) {
  if (schema && (schema.example !== undefined || Array.isArray(schema.examples))) covered.add(name);
}
const uncovered = Object.keys(comps.schemas ?? {}).filter((n) => !covered.has(n));
for (const name of uncovered) {
  fail(['components', 'schemas', name], 'no example reaches this schema (give it an example, or use it in one)');
}

// ---------------------------------------------------------------------------------------------
for (const n of notes) console.log(`note: ${n}`);
console.log(
  `spec-examples: ${specPath}: ${operations} operations, ${checked} example values checked, ` +
    `${covered.size}/${Object.keys(comps.schemas ?? {}).length} component schemas exemplified`,
);
if (problems.length) {
  console.error(`\n${problems.length} problem(s):`);
  for (const p of problems) console.error(`- ${p}`);
  process.exit(1);
}
console.log('spec-examples: ok');
