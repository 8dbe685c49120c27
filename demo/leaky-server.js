'use strict';

// A small HTTP server with the classic leak: every request is remembered in a module-level Map
// and never removed. Run with `--fixed` to get the same server without the leak.

const http = require('http');

const fixed = process.argv.includes('--fixed');
const requests = new Map();
let nextId = 0;

const server = http.createServer((req, res) => {
  req.id = ++nextId;
  requests.set(req.id, req); // the leak: nothing ever deletes the entry
  res.on('finish', () => {
    if (fixed) requests.delete(req.id);
  });
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ id: req.id, path: req.url, inFlight: requests.size }));
});

server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});

module.exports = { server, requests };
