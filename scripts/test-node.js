#!/usr/bin/env node
'use strict';

// The node test suite (`npm run test:node`): every __test__/*.test.js through `node --test`, in
// two groups run side by side. The files in WAITING spend most of their time waiting on servers
// that must show a leak over a minute or more (the demo's hands-off diagnosis, the diagnosis of a
// server under load), so they run beside the rest instead of after it: about two minutes less
// on CI's two cores. Each group's TAP goes to stdout whole (the waiting group's after the other,
// so the two never interleave); the exit code is the first group's failure, else 0.
//
//   node scripts/test-node.js [file ...]   (default: all of __test__/*.test.js)

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const DIR = path.join(__dirname, '..', '__test__');
const WAITING = ['demo.test.js', 'diagnose.test.js'];

function run(files, sink) {
  return new Promise((resolve) => {
    if (files.length === 0) return resolve(0);
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => sink(d));
    child.stderr.on('data', (d) => process.stderr.write(d));
    child.on('close', (code, signal) => resolve(signal ? 1 : code));
  });
}

async function main() {
  const given = process.argv.slice(2);
  const all =
    given.length > 0
      ? given
      : fs
          .readdirSync(DIR)
          .filter((f) => f.endsWith('.test.js'))
          .map((f) => path.join('__test__', f));
  const waiting = all.filter((f) => WAITING.includes(path.basename(f)));
  const rest = all.filter((f) => !WAITING.includes(path.basename(f)));
  const held = [];
  const [a, b] = await Promise.all([run(rest, (d) => process.stdout.write(d)), run(waiting, (d) => held.push(d))]);
  process.stdout.write(Buffer.concat(held));
  process.exitCode = a || b;
}

main();
