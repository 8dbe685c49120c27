#!/usr/bin/env node
'use strict';
// The command line on a dump, as a user runs it: whole commands, wall time and peak RSS
// (GNU time's %M), against memlab's command line doing the nearest task in the same run.
//
//   node bench/cli.js [--sizes 20,200,1000] [--runs 3] [--timeout S]
//
// Tasks (one snapshot file, start to exit, output to /dev/null):
//   leakguard largest <file> --top 20      the 20 objects with the biggest retained size
//   memlab analyze object-size --snapshot <file>   memlab's "largest objects" plugin
//   leakguard summary <file> --top 20      the class summary with retained sizes (memlab has
//                                          no class-summary command; listed without a rival)
// Results go to out/cli-results.json (overwritten).

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { OUT, snapshotFor, median, machine, fmtTime } = require('./parse');

const ROOT = path.join(__dirname, '..');
const LEAKGUARD = path.join(ROOT, 'bin', 'leakguard.js');
const MEMLAB = path.join(__dirname, 'node_modules', '.bin', 'memlab');

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
}

/** Runs one command under GNU time; { ms, rssMB } or { error }. */
function timed(cmd, args, timeoutS) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], {
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    maxBuffer: 1 << 28,
    // memlab's own default heap is too small for big dumps; give every Node the same room.
    env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=16000' },
  });
  if (r.error) return { error: r.error.code === 'ETIMEDOUT' ? `timed out after ${timeoutS} s` : r.error.message };
  const last = r.stderr.trim().split('\n').pop();
  const m = /^([\d.]+) (\d+)$/.exec(last);
  if (r.status !== 0 || !m) return { error: `exit ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}` };
  return { ms: Number(m[1]) * 1000, rssMB: Math.round(Number(m[2]) / 1024) };
}

function main() {
  const sizes = arg('sizes', '20,200').split(',').map(Number);
  const results = { machine: machine(), date: new Date().toISOString(), sizes: {} };
  for (const mb of sizes) {
    const { file } = snapshotFor(mb);
    const runs = Number(arg('runs', mb > 200 ? 1 : 3));
    const timeoutS = Number(arg('timeout', mb > 200 ? 600 : 300));
    const tasks = [
      ['leakguard largest', process.execPath, [LEAKGUARD, 'largest', file, '--top', '20']],
      ['memlab object-size', MEMLAB, ['analyze', 'object-size', '--snapshot', file]],
      ['leakguard summary', process.execPath, [LEAKGUARD, 'summary', file, '--top', '20']],
    ];
    const row = {};
    for (const [name, cmd, args] of tasks) {
      const all = [];
      for (let i = 0; i < runs; i++) {
        const r = timed(cmd, args, timeoutS);
        all.push(r);
        if (r.error) break;
      }
      const ok = all.filter((r) => !r.error);
      row[name] =
        ok.length === all.length
          ? { ms: median(ok.map((r) => r.ms)), rssMB: Math.max(...ok.map((r) => r.rssMB)), runs: ok.length }
          : { error: all.find((r) => r.error).error };
    }
    results.sizes[mb] = { file: path.basename(file), bytes: fs.statSync(file).size, ...row };
    const lg = row['leakguard largest'];
    const ml = row['memlab object-size'];
    console.log(`\n${mb} MB (${(fs.statSync(file).size / 1048576).toFixed(0)} MiB file), median of ${runs}:`);
    for (const [name, r] of Object.entries(row)) {
      console.log(`  ${name.padEnd(20)} ${r.error ? r.error : `${fmtTime(r.ms).padStart(8)}  ${String(r.rssMB).padStart(6)} MB peak RSS`}`);
    }
    if (!lg.error && !ml.error)
      console.log(`  largest objects: leakguard ${(ml.ms / lg.ms).toFixed(1)}× faster than memlab, ${(ml.rssMB / lg.rssMB).toFixed(1)}× less memory`);
  }
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'cli-results.json'), JSON.stringify(results, null, 2));
}

main();
