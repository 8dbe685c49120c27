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

test("a frame's place is checked against the file: moved to the nearest definition, or dropped", () => {
  const { checkedFrame } = require('../lib/frames');
  const file = path.join(require('node:os').tmpdir(), `lg-frames-${process.pid}.js`);
  const src = [
    'class Plain {', // 1: no constructor of its own
    '  id = 1;',
    '}',
    'class Session {', // 4
    '  constructor(id) {', // 5
    '    this.id = id;',
    '  }',
    '}',
    'const make = async (id) => new Session(id);', // 9
    'function open(id) {', // 10
    '  return make(id);',
    '}',
    'const onRequest = req => open(req);', // 13
    'onRequest(1);',
    'new Plain();',
  ];
  require('node:fs').writeFileSync(file, src.join('\n'));
  try {
    const lines = () => src;
    const at = (functionName, line, column) => {
      const f = checkedFrame({ functionName, url: file, line, column }, lines);
      return [f.line, f.column];
    };
    // right as V8 gave it: kept
    assert.deepEqual(at('Session', 5, 14), [5, 14]);
    assert.deepEqual(at('open', 10, 14), [10, 14]);
    assert.deepEqual(at('make', 9, 20), [9, 20]);
    // a transform moved the code: the nearest definition in the file
    assert.deepEqual(at('Session', 4, 14), [5, 14]);
    assert.deepEqual(at('open', 13, 14), [10, 14]);
    // a class without a constructor of its own is placed at its `class` keyword; an arrow with
    // one bare parameter at the parameter
    assert.deepEqual(at('Plain', 1, 1), [1, 1]);
    assert.deepEqual(at('onRequest', 13, 19), [13, 19]);
    // calls are not definitions: a wrong line goes to the definition, never to a call
    assert.deepEqual(at('Plain', 15, 5), [1, 1]);
    assert.deepEqual(at('onRequest', 14, 1), [13, 19]);
    assert.deepEqual(at('make', 11, 10), [9, 20]);
    // a name the file does not define: file only
    assert.deepEqual(at('missing', 3, 1), [0, 0]);
    // unreadable files and anonymous functions: as V8 gave them
    assert.deepEqual(checkedFrame({ functionName: 'x', url: 'node:fs', line: 3, column: 4 }, () => null).line, 3);
    assert.deepEqual(checkedFrame({ functionName: '', url: file, line: 3, column: 4 }, lines).line, 3);
  } finally {
    require('node:fs').unlinkSync(file);
  }
});
