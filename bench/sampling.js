#!/usr/bin/env node
'use strict';
// Overhead of leakguard's memory sampler on a CPU-bound workload, and the memory its ring
// buffers hold when full.
//
//   node bench/sampling.js [--runs 7] [--chunks 50]
//
// The workload is a tight arithmetic loop sliced into chunks with setImmediate between them,
// so the sampler's JS timer gets to run as it would in a real app (a loop that never yields
// would only measure the native RSS thread). Variants run alternately in one process: no
// sampler, startSampling({ intervalMs: 1000 }), startSampling({ intervalMs: 100 }); medians.

const lg = require('..');

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const RUNS = arg('runs', 7);
const CHUNKS = arg('chunks', 50);

async function run(intervalMs) {
  const s = intervalMs ? lg.startSampling({ intervalMs }) : null;
  const t0 = process.hrtime.bigint();
  let x = 0;
  for (let k = 0; k < CHUNKS; k++) {
    for (let i = 0; i < 2e7; i++) x = (x + i * 7) % 1000003;
    await new Promise((r) => setImmediate(r));
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const samples = s ? s.samples().heap.length : 0;
  if (s) s.stop();
  return { ms, samples, x };
}

const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];

(async () => {
  await run(0); // warm the JIT
  const variants = { none: 0, '1 s': 1000, '100 ms': 100 };
  const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < RUNS; r++) {
    for (const [k, iv] of Object.entries(variants)) {
      const { ms, samples: n } = await run(iv);
      times[k].push(ms);
      samples[k].push(n);
    }
  }
  const base = median(times.none);
  console.log(`CPU-bound workload, ${CHUNKS} chunks, median of ${RUNS} runs each (alternating)`);
  console.log('variant   median ms   slowdown   JS heap samples per run');
  for (const k of Object.keys(variants)) {
    const m = median(times[k]);
    console.log(`${k.padEnd(8)}  ${m.toFixed(1).padStart(9)}  ${((m / base - 1) * 100).toFixed(2).padStart(8)}%   ${median(samples[k])}`);
  }
  // Per-call costs on the JS thread: one timer tick (memoryUsage() + recording into the Rust
  // ring) and one post-GC update (heap space statistics, recording, the trend over a full
  // 30-point window, the 'gc'/'stats' events), called directly in a loop.
  {
    const s = lg.startSampling({ intervalMs: 1000000 });
    const per = (n, f) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) f(i);
      return Number(process.hrtime.bigint() - t0) / 1e3 / n;
    };
    per(2000, () => s._tick()); // warm-up
    const tick = median([1, 2, 3].map(() => per(20000, () => s._tick())));
    const gc = median([1, 2, 3].map(() => per(2000, (i) => s._onMajorGc({ startTime: i, duration: 1 }))));
    console.log(`per call on the JS thread: timer tick ${tick.toFixed(1)} µs, post-GC update with the trend ${gc.toFixed(1)} µs (medians of 3)`);
    s.stop();
  }
  for (const maxSamples of [undefined, 100000]) {
    const s = lg.startSampling({ intervalMs: 1000, ...(maxSamples ? { maxSamples } : {}) });
    const st = s.stats();
    console.log(
      `ring buffers reserved (maxSamples ${maxSamples || 'default'}): ${st.bufferBytes} bytes (${(st.bufferBytes / 1024).toFixed(1)} KiB), allocated once, never grown`,
    );
    s.stop();
  }
})();
