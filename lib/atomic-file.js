'use strict';

// Files written all at once or not at all: heap snapshots, HTML reports and the leak check's
// scratch snapshot. Each is written inside a private directory that this process creates next
// to its final name (mkdtemp: mode 0700, so nobody else can create, swap or symlink anything in
// it), checked, then renamed into place, and the private directory removed. So:
//   - a reader never sees half a file, and the heap's secrets are never readable by others;
//   - V8 and the report writer open the file by name, but that name lives in our 0700 directory,
//     reached on Linux through /proc/self/fd/<dir fd> (the directory we created, even if its
//     name in a shared, writable parent is swapped for a symlink meanwhile); elsewhere the
//     directory is re-checked (same inode, ours, 0700) before the rename;
//   - rename() replaces a symlink at the final name; it never writes through it;
//   - the temp name is short, so a final name near NAME_MAX (255) still works.
// A crash leaves a `.leakguard-<scope>-<pid>-XXXXXX` directory behind; sweepStale() removes
// those of dead processes of the same machine and PID namespace (the scope), nothing else.

const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const os = require('node:os');
const { createHash } = require('node:crypto');
const { ioError } = require('./errors');

const C = fs.constants;
const TEMP_FILE = 'h'; // the one file in a private directory

let scopeId = null;
/**
 * 8 hex digits naming this machine's boot and PID namespace: PIDs are only comparable within
 * one, so a stale-directory sweep must not judge another container's live process by its PID.
 */
function scope() {
  if (scopeId) return scopeId;
  let ns = '';
  try {
    ns = fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    /* no procfs: the host name and boot time stand in */
  }
  let boot = '';
  try {
    boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    boot = String(Math.round(Date.now() / 1000 - os.uptime()));
  }
  scopeId = createHash('sha256').update(`${os.hostname()}\n${boot}\n${ns}`).digest('hex').slice(0, 8);
  return scopeId;
}

/** A private directory of this scheme: `.leakguard-<scope>-<pid>-<mkdtemp's 6 chars>`. */
const PRIVATE_DIR = /^\.leakguard-([0-9a-f]{8})-(\d+)-[A-Za-z0-9]{6}$/;

const uid = typeof process.getuid === 'function' ? process.getuid() : null;

/** Whether `st` (an lstat) is a directory owned by us that nobody else can enter. */
function isPrivateDir(st) {
  return st.isDirectory() && (uid === null || st.uid === uid) && (process.platform === 'win32' || (st.mode & 0o077) === 0);
}

/** V8 ends every snapshot with "]}"; anything else is a cut-off write. */
function isComplete(file) {
  const fd = fs.openSync(file, C.O_RDONLY | (C.O_NOFOLLOW || 0));
  try {
    const { size } = fs.fstatSync(fd);
    if (size < 16) return false;
    const tail = Buffer.alloc(Math.min(64, size));
    fs.readSync(fd, tail, 0, tail.length, size - tail.length);
    return /\]\s*\}\s*$/.test(tail.toString('latin1'));
  } finally {
    fs.closeSync(fd);
  }
}

function unlinkQuiet(file) {
  try {
    fs.unlinkSync(file);
  } catch {
    /* already gone */
  }
}

/**
 * Empties, then unlinks a failed temp file. Emptied first because Node's v8.writeHeapSnapshot
 * leaks its file descriptor when a write fails (seen on Node 20 with ENOSPC): unlinking alone
 * would keep the blocks allocated until the process exits, so a full disk would stay full.
 */
function discard(file) {
  try {
    fs.truncateSync(file, 0);
  } catch {
    /* not created, or already gone */
  }
  unlinkQuiet(file);
}

function rmdirQuiet(dir) {
  try {
    fs.rmdirSync(dir);
  } catch {
    /* already gone, or not empty: never removed recursively */
  }
}

function closeQuiet(fd) {
  try {
    fs.closeSync(fd);
  } catch {
    /* ignore */
  }
}

/**
 * Writes a snapshot of this isolate to `finalPath` atomically, mode 0600. Throws
 * ERR_LEAKGUARD_IO on any failure and leaves neither the final name nor a temp file behind.
 */
function writeAtomic(finalPath, { exclusive } = {}) {
  return commitAtomic(finalPath, 'heap snapshot', { exclusive }, (tmp) => {
    v8.writeHeapSnapshot(tmp);
    if (!isComplete(tmp)) throw new Error('the snapshot was cut off (disk full?)');
  });
}

/** The private directory: created, opened and checked; returns { dir, fd, ino, via }. */
function makePrivateDir(parent) {
  const dir = fs.mkdtempSync(path.join(parent, `.leakguard-${scope()}-${process.pid}-`));
  let fd;
  try {
    fd = fs.openSync(dir, C.O_RDONLY | (C.O_DIRECTORY || 0) | (C.O_NOFOLLOW || 0));
    const st = fs.fstatSync(fd);
    if (!isPrivateDir(st)) throw new Error(`${dir} is not a private directory of this user`);
    // /proc/self/fd/<fd> is the directory we opened, whatever its name points at later.
    let via = dir;
    if (process.platform === 'linux') {
      const proc = `/proc/self/fd/${fd}`;
      try {
        if (fs.statSync(proc).ino === st.ino) via = proc;
      } catch {
        /* no procfs: fall back to the name, re-checked before the rename */
      }
    }
    return { dir, fd, ino: st.ino, dev: st.dev, via };
  } catch (err) {
    if (fd !== undefined) closeQuiet(fd);
    rmdirQuiet(dir);
    throw err;
  }
}

/**
 * Creates `finalPath` atomically with mode 0600 (heap snapshots and reports quoting them hold
 * secrets): `fill(tmp)` writes a file in a private directory next to the target (rename()
 * must not cross filesystems), which is checked, flushed and renamed over the target. On
 * failure it throws ERR_LEAKGUARD_IO and leaves nothing behind; a previous file of that name
 * stays intact. With `exclusive` (a function returning a fresh name), an existing file is
 * never replaced: the name is taken with link() and, when taken already (another process of a
 * cluster dumping in the same microsecond), a new name is asked for. Returns the name used.
 */
function commitAtomic(finalPath, what, options, fill) {
  if (fill === undefined) {
    fill = options;
    options = {};
  }
  const exclusive = options?.exclusive;
  let priv;
  let fd;
  try {
    priv = makePrivateDir(path.dirname(finalPath));
    const tmp = path.join(priv.via, TEMP_FILE);
    fd = fs.openSync(tmp, 'wx', 0o600);
    fs.fchmodSync(fd, 0o600); // in case the umask stripped our own bits
    const created = fs.fstatSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fill(tmp);
    // The file V8 (or the writer) filled must be the one we created: same inode, a regular
    // file with one link, ours. O_NOFOLLOW: a symlink at its name fails here.
    fd = fs.openSync(tmp, C.O_RDONLY | (C.O_NOFOLLOW || 0));
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.ino !== created.ino || st.nlink !== 1 || (uid !== null && st.uid !== uid)) {
      throw new Error('the temp file was replaced while it was written');
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    if (priv.via === priv.dir) {
      // No /proc: the name we wrote through must still be our directory.
      const d = fs.lstatSync(priv.dir);
      if (d.ino !== priv.ino || d.dev !== priv.dev || !isPrivateDir(d)) throw new Error('the private directory was replaced while the file was written');
    }
    if (exclusive) finalPath = linkUnique(tmp, finalPath, exclusive);
    else fs.renameSync(tmp, finalPath);
  } catch (err) {
    if (fd !== undefined) closeQuiet(fd);
    if (priv) discard(path.join(priv.via, TEMP_FILE));
    throw ioError(`cannot write ${what} ${finalPath}`, err, finalPath);
  } finally {
    if (priv) {
      closeQuiet(priv.fd);
      removePrivateDir(priv);
    }
  }
  syncDir(path.dirname(finalPath));
  return finalPath;
}

// Filesystems without hard links (FAT/exFAT, some SMB and FUSE mounts) refuse link() so.
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Links `tmp` at `name` or, while that exists, at the next fresh name; unlinks `tmp`. Where the
 * filesystem has no hard links, renames `tmp` to a name not taken a moment before (there two
 * processes dumping in the same microsecond could still collide).
 */
function linkUnique(tmp, name, fresh) {
  for (let i = 0; ; i++) {
    try {
      fs.linkSync(tmp, name);
      break;
    } catch (err) {
      if (NO_HARD_LINKS.has(err.code) && !fs.existsSync(name)) {
        fs.renameSync(tmp, name);
        return name;
      }
      if ((err.code !== 'EEXIST' && !NO_HARD_LINKS.has(err.code)) || i >= 20) throw err;
      name = path.join(path.dirname(name), fresh());
    }
  }
  unlinkQuiet(tmp);
  return name;
}

/** Removes our private directory by name, only if the name still is that directory. */
function removePrivateDir(priv) {
  try {
    const d = fs.lstatSync(priv.dir);
    if (d.ino === priv.ino && d.dev === priv.dev) rmdirQuiet(priv.dir);
  } catch {
    /* gone */
  }
}

/** Makes the rename durable; best effort, since some filesystems refuse to fsync a directory. */
function syncDir(dir) {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* not supported here */
  }
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/**
 * Removes the private directories that processes of this scope (machine boot and PID
 * namespace) left behind when they died mid-write, with the temp file inside. Touches nothing
 * else: no other name pattern, no symlinks, no directory of another user or scope, no
 * directory holding anything but our one temp file, no live process's directory.
 * Returns the directories removed.
 */
function sweepStale(parent) {
  let names;
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  const removed = [];
  for (const n of names) {
    const m = PRIVATE_DIR.exec(n);
    if (!m || m[1] !== scope()) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || pidAlive(pid)) continue;
    const dir = path.join(parent, n);
    try {
      if (!isPrivateDir(fs.lstatSync(dir))) continue;
      const inside = fs.readdirSync(dir);
      if (inside.some((f) => f !== TEMP_FILE)) continue;
      if (inside.length) {
        const f = path.join(dir, TEMP_FILE);
        if (!fs.lstatSync(f).isFile()) continue;
        fs.unlinkSync(f);
      }
      fs.rmdirSync(dir);
      removed.push(dir);
    } catch {
      /* raced with someone else: leave it */
    }
  }
  return removed;
}

module.exports = { PRIVATE_DIR, writeAtomic, commitAtomic, isComplete, unlinkQuiet, sweepStale, scope };
