#!/usr/bin/env node
'use strict';
// Writes a realistic V8 heap snapshot of roughly the requested size.
//
//   node bench/gen-snapshot.js --mb 200 --out bench/out/s200.heapsnapshot
//
// The parent calibrates: it runs a child that builds a small graph, measures the
// snapshot bytes per "unit" of graph, scales to the target and generates the real
// file in a fresh child (`--max-old-space-size` raised), correcting once if the
// result misses the target by more than CORRECT_ABOVE. Size per unit grows a bit
// with the graph (node indices and ids get more digits), hence the correction.

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const CORRECT_ABOVE = 0.07; // regenerate once if off by more than 7%
const CHILD_HEAP_MB = 16000;

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) args[a.slice(2)] = true;
    else args[a.slice(2)] = argv[++i];
  }
  return args;
}

// node_count / edge_count sit in the snapshot's first few KB:
// {"snapshot":{"meta":{...},"node_count":N,"edge_count":M,...
function readHeader(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const head = buf.toString('utf8', 0, n);
    const nodes = /"node_count":(\d+)/.exec(head);
    const edges = /"edge_count":(\d+)/.exec(head);
    if (!nodes || !edges) throw new Error(`${file}: no node_count/edge_count in header`);
    return {
      bytes: fs.statSync(file).size,
      nodeCount: Number(nodes[1]),
      edgeCount: Number(edges[1]),
    };
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------- child side
// Builds `units` units of a varied object graph, all reachable from one global,
// then writes the snapshot. Each unit is a user/session pair plus a rotating mix
// of the other kinds of object a server heap holds.

const NAMES = ['alice', 'bob', 'Zoë', 'Łukasz', 'José', 'Ødegaard', '山田太郎', 'Иван', 'محمد', 'Nguyễn', 'Ἀριστοτέλης', 'emoji😀user', 'carol', 'dave'];
const TAGS = ['admin', 'beta', 'trial', 'paid', 'eu', 'us', 'apac', 'mobile'];
const ROUTES = ['/api/users', '/api/orders', '/health', '/api/items/:id', '/login', '/static/app.js'];

class User {
  constructor(id, name, email) {
    this.id = id;
    this.name = name;
    this.email = email;
    this.createdAt = 1.7e12 + id * 1000.5; // a double: a HeapNumber node
    this.balance = id * 1.01;
    this.sessions = [];
    this.prefs = null;
  }
}

class Session {
  constructor(id, user, tags) {
    this.id = id;
    this.user = user; // cycle: user.sessions -> session -> user
    this.tags = tags;
    this.token = `tok_${id.toString(36)}_${((id * 2654435761) >>> 0).toString(16)}`;
    this.lastSeen = Date.now() + id;
    this.state = id % 3 === 0 ? 'active' : 'idle';
    this.score = id / 7; // doubles and short strings are leaf nodes (no edges)
    this.ip = `10.${id % 256}.${(id >> 8) % 256}.${id % 7}`;
    this.geo = [48.1 + (id % 1000) / 1e3, 11.5 - (id % 777) / 1e3]; // double elements
  }
}

class LruEntry {
  constructor(key, value, prev) {
    this.key = key;
    this.value = value;
    this.prev = prev;
    this.next = null;
    if (prev) prev.next = this; // doubly linked chain: long cycles
  }
}

// A string of varied length; some non-ASCII (two-byte strings in V8).
function variedString(i) {
  const name = NAMES[i % NAMES.length];
  const len = i % 50 === 0 ? 400 : [6, 10, 16, 32, 64][i % 5];
  let s = `${name}:${i}:`;
  while (s.length < len) s += name;
  return s.slice(0, len) + i;
}

function makeCounter(state) {
  let calls = 0;
  // A closure capturing outer state: a Context node with edges to `state`.
  return function onRequest(req) {
    calls++;
    state.last = req;
    return calls;
  };
}

function buildGraph(units) {
  const root = {
    users: [],
    byToken: new Map(), // string keys
    byId: new Map(), // number keys
    seenEmails: new Set(),
    handlers: [],
    buffers: [],
    samples: [],
    requests: [],
    batches: [],
    meta: new WeakMap(),
    lruHead: null,
  };
  let lru = null;
  for (let i = 0; i < units; i++) {
    const user = new User(i, variedString(i), `user${i}@example${i % 97}.com`);
    user.prefs = { theme: i % 2 ? 'dark' : 'light', lang: i % 7 ? 'en' : 'fr', pageSize: 20 + (i % 5) * 10 };
    const session = new Session(i * 7 + 1, user, [TAGS[i % 8], TAGS[(i * 3) % 8]]);
    user.sessions.push(session);
    root.users.push(user);
    root.byToken.set(session.token, session);
    root.byId.set(i, user);
    root.seenEmails.add(user.email);

    // Plain object literals of a few recurring shapes.
    switch (i % 3) {
      case 0:
        root.requests.push({ method: 'GET', url: ROUTES[i % ROUTES.length] + '?page=' + (i % 50), status: 200, ms: i * 0.37, user });
        break;
      case 1:
        root.requests.push({ method: 'POST', url: ROUTES[i % ROUTES.length], body: { qty: i % 9, sku: `SKU-${i}` }, status: 201, ms: i * 0.91 });
        break;
      default:
        root.requests.push({ kind: 'event', name: 'click', at: i * 1.5, target: { id: `btn-${i % 40}`, depth: i % 4 } });
    }
    if (i % 2 === 0) lru = new LruEntry(`k${i}`, session, lru);
    if (i === 0) root.lruHead = lru;
    if (i % 4 === 0) root.meta.set(session, { touched: i, by: user.name });
    if (i % 5 === 0) root.handlers.push(makeCounter({ owner: user, last: null }));
    if (i % 8 === 0) root.samples.push(new Float64Array(4 + (i % 13)));
    if (i % 16 === 0) root.buffers.push(Buffer.from(`payload-${i}-${user.email}`));
    // Arrays of small objects.
    if (i % 32 === 0) {
      const batch = [];
      for (let j = 0; j < 12; j++) batch.push({ x: j, y: i + 0.25, label: TAGS[j % 8] });
      root.batches.push(batch);
    }
  }
  return root;
}

function runChild(units, out) {
  globalThis.__leakguardBenchGraph = buildGraph(units);
  const v8 = require('node:v8');
  v8.writeHeapSnapshot(out);
}

// --------------------------------------------------------------- parent side

function generateOnce(units, out) {
  const r = spawnSync(process.execPath, [`--max-old-space-size=${CHILD_HEAP_MB}`, __filename, '--child', '--units', String(units), '--out', out], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`generator child failed (status ${r.status}, signal ${r.signal})`);
  return readHeader(out);
}

function generate(mb, out) {
  const target = mb * 1024 * 1024;
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const tmp = `${out}.calib`;
  // Two small points give the fixed cost (Node's own heap) and bytes per unit.
  const u0 = 2000;
  const u1 = Math.max(20000, Math.min(60000, Math.round(mb * 50))); // ~1/8 of the target
  const s0 = generateOnce(u0, tmp).bytes;
  const s1 = generateOnce(u1, tmp).bytes;
  fs.unlinkSync(tmp);
  const perUnit = (s1 - s0) / (u1 - u0);
  const base = s0 - perUnit * u0;
  let units = Math.max(1, Math.round((target - base) / perUnit));
  console.error(`calibration: ${perUnit.toFixed(1)} B/unit, base ${(base / 1048576).toFixed(1)} MB -> ${units} units`);
  let info = generateOnce(units, out);
  const miss = info.bytes / target - 1;
  if (Math.abs(miss) > CORRECT_ABOVE) {
    units = Math.max(1, Math.round((units * (target - base)) / (info.bytes - base)));
    console.error(`off by ${(miss * 100).toFixed(1)}%, regenerating with ${units} units`);
    info = generateOnce(units, out);
  }
  return { ...info, units };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.child) return runChild(Number(args.units), args.out);
  const mb = Number(args.mb);
  if (!(mb > 0) || !args.out) {
    console.error('usage: node bench/gen-snapshot.js --mb 200 --out bench/out/s200.heapsnapshot');
    process.exit(2);
  }
  const t0 = Date.now();
  const info = generate(mb, args.out);
  console.log(
    `${args.out}: ${(info.bytes / 1048576).toFixed(1)} MB (target ${mb} MB), ` +
      `node_count ${info.nodeCount}, edge_count ${info.edgeCount}, ` +
      `${info.units} units, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}

module.exports = { readHeader, buildGraph };
if (require.main === module) main();
