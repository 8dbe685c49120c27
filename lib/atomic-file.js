'use strict';

// Files written all at once or not at all: heap snapshots, HTML reports and the leak check's
// scratch snapshot. Each is created as a private 0600 temp file next to its final name (rename()
// must not cross filesystems), filled, flushed, checked and renamed into place, so a reader never
// sees half a file and the heap's secrets are never world-readable, not even for a moment.

const fs = require('fs');
const path = require('path');
const v8 = require('v8');
const { randomBytes } = require('crypto');
const { threadId } = require('worker_threads');
const { ioError } = require('./errors');

/** A leftover temp file from this naming scheme: `.<final>.<pid>-<tid>-<rand>.tmp`. */
const TEMP_NAME = /^\..+\.(\d+)-\d+-[0-9a-f]+\.tmp$/;

function tempNameFor(finalPath) {
  const rand = randomBytes(4).toString('hex');
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${process.pid}-${threadId}-${rand}.tmp`);
}

/** V8 ends every snapshot with "]}"; anything else is a cut-off write. */
function isComplete(file) {
  const fd = fs.openSync(file, 'r');
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
 * Writes a snapshot of this isolate to `finalPath` atomically, mode 0600. Throws
 * ERR_LEAKGUARD_IO on any failure and leaves neither the final name nor a temp file behind.
 */
function writeAtomic(finalPath) {
  return commitAtomic(finalPath, 'heap snapshot', (tmp) => {
    v8.writeHeapSnapshot(tmp);
    if (!isComplete(tmp)) throw new Error('the snapshot was cut off (disk full?)');
  });
}

/**
 * Creates `finalPath` atomically with mode 0600 (heap snapshots and reports quoting them hold
 * secrets): a private temp file in the same directory (rename() must not cross filesystems) is
 * created first, filled by `fill(tmp)`, flushed and renamed over the target. On failure it
 * throws ERR_LEAKGUARD_IO and leaves no temp file; a previous file of that name stays intact.
 */
function commitAtomic(finalPath, what, fill) {
  const tmp = tempNameFor(finalPath);
  let fd;
  try {
    fd = fs.openSync(tmp, 'wx', 0o600);
    fs.fchmodSync(fd, 0o600); // in case the umask stripped our own bits
    fs.closeSync(fd);
    fd = undefined;
    fill(tmp);
    fd = fs.openSync(tmp, 'r+');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, finalPath);
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* ignore */
      }
    }
    unlinkQuiet(tmp);
    throw ioError(`cannot write ${what} ${finalPath}`, err, finalPath);
  }
  syncDir(path.dirname(finalPath));
  return finalPath;
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

module.exports = { TEMP_NAME, writeAtomic, commitAtomic, isComplete, unlinkQuiet };
