#!/usr/bin/env node
'use strict';

// The `leakguard` command (see lib/cli). Sets the exit code instead of calling process.exit(),
// so output still buffered for a pipe is flushed before the process ends.

const { EXIT } = require('../lib/cli/args');

// A reader that stops early (`leakguard summary big.heapsnapshot | head`) closes the pipe and
// further writes fail with EPIPE: nobody is listening any more, so drop the output quietly
// rather than die with a stack trace. Other stream errors (a full disk behind a redirection)
// are failures: exit 3 like any other error, never 1, which means "leaks found".
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err?.code === 'EPIPE') return;
    if (stream !== process.stderr) {
      try {
        process.stderr.write(`leakguard: ERR_LEAKGUARD_IO: cannot write the output: ${err?.message || err}\n`);
      } catch {
        // stderr is gone too: the exit code alone tells.
      }
    }
    process.exit(EXIT.ERROR);
  });
}

require('../lib/cli')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
