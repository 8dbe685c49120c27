'use strict';

// Headless Chromium for the report tests: find the binary, dump a page's DOM after its
// scripts ran, take a screenshot. Every run gets a fresh profile directory (removed after),
// and the flags turn off everything that would reach the network (updates, sync, QUIC…).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { pathToFileURL } = require('node:url');

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The Chromium binary: `LEAKGUARD_CHROMIUM` if set (it must exist), else /usr/bin/chromium,
 * else chromium, chromium-browser or google-chrome on PATH.
 * @returns {string|null} its path, or null when there is none
 */
function findChromium() {
  const env = process.env.LEAKGUARD_CHROMIUM;
  if (env) return isExecutable(env) ? env : null;
  if (isExecutable('/usr/bin/chromium')) return '/usr/bin/chromium';
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    for (const name of CANDIDATES) {
      const file = path.join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  return null;
}

const BASE_FLAGS = [
  '--headless',
  '--no-sandbox', // containers and CI run as root
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--mute-audio',
];

/** file:// URL of `htmlFile`, plus `query` (e.g. `?sort=summary-0:count:asc`). */
function fileUrl(htmlFile, query = '') {
  return pathToFileURL(path.resolve(htmlFile)).href + query;
}

/** Runs Chromium with a fresh profile; resolves with stdout, rejects with stderr in the message. */
function run(args, { timeoutMs = 20000, chromium = findChromium() } = {}) {
  if (!chromium) return Promise.reject(new Error('Chromium not found (set LEAKGUARD_CHROMIUM or install the chromium package)'));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-chromium-'));
  const cleanup = () => fs.rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
  return new Promise((resolve, reject) => {
    execFile(
      chromium,
      [...BASE_FLAGS, `--user-data-dir=${profile}`, ...args],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        cleanup();
        if (err) {
          // Without a session bus or cpufreq files Chromium logs harmless errors: drop them.
          const noise = /dbus|Failed to connect to the bus|cpufreq|^\s*$/;
          stderr = String(stderr)
            .split('\n')
            .filter((l) => !noise.test(l))
            .join('\n');
          const why = err.killed ? `timed out after ${timeoutMs} ms` : `exited with ${err.code ?? err.signal}`;
          reject(new Error(`${path.basename(chromium)} ${why}\n--- stderr ---\n${stderr.slice(-4000)}`));
        } else resolve({ stdout, stderr });
      },
    );
  });
}

/**
 * Loads `htmlFile` (plus `query`) in headless Chromium and returns the DOM serialised after the
 * page's scripts ran (`--dump-dom`, with a virtual time budget so timers settle).
 * @param {string} htmlFile
 * @param {{ timeoutMs?: number, query?: string, chromium?: string }} [options]
 * @returns {Promise<string>} the serialised DOM
 */
async function dumpDom(htmlFile, { timeoutMs = 20000, query = '', chromium } = {}) {
  const { stdout } = await run(['--virtual-time-budget=5000', '--dump-dom', fileUrl(htmlFile, query)], { timeoutMs, chromium });
  if (!/<html[\s>]/i.test(stdout)) throw new Error(`--dump-dom printed no document for ${htmlFile}:\n${stdout.slice(0, 500)}`);
  return stdout;
}

/**
 * Writes a PNG of the viewport of `htmlFile` (`width`×`height` CSS pixels) to `pngFile`.
 * @param {string} htmlFile
 * @param {string} pngFile
 * @param {{ width?: number, height?: number, timeoutMs?: number, query?: string, chromium?: string }} [options]
 * @returns {Promise<string>} pngFile
 */
async function screenshot(htmlFile, pngFile, { width = 1280, height = 2400, timeoutMs = 30000, query = '', chromium } = {}) {
  const out = path.resolve(pngFile);
  fs.rmSync(out, { force: true });
  await run(['--virtual-time-budget=5000', '--hide-scrollbars', `--window-size=${width},${height}`, `--screenshot=${out}`, fileUrl(htmlFile, query)], {
    timeoutMs,
    chromium,
  });
  if (!fs.existsSync(out) || fs.statSync(out).size === 0) throw new Error(`Chromium wrote no screenshot to ${out}`);
  return out;
}

module.exports = { findChromium, dumpDom, screenshot, fileUrl };
