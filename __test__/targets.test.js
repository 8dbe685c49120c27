'use strict';

// The per-platform npm packages: their package.json files agree with the root package, every
// built npm/<platform>/*.node is the binary its package promises (scripts/binary-check.js), and
// the header checker itself rejects crafted wrong files. Under LEAKGUARD_REQUIRE_TARGETS=1 (CI,
// after `npm run build:targets`) a platform whose binary is missing fails instead of skipping.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { PLATFORMS, inspect, checkBuffer, checkFile, describe, compareVersions } = require('../scripts/binary-check');
const { TARGETS } = require('../scripts/build-targets');
const { ROOT } = require('./helpers');

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const BINARY = pkg.napi.binaryName;
const REQUIRE = process.env.LEAKGUARD_REQUIRE_TARGETS === '1';

// ---------------------------------------------------------------------------------------------
// Crafted binaries: just the headers binary-check reads.

/** A string table: { buf, off(name) }. */
function strtab(names) {
  const offs = new Map();
  const parts = [Buffer.alloc(1)];
  let at = 1;
  for (const n of names) {
    offs.set(n, at);
    parts.push(Buffer.from(n + '\0', 'latin1'));
    at += n.length + 1;
  }
  return { buf: Buffer.concat(parts), off: (n) => offs.get(n) };
}

/** ELF64 LE with .dynstr, .dynsym (defined globals), .dynamic (DT_NEEDED) and .gnu.version_r. */
function elf({ machine = 0x3e, type = 3, exports = ['napi_register_module_v1'], needed = ['libc.so.6'], glibc = ['2.2.5'], cls = 2 } = {}) {
  const str = strtab([...exports, ...needed, ...glibc.map((v) => `GLIBC_${v}`)]);
  const dynsym = Buffer.alloc(24 * (exports.length + 1));
  exports.forEach((name, i) => {
    const o = 24 * (i + 1);
    dynsym.writeUInt32LE(str.off(name), o);
    dynsym.writeUInt8((1 << 4) | 2, o + 4); // GLOBAL FUNC
    dynsym.writeUInt16LE(9, o + 6); // defined in section 9
  });
  const dynamic = Buffer.alloc(16 * (needed.length + 1));
  needed.forEach((name, i) => {
    dynamic.writeBigUInt64LE(1n, 16 * i);
    dynamic.writeBigUInt64LE(BigInt(str.off(name)), 16 * i + 8);
  });
  const verneed = Buffer.alloc(glibc.length ? 16 + 16 * glibc.length : 0);
  if (glibc.length) {
    verneed.writeUInt16LE(1, 0);
    verneed.writeUInt16LE(glibc.length, 2);
    verneed.writeUInt32LE(str.off('libc.so.6') || 0, 4);
    verneed.writeUInt32LE(16, 8);
    glibc.forEach((v, i) => {
      const a = 16 + 16 * i;
      verneed.writeUInt32LE(str.off(`GLIBC_${v}`), a + 8);
      verneed.writeUInt32LE(i + 1 < glibc.length ? 16 : 0, a + 12);
    });
  }
  const bodies = [str.buf, dynsym, dynamic, verneed];
  const types = [3, 11, 6, 0x6ffffffe];
  const entsizes = [0, 24, 16, 0];
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header.writeUInt8(cls, 4);
  header.writeUInt8(1, 5);
  header.writeUInt16LE(type, 16);
  header.writeUInt16LE(machine, 18);
  let at = 64;
  const offsets = bodies.map((b) => {
    at += b.length;
    return at - b.length;
  });
  const shoff = at;
  header.writeBigUInt64LE(BigInt(shoff), 40);
  header.writeUInt16LE(64, 58);
  header.writeUInt16LE(bodies.length + 1, 60);
  const shdrs = Buffer.alloc(64 * (bodies.length + 1));
  bodies.forEach((b, i) => {
    const o = 64 * (i + 1);
    shdrs.writeUInt32LE(types[i], o + 4);
    shdrs.writeBigUInt64LE(BigInt(offsets[i]), o + 24);
    shdrs.writeBigUInt64LE(BigInt(b.length), o + 32);
    shdrs.writeUInt32LE(i === 0 ? 0 : 1, o + 40); // everything links to .dynstr (section 1)
    shdrs.writeBigUInt64LE(BigInt(entsizes[i]), o + 56);
  });
  return Buffer.concat([header, ...bodies, shdrs]);
}

/** Mach-O 64 with one LC_LOAD_DYLIB and the exports in an LC_DYLD_EXPORTS_TRIE or LC_SYMTAB. */
function macho({ cpu = 0x0100000c, filetype = 6, exports = ['_napi_register_module_v1'], via = 'trie', signed = true } = {}) {
  const dylibName = Buffer.from('/usr/lib/libSystem.B.dylib\0\0\0\0\0\0', 'latin1'); // padded to 8
  const dylib = Buffer.alloc(24);
  dylib.writeUInt32LE(0xc, 0);
  dylib.writeUInt32LE(24 + dylibName.length, 4);
  dylib.writeUInt32LE(24, 8);
  let data;
  const cmd = Buffer.alloc(via === 'trie' ? 16 : 24);
  // LC_CODE_SIGNATURE: only its presence is checked, so it points at nothing
  const sig = Buffer.alloc(signed ? 16 : 0);
  if (signed) {
    sig.writeUInt32LE(0x1d, 0);
    sig.writeUInt32LE(16, 4);
  }
  const dataOff = 32 + dylib.length + dylibName.length + cmd.length + sig.length;
  if (via === 'trie') {
    // root: not terminal, one child per export, each child terminal (flags 0, address 0), no children
    const root = [0, exports.length];
    const edges = exports.map((e) => Buffer.from(e + '\0', 'latin1'));
    const rootLen = 2 + edges.reduce((n, e) => n + e.length + 1, 0);
    const parts = [Buffer.from(root)];
    for (let i = 0; i < exports.length; i++) parts.push(edges[i], Buffer.from([rootLen + 4 * i]));
    for (let i = 0; i < exports.length; i++) parts.push(Buffer.from([2, 0, 0, 0]));
    data = Buffer.concat(parts);
    cmd.writeUInt32LE(0x80000033, 0);
    cmd.writeUInt32LE(16, 4);
    cmd.writeUInt32LE(dataOff, 8);
    cmd.writeUInt32LE(data.length, 12);
  } else {
    const str = strtab(exports);
    const syms = Buffer.alloc(16 * exports.length);
    exports.forEach((e, i) => {
      syms.writeUInt32LE(str.off(e), 16 * i);
      syms.writeUInt8(0x0f, 16 * i + 4); // N_SECT | N_EXT
    });
    data = Buffer.concat([syms, str.buf]);
    cmd.writeUInt32LE(0x2, 0);
    cmd.writeUInt32LE(24, 4);
    cmd.writeUInt32LE(dataOff, 8);
    cmd.writeUInt32LE(exports.length, 12);
    cmd.writeUInt32LE(dataOff + syms.length, 16);
    cmd.writeUInt32LE(str.buf.length, 20);
  }
  const header = Buffer.alloc(32);
  header.writeUInt32LE(0xfeedfacf, 0);
  header.writeUInt32LE(cpu, 4);
  header.writeUInt32LE(filetype, 12);
  header.writeUInt32LE(signed ? 3 : 2, 16);
  header.writeUInt32LE(dylib.length + dylibName.length + cmd.length + sig.length, 20);
  return Buffer.concat([header, dylib, dylibName, cmd, sig, data]);
}

/** PE32+ with one section holding an export directory and an import directory. */
function pe({ machine = 0x8664, magic = 0x20b, dll = true, exports = ['napi_register_module_v1'], imports = { 'node.exe': ['napi_create_object'] } } = {}) {
  const VA = 0x1000;
  const sec = Buffer.alloc(0x400);
  let at = 0;
  const put = (b) => {
    b.copy(sec, at);
    at += b.length;
    return VA + at - b.length;
  };
  const cstr = (s) => put(Buffer.from(s + '\0', 'latin1'));
  const expDir = put(Buffer.alloc(40));
  const nameRvas = exports.map(cstr);
  const namesArr = Buffer.alloc(4 * exports.length);
  for (const [i, r] of nameRvas.entries()) namesArr.writeUInt32LE(r, 4 * i);
  const namesAt = put(namesArr);
  sec.writeUInt32LE(exports.length, expDir - VA + 24);
  sec.writeUInt32LE(namesAt, expDir - VA + 32);
  const dlls = Object.entries(imports);
  const impDir = put(Buffer.alloc(20 * (dlls.length + 1)));
  dlls.forEach(([name, fns], i) => {
    at = (at + 7) & ~7;
    const thunks = Buffer.alloc(8 * (fns.length + 1));
    const thunkAt = put(thunks);
    fns.forEach((f, j) => {
      const hint = put(Buffer.concat([Buffer.alloc(2), Buffer.from(f + '\0', 'latin1')]));
      sec.writeUInt32LE(hint, thunkAt - VA + 8 * j);
    });
    sec.writeUInt32LE(thunkAt, impDir - VA + 20 * i);
    sec.writeUInt32LE(cstr(name), impDir - VA + 20 * i + 12);
  });
  const head = Buffer.alloc(0x200);
  head.write('MZ', 0, 'latin1');
  head.writeUInt32LE(0x40, 0x3c);
  head.writeUInt32LE(0x00004550, 0x40);
  const coff = 0x44;
  head.writeUInt16LE(machine, coff);
  head.writeUInt16LE(1, coff + 2);
  head.writeUInt16LE(240, coff + 16);
  head.writeUInt16LE(dll ? 0x2022 : 0x0022, coff + 18);
  const opt = coff + 20;
  head.writeUInt16LE(magic, opt);
  head.writeUInt32LE(16, opt + 108);
  head.writeUInt32LE(expDir, opt + 112);
  head.writeUInt32LE(40, opt + 116);
  head.writeUInt32LE(impDir, opt + 120);
  head.writeUInt32LE(20 * (dlls.length + 1), opt + 124);
  const sh = opt + 240;
  head.write('.rdata', sh, 'latin1');
  head.writeUInt32LE(sec.length, sh + 8);
  head.writeUInt32LE(VA, sh + 12);
  head.writeUInt32LE(sec.length, sh + 16);
  head.writeUInt32LE(head.length, sh + 20);
  return Buffer.concat([head, sec]);
}

test('checker: crafted ELF files of each Linux flavour pass, and each wrong detail is named', () => {
  assert.deepEqual(checkBuffer(elf({ glibc: ['2.2.5', '2.17', '2.3'] }), 'linux-x64-gnu').problems, []);
  assert.equal(inspect(elf({ glibc: ['2.2.5', '2.17', '2.3'] })).maxGlibc, '2.17');
  assert.deepEqual(checkBuffer(elf({ machine: 0xb7 }), 'linux-arm64-gnu').problems, []);
  const musl = elf({ machine: 0xb7, needed: ['libc.so'], glibc: [] });
  assert.deepEqual(checkBuffer(musl, 'linux-arm64-musl').problems, []);
  assert.equal(inspect(musl).libc, 'musl');

  // wrong architecture: an aarch64 file where x86-64 is promised
  assert.deepEqual(checkBuffer(elf({ machine: 0xb7 }), 'linux-x64-gnu').problems, ['architecture is arm64, expected x64']);
  // wrong libc both ways
  assert.match(checkBuffer(elf(), 'linux-x64-musl').problems.join(), /links against glibc .*libc\.so\.6.*expected musl/);
  assert.match(checkBuffer(elf({ needed: ['libc.so'], glibc: [] }), 'linux-x64-gnu').problems.join(), /links against musl.*expected glibc/);
  // a glibc newer than the pin
  assert.deepEqual(checkBuffer(elf({ glibc: ['2.17', '2.34'] }), 'linux-x64-gnu').problems, ['needs GLIBC_2.34, newer than the promised GLIBC_2.17']);
  // not an addon: no register symbol; an executable instead of a shared object; a 32-bit file
  assert.deepEqual(checkBuffer(elf({ exports: ['main'] }), 'linux-x64-gnu').problems, ['does not export napi_register_module_v1']);
  assert.deepEqual(checkBuffer(elf({ type: 2 }), 'linux-x64-gnu').problems, ['not a shared library']);
  assert.match(checkBuffer(elf({ cls: 1 }), 'linux-x64-gnu').problems.join(), /not a 64-bit/);
});

test('checker: crafted Mach-O files (export trie and symbol table), wrong CPU, no signature, wrong format', () => {
  for (const via of ['trie', 'symtab']) {
    assert.deepEqual(checkBuffer(macho({ via }), 'darwin-arm64').problems, [], via);
    assert.deepEqual(checkBuffer(macho({ via, cpu: 0x01000007 }), 'darwin-x64').problems, [], via);
    assert.deepEqual(checkBuffer(macho({ via, exports: ['_other'] }), 'darwin-arm64').problems, ['does not export napi_register_module_v1'], via);
  }
  assert.deepEqual(inspect(macho({ exports: ['_a', '_napi_register_module_v1'] })).exports, ['a', 'napi_register_module_v1']);
  assert.deepEqual(inspect(macho()).needed, ['/usr/lib/libSystem.B.dylib']);
  assert.deepEqual(checkBuffer(macho(), 'darwin-x64').problems, ['architecture is arm64, expected x64']);
  assert.deepEqual(checkBuffer(macho({ filetype: 2 }), 'darwin-arm64').problems, ['not a shared library']);
  // Apple Silicon needs a signature; Intel Macs do not
  assert.deepEqual(checkBuffer(macho({ signed: false }), 'darwin-arm64').problems, ['has no code signature (LC_CODE_SIGNATURE)']);
  assert.deepEqual(checkBuffer(macho({ signed: false, cpu: 0x01000007 }), 'darwin-x64').problems, []);
  // a Linux binary in the macOS package
  assert.deepEqual(checkBuffer(elf({ machine: 0xb7 }), 'darwin-arm64').problems, ['format is elf, expected macho']);
});

test('checker: crafted PE32+ DLLs: exports, imports, wrong machine, PE32 and EXE', () => {
  const good = pe();
  assert.deepEqual(checkBuffer(good, 'win32-x64-msvc').problems, []);
  assert.deepEqual(inspect(good).imports, { 'node.exe': ['napi_create_object'] });
  assert.deepEqual(checkBuffer(pe({ machine: 0xaa64 }), 'win32-x64-msvc').problems, ['architecture is arm64, expected x64']);
  assert.deepEqual(checkBuffer(pe({ dll: false }), 'win32-x64-msvc').problems, ['not a shared library']);
  assert.match(checkBuffer(pe({ magic: 0x10b }), 'win32-x64-msvc').problems.join(), /not PE32\+/);
  assert.deepEqual(checkBuffer(pe({ imports: { 'libnode.dll': ['napi_create_object'] } }), 'win32-x64-msvc').problems, [
    'imports Node-API from libnode.dll, expected node.exe',
  ]);
});

test('checker: garbage and truncated files are reported, never thrown', () => {
  for (const buf of [Buffer.alloc(0), Buffer.from('hello world'), elf().subarray(0, 70), macho().subarray(0, 40), pe().subarray(0, 0x100)]) {
    const r = checkBuffer(buf, 'linux-x64-gnu');
    assert.equal(r.problems.length, 1, describe(r.info));
    assert.match(r.problems[0], /unknown file format|truncated|signature/);
  }
  assert.match(checkFile(path.join(ROOT, 'no-such.node'), 'linux-x64-gnu').problems[0], /cannot read .*ENOENT/);
  assert.throws(() => checkBuffer(elf(), 'plan9-mips'), /unknown platform/);
  assert.ok(compareVersions('2.17', '2.3') > 0 && compareVersions('2.2.5', '2.17') < 0);
});

// ---------------------------------------------------------------------------------------------
// The packages

test('npm/<platform>/package.json agree with the root package and with what the binary must be', () => {
  const platforms = Object.keys(TARGETS);
  assert.deepEqual(Object.keys(pkg.optionalDependencies).sort(), platforms.map((p) => `${BINARY}-${p}`).sort());
  assert.deepEqual(pkg.napi.targets.slice().sort(), platforms.map((p) => PLATFORMS[p].triple).sort());
  assert.ok(!pkg.files.some((f) => f.endsWith('.node')), 'the root package ships no binary');
  for (const platform of platforms) {
    const want = PLATFORMS[platform];
    const sub = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', platform, 'package.json'), 'utf8'));
    const file = `${BINARY}.${platform}.node`;
    assert.equal(sub.name, `${BINARY}-${platform}`);
    assert.equal(sub.version, pkg.version, platform);
    assert.equal(pkg.optionalDependencies[sub.name], pkg.version, platform);
    assert.equal(sub.main, file);
    assert.deepEqual(sub.files, [file, 'LICENSE', 'NOTICE'], 'the binary and the notices of what it links');
    assert.equal(sub.license, pkg.license);
    assert.deepEqual(sub.os, [platform.split('-')[0]]);
    assert.deepEqual(sub.cpu, [want.arch]);
    assert.deepEqual(sub.libc, want.libc ? [want.libc] : undefined, platform);
    assert.ok(fs.existsSync(path.join(ROOT, 'npm', platform, 'README.md')), platform);
  }
});

for (const platform of Object.keys(TARGETS)) {
  const file = path.join(ROOT, 'npm', platform, `${BINARY}.${platform}.node`);
  const built = fs.existsSync(file);
  const skip = !built && !REQUIRE && `npm/${platform}/${path.basename(file)} not built (run npm run build:targets)`;
  test(`npm/${platform}: the built binary is what the package promises`, { skip }, () => {
    const { info, problems } = checkFile(file, platform);
    assert.deepEqual(problems, [], `${path.relative(ROOT, file)}: ${describe(info)}`);
  });
}

// The prebuilt for the machine running the tests is also loaded and used, in a child process
// so it does not meet the development build this process loaded.
const HOST = Object.keys(TARGETS).find((p) => {
  const want = PLATFORMS[p];
  const libc = process.platform === 'linux' ? (process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl') : undefined;
  return p.startsWith(`${process.platform}-`) && want.arch === process.arch && want.libc === libc;
});
if (HOST) {
  const file = path.join(ROOT, 'npm', HOST, `${BINARY}.${HOST}.node`);
  const skip = !fs.existsSync(file) && !REQUIRE && `npm/${HOST}/${path.basename(file)} not built`;
  test(`npm/${HOST} (this machine's platform): the prebuilt loads and parses a golden vector`, { skip }, () => {
    const { spawnSync } = require('node:child_process');
    const src = `const m = require(${JSON.stringify(file)});
      const s = m.loadSnapshotSync(${JSON.stringify(path.join(ROOT, 'crates/leakguard-core/tests/vectors/v1.json'))});
      console.log(JSON.stringify([s.nodeCount, s.edgeCount, s.totalSize]));`;
    const r = spawnSync(process.execPath, ['-e', src], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [15, 19, 314]);
  });
}
