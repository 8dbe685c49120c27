'use strict';

// Is there room to write a heap snapshot without getting the process killed? Writing one costs
// memory outside the JS heap (V8 builds the whole graph and its string table in C++ memory
// before streaming it out), and in a container that is what the OOM killer takes. Measured on
// Node 20 / x64 (bench figures in the report of this change): the RSS peak while writing grew
// by 7.3-7.9x the used heap for heaps of small objects (19-596 MB) and 5.1-5.5x for heaps of
// 800-byte strings and arrays. So the default factor is 8. Also checked: the room left in the
// old generation, because V8 allocates on the JS heap while it takes the snapshot and dies there
// when a heap at its limit has none (seen on Node 24 near a 48 MB limit).
//
// Memory available, in order: cgroup v2 (memory.max - memory.current, the tightest of the
// process's cgroup and its ancestors), cgroup v1 (memory.limit_in_bytes - usage_in_bytes),
// the smaller of that and the system's free memory (os.freemem(), MemAvailable on Linux).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');
const { codes, LeakguardError, invalidArg } = require('./errors');

/** Extra RSS a snapshot needs, as a multiple of the used heap (the worst case measured). */
const DEFAULT_FACTOR = 8;
/** Room the old generation must have left: the larger of 8 MiB and this share of its limit. */
const HEAP_ROOM_SHARE = 0.05;
const MiB = 1024 * 1024;

function readNumber(file) {
  try {
    const s = fs.readFileSync(file, 'utf8').trim();
    if (s === 'max') return Infinity;
    const n = Number(s);
    // cgroup v1 says "no limit" with a huge page-rounded number (2^63 - 4096 on x64).
    return Number.isFinite(n) && n >= 0 ? (n >= 2 ** 62 ? Infinity : n) : null;
  } catch {
    return null;
  }
}

/**
 * The memory limit and use of the cgroup this process is in, or null when it has no limit
 * (or no cgroup filesystem). `root` and `procFile` are parameters so tests can feed a fake
 * hierarchy. Returns { limit, current, source }.
 */
function cgroupMemory(root = '/sys/fs/cgroup', procFile = '/proc/self/cgroup') {
  let lines;
  try {
    lines = fs.readFileSync(procFile, 'utf8').split('\n');
  } catch {
    return null;
  }
  let best = null;
  const consider = (limit, current, source) => {
    if (limit === null || limit === Infinity || current === null) return;
    if (!best || limit - current < best.limit - best.current) best = { limit, current, source };
  };
  for (const line of lines) {
    const m = /^(\d+):([^:]*):(\/.*)$/.exec(line);
    if (!m) continue;
    const rel = m[3];
    if (m[1] === '0' && m[2] === '') {
      // v2: the limit may be set on any ancestor; walk up to the root of the mount.
      for (let p = rel; ; p = path.posix.dirname(p)) {
        const dir = path.join(root, p);
        consider(readNumber(path.join(dir, 'memory.max')), readNumber(path.join(dir, 'memory.current')), 'cgroup v2');
        if (p === '/' || p === '.') break;
      }
    } else if (m[2].split(',').includes('memory')) {
      for (const base of [path.join(root, 'memory', rel), path.join(root, 'memory')]) {
        const limit = readNumber(path.join(base, 'memory.limit_in_bytes'));
        if (limit === null) continue;
        consider(limit, readNumber(path.join(base, 'memory.usage_in_bytes')), 'cgroup v1');
        break;
      }
    }
  }
  return best;
}

/** Bytes this process can still use: { bytes, source }. */
function availableMemory() {
  const free = os.freemem();
  const cg = cgroupMemory();
  if (cg && cg.limit - cg.current < free) return { bytes: Math.max(0, cg.limit - cg.current), source: cg.source };
  return { bytes: free, source: 'system free memory' };
}

/**
 * Parses the `headroom` option (or LEAKGUARD_HEADROOM): a factor > 0 of the used heap that
 * must be free before a dump, or false / 'off' / 0 to dump regardless. Returns the factor or 0.
 */
function parseHeadroom(label, v) {
  if (v === undefined) return DEFAULT_FACTOR;
  if (v === false || v === 'off' || v === 0 || v === '0') return 0;
  const n = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 1000) {
    throw invalidArg(
      `${label} must be a factor of the used heap from 0 to 1000, or false / 'off', got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`,
    );
  }
  return n;
}

/**
 * Checks whether a snapshot can be written now. `factor` 0 disables the check. Returns null
 * when there is room, else an ERR_LEAKGUARD_NO_HEADROOM error saying what is missing (with
 * `needed`, `available` and `source` properties). `oldGen` ({ used, limit }) is the old
 * generation's state when the caller knows it (dumpNearHeapLimit does).
 */
function checkHeadroom({ factor = DEFAULT_FACTOR, what = 'heap snapshot', oldGen, available = availableMemory } = {}) {
  if (!factor) return null;
  const heap = v8.getHeapStatistics();
  const needed = Math.ceil(heap.used_heap_size * factor);
  const avail = available();
  if (avail.bytes < needed) {
    return new LeakguardError(
      codes.NO_HEADROOM,
      `${what} skipped: writing it needs about ${fmt(needed)} of memory (${factor}x the ${fmt(heap.used_heap_size)} heap) and only ${fmt(avail.bytes)} is available (${avail.source}); set the headroom option (LEAKGUARD_HEADROOM under -r leakguard/register) to change the factor`,
      { needed, available: avail.bytes, source: avail.source },
    );
  }
  const used = oldGen ? oldGen.used : heap.used_heap_size;
  const limit = oldGen ? oldGen.limit : heap.heap_size_limit;
  const room = limit - used;
  const wanted = Math.max(8 * MiB, HEAP_ROOM_SHARE * limit);
  if (room < wanted) {
    return new LeakguardError(
      codes.NO_HEADROOM,
      `${what} skipped: the JS heap has ${fmt(Math.max(0, room))} left of its ${fmt(limit)} limit, and V8 needs about ${fmt(wanted)} of it to take a snapshot`,
      { needed: wanted, available: Math.max(0, room), source: 'V8 heap limit' },
    );
  }
  return null;
}

function fmt(bytes) {
  return bytes >= 1024 * MiB ? `${(bytes / 1024 / MiB).toFixed(1)} GiB` : `${(bytes / MiB).toFixed(1)} MiB`;
}

module.exports = { DEFAULT_FACTOR, HEAP_ROOM_SHARE, checkHeadroom, cgroupMemory, availableMemory, parseHeadroom };
