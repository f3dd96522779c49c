// Checks docs/openapi.yaml, the OpenAPI 3.1 document of the local API:
//
//   node openapi_check.mjs OPENAPI_YAML API_SERVER_CPP
//
// 1. The YAML parses (duplicate keys refused), holds no anchors or aliases,
//    and keeps the layout docs/openapi.yaml promises: under `paths:` each
//    path at 2 spaces, each method at 4, in lower case.
// 2. It validates against the OpenAPI 3.1 schema with
//    @seriousme/openapi-schema-validator (which also checks that every $ref
//    points at something), and a few things that schema cannot say: schema
//    keywords are known JSON Schema 2020-12 / OpenAPI words (a typo such as
//    "maxlength" would otherwise pass silently), every {param} in a path is
//    declared as a path parameter, operationIds are unique, every operation
//    has a summary.
// 3. Its paths and methods are exactly the rows of Routes() in
//    daemon/src/api_server.cpp, read by a regex over {"METHOD", "/path", ...}
//    rows; a "*" segment there matches a {name} segment here by position.
//
// The packages come from tests/browser/node_modules (tests/browser/package.json,
// installed by `./dev setup`). No network, no child processes; a watchdog
// ends the run after 30 s. Exit 0 and one summary line when all is well,
// 1 with one line per problem otherwise, 2 for bad usage.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const kMaxFileBytes = 4 * 1024 * 1024;
const kMaxProblemsShown = 60;
const kMaxSchemaDepth = 64;
const kMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

setTimeout(() => {
  console.error('openapi: the check took longer than 30 s; giving up');
  process.exit(1);
}, 30000).unref();

function fail(problems) {
  const shown = problems.slice(0, kMaxProblemsShown);
  for (const p of shown) console.error(`openapi: ${p}`);
  if (problems.length > shown.length) console.error(`openapi: ... and ${problems.length - shown.length} more`);
  console.error(`openapi: FAILED (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
  process.exit(1);
}

if (process.argv.length !== 4) {
  console.error('usage: node openapi_check.mjs OPENAPI_YAML API_SERVER_CPP');
  process.exit(2);
}
const [yamlPath, cppPath] = process.argv.slice(2);

function readBounded(path) {
  let size;
  try {
    size = statSync(path).size;
  } catch (e) {
    fail([`cannot read ${path}: ${e.message}`]);
  }
  if (size > kMaxFileBytes) fail([`${path}: larger than ${kMaxFileBytes} bytes`]);
  return readFileSync(path, 'utf8');
}

// ---- the packages, from tests/browser/node_modules
const require = createRequire(new URL('../browser/package.json', import.meta.url));
let YAML;
let Validator;
try {
  YAML = require('yaml');
  const entry = require.resolve('@seriousme/openapi-schema-validator');
  ({ Validator } = await import(pathToFileURL(entry).href));
} catch (e) {
  fail([
    'cannot load yaml and @seriousme/openapi-schema-validator from tests/browser/node_modules ' +
      '(run ./dev setup, or npm ci in tests/browser)',
    e.message,
  ]);
}

// ---- 1. YAML: parse, no anchors or aliases, the layout
const text = readBounded(yamlPath);
const lineCounter = new YAML.LineCounter();
const yamlDoc = YAML.parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
{
  const problems = [...yamlDoc.errors, ...yamlDoc.warnings].map((e) => `${yamlPath}: ${e.message}`);
  if (problems.length) fail(problems);
}
{
  const problems = [];
  const where = (node) => {
    const pos = node.range ? lineCounter.linePos(node.range[0]) : null;
    return pos ? `${yamlPath}:${pos.line}` : yamlPath;
  };
  YAML.visit(yamlDoc, {
    Node(_, node) {
      if (YAML.isAlias(node)) problems.push(`${where(node)}: YAML alias *${node.source}; write the value out`);
      else if (node.anchor) problems.push(`${where(node)}: YAML anchor &${node.anchor}; write the value out`);
    },
  });
  if (problems.length) fail(problems);
}
const spec = yamlDoc.toJS();
if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) fail([`${yamlPath}: not a YAML mapping`]);
if (spec.paths === null || typeof spec.paths !== 'object' || Array.isArray(spec.paths)) {
  fail([`${yamlPath}: no paths mapping`]);
}

// The layout, read line by line: what a grep for "^  /" and "^    get:" finds
// must be what the parser found.
{
  const problems = [];
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^paths:\s*$/.test(l));
  if (start < 0) fail([`${yamlPath}: no line "paths:" at the start of a line`]);
  const seen = new Map();  // path -> Set of methods
  let current = null;
  for (let i = start + 1; i < lines.length; ++i) {
    const line = lines[i];
    if (/^[^\s#]/.test(line)) break;  // the next top-level key
    let m = /^ {2}(\S.*?):\s*$/.exec(line);
    if (m) {
      current = m[1].replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
      if (seen.has(current)) problems.push(`${yamlPath}:${i + 1}: path ${current} appears twice`);
      seen.set(current, new Set());
      continue;
    }
    m = /^ {4}([A-Za-z]+):/.exec(line);
    if (m && kMethods.includes(m[1].toLowerCase())) {
      if (m[1] !== m[1].toLowerCase()) problems.push(`${yamlPath}:${i + 1}: method ${m[1]}: write it in lower case`);
      if (!/^ {4}[A-Za-z]+:\s*$/.test(line)) problems.push(`${yamlPath}:${i + 1}: method ${m[1]}: put its operation on the next lines`);
      if (current !== null) seen.get(current).add(m[1].toLowerCase());
    }
  }
  for (const [path, item] of Object.entries(spec.paths)) {
    if (!seen.has(path)) {
      problems.push(`layout: path ${path} is not a key at exactly 2 spaces under "paths:"`);
      continue;
    }
    for (const method of Object.keys(item ?? {})) {
      if (kMethods.includes(method.toLowerCase()) && !seen.get(path).has(method.toLowerCase())) {
        problems.push(`layout: ${method} ${path} is not a key at exactly 4 spaces under its path`);
      }
    }
  }
  if (problems.length) fail(problems);
}

// ---- 2. the OpenAPI 3.1 schema, and what it cannot check
{
  if (typeof spec.openapi !== 'string' || !spec.openapi.startsWith('3.1.')) {
    fail([`${yamlPath}: openapi is ${JSON.stringify(spec.openapi)}, expected 3.1.x`]);
  }
  const validator = new Validator();
  const res = await validator.validate(structuredClone(spec));
  if (!res.valid) {
    const errors = Array.isArray(res.errors) ? res.errors : [res.errors];
    fail(errors.map((e) => {
      if (typeof e !== 'object' || e === null) return `validator: ${e}`;
      return `schema: ${e.instancePath || '/'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`;
    }));
  }
  if (validator.version !== '3.1') fail([`${yamlPath}: validated as OpenAPI ${validator.version}, expected 3.1`]);
}

const kSchemaKeywords = new Set([
  '$ref', '$id', '$schema', '$anchor', '$dynamicRef', '$dynamicAnchor', '$defs', '$comment', '$vocabulary',
  'type', 'enum', 'const', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxContains', 'minContains',
  'maxProperties', 'minProperties', 'required', 'dependentRequired', 'properties', 'patternProperties',
  'additionalProperties', 'propertyNames', 'unevaluatedProperties', 'items', 'prefixItems', 'contains',
  'unevaluatedItems', 'allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else', 'dependentSchemas', 'format',
  'title', 'description', 'default', 'deprecated', 'readOnly', 'writeOnly', 'examples', 'contentEncoding',
  'contentMediaType', 'contentSchema', 'discriminator', 'xml', 'externalDocs', 'example',
]);
const kTypes = new Set(['null', 'boolean', 'object', 'array', 'number', 'string', 'integer']);
const kOneSchema = ['items', 'additionalProperties', 'propertyNames', 'unevaluatedProperties', 'contains',
  'unevaluatedItems', 'not', 'if', 'then', 'else', 'contentSchema'];
const kSchemaMaps = ['properties', 'patternProperties', '$defs', 'dependentSchemas'];
const kSchemaLists = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];

function checkSchema(schema, where, depth, problems) {
  if (typeof schema === 'boolean') return;
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    problems.push(`${where}: a schema must be an object or a boolean`);
    return;
  }
  if (depth > kMaxSchemaDepth) {
    problems.push(`${where}: nested deeper than ${kMaxSchemaDepth}`);
    return;
  }
  for (const key of Object.keys(schema)) {
    if (!kSchemaKeywords.has(key) && !key.startsWith('x-')) problems.push(`${where}: unknown schema keyword "${key}"`);
  }
  if ('type' in schema) {
    for (const t of [schema.type].flat()) {
      if (!kTypes.has(t)) problems.push(`${where}: unknown type ${JSON.stringify(t)}`);
    }
  }
  if (Array.isArray(schema.required) && schema.properties && schema.additionalProperties === false) {
    for (const name of schema.required) {
      if (!(name in schema.properties)) problems.push(`${where}: required "${name}" is not among its properties`);
    }
  }
  for (const k of kOneSchema) if (k in schema) checkSchema(schema[k], `${where}/${k}`, depth + 1, problems);
  for (const k of kSchemaMaps) {
    if (schema[k] && typeof schema[k] === 'object') {
      for (const [name, sub] of Object.entries(schema[k])) checkSchema(sub, `${where}/${k}/${name}`, depth + 1, problems);
    }
  }
  for (const k of kSchemaLists) {
    if (Array.isArray(schema[k])) schema[k].forEach((sub, i) => checkSchema(sub, `${where}/${k}/${i}`, depth + 1, problems));
  }
}

function checkContent(content, where, problems) {
  for (const [type, media] of Object.entries(content ?? {})) {
    if (media && 'schema' in media) checkSchema(media.schema, `${where}/content/${type}/schema`, 0, problems);
  }
}

function checkResponse(response, where, problems) {
  if (!response || '$ref' in response) return;
  checkContent(response.content, where, problems);
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    if (header && 'schema' in header) checkSchema(header.schema, `${where}/headers/${name}/schema`, 0, problems);
  }
}

// A parameter as written, or the one a $ref to #/components/parameters/NAME names.
function resolveParameter(p) {
  const m = /^#\/components\/parameters\/([^/]+)$/.exec(p?.$ref ?? '');
  return m ? spec.components?.parameters?.[m[1]] : p;
}

{
  const problems = [];
  const components = spec.components ?? {};
  for (const [name, schema] of Object.entries(components.schemas ?? {})) {
    checkSchema(schema, `#/components/schemas/${name}`, 0, problems);
  }
  for (const [name, p] of Object.entries(components.parameters ?? {})) {
    if (p && 'schema' in p) checkSchema(p.schema, `#/components/parameters/${name}/schema`, 0, problems);
  }
  for (const [name, r] of Object.entries(components.responses ?? {})) {
    checkResponse(r, `#/components/responses/${name}`, problems);
  }
  const operationIds = new Map();
  for (const [path, item] of Object.entries(spec.paths)) {
    const templated = [...path.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]);
    const pathLevel = (item.parameters ?? []).map(resolveParameter).filter((p) => p?.in === 'path').map((p) => p.name);
    for (const method of kMethods) {
      const op = item[method];
      if (!op) continue;
      const label = `${method} ${path}`;
      if (typeof op.summary !== 'string' || op.summary.trim() === '') problems.push(`${label}: no summary`);
      if (op.operationId !== undefined) {
        if (operationIds.has(op.operationId)) {
          problems.push(`${label}: operationId ${op.operationId} is also used by ${operationIds.get(op.operationId)}`);
        }
        operationIds.set(op.operationId, label);
      }
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map(resolveParameter);
      for (const p of op.parameters ?? []) {
        if (p && 'schema' in p) checkSchema(p.schema, `${label}/parameters/${p.name}/schema`, 0, problems);
      }
      const declared = new Set([...pathLevel, ...params.filter((p) => p?.in === 'path').map((p) => p.name)]);
      for (const name of templated) {
        if (!declared.has(name)) problems.push(`${label}: {${name}} is not declared as a path parameter`);
      }
      for (const name of declared) {
        if (!templated.includes(name)) problems.push(`${label}: path parameter ${name} is not in the path`);
      }
      if (op.requestBody && !('$ref' in op.requestBody)) checkContent(op.requestBody.content, `${label}/requestBody`, problems);
      for (const [code, r] of Object.entries(op.responses ?? {})) checkResponse(r, `${label}/responses/${code}`, problems);
    }
  }
  if (problems.length) fail(problems);
}

// ---- 3. the route table
const cpp = readBounded(cppPath);
const routes = [];
{
  const start = cpp.search(/RouteTable<Handler>\s*&\s*Routes\(\)\s*\{/);
  const end = start < 0 ? -1 : cpp.indexOf('return table;', start);
  if (start < 0 || end < 0) fail([`${cppPath}: cannot find the function Routes() and its "return table;"`]);
  const rowRe = /\{\s*"([A-Z]+)"\s*,\s*"(\/[^"]*)"\s*,/g;
  for (const m of cpp.slice(start, end).matchAll(rowRe)) routes.push({ method: m[1], pattern: m[2] });
  if (routes.length === 0) fail([`${cppPath}: no {"METHOD", "/path", ...} rows found in Routes()`]);
}

// "/v1/cases/*/assign" and "/v1/cases/{case_id}/assign" both become
// "/v1/cases/*/assign": a templated segment is one "*" segment.
const shapeOf = (path) => path.split('/').map((seg) => (/^\{[^{}]+\}$/.test(seg) ? '*' : seg)).join('/');

{
  const problems = [];
  const routeKeys = new Map();  // "GET /v1/cases/*" -> row
  for (const r of routes) {
    const key = `${r.method} ${r.pattern}`;
    if (routeKeys.has(key)) problems.push(`${cppPath}: Routes() has the row ${key} twice`);
    routeKeys.set(key, r);
  }
  const docKeys = new Map();  // "GET /v1/cases/*" -> "get /v1/cases/{case_id}"
  const shapes = new Map();
  for (const [path, item] of Object.entries(spec.paths)) {
    if (/\{|\}/.test(path.split('/').filter((seg) => !/^\{[^{}]+\}$/.test(seg)).join('/'))) {
      problems.push(`path ${path}: a template must be a whole segment, as "*" is in Routes()`);
    }
    const shape = shapeOf(path);
    if (shapes.has(shape)) problems.push(`paths ${shapes.get(shape)} and ${path} are the same route`);
    shapes.set(shape, path);
    for (const method of kMethods) {
      if (item?.[method]) docKeys.set(`${method.toUpperCase()} ${shape}`, `${method} ${path}`);
    }
  }
  for (const [key, r] of routeKeys) {
    if (!docKeys.has(key)) {
      const path = shapes.get(r.pattern);
      problems.push(path
        ? `route ${key} (Routes() in ${cppPath}) is missing from the document: ${path} has no ${r.method.toLowerCase()}`
        : `route ${key} (Routes() in ${cppPath}) is missing from the document: no path ${r.pattern.replace(/\*/g, '{...}')}`);
    }
  }
  for (const [key, label] of docKeys) {
    if (!routeKeys.has(key)) problems.push(`documented ${label} has no row in Routes() (${cppPath}); expected {"${key.replace(' ', '", "')}", ...}`);
  }
  if (problems.length) fail(problems);
}

let operations = 0;
for (const item of Object.values(spec.paths)) for (const method of kMethods) if (item?.[method]) ++operations;
console.log(`openapi: ${operations} operations, valid, matches the route table`);
