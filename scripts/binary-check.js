'use strict';

// Reads the headers of a built addon (ELF, Mach-O or PE32+) itself, with no system tools, and
// checks it against what its npm/<platform>/ package promises: file format, CPU, that it is a
// shared library exporting `napi_register_module_v1`, and (Linux) which libc it links against.
// Used by scripts/build-targets.js after each cross build and by __test__/targets.test.js.
// Not shipped (package.json `files` does not list scripts/).

const fs = require('node:fs');

/** What each published platform package must contain. `maxGlibc`: newest GLIBC_x.y symbol version allowed. */
const PLATFORMS = {
  'linux-x64-gnu': { triple: 'x86_64-unknown-linux-gnu', format: 'elf', arch: 'x64', libc: 'glibc', maxGlibc: '2.17' },
  'linux-arm64-gnu': { triple: 'aarch64-unknown-linux-gnu', format: 'elf', arch: 'arm64', libc: 'glibc', maxGlibc: '2.17' },
  'linux-x64-musl': { triple: 'x86_64-unknown-linux-musl', format: 'elf', arch: 'x64', libc: 'musl' },
  'linux-arm64-musl': { triple: 'aarch64-unknown-linux-musl', format: 'elf', arch: 'arm64', libc: 'musl' },
  'darwin-x64': { triple: 'x86_64-apple-darwin', format: 'macho', arch: 'x64' },
  // Apple Silicon refuses to map unsigned code: zig's linker adds an ad-hoc signature.
  'darwin-arm64': { triple: 'aarch64-apple-darwin', format: 'macho', arch: 'arm64', signed: true },
  // Built from the x86_64-pc-windows-gnu Rust target (zig's MinGW-w64 linker, UCRT) but named
  // -msvc: napi-rs's loader takes the -gnu package only on a MinGW-built Node, and the official
  // Node for Windows is MSVC-built. Node-API is a C ABI, so the toolchain does not matter to it.
  'win32-x64-msvc': { triple: 'x86_64-pc-windows-msvc', buildTriple: 'x86_64-pc-windows-gnu', format: 'pe', arch: 'x64', importsFrom: 'node.exe' },
};

const REGISTER = 'napi_register_module_v1';

class BinaryFormatError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BinaryFormatError';
    this.code = 'ERR_BINARY_FORMAT';
  }
}

/** Bounds-checked little-endian reads: a truncated or corrupt file throws BinaryFormatError. */
function reader(buf) {
  const need = (off, n) => {
    if (!Number.isInteger(off) || off < 0 || off + n > buf.length) {
      throw new BinaryFormatError(`truncated: needs ${n} bytes at offset ${off}, file has ${buf.length}`);
    }
  };
  return {
    u8: (o) => {
      need(o, 1);
      return buf.readUInt8(o);
    },
    u16: (o) => {
      need(o, 2);
      return buf.readUInt16LE(o);
    },
    u32: (o) => {
      need(o, 4);
      return buf.readUInt32LE(o);
    },
    u64: (o) => {
      need(o, 8);
      const v = buf.readBigUInt64LE(o);
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new BinaryFormatError(`offset out of range at ${o}`);
      return Number(v);
    },
    cstr: (o, max = 4096) => {
      need(o, 1);
      const end = buf.indexOf(0, o);
      if (end < 0 || end - o > max) throw new BinaryFormatError(`unterminated string at ${o}`);
      return buf.toString('latin1', o, end);
    },
  };
}

const ELF_MACHINES = { 62: 'x64', 183: 'arm64', 3: 'ia32', 40: 'arm' };

function parseElf(buf) {
  const r = reader(buf);
  if (r.u8(4) !== 2) throw new BinaryFormatError('ELF: not a 64-bit (ELFCLASS64) file');
  if (r.u8(5) !== 1) throw new BinaryFormatError('ELF: not little-endian');
  const type = r.u16(16);
  const machine = r.u16(18);
  const phoff = r.u64(32);
  const shoff = r.u64(40);
  const phentsize = r.u16(54);
  const phnum = r.u16(56);
  const shentsize = r.u16(58);
  const shnum = r.u16(60);
  let interpreter = null;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (r.u32(ph) === 3 /* PT_INTERP */) interpreter = r.cstr(r.u64(ph + 8));
  }
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    sections.push({ type: r.u32(sh + 4), offset: r.u64(sh + 24), size: r.u64(sh + 32), link: r.u32(sh + 40), entsize: r.u64(sh + 56) });
  }
  const strtab = (idx) => {
    const s = sections[idx];
    if (!s) throw new BinaryFormatError(`ELF: bad string table index ${idx}`);
    return (off) => r.cstr(s.offset + off);
  };
  const exports = [];
  const needed = [];
  const versions = [];
  for (const s of sections) {
    if (s.type === 11 /* SHT_DYNSYM */) {
      const str = strtab(s.link);
      const n = s.entsize ? Math.floor(s.size / s.entsize) : 0;
      for (let i = 1; i < n; i++) {
        const sym = s.offset + i * s.entsize;
        const info = r.u8(sym + 4);
        const shndx = r.u16(sym + 6);
        const bind = info >> 4;
        // defined (shndx != SHN_UNDEF) and GLOBAL or WEAK: what the dynamic loader can resolve
        if (shndx !== 0 && (bind === 1 || bind === 2)) exports.push(str(r.u32(sym)));
      }
    } else if (s.type === 6 /* SHT_DYNAMIC */) {
      const str = strtab(s.link);
      for (let off = s.offset; off + 16 <= s.offset + s.size; off += 16) {
        const tag = r.u64(off);
        if (tag === 0) break;
        if (tag === 1 /* DT_NEEDED */) needed.push(str(r.u64(off + 8)));
      }
    } else if (s.type === 0x6ffffffe /* SHT_GNU_verneed */) {
      const str = strtab(s.link);
      let vn = s.offset;
      for (let guard = 0; guard < 1000; guard++) {
        const cnt = r.u16(vn + 2);
        let aux = vn + r.u32(vn + 8);
        for (let j = 0; j < cnt; j++) {
          versions.push(str(r.u32(aux + 8)));
          const next = r.u32(aux + 12);
          if (!next) break;
          aux += next;
        }
        const next = r.u32(vn + 12);
        if (!next) break;
        vn += next;
      }
    }
  }
  const glibcVersions = versions.filter((v) => /^GLIBC_\d/.test(v)).map((v) => v.slice(6));
  const isGlibc = needed.includes('libc.so.6') || glibcVersions.length > 0 || /ld-linux/.test(interpreter || '');
  const isMusl = needed.some((n) => n === 'libc.so' || /^libc\.musl-/.test(n)) || /ld-musl/.test(interpreter || '');
  return {
    format: 'elf',
    arch: ELF_MACHINES[machine] || `unknown(0x${machine.toString(16)})`,
    sharedLibrary: type === 3 /* ET_DYN */,
    exports,
    needed,
    interpreter,
    libc: isGlibc && isMusl ? 'both' : isGlibc ? 'glibc' : isMusl ? 'musl' : null,
    maxGlibc: glibcVersions.sort(compareVersions).at(-1) || null,
  };
}

function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d) return d;
  }
  return 0;
}

const MACHO_CPUS = { 16777223: 'x64', 16777228: 'arm64' };

function parseMachO(buf) {
  const r = reader(buf);
  const cputype = r.u32(4);
  const filetype = r.u32(12);
  const ncmds = r.u32(16);
  const exports = [];
  const needed = [];
  let trie = null;
  let symtab = null;
  let signed = false;
  let off = 32; // sizeof(mach_header_64)
  for (let i = 0; i < ncmds; i++) {
    const cmd = r.u32(off);
    const size = r.u32(off + 4);
    if (size < 8) throw new BinaryFormatError(`Mach-O: load command ${i} has size ${size}`);
    if (cmd === 0xc || cmd === 0x80000018 /* LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB */) needed.push(r.cstr(off + r.u32(off + 8)));
    else if (cmd === 0x80000022 || cmd === 0x22 /* LC_DYLD_INFO(_ONLY) */) {
      if (r.u32(off + 44)) trie = { offset: r.u32(off + 40), size: r.u32(off + 44) };
    } else if (cmd === 0x80000033 /* LC_DYLD_EXPORTS_TRIE */) trie = { offset: r.u32(off + 8), size: r.u32(off + 12) };
    else if (cmd === 0x1d /* LC_CODE_SIGNATURE */) signed = true;
    else if (cmd === 0x2 /* LC_SYMTAB */) symtab = { symoff: r.u32(off + 8), nsyms: r.u32(off + 12), stroff: r.u32(off + 16) };
    off += size;
  }
  if (trie) {
    // The export trie is what dyld actually resolves against: walk it depth-first.
    const uleb = (p) => {
      let v = 0;
      let shift = 0;
      for (;;) {
        const b = r.u8(p.at++);
        v += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (!(b & 0x80)) return v;
        if (shift > 49) throw new BinaryFormatError('Mach-O: bad uleb128 in export trie');
      }
    };
    const seen = new Set();
    const walk = (nodeOff, prefix) => {
      if (nodeOff >= trie.size || seen.has(nodeOff)) throw new BinaryFormatError('Mach-O: export trie loops or overruns');
      seen.add(nodeOff);
      const p = { at: trie.offset + nodeOff };
      const terminal = uleb(p);
      if (terminal) exports.push(prefix);
      p.at += terminal;
      const children = r.u8(p.at++);
      for (let c = 0; c < children; c++) {
        const edge = r.cstr(p.at);
        p.at += edge.length + 1;
        walk(uleb(p), prefix + edge);
      }
    };
    walk(0, '');
  } else if (symtab) {
    for (let i = 0; i < symtab.nsyms; i++) {
      const n = symtab.symoff + i * 16;
      const type = r.u8(n + 4);
      // N_EXT and N_SECT: an external symbol defined in this image
      if (type & 0x01 && (type & 0x0e) === 0x0e) exports.push(r.cstr(symtab.stroff + r.u32(n)));
    }
  }
  return {
    format: 'macho',
    arch: MACHO_CPUS[cputype] || `unknown(0x${cputype.toString(16)})`,
    sharedLibrary: filetype === 6 || filetype === 8, // MH_DYLIB, MH_BUNDLE
    // C symbols carry a leading underscore in Mach-O
    exports: exports.map((s) => (s.startsWith('_') ? s.slice(1) : s)),
    needed,
    signed,
    libc: null,
  };
}

const PE_MACHINES = { 34404: 'x64', 43620: 'arm64', 332: 'ia32' };

function parsePe(buf) {
  const r = reader(buf);
  const pe = r.u32(0x3c);
  if (r.u32(pe) !== 0x00004550) throw new BinaryFormatError('PE: no "PE\\0\\0" signature');
  const coff = pe + 4;
  const machine = r.u16(coff);
  const nsections = r.u16(coff + 2);
  const optSize = r.u16(coff + 16);
  const characteristics = r.u16(coff + 18);
  const opt = coff + 20;
  const magic = r.u16(opt);
  if (magic !== 0x20b) throw new BinaryFormatError(`PE: optional header magic 0x${magic.toString(16)} is not PE32+ (0x20b)`);
  const ndirs = r.u32(opt + 108);
  const dir = (i) => (i < ndirs ? { rva: r.u32(opt + 112 + i * 8), size: r.u32(opt + 116 + i * 8) } : { rva: 0, size: 0 });
  const sections = [];
  for (let i = 0, s = opt + optSize; i < nsections; i++, s += 40) {
    sections.push({ va: r.u32(s + 12), vsize: r.u32(s + 8), rawSize: r.u32(s + 16), raw: r.u32(s + 20) });
  }
  const at = (rva) => {
    const s = sections.find((x) => rva >= x.va && rva < x.va + Math.max(x.vsize, x.rawSize));
    if (!s) throw new BinaryFormatError(`PE: RVA 0x${rva.toString(16)} is in no section`);
    return rva - s.va + s.raw;
  };
  const exports = [];
  const exp = dir(0);
  if (exp.rva) {
    const e = at(exp.rva);
    const n = r.u32(e + 24);
    const names = at(r.u32(e + 32));
    for (let i = 0; i < n; i++) exports.push(r.cstr(at(r.u32(names + i * 4))));
  }
  const imports = {};
  const imp = dir(1);
  if (imp.rva) {
    for (let d = at(imp.rva); ; d += 20) {
      const nameRva = r.u32(d + 12);
      if (!nameRva) break;
      const dll = r.cstr(at(nameRva));
      const fns = [];
      imports[dll] = fns;
      const thunks = r.u32(d) || r.u32(d + 16);
      for (let t = at(thunks); ; t += 8) {
        const lo = r.u32(t);
        const hi = r.u32(t + 4);
        if (!lo && !hi) break;
        // high bit set: import by ordinal; else an RVA of (hint, name)
        fns.push(hi & 0x80000000 ? `#${lo & 0xffff}` : r.cstr(at(lo) + 2));
      }
    }
  }
  return {
    format: 'pe',
    arch: PE_MACHINES[machine] || `unknown(0x${machine.toString(16)})`,
    sharedLibrary: (characteristics & 0x2000) !== 0, // IMAGE_FILE_DLL
    exports,
    needed: Object.keys(imports),
    imports,
    libc: null,
  };
}

/** Parses a binary's headers: { format, arch, sharedLibrary, exports, needed, libc, ... }. */
function inspect(buf) {
  if (!Buffer.isBuffer(buf)) throw new TypeError('inspect(buf): buf must be a Buffer');
  if (buf.length >= 4 && buf.readUInt32BE(0) === 0x7f454c46) return parseElf(buf);
  if (buf.length >= 4 && buf.readUInt32LE(0) === 0xfeedfacf) return parseMachO(buf);
  if (buf.length >= 4 && buf.readUInt32LE(0) === 0xfeedface) throw new BinaryFormatError('Mach-O: 32-bit image');
  if (buf.length >= 4 && buf.readUInt32BE(0) === 0xcafebabe) throw new BinaryFormatError('Mach-O: universal (fat) images are not checked');
  if (buf.length >= 0x40 && buf.toString('latin1', 0, 2) === 'MZ') return parsePe(buf);
  throw new BinaryFormatError(`unknown file format (first bytes ${buf.subarray(0, 4).toString('hex') || 'none'})`);
}

/**
 * Checks `buf` against platform `name` (a key of PLATFORMS). Returns { info, problems }:
 * `problems` is empty when the binary is what the platform package promises.
 */
function checkBuffer(buf, name) {
  const want = PLATFORMS[name];
  if (!want) throw new TypeError(`unknown platform ${name}; known: ${Object.keys(PLATFORMS).join(', ')}`);
  let info;
  try {
    info = inspect(buf);
  } catch (err) {
    if (err.code !== 'ERR_BINARY_FORMAT') throw err;
    return { info: null, problems: [err.message] };
  }
  const problems = [];
  if (info.format !== want.format) problems.push(`format is ${info.format}, expected ${want.format}`);
  if (info.arch !== want.arch) problems.push(`architecture is ${info.arch}, expected ${want.arch}`);
  if (!info.sharedLibrary) problems.push('not a shared library');
  if (!info.exports.includes(REGISTER)) problems.push(`does not export ${REGISTER}`);
  if (want.libc && info.libc !== want.libc) {
    problems.push(`links against ${info.libc || 'no libc'} (DT_NEEDED: ${info.needed.join(', ') || 'none'}), expected ${want.libc}`);
  }
  if (want.maxGlibc && info.maxGlibc && compareVersions(info.maxGlibc, want.maxGlibc) > 0) {
    problems.push(`needs GLIBC_${info.maxGlibc}, newer than the promised GLIBC_${want.maxGlibc}`);
  }
  if (want.signed && info.format === 'macho' && !info.signed) problems.push('has no code signature (LC_CODE_SIGNATURE)');
  if (want.importsFrom) {
    const napi = Object.entries(info.imports || {}).filter(([, fns]) => fns.some((f) => f.startsWith('napi_')));
    const from = napi.map(([dll]) => dll);
    if (from.length && !from.every((dll) => dll.toLowerCase() === want.importsFrom)) {
      problems.push(`imports Node-API from ${from.join(', ')}, expected ${want.importsFrom}`);
    }
  }
  return { info, problems };
}

/** checkBuffer on a file; a missing file is reported as a problem, not thrown. */
function checkFile(file, name) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    return { info: null, problems: [`cannot read ${file}: ${err.code || err.message}`] };
  }
  return checkBuffer(buf, name);
}

/** One line for logs: "ELF arm64 shared library, glibc (GLIBC <= 2.17), exports napi_register_module_v1". */
function describe(info) {
  if (!info) return 'unreadable';
  const parts = [`${info.format.toUpperCase()} ${info.arch}`, info.sharedLibrary ? 'shared library' : 'NOT a shared library'];
  if (info.libc) parts.push(info.maxGlibc ? `${info.libc} (GLIBC <= ${info.maxGlibc})` : info.libc);
  if (info.needed.length) parts.push(`needs ${info.needed.join(', ')}`);
  parts.push(info.exports.includes(REGISTER) ? `exports ${REGISTER}` : `no ${REGISTER}`);
  return parts.join(', ');
}

module.exports = { PLATFORMS, REGISTER, BinaryFormatError, inspect, checkBuffer, checkFile, describe, compareVersions };
