'use strict';

// One leak hunt, in-process: `node demo/hunt.js [--fixed] [--json]`. Starts the demo server in
// this process, drives traffic, takes three snapshots (baseline, target, final) with leakguard
// and prints what was created after the baseline and is still alive at the end.

const lg = require('..');
const { shortPath } = require('../lib/format');
const { createServer } = require('./leaky-server');
const { drive } = require('./traffic');

const fixed = process.argv.includes('--fixed');
const asJson = process.argv.includes('--json');
const REQUESTS = 300;

const kb = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`);

async function main() {
  const server = createServer({ fixed });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await drive(port, 50); // warm-up: lazy initialisation and JIT are not leaks

  const t0 = Date.now();
  const baseline = await lg.takeSnapshot();
  await drive(port, REQUESTS);
  const target = await lg.takeSnapshot();
  await drive(port, REQUESTS);
  const final = await lg.takeSnapshot();
  const report = await lg.findLeaks({ baseline, target, final }, { minRetainedSize: 64 * 1024 });
  const ms = Date.now() - t0;
  server.close();

  if (asJson) return console.log(JSON.stringify(report));
  const label = fixed ? 'fixed server' : 'leaky server';
  console.log(`${label}: ${REQUESTS} requests between baseline and target, ${REQUESTS} more before final`);
  console.log(`  ${report.newInTarget} objects new in target, ${report.stillAlive} of them still alive in final (${ms} ms for 3 snapshots + analysis)`);
  if (report.suspects.length === 0) {
    console.log('  no leak found: nothing created after the baseline is still held in a way that grows\n');
    return;
  }
  for (const [i, s] of report.suspects.slice(0, 3).entries()) {
    console.log(`  #${i + 1} ${s.className}: ${s.count} objects still alive, retaining ${kb(s.retainedSize)}`);
    if (s.paths[0]) {
      console.log(`     held by: ${shortPath(s.paths[0].text)}`);
      console.log(`     full path from the root: ${s.paths[0].text}`);
    }
  }
  console.log();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
