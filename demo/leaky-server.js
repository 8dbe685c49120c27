'use strict';

// A small HTTP server with the classic leak: every request is remembered in a module-level Map
// and never removed. `createServer({ fixed: true })` is the same server without the leak.
// Run directly (`node demo/leaky-server.js [--fixed]`) it listens on a free port.

const http = require('node:http');

const requests = new Map();
let nextId = 0;
// A bounded log of recent responses, as servers keep: not a leak, but it makes V8 promote
// objects and run major GCs, whose post-GC heap the memory sampler watches.
const recent = [];

function createServer({ fixed = false } = {}) {
  return http.createServer((req, res) => {
    req.id = ++nextId;
    requests.set(req.id, req); // the leak: nothing ever deletes the entry...
    res.on('finish', () => {
      if (fixed) requests.delete(req.id); // ...except in the fixed server
    });
    const body = { id: req.id, path: req.url, inFlight: requests.size };
    recent.push(Array.from({ length: 200 }, (_, i) => ({ i, path: req.url })));
    if (recent.length > 50) recent.shift();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  });
}

if (require.main === module) {
  const server = createServer({ fixed: process.argv.includes('--fixed') });
  if (process.env.DEMO_SAMPLES_FILE) {
    // Production wiring: sample memory, and save the samples next to each SIGUSR2 dump (for
    // `leakguard report --samples`). leakguard's own SIGUSR2 listener writes the dump itself.
    const sampler = require('..').startSampling({ intervalMs: 100 });
    process.on('SIGUSR2', () => require('node:fs').writeFileSync(process.env.DEMO_SAMPLES_FILE, JSON.stringify(sampler)));
  }
  server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
}

module.exports = { createServer };
