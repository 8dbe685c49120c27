'use strict';

// Drives requests at a local server, 8 at a time over keep-alive connections.

const http = require('node:http');

function get(port, agent, i) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: `/item/${i}`, agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });
}

/** Sends `n` GET requests to 127.0.0.1:`port` and waits for all responses. */
async function drive(port, n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  for (let i = 0; i < n; i += 8) {
    await Promise.all(Array.from({ length: Math.min(8, n - i) }, (_, k) => get(port, agent, i + k)));
  }
  agent.destroy();
}

module.exports = { drive };
