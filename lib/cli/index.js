'use strict';

// `leakguard`, the command line: analyse heap snapshots taken elsewhere (a production dump,
// a CI artifact) without a browser. main() never exits the process and never throws: it
// resolves the exit code, so it runs in-process in tests and bin/leakguard.js stays tiny.

const { codes } = require('../errors');
const { EXIT, UsageError, parse } = require('./args');
const { Progress, kFile } = require('./load');
const { commands } = require('./commands');
const { cleanText } = require('./format');

const VERSION = require('../../package.json').version;

function globalHelp() {
  const rows = Object.values(commands).map((c) => [c.synopsis, c.brief]);
  rows.push(['help [command]', 'help on a command (as: leakguard <command> --help)']);
  const w = Math.max(...rows.map((r) => r[0].length));
  return `leakguard ${VERSION}: find memory leaks in V8 heap snapshots (.heapsnapshot files)

Usage: leakguard <command> [options]

Commands:
${rows.map(([u, b]) => `  ${u.padEnd(w)}  ${b}`).join('\n')}

Options:
  -h, --help       show this help
  -v, --version    print the version

Examples:
  leakguard summary heapdump-1.heapsnapshot --top 30
  leakguard diff before.heapsnapshot after.heapsnapshot
  leakguard leaks 1.heapsnapshot 2.heapsnapshot 3.heapsnapshot || echo "leak!"
  leakguard report *.heapsnapshot --samples samples.json --html report.html

Sizes are in binary units (1 KB = 1024 bytes); --json prints exact numbers.
Exit codes: 0 ok, 1 leak suspects found (leaks), 2 bad usage, 3 error (a missing,
unreadable or corrupt file, an I/O error), 130 interrupted (Ctrl-C).
Errors are one line on stderr: "leakguard: ERR_LEAKGUARD_<CODE>: <message> (<file>)".
Environment:
  LEAKGUARD_DEBUG=1     also print the stack trace of an error
  LEAKGUARD_PROGRESS=1  show load progress on stderr even when it is not a terminal
                        (it is shown on a terminal by default; LEAKGUARD_PROGRESS=0 hides it)
`;
}

/** The arguments before a `--`: only there can `--help` be a flag rather than a file name. */
function flagsPart(argv) {
  const end = argv.indexOf('--');
  return end < 0 ? argv : argv.slice(0, end);
}

/** Prints a usage error: the message, the command's usage line, where to get more. */
function usageError(err, io) {
  const cmd = err.command && commands[err.command];
  if (cmd) {
    io.err(`leakguard ${cmd.name}: ${err.message}\nUsage: ${cmd.usage}\nRun 'leakguard ${cmd.name} --help' for details.\n`);
  } else {
    io.err(
      `leakguard: ${err.message}\nUsage: leakguard <command> [options]   (commands: ${Object.keys(commands).join(', ')})\nRun 'leakguard --help' for details.\n`,
    );
  }
  return EXIT.USAGE;
}

/** One line per error, never a stack trace unless LEAKGUARD_DEBUG=1. */
function reportError(err, io, debug) {
  const known = err && typeof err.code === 'string' && err.code.startsWith('ERR_LEAKGUARD_');
  const code = known ? err.code : codes.INTERNAL;
  // Messages can span lines (and carry heap text): squeeze them so the error stays one line.
  const message = cleanText(String(err?.message || err).replace(/\s*\n\s*/g, ' '));
  // The file the error concerns, unless the message already names it (I/O errors do).
  // (Not for a missing addon: that concerns the platform, not the file being loaded.)
  const where = err && err[kFile] !== undefined && code !== codes.NO_BINARY ? cleanText(err[kFile]) : '';
  const file = where && !message.includes(where) ? ` (${where})` : '';
  const hint = code === codes.INTERNAL && !debug ? ' [a bug? LEAKGUARD_DEBUG=1 shows the stack trace]' : '';
  io.err(`leakguard: ${code}: ${message}${file}${hint}\n`);
  if (debug && err?.stack) {
    io.err(`${err.stack}\n`);
    for (let c = err.cause, depth = 0; c && depth < 5; c = c.cause, depth++) io.err(`caused by: ${c?.stack ? c.stack : c}\n`);
  }
  return EXIT.ERROR;
}

/**
 * Runs the command line. Resolves the exit code (0 ok, 1 leaks found, 2 usage, 3 error, 130
 * interrupted); never rejects, never calls process.exit.
 *
 * @param {string[]} argv arguments after the program name (`process.argv.slice(2)`)
 * @param {object} [io] where to talk to (defaults: the process's)
 * @param {{ write(s: string): unknown, isTTY?: boolean, columns?: number }} [io.stdout]
 * @param {{ write(s: string): unknown, isTTY?: boolean }} [io.stderr]
 * @param {boolean} [io.isTTY] whether stderr is a terminal (shows progress); default stderr.isTTY
 * @param {number} [io.columns] table width; default stdout's columns when it is a terminal, else unlimited
 * @param {Record<string, string|undefined>} [io.env] default process.env
 * @param {AbortSignal} [io.signal] aborts the work (exit 130); default: Ctrl-C (SIGINT) does
 * @returns {Promise<number>}
 */
async function main(argv, io = {}) {
  const stdout = io.stdout || process.stdout;
  const stderr = io.stderr || process.stderr;
  const env = io.env || process.env;
  const debug = env.LEAKGUARD_DEBUG === '1' || env.LEAKGUARD_DEBUG === 'true';
  const isTTY = io.isTTY !== undefined ? Boolean(io.isTTY) : Boolean(stderr.isTTY);
  const progressEnv = env.LEAKGUARD_PROGRESS;
  const showProgress = progressEnv === '1' || progressEnv === 'true' ? true : progressEnv === '0' || progressEnv === 'false' ? false : isTTY;
  const progress = new Progress(stderr, showProgress, stderr.isTTY && stderr.columns > 0 ? stderr.columns : Infinity);
  const ctx = {
    out: (s) => {
      progress.clear();
      stdout.write(s);
    },
    err: (s) => {
      progress.clear();
      stderr.write(s);
    },
    progress,
    width: io.columns !== undefined ? io.columns : stdout.isTTY && stdout.columns > 0 ? stdout.columns : Infinity,
    signal: io.signal,
  };

  // Ctrl-C during a long load aborts the native work (the thread stops within milliseconds) and
  // exits 130 without noise. A second Ctrl-C, with this listener gone, kills the process as usual.
  let onSigint = null;
  if (!ctx.signal) {
    const ac = new AbortController();
    ctx.signal = ac.signal;
    onSigint = () => ac.abort(new Error('interrupted (SIGINT)'));
    process.once('SIGINT', onSigint);
  }

  try {
    if (!Array.isArray(argv) || argv.some((a) => typeof a !== 'string')) throw new TypeError('main(argv): argv must be an array of strings');
    const [first, ...rest] = argv;
    if (first === undefined) {
      ctx.err(globalHelp());
      return EXIT.USAGE;
    }
    if (first === '-h' || first === '--help') {
      ctx.out(globalHelp());
      return EXIT.OK;
    }
    if (first === '-v' || first === '--version' || first === 'version') {
      ctx.out(`${VERSION}\n`);
      return EXIT.OK;
    }
    if (first === 'help') {
      if (rest.length === 0) {
        ctx.out(globalHelp());
        return EXIT.OK;
      }
      const cmd = Object.hasOwn(commands, rest[0]) ? commands[rest[0]] : null;
      if (!cmd || rest.length > 1) throw new UsageError(cmd ? `unexpected argument '${rest[1]}'` : `unknown command '${rest[0]}'`);
      ctx.out(`${cmd.help}\n`);
      return EXIT.OK;
    }
    const cmd = Object.hasOwn(commands, first) ? commands[first] : null;
    if (!cmd) throw new UsageError(first.startsWith('-') ? `unknown option '${first}'` : `unknown command '${first}'`);
    const flags = flagsPart(rest);
    if (flags.includes('--help') || flags.includes('-h')) {
      ctx.out(`${cmd.help}\n`);
      return EXIT.OK;
    }
    const parsed = parse(cmd.name, rest, cmd);
    return await cmd.run(parsed, ctx);
  } catch (err) {
    progress.clear();
    if (err instanceof UsageError) return usageError(err, ctx);
    if (err && err.code === codes.ABORTED && ctx.signal.aborted) return EXIT.INTERRUPTED;
    return reportError(err, ctx, debug);
  } finally {
    if (onSigint) process.removeListener('SIGINT', onSigint);
  }
}

module.exports = { main, EXIT, VERSION };
