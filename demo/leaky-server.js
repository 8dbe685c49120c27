'use strict';

// A small HTTP server with the classic leak: every request is remembered in a module-level Map
// and never removed. `createServer({ fixed: true })` is the same server without the leak.
// Run directly (`node demo/leaky-server.js [--fixed]`) it listens on a free port.

const http = require('http');

const requests = new Map();
let nextId = 0;

function createServer({ fixed = false } = {}) {
  return http.createServer((req, res) => {
    req.id = ++nextId;
    requests.set(req.id, req); // the leak: nothing ever deletes the entry...
    res.on('finish', () => {
      if (fixed) requests.delete(req.id); // ...except in the fixed server
    });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: req.id, path: req.url, inFlight: requests.size }));
  });
}

if (require.main === module) {
  const server = createServer({ fixed: process.argv.includes('--fixed') });
  server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
}

module.exports = { createServer };
