'use strict';

// lib/scopes.js: block-scoped holders (a module's variables under Vite's module runner, which
// wraps the code in `async (…) => {{ … }}`) named in the toLeak message from the live heap.

const test = require('node:test');
const assert = require('node:assert/strict');
const vm = require('node:vm');
const { toLeak } = require('../lib/matchers');
const { checkLeak } = require('../lib/assert');
const { nameBlockScopes, unnamedSlots, renameStep } = require('../lib/scopes');

/** Evaluates a module body the way Vite's module runner does (in a block inside an async arrow). */
async function blockModule(body) {
  const exports = {};
  await vm.runInThisContext(`'use strict';async (__exports)=>{{ ${body} }}`)(exports);
  return exports;
}

// held by the test file for the duration of the test: the module "stays loaded"
const modules = [];

test('toLeak names a block-scoped holder: sessionStore, not {1}', async () => {
  const mod = await blockModule(`
    class Session { constructor(id) { this.id = id; this.user = { name: 'u' + id }; } }
    const sessionStore = new Map();
    let next = 0;
    function login() { const s = new Session(++next); sessionStore.set(s.id, s); }
    Object.defineProperty(__exports, 'login', { enumerable: true, get() { return login; } });
  `);
  modules.push(mod);
  const r = await toLeak.call(undefined, mod.login, { iterations: 40 });
  assert.equal(r.pass, true);
  const msg = r.message();
  assert.match(msg, /each call leaves 1 Session alive \(40 after 40 calls/, msg);
  assert.match(msg, /held by: sessionStore \(Map\) → \{table\} \(array\) → .* → Session/, msg);
});

test("the unnamed step is V8's (a hidden edge from a block context) and nameBlockScopes fills it in", async () => {
  const mod = await blockModule(`
    const cache = [];
    function remember() { cache.push({ at: 1 }); }
    Object.defineProperty(__exports, 'remember', { enumerable: true, get() { return remember; } });
  `);
  modules.push(mod);
  const r = await checkLeak(mod.remember, { iterations: 40 });
  assert.equal(r.leaked, true);
  const before = r.suspects[0].path;
  const group = r.report.suspects.find((g) => g.paths.some((p) => p.text === before));
  const slots = unnamedSlots(group.paths.find((p) => p.text === before).steps);
  if (slots.length === 0) {
    // A V8 that names block-context slots itself: nothing left to do.
    assert.match(before, /->cache \(Array\)/, before);
    return;
  }
  assert.match(before, /\{context\} \(system \/ Context\) → \{\d+\} \(Array\)/, before);
  await nameBlockScopes(r);
  assert.match(r.suspects[0].path, /\{context\} \(system \/ Context\) → ->cache \(Array\) → \[\d+\] → Object$/, r.suspects[0].path);
  assert.ok(r.suspects[0].paths.includes(r.suspects[0].path));
});

test('nameBlockScopes leaves clean results and foreign shapes alone and never rejects', async () => {
  const clean = { leaked: false, suspects: [] };
  assert.equal(await nameBlockScopes(clean), clean);
  assert.equal(await nameBlockScopes(null), null);
  const odd = { leaked: true, suspects: [{ path: 'x', paths: ['x'] }], report: { suspects: [{ paths: [{ text: 'x', steps: 'nope' }] }] } };
  assert.equal(await nameBlockScopes(odd), odd);
  // an id that is no object of this heap: the step keeps V8's notation
  const steps = [
    { id: 1, className: 'global', edge: null },
    { id: 2 ** 31, className: 'Function', edge: { type: 'property', name: 'f' } },
    { id: 3, className: 'system / Context', edge: { type: 'internal', name: 'context' } },
    { id: 4, className: 'Map', edge: { type: 'hidden', name: '1' } },
    { id: 5, className: 'Session', edge: { type: 'internal', name: '7' } },
  ];
  const text = 'global → .f (Function) → {context} (system / Context) → {1} (Map) → {7} → Session';
  const made = { leaked: true, suspects: [{ path: text, paths: [text] }], report: { suspects: [{ paths: [{ text, steps }] }] } };
  await nameBlockScopes(made);
  assert.equal(made.suspects[0].path, text);
});

test('unnamedSlots and renameStep: which steps, and the rendered text', () => {
  const steps = [
    { id: 1, className: 'global', edge: null },
    { id: 2, className: 'Function', edge: { type: 'property', name: 'f' } },
    { id: 3, className: 'system / Context', edge: { type: 'internal', name: 'context' } },
    { id: 4, className: 'system / Context', edge: { type: 'internal', name: 'previous' } },
    { id: 5, className: 'Map', edge: { type: 'hidden', name: '1' } },
    { id: 6, className: 'Session', edge: { type: 'hidden', name: '3' } },
  ];
  // the Map is a slot of a context chain owned by function 2; the Session is an element of the Map
  assert.deepEqual(unnamedSlots(steps), [{ index: 4, holderId: 2, targetId: 5 }]);
  const text = 'global → .f (Function) → {context} (system / Context) → {previous} (system / Context) → {1} (Map) → {3} → Session';
  assert.equal(
    renameStep(text, steps.length, 4, 'store'),
    'global → .f (Function) → {context} (system / Context) → {previous} (system / Context) → ->store (Map) → {3} → Session',
  );
  // the last step (no class in parentheses) and a text that does not match the steps
  assert.equal(
    renameStep('a → .f (Function) → {context} (system / Context) → {1} → Map', 4, 3, 'm'),
    'a → .f (Function) → {context} (system / Context) → ->m → Map',
  );
  assert.equal(renameStep('a → b', steps.length, 4, 'x'), 'a → b');
});
