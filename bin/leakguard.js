#!/usr/bin/env node
'use strict';

// The `leakguard` command (see lib/cli). Sets the exit code instead of calling process.exit(),
// so output still buffered for a pipe is flushed before the process ends.

// A reader that stops early (`leakguard summary big.heapsnapshot | head`) closes the pipe and
// further writes fail with EPIPE: nobody is listening any more, so drop the output quietly
// rather than die with a stack trace. Other stream errors are real and still surface.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') return;
    throw err;
  });
}

require('../lib/cli')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
