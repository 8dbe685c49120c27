#!/usr/bin/env node
'use strict';
// The sampler's leak alert with its DEFAULT settings on a real server under steady traffic:
// the demo's leaky HTTP server (every request kept in a Map) and the fixed one side by side,
// each in its own process with `startSampling()` (no options), driven by the same client load.
// Prints, per server, when the first 'leak' event came (or that none did), how many major GCs
// the trend had seen, and the final trend. node-memwatch's `leak` event is the only competitor
// that ever existed and it no longer builds, so this measures our own rule against real GCs.
//
//   node bench/sampling-alerts.js [--seconds 300] [--rate 200]
//
// Results go to out/sampling-alerts.json (overwritten).

const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const { spawn } = require('node:child_process');
const { OUT, machine } = require('./parse');

const ROOT = path.join(__dirname, '..');

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}

// The child: the demo server plus a default sampler, reporting on stdout as JSON lines.
const CHILD = `
const { createServer } = require(${JSON.stringify(path.join(ROOT, 'demo/leaky-server.js'))});
const lg = require(${JSON.stringify(ROOT)});
const fixed = process.argv.includes('--fixed');
const t0 = Date.now();
const s = lg.startSampling();
let gcs = 0;
const out = (o) => process.stdout.write(JSON.stringify({ atMs: Date.now() - t0, ...o }) + '\\n');
s.on('gc', () => gcs++);
s.on('leak', (r) => out({ event: 'leak', gcs, slope: r.slopeBytesPerMinute, confidence: r.confidence, window: r.window, share: r.recentGrowthShare, start: r.baselineStart, end: r.baselineEnd }));
process.on('message', () => {
  const t = s.trend();
  out({ event: 'done', gcs, verdict: t.verdict, reason: t.reason, slope: t.slopeBytesPerMinute, window: t.window, start: t.baselineStart, end: t.baselineEnd, rss: process.memoryUsage().rss });
  process.exit(0);
});
const server = createServer({ fixed });
server.listen(0, '127.0.0.1', () => out({ event: 'listening', port: server.address().port }));
`;

function start(fixed) {
  const child = spawn(process.execPath, ['-e', CHILD, '--', ...(fixed ? ['--fixed'] : [])], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const events = [];
  let buf = '';
  const listening = new Promise((resolve) => {
    child.stdout.on('data', (d) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const e = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        events.push(e);
        if (e.event === 'listening') resolve(e.port);
        if (e.event === 'leak') console.log(`  ${fixed ? 'fixed' : 'leaky'} server: leak alert after ${(e.atMs / 1000).toFixed(0)} s (${e.gcs} major GCs)`);
      }
    });
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return { child, events, listening, exited, name: fixed ? 'fixed' : 'leaky' };
}

/** Steady load: `rate` requests per second over 8 keep-alive sockets until `until`. */
async function drive(port, rate, until) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let sent = 0;
  const t0 = Date.now();
  const one = () =>
    new Promise((resolve) => {
      http.get({ host: '127.0.0.1', port, path: `/item/${sent}`, agent }, (res) => res.resume().on('end', resolve)).on('error', resolve);
    });
  while (Date.now() < until) {
    const due = Math.floor(((Date.now() - t0) / 1000) * rate);
    const batch = [];
    while (sent < due) {
      sent++;
      batch.push(one());
    }
    await Promise.all(batch);
    await new Promise((r) => setTimeout(r, 20));
  }
  agent.destroy();
  return sent;
}

async function main() {
  const seconds = arg('seconds', 300);
  const rate = arg('rate', 200);
  console.log(`default startSampling() in the demo servers, ${rate} requests/s each for ${seconds} s`);
  const runs = [start(false), start(true)];
  const until = Date.now() + seconds * 1000;
  const sent = await Promise.all(runs.map(async (r) => drive(await r.listening, rate, until)));
  for (const r of runs) r.child.send('done');
  await Promise.all(runs.map((r) => r.exited));
  const result = { machine: machine(), date: new Date().toISOString(), seconds, rate, servers: {} };
  runs.forEach((r, i) => {
    const leak = r.events.find((e) => e.event === 'leak') || null;
    const done = r.events.find((e) => e.event === 'done');
    result.servers[r.name] = { requests: sent[i], leak, done };
    const mb = (x) => `${(x / 1048576).toFixed(1)} MB`;
    console.log(
      `${r.name}: ${sent[i]} requests; ${leak ? `leak alert after ${(leak.atMs / 1000).toFixed(0)} s, ${leak.gcs} major GCs, ${mb(leak.slope)}/min` : 'no leak alert'}; ` +
        `at the end: ${done.gcs} major GCs, verdict ${done.verdict} (${done.reason}), baseline ${mb(done.start)} -> ${mb(done.end)}, RSS ${mb(done.rss)}`,
    );
  });
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'sampling-alerts.json'), JSON.stringify(result, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
