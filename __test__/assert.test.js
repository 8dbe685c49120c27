'use strict';

// checkLeak / assertNoLeak / LeakError: argument errors, pass-through of fn's errors,
// timeouts, worker threads, the failure message, and the scenario suite (true leaks and
// no-leak traps, each run five times in its own process; every verdict right and stable).

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const lg = require('..');
const { formatResult } = require('../lib/assert');
const { shortPath } = require('../lib/format');
const { ROOT, runScenario, pool } = require('./helpers');
const { scenarios } = require('./fixtures/leak-scenarios');

// Five runs per scenario show a verdict is stable; the Node version matrix (scripts/node-matrix.js)
// sets LEAKGUARD_SCENARIO_RUNS=1: it checks each verdict and holder on other Nodes, once.
const RUNS = Number(process.env.LEAKGUARD_SCENARIO_RUNS) || 5;
const PARALLEL = 2;

// ---------------------------------------------------------------------------------------------
// The scenario suite, started at once so it runs while the in-process tests below do.

const names = Object.keys(scenarios);
const suite = (() => {
  let p;
  return () => {
    if (!p) {
      const started = Date.now();
      const jobs = [];
      for (let r = 0; r < RUNS; r++) for (const name of names) jobs.push(() => runScenario(name, []));
      p = pool(jobs, PARALLEL).then((results) => {
        const by = new Map(names.map((n) => [n, []]));
        for (const r of results) by.get(r.name).push(r);
        return { by, wallMs: Date.now() - started };
      });
    }
    return p;
  };
})();

const fmtCount = (r) => {
  if (r.error) return 'ERROR';
  if (r.suspects.length) return r.suspects.map((s) => `${s.className} ${s.perIteration.toFixed(2)}/call`).join(', ');
  if (r.growth.length) return `+${Math.round(r.growth.reduce((n, g) => n + g.bytesPerIteration, 0))} B/call (${r.growth[0].className})`;
  return '-';
};

test(`leak scenarios: ${names.length} scenarios × ${RUNS} runs, each in its own process, every verdict right and stable`, async (t) => {
  const leaks = names.filter((n) => scenarios[n].leaks).length;
  assert.ok(names.length >= 25 && leaks >= 12 && names.length - leaks >= 12, 'at least 25 scenarios, about half each');
  const { by, wallMs } = await suite();
  const rows = [];
  const wrong = [];
  for (const name of names) {
    const runs = by.get(name);
    const expected = scenarios[name].leaks;
    const verdicts = runs.map((r) => (r.error ? 'error' : r.leaked ? 'leak' : 'clean'));
    const ok = runs.length === RUNS && runs.every((r) => !r.error && r.leaked === expected);
    if (!ok) wrong.push(`${name}: expected ${expected ? 'leak' : 'clean'}, got ${verdicts.join('/')} ${runs.map((r) => r.error || r.message).join(' | ')}`);
    const ms = runs.filter((r) => !r.error).map((r) => r.durationMs);
    rows.push([
      name,
      expected ? 'leak' : 'trap',
      verdicts.join('/'),
      [...new Set(runs.map(fmtCount))].join(' | '), // one entry when every run agrees
      `${Math.round(ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length))} ms`,
      ok ? 'ok' : 'WRONG',
    ]);
  }
  const header = ['scenario', 'kind', 'verdicts', 'per call (each run)', 'check', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  t.diagnostic(line(header));
  for (const r of rows) t.diagnostic(line(r));
  t.diagnostic(`${names.length * RUNS} runs in ${(wallMs / 1000).toFixed(1)} s (${PARALLEL} at a time)`);
  assert.deepEqual(wrong, []);
});

// The first `held by:` line of each leaking scenario's failure, in every run: the variable or
// property of the scenario's own code that holds the leak (never an object that Node or
// leakguard made while the check ran). One closure per call counts exactly 100 after 100
// calls: Node's lazily created objects (its rimraf module, module-list strings) used to add
// a few Functions of their own.
const HOLDERS = {
  'map-by-request-id': [/each call leaves 1 Request alive \(\d+ after 100 calls/, 'requests (Map)'],
  'emitter-listeners': [/each call leaves 1 Function alive \(100 after 100 calls/, 'bus (EventEmitter) → ._events'],
  'once-never-fires': [/each call leaves 2 Function alive/, 'bus (EventEmitter) → ._events'],
  'closure-registry': [/each call leaves 1 Function alive \(100 after 100 calls/, 'callbackRegistry (Array)'],
  'interval-never-cleared': [/each call leaves 1 Timeout alive/, 'timerListMap'],
  'growth-after-await': [/each call leaves 1 Record alive/, 'auditTrail (Array)'],
  'promise-never-settles': [/each call leaves 1 Function alive \(100 after 100 calls/, 'waiters (Map)'],
  'abort-listeners': [/each call leaves 1 Listener alive/, 'shutdown (AbortController)'],
  'unbounded-memoize': [/each call leaves 1 \{key, tags\} alive/, 'memoTable (Map)'],
  'growing-log-string': [/\(concatenated string\) alive/, 'accessLog'],
  'race-against-pending': [/each call leaves \d Function alive/, 'pendingForever (Promise)'],
  'resolver-queue': [/each call leaves 1 Function alive \(100 after 100 calls/, 'resolverQueue (Array)'],
  'buffers-kept-sometimes': [/Buffer/, 'keptBuffers (Array)'],
  'retry-queue-on-error': [/each call leaves 0\.5 \{req, err\} alive/, 'retryQueue (Array)'],
  'new-global-per-call': [/each call leaves 1 Object alive/, /^global → \.__pending_\d+ → Object$/],
  // bytes, not objects: nothing from round 1 survives, the heap grows in both rounds
  'growing-flat-string': [/the heap grows by \d+ B per call .*\(string\)/, 'flatLog'],
  'closure-context-chain': [/the heap grows by \d+ B per call/, 'theThing'],
};

// Where each leak's objects were allocated (issue 13): the scenario's own function, or the
// constructor of the leaked class, at the line and column where it is defined in
// fixtures/leak-scenarios.js (V8 places a function at its parameter list).
const CONSTRUCTED = { 'map-by-request-id': 'Request', 'growth-after-await': 'Record' };
const SCENARIO_SOURCE = require('node:fs')
  .readFileSync(path.join(__dirname, 'fixtures', 'leak-scenarios.js'), 'utf8')
  .split('\n');
function definedAt(name) {
  const ctor = CONSTRUCTED[name];
  const cls = ctor ? SCENARIO_SOURCE.findIndex((l) => l.startsWith(`class ${ctor} {`)) : -1;
  const i = ctor ? SCENARIO_SOURCE.findIndex((l, k) => k > cls && l.includes('constructor(')) : SCENARIO_SOURCE.findIndex((l) => l.includes(`'${name}'(`));
  const fn = ctor || name;
  return { fn, at: `__test__/fixtures/leak-scenarios.js:${i + 1}:${SCENARIO_SOURCE[i].indexOf('(') + 1} (${fn})` };
}

test("leak scenarios: the first held-by line names the holder in the scenario's own code, every run", async () => {
  const leaking = names.filter((n) => scenarios[n].leaks);
  assert.deepEqual(
    leaking.filter((n) => !HOLDERS[n]),
    [],
    'every leaking scenario has its holder listed here',
  );
  const { by } = await suite();
  const wrong = [];
  for (const name of leaking) {
    const [what, holder] = HOLDERS[name];
    for (const r of by.get(name)) {
      if (r.error || !r.leaked) continue; // the verdict test reports these
      const first = (r.message.split('\n').find((l) => l.startsWith('  held by: ')) || '').slice('  held by: '.length);
      const named = typeof holder === 'string' ? first.startsWith(holder) : holder.test(first);
      if (!what.test(r.message) || !named) wrong.push(`${name}: want ${holder}, got:\n${r.message}`);
      const { fn, at } = definedAt(name);
      const allocated = (r.message.split('\n').find((l) => l.startsWith('  allocated ')) || '').trim();
      const how = CONSTRUCTED[name] ? 'at' : '(?:at|within)';
      if (!new RegExp(`^allocated ${how} `).test(allocated) || !allocated.endsWith(at))
        wrong.push(`${name}: want allocated in ${fn} (${at}), got:\n${r.message}`);
    }
  }
  assert.deepEqual(wrong, []);
  const flat = by.get('growing-flat-string').find((r) => !r.error);
  assert.deepEqual(flat.suspects, [], 'the flat string leaves no object of round 1 alive');
  assert.ok(
    flat.growth.some((g) => g.className === '(string)' && g.bytesPerIteration >= 40),
    JSON.stringify(flat.growth),
  );
});

// ---------------------------------------------------------------------------------------------
// In-process behaviour

class Session {
  constructor(id) {
    this.id = id;
    this.user = { name: `u${id}`, roles: ['r'] };
  }
}
const sessionStore = new Map();
let sid = 0;
const login = () => {
  const s = new Session(++sid);
  sessionStore.set(s.id, s);
};

test('argument errors reject with ERR_LEAKGUARD_INVALID_ARG', async () => {
  const bad = [
    [42],
    [null],
    [() => {}, null],
    [() => {}, 'x'],
    [() => {}, { iterations: 1 }],
    [() => {}, { iterations: 2.5 }],
    [() => {}, { warmup: -1 }],
    [() => {}, { threshold: 0 }],
    [() => {}, { threshold: 'high' }],
    [() => {}, { minCount: 0 }],
    [() => {}, { byteThreshold: -1 }],
    [() => {}, { timeoutMs: 0 }],
    [() => {}, { ignoreClasses: 'Session' }],
    [() => {}, { signal: {} }],
  ];
  for (const args of bad) {
    await assert.rejects(lg.checkLeak(...args), { code: 'ERR_LEAKGUARD_INVALID_ARG', name: 'TypeError' }, JSON.stringify(args));
    await assert.rejects(lg.assertNoLeak(...args), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  }
  await assert.rejects(lg.checkLeak(42), /^TypeError: checkLeak\(fn\) must be a function, got 42$/);
  await assert.rejects(
    lg.checkLeak(() => {}, { iterations: 1 }),
    /checkLeak\(\{ iterations \}\) must be a whole number >= 2, got 1/,
  );
  await assert.rejects(
    lg.checkLeak(() => {}, { method: 'fast' }),
    /checkLeak\(\{ method \}\) must be 'sampling' or 'snapshots', got "fast"/,
  );
});

test('an error thrown by fn is passed through, not reported as a leak', async () => {
  const boom = new Error('boom');
  let calls = 0;
  await assert.rejects(
    lg.checkLeak(() => {
      if (++calls === 15) throw boom;
    }),
    (err) => err === boom,
  );
  assert.equal(calls, 15);
  const aboom = new RangeError('async boom');
  await assert.rejects(
    lg.assertNoLeak(async () => {
      throw aboom;
    }),
    (err) => err === aboom,
  );
});

test('timeoutMs: a check that takes too long rejects with ERR_LEAKGUARD_TIMEOUT and stops calling fn', async () => {
  let calls = 0;
  const t0 = Date.now();
  await assert.rejects(
    lg.checkLeak(
      () => {
        calls++;
        return new Promise(() => {}); // never settles
      },
      { timeoutMs: 300 },
    ),
    (err) => err.code === 'ERR_LEAKGUARD_TIMEOUT' && /timed out after 300 ms while warm-up/.test(err.message),
  );
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(calls, 1);
  // slow but finite calls: stopped between calls
  let slow = 0;
  await assert.rejects(
    lg.checkLeak(() => new Promise((r) => setTimeout(r, 20, ++slow)), { timeoutMs: 200 }),
    { code: 'ERR_LEAKGUARD_TIMEOUT' },
  );
  const seen = slow;
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(slow <= seen + 1, 'no calls after the timeout');
});

test('signal: aborting rejects with ERR_LEAKGUARD_ABORTED', async () => {
  const ac = new AbortController();
  const p = lg.checkLeak(() => new Promise((r) => setTimeout(r, 5)), { signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(p, { code: 'ERR_LEAKGUARD_ABORTED' });
  await assert.rejects(
    lg.checkLeak(() => {}, { signal: AbortSignal.abort() }),
    { code: 'ERR_LEAKGUARD_ABORTED' },
  );
});

test('assertNoLeak: LeakError with code, result and an assertion-style message', async () => {
  const err = await lg.assertNoLeak(login, { iterations: 50 }).then(
    () => assert.fail('should reject'),
    (e) => e,
  );
  assert.ok(err instanceof lg.LeakError);
  assert.ok(err instanceof lg.LeakguardError);
  assert.equal(err.code, 'ERR_LEAKGUARD_LEAK');
  assert.equal(err.code, lg.codes.LEAK);
  assert.equal(err.name, 'LeakError');
  const r = err.result;
  assert.equal(r.leaked, true);
  assert.equal(r.iterations, 50);
  // a synchronous leak that the rounds saw grow is explained from one snapshot (id boundaries)
  assert.equal(r.snapshots, 1);
  // every call counted: the warm-up, the rounds' size probe (3 × 4 calls) and rounds, the two rounds
  assert.equal(r.calls, r.warmup + 12 + r.rounds.calls + 2 * 50);
  assert.ok(r.durationMs > 0);
  const [top] = r.suspects;
  assert.equal(top.className, 'Session');
  assert.equal(top.count, 50);
  assert.equal(top.perIteration, 1);
  assert.ok(top.retainedSize > 50 * 40);
  assert.match(top.path, /->sessionStore \(Map\) → \{table\} \(array\) → .* → Session$/);
  assert.ok(Array.isArray(r.report.suspects));
  // owned objects (the user record) are counted in their Session, not on their own
  assert.ok(!r.suspects.some((s) => s.className !== 'Session'), JSON.stringify(r.suspects.map((s) => s.className)));
  const lines = err.message.split('\n');
  assert.match(lines[0], /^expected fn not to leak, but each call leaves 1 Session alive \(50 after 50 calls, [\d.]+ KB retained\)$/);
  // the variable, and where this file declares it (issue 13)
  assert.match(lines[1], /^ {2}held by: sessionStore \(Map\) → \{table\} \(array\) → \{\d+\} → Session, a variable of __test__\/assert\.test\.js:(\d+)$/);
  const declared = require('node:fs').readFileSync(__filename, 'utf8').split('\n').indexOf('const sessionStore = new Map();') + 1;
  assert.equal(Number(lines[1].match(/:(\d+)$/)[1]), declared);
  // and where its objects are made: the Session constructor of this file
  assert.match(lines[2], /^ {2}allocated at __test__\/assert\.test\.js:\d+:\d+ \(Session\)$/);
  assert.equal(top.allocation.frames[0].functionName, 'Session');
  assert.match(err.stack, /assert\.test\.js/);
});

// Every call keeps a Req; every second call opens a Conn that two Reqs share, so a Conn is not
// owned by one Req (the store's array dominates it) but every path to it runs through a Req.
class ViaReq {
  constructor(conn) {
    this.conn = conn;
    this.at = Date.now();
  }
}
class ViaConn {
  constructor() {
    this.buffer = [1, 2, 3];
  }
}
const viaStore = [];
let viaConn = null;
let viaCalls = 0;
const viaLeak = () => {
  if (viaCalls++ % 2 === 0) viaConn = new ViaConn();
  viaStore.push(new ViaReq(viaConn));
};

test('an async fn that awaits microtasks alone is explained from one snapshot; one that turns the event loop from three', async () => {
  class Order {
    constructor(i) {
      this.i = i;
    }
  }
  const orders = [];
  const db = { get: async (i) => ({ id: i }) };
  let i = 0;
  // a mocked service: every await settles in microtasks
  const mocked = await lg.checkLeak(async () => orders.push(new Order((await db.get(++i)).id)), { iterations: 50 });
  assert.equal(mocked.leaked, true, formatResult(mocked));
  assert.equal(mocked.snapshots, 1);
  assert.equal(mocked.suspects[0].className, 'Order');
  // a turn of the loop per call (an immediate): while ids are tracked every turn can cost a full
  // GC, so the three snapshots explain it
  const later = [];
  const turning = await lg.checkLeak(
    async () => {
      await new Promise((r) => setImmediate(r));
      later.push(new Order(++i));
    },
    { iterations: 50 },
  );
  assert.equal(turning.leaked, true, formatResult(turning));
  assert.equal(turning.snapshots, 3);
  assert.equal(turning.suspects[0].className, 'Order');
});

test('a class kept alive only through another leaked class says so', async () => {
  const r = await lg.checkLeak(viaLeak, { iterations: 60 });
  const req = r.suspects.find((s) => s.className === 'ViaReq');
  const conn = r.suspects.find((s) => s.className === 'ViaConn');
  assert.ok(req && conn, JSON.stringify(r.suspects.map((s) => s.className)));
  assert.equal(req.via, null);
  assert.equal(conn.via, 'ViaReq');
  assert.equal(conn.perIteration, 0.5);
  const message = require('../lib/assert').formatResult(r);
  assert.match(message, /each call leaves 0\.5 ViaConn alive \(30 after 60 calls, [^)]+\), kept alive through the leaked ViaReq\n/);
});

test('assertNoLeak resolves with the result when nothing leaks; checkLeak reports the leak without throwing', async () => {
  const r = await lg.assertNoLeak(
    () => {
      const s = new Session(0);
      return s.user.name.length;
    },
    { iterations: 30 },
  );
  assert.equal(r.leaked, false);
  assert.deepEqual(r.suspects, []);
  const l = await lg.checkLeak(login, { iterations: 30 });
  assert.equal(l.leaked, true);
  assert.equal(l.suspects[0].className, 'Session');
});

test('tolerances: threshold, minCount and ignoreClasses', async () => {
  // one Session every 4 calls: 0.25 per call. The survivor rounds see it keep growing: a
  // slow leak, reported with its class although it is under the snapshot rule's bar.
  let i = 0;
  const sometimes = () => {
    if (i++ % 4 === 0) login();
  };
  const slow = await lg.checkLeak(sometimes, { iterations: 60, byteThreshold: false });
  assert.equal(slow.leaked, true, formatResult(slow));
  assert.equal(slow.slow, true);
  assert.equal(slow.suspects[0].className, 'Session');
  // The snapshot rule alone (method: 'snapshots'): 0.25 per call passes under the default
  // threshold of 0.5 and fails under 0.2.
  const snapshots = { iterations: 60, byteThreshold: false, method: 'snapshots' };
  assert.equal((await lg.checkLeak(sometimes, snapshots)).leaked, false);
  const strict = await lg.checkLeak(sometimes, { ...snapshots, threshold: 0.2 });
  assert.equal(strict.leaked, true);
  assert.equal(strict.suspects[0].className, 'Session');
  assert.equal(strict.suspects[0].count, 15);
  // minCount is a floor on the number of objects
  assert.equal((await lg.checkLeak(login, { iterations: 10, minCount: 11 })).suspects.length, 0);
  // ignoring the class also accepts what it owns and the heap growth it explains
  const ignored = await lg.checkLeak(login, { iterations: 40, ignoreClasses: ['Session'] });
  assert.equal(ignored.leaked, false, formatResult(ignored));
  assert.ok(
    ignored.report.suspects.some((s) => s.className === 'Session'),
    'the full report still has it',
  );
});

test('checkLeak works in a worker thread', async () => {
  const code = `
    const { parentPort } = require('worker_threads');
    const lg = require(${JSON.stringify(ROOT)});
    const kept = [];
    (async () => {
      const a = await lg.checkLeak(() => { kept.push({ at: Date.now() }); }, { iterations: 30 });
      const b = await lg.checkLeak(() => ({ at: Date.now() }), { iterations: 30 });
      parentPort.postMessage({ a: a.leaked, cls: a.suspects[0] && a.suspects[0].className, b: b.leaked, gc: typeof globalThis.gc });
    })().catch((e) => parentPort.postMessage({ error: String(e.stack) }));
  `;
  const w = new Worker(code, { eval: true });
  const msg = await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await w.terminate();
  assert.deepEqual(msg, { a: true, cls: 'Object', b: false, gc: 'undefined' });
});

test('a check keeps V8 heap object ids: snapshots taken before and after it still compare', async () => {
  // The sampling rounds use an inspector session; a session that enabled the HeapProfiler and
  // went away would make V8 forget every object id, and this diff would be refused as two heaps.
  const before = await lg.takeSnapshot();
  const r = await lg.checkLeak(() => ({ n: 1 }), { iterations: 20 });
  assert.equal(r.method, 'sampling');
  const after = await lg.takeSnapshot();
  assert.ok(Array.isArray(await lg.diff(before, after)));
  before.dispose();
  after.dispose();
});

test('forcing GC works while other threads do the same (V8 flags are per process)', async () => {
  // Each worker loads fresh copies of lib/gc.js and asks each for its GC function: every
  // copy flips --expose-gc on and off, racing the other threads' copies.
  const code = `
    const { parentPort, workerData } = require('worker_threads');
    let failures = 0;
    for (let i = 0; i < 150; i++) {
      for (const k of Object.keys(require.cache)) delete require.cache[k];
      try {
        if (typeof require(workerData).getGc() !== 'function') failures++;
      } catch (err) {
        failures++;
      }
    }
    parentPort.postMessage(failures);
  `;
  const workers = Array.from({ length: 4 }, () => new Worker(code, { eval: true, workerData: path.join(ROOT, 'lib', 'gc.js') }));
  const failures = await Promise.all(
    workers.map(
      (w) =>
        new Promise((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  await Promise.all(workers.map((w) => w.terminate()));
  assert.deepEqual(failures, [0, 0, 0, 0]);
});

test('forcing GC leaves global.gc alone and does not expose gc to later contexts', () => {
  assert.equal(typeof globalThis.gc, 'undefined');
  assert.equal(require('node:vm').runInNewContext('typeof gc'), 'undefined');
});

test('shortPath starts at the variable or property that holds the objects', () => {
  assert.equal(shortPath('Window → ->sessionStore (Map) → {table} (array) → [7] → Session'), 'sessionStore (Map) → {table} (array) → [7] → Session');
  assert.equal(
    shortPath(
      'global → .process (process) → .mainModule (Module) → .exports (Object) → .bus (EventEmitter) → ._events (Object) → .data (Array) → [3] → Function',
    ),
    'bus (EventEmitter) → ._events (Object) → .data (Array) → [3] → Function',
  );
  assert.equal(shortPath('global → .app (Object) → .sessions (Map) → {table} (array) → [3] → Session'), 'sessions (Map) → {table} (array) → [3] → Session');
  assert.equal(
    shortPath('global → .x (Function) → {context} (system / Context) → ->bus (EventEmitter) → ._events (Object) → .data (Array) → [3] → Function'),
    'bus (EventEmitter) → ._events (Object) → .data (Array) → [3] → Function',
  );
  assert.equal(shortPath('global → .__pending_7 → Object'), 'global → .__pending_7 → Object');
  // Node 26 (V8 14): the global object hangs off the native context, the root's user root there.
  assert.equal(shortPath('(system) → {security_token} (global (global*)) → .__pending_7 → Object'), 'global → .__pending_7 → Object');
  assert.equal(shortPath('(system) → {global_object} (global (global*)) → .cache (Map) → [0] → Foo'), 'global → .cache (Map) → [0] → Foo');
  assert.equal(shortPath('(synthetic) → [7] → Foo'), '(synthetic) → [7] → Foo');
  assert.equal(shortPath(''), '');
});
