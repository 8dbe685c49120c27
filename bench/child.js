'use strict';
// The benchmarks' child processes: each measurement runs in a fresh `node` that prints one
// `@@RESULT {json}` line. This runs such a child and reads its result, or says why there is
// none (timeout, signal, exit code and the telling line of its stderr).

const { spawnSync } = require('node:child_process');

/** Heap limit of the children, so a failure is the tool's own limit, not V8's default cap. */
const CHILD_HEAP_MB = 16000;

/**
 * Runs `node --max-old-space-size=16000 <script> ...args` in `cwd`. Returns `{ result, r }`:
 * the last @@RESULT object (or null) and spawnSync's record of the child.
 */
function runChild(script, args, { timeoutS, cwd = __dirname, nodeArgs = [`--max-old-space-size=${CHILD_HEAP_MB}`] }) {
  const r = spawnSync(process.execPath, [...nodeArgs, script, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    maxBuffer: 64 << 20,
  });
  const line = (r.stdout || '')
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('@@RESULT '));
  return { result: line ? JSON.parse(line.slice('@@RESULT '.length)) : null, r };
}

/**
 * Why a child gave no result, in one line: `timeout after N s`, or `child killed by SIG…` /
 * `child exited N` with the stderr line that names an error (else its last line).
 */
function childFailure(r, timeoutLabel, { max = 300 } = {}) {
  if (r.error && r.error.code === 'ETIMEDOUT') return `timeout after ${timeoutLabel} s`;
  const stderr = (r.stderr || '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const telling = stderr.find((l) => /FATAL ERROR|out of memory|RangeError|Error/.test(l)) || stderr[stderr.length - 1];
  return `child ${r.signal ? `killed by ${r.signal}` : `exited ${r.status}`}${telling ? `: ${telling}` : ''}`.slice(0, max);
}

module.exports = { CHILD_HEAP_MB, runChild, childFailure };
