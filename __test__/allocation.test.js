'use strict';

// Allocation sites in leak messages (issue 13, part 2): a function that leaks objects made in
// another module (fixtures/alloc/sessions.js) fails with a message naming that module's file and
// the allocating function's line, as node:inspector's Debugger places the same function; objects
// made inside Node (a Buffer) are put down to the program's function that asked for them. Each
// check runs in its own process (fixtures/alloc/child.js).

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const url = require('node:url');
const { execFileSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const CHILD = path.join(__dirname, 'fixtures', 'alloc', 'child.js');

function run(name) {
  const out = execFileSync(process.execPath, [CHILD, name], { cwd: ROOT, encoding: 'utf8', timeout: 120000 });
  return JSON.parse(out.trim().split('\n').pop());
}

/** The Debugger's place as the frames give it: a path (CommonJS), 1-based. */
const asFrame = (w) => ({ url: w.url.startsWith('file:') ? url.fileURLToPath(w.url) : w.url, line: w.line, column: w.column });
const place = (f) => ({ url: f.url, line: f.line, column: f.column });
const shown = (w, fn) => {
  const f = asFrame(w);
  return `allocated at ${path.relative(ROOT, f.url)}:${f.line}:${f.column} (${fn})`;
};

test('a leak of objects made in another module names its constructor and the caller there', () => {
  const r = run('sync');
  assert.equal(r.leaked, true);
  const s = r.suspects[0];
  assert.equal(s.className, 'Session');
  assert.ok(s.allocation, JSON.stringify(r));
  assert.equal(s.allocation.frames[0].functionName, 'Session');
  assert.deepEqual(place(s.allocation.frames[0]), asFrame(r.want.Session));
  assert.equal(s.allocation.frames[1].functionName, 'openSession');
  assert.deepEqual(place(s.allocation.frames[1]), asFrame(r.want.openSession));
  assert.ok(s.allocation.count > 0 && s.allocation.size > 0, JSON.stringify(s.allocation));
  assert.ok(r.message.includes(shown(r.want.Session, 'Session')), r.message);
});

test('an async leak is placed too (survivor rounds, three snapshots)', () => {
  const r = run('async');
  assert.equal(r.leaked, true);
  const s = r.suspects[0];
  assert.equal(s.className, 'Session');
  assert.deepEqual(place(s.allocation.frames[0]), asFrame(r.want.Session));
  assert.ok(r.message.includes(shown(r.want.Session, 'Session')), r.message);
});

test("an object Node makes for the program is put down to the program's caller", () => {
  const r = run('buffer');
  assert.equal(r.leaked, true);
  const s = r.suspects[0];
  assert.equal(s.className, 'Buffer');
  assert.ok(s.allocation, JSON.stringify(r));
  assert.equal(s.allocation.frames[0].functionName, 'readChunk');
  assert.deepEqual(place(s.allocation.frames[0]), asFrame(r.want.readChunk));
  assert.ok(r.message.includes(shown(r.want.readChunk, 'readChunk')), r.message);
  assert.ok(!r.message.includes('node:'), r.message);
});

test('a function that does not leak passes', () => {
  const r = run('clean');
  assert.equal(r.leaked, false);
  assert.equal(r.message, '');
});
