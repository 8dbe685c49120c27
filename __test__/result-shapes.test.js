'use strict';

// The results the API returns have exactly the keys index.d.ts declares. index.d.ts is
// hand-written while the keys come from the core's `Serialize` derives (and, for a few, from
// lib/), so a field renamed, added or dropped on either side must fail here. The declared
// types are read with the TypeScript compiler API; each result of a real snapshot of this
// process (with a deliberate leak) is walked recursively against the declared return type of
// the call that produced it: every key it has must be declared, every declared key must be
// present unless it is optional (`?`), and every value must fit its declared type (primitive,
// string literal, `| null`, array, nested object, named interface).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');
const lg = require('..');
const { spawnSync } = require('node:child_process');
const { ROOT, tempDir } = require('./helpers');

const DTS = path.join(ROOT, 'index.d.ts');

/** The declarations of index.d.ts by name: interfaces, classes, and (overloaded) functions. */
function readDeclarations(file) {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const types = new Map();
  const functions = new Map();
  const visit = (node) => {
    if ((ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) && node.name) {
      types.set(node.name.text, node);
    } else if (ts.isFunctionDeclaration(node) && node.name) {
      if (!functions.has(node.name.text)) functions.set(node.name.text, []);
      functions.get(node.name.text).push(node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { types, functions };
}

const { types, functions } = readDeclarations(DTS);

const memberName = (m) => (m.name && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)) ? m.name.text : undefined);

/** Data properties of a declared interface or class, including those of what it extends. */
function properties(decl) {
  const props = new Map();
  for (const clause of decl.heritageClauses || []) {
    for (const t of clause.types) {
      const base = types.get(t.expression.getText());
      // Bases declared elsewhere (EventEmitter) contribute no data properties.
      if (base) for (const [k, v] of properties(base)) props.set(k, v);
    }
  }
  for (const m of decl.members) {
    if (!ts.isPropertySignature(m) && !ts.isPropertyDeclaration(m)) continue;
    if (m.modifiers?.some((x) => x.kind === ts.SyntaxKind.PrivateKeyword)) continue;
    props.set(memberName(m), { optional: Boolean(m.questionToken), type: m.type });
  }
  return props;
}

/** `Promise<T>` → T; anything else as is. */
function unwrapPromise(type) {
  if (ts.isTypeReferenceNode(type) && type.typeName.getText() === 'Promise' && type.typeArguments) return type.typeArguments[0];
  return type;
}

/** Declared result type of method `method` of class/interface `owner` (Promise unwrapped). */
function methodResult(owner, method) {
  const decl = types.get(owner);
  assert.ok(decl, `index.d.ts declares ${owner}`);
  const m = decl.members.find((x) => (ts.isMethodDeclaration(x) || ts.isMethodSignature(x)) && memberName(x) === method);
  assert.ok(m?.type, `index.d.ts declares ${owner}.${method}() with a return type`);
  return unwrapPromise(m.type);
}

/** Declared result type of the exported function `name` (all overloads must agree). */
function functionResult(name) {
  const decls = functions.get(name);
  assert.ok(decls && decls.length > 0, `index.d.ts declares ${name}()`);
  const texts = new Set(decls.map((d) => d.type.getText()));
  assert.equal(texts.size, 1, `${name}() overloads return one type`);
  return unwrapPromise(decls[0].type);
}

/**
 * Errors of `value` against the declared `type` (empty when it fits). `seen` collects the
 * names of the interfaces visited, so a test can tell that it checked what it meant to.
 */
function mismatches(value, type, where, seen) {
  const K = ts.SyntaxKind;
  const fail = (what) => [`${where}: ${what} (declared ${type.getText()}, got ${JSON.stringify(value)?.slice(0, 120)})`];
  switch (type.kind) {
    case K.StringKeyword:
      return typeof value === 'string' ? [] : fail('not a string');
    case K.NumberKeyword:
      return typeof value === 'number' && Number.isFinite(value) ? [] : fail('not a finite number');
    case K.BooleanKeyword:
      return typeof value === 'boolean' ? [] : fail('not a boolean');
    case K.ParenthesizedType:
      return mismatches(value, type.type, where, seen);
    case K.LiteralType: {
      const lit = type.literal;
      if (lit.kind === K.NullKeyword) return value === null ? [] : fail('not null');
      if (lit.kind === K.StringLiteral) return value === lit.text ? [] : fail('not this literal');
      if (lit.kind === K.TrueKeyword) return value === true ? [] : fail('not true');
      if (lit.kind === K.FalseKeyword) return value === false ? [] : fail('not false');
      return fail('unsupported literal type in the checker');
    }
    case K.UnionType: {
      // Fits if one member fits; otherwise report the member closest in kind (an object
      // against the object member), so a renamed key shows as such rather than as "not null".
      const tries = type.types.map((t) => mismatches(value, t, where, new Set()));
      const ok = tries.findIndex((e) => e.length === 0);
      if (ok >= 0) return mismatches(value, type.types[ok], where, seen);
      const objectLike = (t) => ts.isTypeLiteralNode(t) || ts.isTypeReferenceNode(t) || ts.isArrayTypeNode(t);
      const best = typeof value === 'object' && value !== null ? tries.find((_, i) => objectLike(type.types[i])) : undefined;
      return best || fail('fits no member of the union');
    }
    case K.ArrayType:
      if (!Array.isArray(value)) return fail('not an array');
      return value.flatMap((v, i) => mismatches(v, type.elementType, `${where}[${i}]`, seen));
    case K.TypeLiteral:
      return objectMismatches(
        value,
        new Map(type.members.map((m) => [memberName(m), { optional: Boolean(m.questionToken), type: m.type }])),
        where,
        seen,
        fail,
      );
    case K.TypeReference: {
      const name = type.typeName.getText();
      const decl = types.get(name);
      if (!decl || type.typeArguments) return fail(`type ${name} is not an interface the checker can follow`);
      seen.add(name);
      return objectMismatches(value, properties(decl), where, seen, fail);
    }
    default:
      return fail(`unsupported type syntax ${K[type.kind]} in the checker`);
  }
}

function objectMismatches(value, props, where, seen, fail) {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not an object');
  const errors = [];
  for (const key of Object.keys(value)) {
    if (!props.has(key)) errors.push(`${where}: key "${key}" is returned but not declared in index.d.ts`);
  }
  for (const [key, p] of props) {
    if (!(key in value)) {
      if (!p.optional) errors.push(`${where}: declared key "${key}" is missing from the result`);
      continue;
    }
    errors.push(...mismatches(value[key], p.type, `${where}.${key}`, seen));
  }
  return errors;
}

/** Asserts that `value` fits `type`; returns the interfaces it went through. */
function assertFits(value, type, where) {
  const seen = new Set();
  const errors = mismatches(value, type, where, seen);
  assert.deepEqual(errors.slice(0, 20), [], `${where} does not match index.d.ts (${errors.length} mismatches)`);
  return seen;
}

// The checker itself must be able to fail, or the tests below prove nothing.
test('the checker rejects extra, missing, renamed and mistyped keys', () => {
  const rowType = methodResult('HeapSnapshot', 'summary');
  const good = { className: 'A', count: 1, shallowSize: 2, retainedSize: 3, distance: 1, system: false };
  assert.deepEqual(mismatches([good], rowType, 'r', new Set()), []);
  const { retainedSize, ...missing } = good;
  assert.match(mismatches([missing], rowType, 'r', new Set()).join('\n'), /declared key "retainedSize" is missing/);
  assert.match(
    mismatches([{ ...missing, retainedBytes: retainedSize }], rowType, 'r', new Set()).join('\n'),
    /key "retainedBytes" is returned but not declared/,
  );
  assert.match(mismatches([{ ...good, count: '1' }], rowType, 'r', new Set()).join('\n'), /r\[0\]\.count: not a finite number/);
  const pathType = methodResult('HeapSnapshot', 'retainerPath');
  assert.deepEqual(mismatches(null, pathType, 'p', new Set()), []);
  const step = { id: 1, className: 'A', name: 'a', edge: { type: 'property', name: 'x', text: '.x' } };
  const p = { steps: [{ ...step, edge: null }, step], text: 'A → .x → A', kind: 'devtools', complete: true };
  assert.deepEqual(mismatches(p, pathType, 'p', new Set()), []);
  assert.match(mismatches({ ...p, kind: 'longest' }, pathType, 'p', new Set()).join('\n'), /p\.kind/);
  assert.match(
    mismatches({ ...p, steps: [{ ...step, edge: { kind: 'property', name: 'x', text: '.x' } }] }, pathType, 'p', new Set()).join('\n'),
    /"kind" is returned but not declared/,
  );
});

// Written by a child process: V8 takes ~45 s per heap snapshot of a process that has loaded
// the TypeScript compiler (this one), against ~0.2 s without it.
const LEAKER = `
const lg = require(${JSON.stringify(ROOT)});
class ShapeLeak {
  constructor(i) {
    this.i = i;
    this.payload = new Array(32).fill(i);
  }
}
const store = new Map();
globalThis.shapeStore = store;
const grow = (from, to) => { for (let i = from; i < to; i++) store.set(i, new ShapeLeak(i)); };
const dir = process.argv[1];
grow(0, 10);
lg.writeSnapshot(dir + '/baseline.heapsnapshot');
grow(10, 60);
lg.writeSnapshot(dir + '/target.heapsnapshot');
grow(60, 80);
lg.writeSnapshot(dir + '/final.heapsnapshot');
`;

test('analysis, diff and findLeaks results have the keys index.d.ts declares', async (t) => {
  const dir = tempDir(t);
  const child = spawnSync(process.execPath, ['-e', LEAKER, dir], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const [baseline, target, fin] = await Promise.all(['baseline', 'target', 'final'].map((n) => lg.loadSnapshot(path.join(dir, `${n}.heapsnapshot`))));
  const seen = new Set();
  const fits = (value, type, where) => {
    for (const n of assertFits(value, type, where)) seen.add(n);
  };

  for (const sizes of ['devtools', 'raw']) {
    const summary = await fin.summary({ sizes });
    fits(summary, methodResult('HeapSnapshot', 'summary'), `summary(${sizes})`);
    assert.ok(summary.length > 0);
    const objects = await fin.objects('ShapeLeak', { sizes });
    fits(objects, methodResult('HeapSnapshot', 'objects'), `objects(${sizes})`);
    assert.ok(objects.length >= 80, 'the leaked objects are listed');
    const largest = await fin.largestObjects(20, { sizes });
    fits(largest, methodResult('HeapSnapshot', 'largestObjects'), `largestObjects(${sizes})`);
    assert.ok(largest.length > 0);
    const rows = await lg.diff(baseline, fin, { sizes });
    fits(rows, functionResult('diff'), `diff(${sizes})`);
    assert.ok(rows.some((r) => r.className === 'ShapeLeak'));
  }

  const [leaked] = await fin.objects('ShapeLeak', { limit: 1 });
  for (const kind of ['devtools', 'shortest']) {
    const p = await fin.retainerPath(leaked.id, { kind });
    fits(p, methodResult('HeapSnapshot', 'retainerPath'), `retainerPath(${kind})`);
    // At least two steps: the first has edge null, the others an edge object.
    assert.ok(p && p.steps.length >= 2, `a ${kind} path to a ShapeLeak`);
  }

  const report = await lg.findLeaks({ baseline, target, final: fin }, { minCount: 1 });
  fits(report, functionResult('findLeaks'), 'findLeaks');
  const suspect = report.suspects.find((s) => s.className === 'ShapeLeak');
  assert.ok(suspect && suspect.paths.length > 0, 'findLeaks names ShapeLeak with a path');

  // The series form: the growing collections (shapeStore: 10 → 60 → 80 entries).
  const series = await lg.findLeaks([baseline, target, fin], { minCount: 1 });
  fits(series, functionResult('findLeaks'), 'findLeaks([…])');
  const grown = series.collections.find((c) => c.name === 'shapeStore');
  assert.ok(grown, JSON.stringify(series.collections.map((c) => c.name)));
  assert.deepEqual(grown.entries, [10, 60, 80]);

  for (const name of ['ClassRow', 'ObjectRow', 'DiffRow', 'RetainerPath', 'PathStep', 'LeakReport', 'LeakSuspect', 'GrowingCollection']) {
    assert.ok(seen.has(name), `${name} was checked`);
  }
  for (const s of [baseline, target, fin]) s.dispose();
});

test('sampler results have the keys index.d.ts declares', async () => {
  const sampler = lg.startSampling({ intervalMs: 10 });
  try {
    await new Promise((resolve) => setTimeout(resolve, 120));
    if (global.gc) global.gc();
    const seen = new Set();
    const fits = (value, type, where) => {
      for (const n of assertFits(value, type, where)) seen.add(n);
    };
    for (const series of ['baseline', 'rss', 'heapUsed']) {
      fits(sampler.trend(series), methodResult('MemorySampler', 'trend'), `trend(${series})`);
    }
    const samples = sampler.samples();
    assert.ok(samples.rss.length > 0, 'RSS was sampled');
    fits(samples, methodResult('MemorySampler', 'samples'), 'samples()');
    fits(sampler.stats(), methodResult('MemorySampler', 'stats'), 'stats()');
    fits(JSON.parse(JSON.stringify(sampler)), methodResult('MemorySampler', 'toJSON'), 'toJSON()');
    for (const name of ['TrendReport', 'SamplePoint', 'SamplerStats', 'HeapSample']) assert.ok(seen.has(name), `${name} was checked`);
  } finally {
    sampler.stop();
  }
});
