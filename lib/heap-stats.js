'use strict';

// Heap figures read from V8 in one place: the sampler's readings and post-GC baseline, and the
// near-heap-limit dump's view of the old generation. All are cheap (a few µs) and synchronous.

const v8 = require('node:v8');
const { isMainThread } = require('node:worker_threads');

const MiB = 1024 * 1024;

/**
 * One reading: process.memoryUsage() plus the V8 heap limit and the number of detached
 * contexts (a classic leak: iframes/vm contexts kept alive). Cheap (a few µs).
 */
function memoryUsage() {
  const m = process.memoryUsage();
  const h = v8.getHeapStatistics();
  return {
    rss: m.rss,
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    heapSizeLimit: h.heap_size_limit,
    numberOfDetachedContexts: h.number_of_detached_contexts,
  };
}

/**
 * The heap outside the young generation. Read in the GC observer's callback, which runs a
 * little after the GC: by then new objects fill the young generation again, but almost none
 * reached the old one, so this is close to the heap right after the collection.
 */
function heapOutsideYoungGeneration() {
  let used = 0;
  let all = 0;
  for (const s of v8.getHeapSpaceStatistics()) {
    all += s.space_used_size;
    if (s.space_name !== 'new_space' && s.space_name !== 'new_large_object_space') used += s.space_used_size;
  }
  return { baseline: used, heapUsed: all };
}

function flagValue(names) {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS || '').split(/\s+/)];
  let found;
  for (const a of args) {
    const m = /^--([a-z_-]+)=(\d+)$/.exec(a);
    if (m && names.includes(m[1].replace(/_/g, '-'))) found = Number(m[2]);
  }
  return found;
}

/**
 * The old generation's limit: the heap dies when the old generation fills, while
 * heap_size_limit also counts the young generation's reserve (3 semi-spaces, 48 MiB on 64-bit
 * Node by default), which would make a small heap look half empty when it is about to die.
 */
function oldGenerationLimit() {
  const { resourceLimits } = require('node:worker_threads');
  if (!isMainThread && resourceLimits && resourceLimits.maxOldGenerationSizeMb > 0) {
    return resourceLimits.maxOldGenerationSizeMb * MiB;
  }
  const explicit = flagValue(['max-old-space-size']);
  if (explicit) return explicit * MiB;
  const semi = (flagValue(['max-semi-space-size']) || 16) * MiB;
  const total = v8.getHeapStatistics().heap_size_limit;
  return Math.max(total / 2, total - 3 * semi);
}

/** Bytes used outside the young generation (whose garbage a scavenge frees anyway). */
function oldGenerationUsed() {
  return heapOutsideYoungGeneration().baseline;
}

module.exports = { memoryUsage, heapOutsideYoungGeneration, oldGenerationLimit, oldGenerationUsed };
