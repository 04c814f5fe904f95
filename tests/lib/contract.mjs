// Checks HTTP responses against openapi.yaml: the route and method exist, the status is
// declared (exactly, as a range like 4XX, or as `default`), the Content-Type is one the spec
// lists, headers marked required are present, and JSON bodies (problem+json included) match
// their schema. Any mismatch throws an AssertionError naming method, path, status and why.
//
//   import { getContract } from './contract.mjs';
//   getContract().validateResponse({ method, path, status, headers, text });
//
// OpenAPI 3.1 schemas are compiled with Ajv's JSON Schema 2020-12 dialect; 3.0 documents are
// accepted too (draft-07, `nullable` rewritten as a null type). The whole document is added to
// Ajv as the schema `spec`, so every `#/components/...` reference resolves inside it.
import { readFileSync } from 'node:fs';
import { AssertionError } from 'node:assert';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import AjvDraft07 from 'ajv';
import addFormats from 'ajv-formats';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const SPEC_ID = 'spec';

/** Escapes one JSON-pointer token and makes it safe in a URI fragment. */
function pointerToken(token) {
  return encodeURIComponent(String(token).replace(/~/g, '~0').replace(/\//g, '~1'));
}

/** URI-fragment form (for Ajv). */
function pointerOf(tokens) {
  return '#/' + tokens.map(pointerToken).join('/');
}

/** Readable form (for messages). */
function showPointer(tokens) {
  return '#/' + tokens.map((t) => String(t).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/** Base media type of a Content-Type header value, lower-case, parameters dropped. */
export function mediaTypeOf(value) {
  if (!value) return '';
  return String(value).split(';')[0].trim().toLowerCase();
}

export function isJsonMediaType(type) {
  return type === 'application/json' || /^[a-z0-9.+-]+\/[a-z0-9.+-]*\+json$/.test(type);
}

function describe(value, max = 400) {
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  if (s === undefined) return String(value);
  return s.length > max ? s.slice(0, max) + '…' : s;
}

/** Rewrites an OpenAPI 3.0 schema tree in place so that draft-07 understands it. */
function convertOas30(node) {
  if (Array.isArray(node)) {
    node.forEach(convertOas30);
    return;
  }
  if (!node || typeof node !== 'object') return;
  for (const value of Object.values(node)) convertOas30(value);
  if (node.nullable === true) {
    delete node.nullable;
    if (typeof node.type === 'string') node.type = [node.type, 'null'];
    else if (Array.isArray(node.type) && !node.type.includes('null')) node.type.push('null');
    else if (node.type === undefined) {
      const inner = { ...node };
      for (const key of Object.keys(node)) delete node[key];
      node.anyOf = [inner, { type: 'null' }];
    }
    if (Array.isArray(node.enum) && !node.enum.includes(null)) node.enum.push(null);
  } else if (node.nullable === false) {
    delete node.nullable;
  }
  if (node.exclusiveMinimum === true && typeof node.minimum === 'number') {
    node.exclusiveMinimum = node.minimum;
    delete node.minimum;
  } else if (node.exclusiveMinimum === false) delete node.exclusiveMinimum;
  if (node.exclusiveMaximum === true && typeof node.maximum === 'number') {
    node.exclusiveMaximum = node.maximum;
    delete node.maximum;
  } else if (node.exclusiveMaximum === false) delete node.exclusiveMaximum;
}

export class Contract {
  /** @param doc the parsed OpenAPI document; @param source where it came from (messages). */
  constructor(doc, source = 'openapi.yaml') {
    if (!doc || typeof doc !== 'object' || typeof doc.openapi !== 'string') {
      throw new Error(`${source}: not an OpenAPI document (no "openapi" version field)`);
    }
    this.source = source;
    this.version = doc.openapi;
    this.doc = structuredClone(doc);
    const options = {
      strict: false,
      allErrors: true,
      validateSchema: false,
      logger: false,
      validateFormats: true,
    };
    if (this.version.startsWith('3.1')) {
      this.ajv = new Ajv2020(options);
    } else if (this.version.startsWith('3.0')) {
      convertOas30(this.doc.components);
      convertOas30(this.doc.paths);
      this.ajv = new AjvDraft07(options);
    } else {
      throw new Error(`${source}: unsupported OpenAPI version ${this.version}`);
    }
    addFormats(this.ajv);
    this.ajv.addFormat('int32', {
      type: 'number',
      validate: (x) => Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31,
    });
    this.ajv.addFormat('int64', { type: 'number', validate: (x) => Number.isInteger(x) });
    this.ajv.addFormat('float', { type: 'number', validate: () => true });
    this.ajv.addFormat('double', { type: 'number', validate: () => true });
    this.ajv.addFormat('byte', /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
    this.ajv.addFormat('binary', true);
    this.ajv.addFormat('password', true);
    this.ajv.addSchema(this.doc, SPEC_ID);
    this.validators = new Map();

    this.serverPrefixes = [];
    for (const server of this.doc.servers ?? []) {
      let p;
      try {
        p = new URL(String(server.url ?? ''), 'http://x').pathname.replace(/\/+$/, '');
      } catch {
        continue;
      }
      if (p && p !== '/' && !p.includes('{') && !this.serverPrefixes.includes(p)) this.serverPrefixes.push(p);
    }
    this.routes = Object.keys(this.doc.paths ?? {}).map((template) => this.#compileTemplate(template));
  }

  #compileTemplate(template) {
    const segments = template.split('/');
    let literal = 0;
    const pattern = segments
      .map((segment) => {
        if (!segment.includes('{')) {
          literal += 1;
          return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        }
        return segment
          .split(/(\{[^}]+\})/)
          .map((part) => (/^\{[^}]+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
          .join('');
      })
      .join('/');
    return { template, regex: new RegExp(`^${pattern}$`), literal };
  }

  /** Follows local `$ref`s of non-schema objects; returns { node, tokens }. */
  resolve(node, tokens) {
    const seen = new Set();
    while (node && typeof node === 'object' && typeof node.$ref === 'string') {
      const ref = node.$ref;
      if (!ref.startsWith('#/')) throw new Error(`${this.source}: only local $ref supported, got ${ref}`);
      if (seen.has(ref)) throw new Error(`${this.source}: $ref cycle at ${ref}`);
      seen.add(ref);
      tokens = ref
        .slice(2)
        .split('/')
        .map((t) => decodeURIComponent(t).replace(/~1/g, '/').replace(/~0/g, '~'));
      node = tokens.reduce((n, t) => (n == null ? undefined : n[t]), this.doc);
      if (node === undefined) throw new Error(`${this.source}: unresolved $ref ${ref}`);
    }
    return { node, tokens };
  }

  /** The path template matching a concrete request path (query ignored), or null. */
  matchPath(path) {
    const bare = String(path).split('#')[0].split('?')[0];
    const candidates = [bare];
    for (const prefix of this.serverPrefixes) {
      if (bare === prefix || bare.startsWith(prefix + '/')) candidates.push(bare.slice(prefix.length) || '/');
    }
    for (const candidate of candidates) {
      const hits = this.routes.filter((r) => r.regex.test(candidate));
      if (hits.length) {
        hits.sort((a, b) => b.literal - a.literal || b.template.length - a.template.length);
        return hits[0].template;
      }
    }
    return null;
  }

  /** { template, operation, tokens } for a request, or null when the spec has no such route. */
  findOperation(method, path) {
    const template = this.matchPath(path);
    if (template === null) return null;
    const m = method.toLowerCase();
    const { node: pathItem, tokens } = this.resolve(this.doc.paths[template], ['paths', template]);
    let verb = m;
    if (!pathItem?.[verb] && verb === 'head') verb = 'get';
    if (!pathItem?.[verb]) return { template, operation: null, tokens };
    return { template, operation: pathItem[verb], tokens: [...tokens, verb] };
  }

  validator(tokens) {
    const ref = `${SPEC_ID}${pointerOf(tokens)}`;
    let validate = this.validators.get(ref);
    if (!validate) {
      try {
        validate = this.ajv.compile({ $ref: ref });
      } catch (err) {
        throw new Error(`${this.source}: cannot compile the schema at ${showPointer(tokens)}: ${err.message}`);
      }
      this.validators.set(ref, validate);
    }
    return validate;
  }

  /** Where the spec defines the problem+json schema (for routes it does not list). */
  problemSchemaTokens() {
    if (this._problemTokens !== undefined) return this._problemTokens;
    this._problemTokens = null;
    const schemas = this.doc.components?.schemas ?? {};
    const name = Object.keys(schemas).find((n) => /^problem(details)?$/i.test(n));
    if (name) {
      this._problemTokens = ['components', 'schemas', name];
    } else {
      for (const [rname, response] of Object.entries(this.doc.components?.responses ?? {})) {
        if (response?.content?.['application/problem+json']?.schema) {
          this._problemTokens = ['components', 'responses', rname, 'content', 'application/problem+json', 'schema'];
          break;
        }
      }
    }
    return this._problemTokens;
  }

  /**
   * Throws an AssertionError when the response does not follow the spec.
   * `headers` is a plain object with lower-case names (or a fetch Headers object);
   * `text` is the body as received. Returns the parsed JSON body, if any.
   */
  validateResponse({ method, path, status, headers, text }) {
    method = method.toUpperCase();
    const get = (name) =>
      typeof headers?.get === 'function' ? headers.get(name) : headers?.[name.toLowerCase()];
    const ctype = mediaTypeOf(get('content-type'));
    const label = `${method} ${path} → ${status}${ctype ? ` (${ctype})` : ''}`;
    const fail = (why, extra) => {
      const body = text ? `\n  body: ${describe(text)}` : '';
      throw new AssertionError({
        message: `contract (${this.source}): ${label}: ${why}${extra ? `\n${extra}` : ''}${body}`,
      });
    };
    const parseJson = () => {
      try {
        return JSON.parse(text);
      } catch (err) {
        return fail(`body is not valid JSON (${err.message})`);
      }
    };
    const check = (tokens, value) => {
      const validate = this.validator(tokens);
      if (!validate(value)) {
        const errors = validate.errors
          .slice(0, 25)
          .map((e) => `  ${e.instancePath || '/'} ${e.message} ${describe(e.params, 200)} [${e.schemaPath}]`)
          .join('\n');
        fail(`body does not match ${showPointer(tokens)}`, errors);
      }
    };

    const found = this.findOperation(method, path);
    if (!found || !found.operation) {
      // Routes the spec does not list may only say 404/405 in problem+json (or be a CORS preflight).
      if (method === 'OPTIONS' && !found?.operation) return undefined;
      const allowed = found ? [405, 404] : [404];
      if (!allowed.includes(status)) {
        fail(found ? `the spec has no ${method} operation on ${found.template}` : 'the spec has no such path');
      }
      if (ctype !== 'application/problem+json') fail('an unlisted route must answer application/problem+json');
      const json = parseJson();
      const tokens = this.problemSchemaTokens();
      if (tokens) check(tokens, json);
      return json;
    }

    const responses = found.operation.responses ?? {};
    const key = [String(status), `${String(status)[0]}XX`, `${String(status)[0]}xx`, 'default'].find(
      (k) => responses[k] !== undefined,
    );
    if (key === undefined) {
      fail(`status ${status} is not declared for ${method} ${found.template} (declared: ${Object.keys(responses).join(', ')})`);
    }
    const { node: response, tokens: responseTokens } = this.resolve(responses[key], [
      ...found.tokens,
      'responses',
      key,
    ]);

    for (const [name, header] of Object.entries(response.headers ?? {})) {
      const { node } = this.resolve(header, []);
      if (node?.required && get(name) == null) fail(`required header ${name} is missing`);
    }

    const content = response.content ?? {};
    const declared = Object.keys(content);
    const empty = text === undefined || text === null || text.length === 0;
    if (empty && (method === 'HEAD' || status === 204 || status === 304 || declared.length === 0)) {
      return undefined;
    }
    if (declared.length === 0) fail(`the spec declares no body for ${key}, got ${describe(text, 100)}`);
    if (empty) fail(`empty body, the spec declares ${declared.join(', ')}`);
    if (!ctype) fail('no Content-Type header');
    const mediaKey =
      declared.find((k) => mediaTypeOf(k) === ctype) ??
      declared.find((k) => mediaTypeOf(k) === `${ctype.split('/')[0]}/*`) ??
      declared.find((k) => mediaTypeOf(k) === '*/*');
    if (mediaKey === undefined) fail(`Content-Type ${ctype} is not one of ${declared.join(', ')}`);
    if (!isJsonMediaType(ctype)) return undefined;
    const json = parseJson();
    if (content[mediaKey]?.schema !== undefined) {
      check([...responseTokens, 'content', mediaKey, 'schema'], json);
    }
    return json;
  }
}

/** Loads and compiles a spec file (YAML or JSON). */
export function loadContract(specPath) {
  const text = readFileSync(specPath, 'utf8');
  const doc = YAML.parse(text, { maxAliasCount: -1 });
  return new Contract(doc, specPath);
}

export function sourceDir() {
  return resolve(process.env.LDA_SOURCE_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
}

let cached;
/** The project's openapi.yaml (LDA_OPENAPI overrides the path), loaded once per process. */
export function getContract() {
  if (!cached) cached = loadContract(process.env.LDA_OPENAPI ?? join(sourceDir(), 'openapi.yaml'));
  return cached;
}
