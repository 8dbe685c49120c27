'use strict';

// The compiled addon, loaded on first use through the loader that `napi build --platform`
// generates (binding.js: ./leakguard.<platform>.node, else the `leakguard-<platform>` npm
// package). Lazy on purpose: capture (writeSnapshot, dumpOnSignal, -r leakguard/register),
// memoryUsage and the CLI's --help are plain JS and must keep working on a platform without a
// binary; only the Rust-backed calls fail, with ERR_LEAKGUARD_NO_BINARY.

const { codes, LeakguardError } = require('./errors');

let loaded = null;
// The loader's failure, kept so later calls fail the same way without re-running the loader
// (its musl check can spawn `ldd`); each call still gets a fresh error with its own stack.
let failure = null;

/** The addon's exports; throws ERR_LEAKGUARD_NO_BINARY when it cannot be loaded. */
function binding() {
  if (loaded) return loaded;
  if (!failure) {
    try {
      loaded = require('../binding.js');
      return loaded;
    } catch (err) {
      failure = err;
    }
  }
  throw noBinaryError(failure);
}

// glibc or musl, decided the way napi-rs's generated loader does (binding.js's isMusl), so the
// triple named here is the one the loader looked for.
function isMusl() {
  if (process.platform !== 'linux') return false;
  try {
    return require('node:fs').readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    /* no ldd file: ask the process report */
  }
  const report = process.report && typeof process.report.getReport === 'function' ? process.report.getReport() : null;
  if (report) {
    if (report.header?.glibcVersionRuntime) return false;
    if (Array.isArray(report.sharedObjects)) return report.sharedObjects.some((f) => f.includes('libc.musl-') || f.includes('ld-musl-'));
    return false;
  }
  try {
    return require('node:child_process')
      .execSync('ldd --version', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .includes('musl');
  } catch {
    return false;
  }
}

/**
 * The platform name napi-rs gives this process (`linux-x64-gnu`, `linux-arm64-musl`,
 * `darwin-arm64`, `win32-x64-msvc`, …): the suffix of the `.node` file and of the
 * `leakguard-<platform>` package the loader looks for.
 */
function platformTriple() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const musl = isMusl();
    if (arch === 'arm') return `linux-arm-${musl ? 'musleabihf' : 'gnueabihf'}`;
    if (arch === 'ppc64' || arch === 's390x') return `linux-${arch}-gnu`;
    return `linux-${arch}-${musl ? 'musl' : 'gnu'}`;
  }
  if (platform === 'win32') {
    const v = process.config?.variables || {};
    const gnu = arch === 'x64' && (v.shlib_suffix === 'dll.a' || v.node_target_type === 'shared_library');
    return `win32-${arch}-${gnu ? 'gnu' : 'msvc'}`;
  }
  if (platform === 'android' && arch === 'arm') return 'android-arm-eabi';
  return `${platform}-${arch}`;
}

const RUST_ARCH = {
  x86_64: 'x64',
  aarch64: 'arm64',
  i686: 'ia32',
  armv7: 'arm',
  riscv64gc: 'riscv64',
  loongarch64: 'loong64',
  powerpc64le: 'ppc64',
  s390x: 's390x',
};
const RUST_OS = { linux: 'linux', windows: 'win32', darwin: 'darwin', freebsd: 'freebsd', android: 'android' };

/** `x86_64-unknown-linux-gnu` -> `linux-x64-gnu` (napi-rs's naming), or the triple unchanged. */
function napiName(rustTriple) {
  if (rustTriple === 'universal-apple-darwin') return 'darwin-universal';
  const parts = rustTriple.split('-');
  const arch = RUST_ARCH[parts[0]];
  const os = RUST_OS[parts[2]];
  if (!arch || !os) return rustTriple;
  const abi = parts[3];
  if (os === 'darwin' || os === 'freebsd') return `${os}-${arch}`;
  if (os === 'android') return arch === 'arm' ? 'android-arm-eabi' : `android-${arch}`;
  return abi ? `${os}-${arch}-${abi}` : `${os}-${arch}`;
}

/** The platforms prebuilt binaries are published for, from package.json. */
function supportedPlatforms(pkg) {
  const prefix = `${pkg.name}-`;
  const fromPackages = Object.keys(pkg.optionalDependencies || {})
    .filter((n) => n.startsWith(prefix))
    .map((n) => n.slice(prefix.length));
  if (fromPackages.length > 0) return fromPackages;
  return (pkg.napi?.targets || []).map(napiName);
}

/** The loader's own reasons other than "not found" (a dlopen failure, a version mismatch). */
function otherReasons(err) {
  const seen = new Set();
  for (let e = err, depth = 0; e && depth < 32; e = e.cause, depth++) {
    const msg = String(e.message || e).split('\n')[0];
    if (!/^Cannot find (module|native binding)/.test(msg) && msg !== 'Failed to load native binding') seen.add(msg);
  }
  return [...seen];
}

function noBinaryError(cause) {
  const pkg = require('../package.json');
  const name = pkg.name;
  const triple = platformTriple();
  const supported = supportedPlatforms(pkg);
  const loaderMissing = cause && cause.code === 'MODULE_NOT_FOUND' && /binding\.js/.test(String(cause.message).split('\n')[0]);
  const lookedFor = loaderMissing
    ? `its loader binding.js is missing (a source checkout that was never built)`
    : `looked for the package ${name}-${triple} and the file ${name}.${triple}.node next to binding.js`;
  const reasons = loaderMissing ? [] : otherReasons(cause);
  // A platform with a published binary most likely lost its optional dependency at install
  // time (--omit=optional, or npm's lockfile bug https://github.com/npm/cli/issues/4828).
  const fix = supported.includes(triple)
    ? `A prebuilt ${name}-${triple} is published: reinstall with optional dependencies (if that does not help, delete node_modules and package-lock.json and install again), or build it from source`
    : `Prebuilt binaries exist for ${supported.length ? supported.join(', ') : 'no platform'}; elsewhere build it from source`;
  const message =
    `no ${name} native addon for this platform (${triple}): ${lookedFor}` +
    (reasons.length ? `; the loader reported: ${reasons.join('; ')}` : '') +
    `. ${fix}: in a checkout of ${name} with Rust installed, run \`npm ci && npm run build\`. ` +
    'Capture (writeSnapshot, dumpOnSignal, dumpNearHeapLimit, configure, leakguard/register) and memoryUsage work without it.';
  return new LeakguardError(codes.NO_BINARY, message, { cause, platform: triple });
}

module.exports = { binding, platformTriple, napiName, supportedPlatforms };
