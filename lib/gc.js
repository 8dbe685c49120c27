'use strict';

// Forcing a full garbage collection without --expose-gc: the leak check's rounds and snapshots,
// and the sampler's confirming GC, need one in processes started without the flag.

const v8 = require('node:v8');
const vm = require('node:vm');
const { codes, LeakguardError } = require('./errors');

let cachedGc = null;
/**
 * A full, synchronous GC function. `--expose-gc` set at run time makes V8 install `gc` in
 * contexts created afterwards; a throwaway context hands us its `gc` (it collects the whole
 * isolate), and the flag is turned off again so later contexts (Jest's per-file contexts,
 * new workers) are left as they were. `globalThis.gc` is never touched.
 */
function getGc() {
  if (cachedGc) return cachedGc;
  if (typeof globalThis.gc === 'function') {
    cachedGc = globalThis.gc;
    return cachedGc;
  }
  // V8's flags are per process: another thread doing the same (Vitest's threads pool runs test
  // files in several workers) can turn the flag off between our set and our context, so the
  // context may come without `gc`; try again a few times.
  for (let attempt = 0; attempt < 20 && typeof cachedGc !== 'function'; attempt++) {
    v8.setFlagsFromString('--expose-gc');
    try {
      cachedGc = vm.runInNewContext('typeof gc === "function" ? gc : null');
    } finally {
      v8.setFlagsFromString('--no-expose-gc');
    }
  }
  if (typeof cachedGc !== 'function') {
    cachedGc = null;
    throw new LeakguardError(codes.INTERNAL, 'could not obtain a garbage collection function from V8');
  }
  return cachedGc;
}

module.exports = { getGc };
