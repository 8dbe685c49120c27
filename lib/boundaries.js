'use strict';

// Heap object id boundaries: the leak check's explanation from one heap snapshot instead of
// three (lib/assert.js, once the survivor rounds have seen objects grow).
//
// V8 gives a heap object its snapshot id the first time its id map sees it, from one counter
// that only goes up, and keeps it when the GC moves the object. The map sees every live object
// when it is updated: at a snapshot, and every 50 ms while the inspector's heap object tracking
// is on (HeapProfiler.startTrackingHeapObjects; each update reports the highest id handed out
// so far as a `lastSeenObjectId` event). So, with tracking on: A = the id reported by an update
// before round 1, B = one after round 1 and its GC; every object alive in the final snapshot
// with A < id <= B was allocated before B and after A's update, i.e. made by round 1 and
// outlived round 2. That is what findLeaks computes from a baseline and a target snapshot,
// which it reads for their ids alone: the window (A, B] stands in for them (the core's
// find_leaks_in_window). Serialising Jest's heap takes a second or more; an id map update is
// a GC and a heap walk.
//
// (An update cannot be had on demand: HeapProfiler.getHeapObjectId only finds ids already
// handed out, so a fresh marker object has none; only the 50 ms timer's updates report the
// highest id, as `lastSeenObjectId`.)
//
// Tracking can only be stopped by taking a snapshot (stopTrackingHeapObjects streams it over the
// session) or by disabling the HeapProfiler domain, which makes V8 forget every id (and so break
// snapshots a user took around the check): the streamed snapshot is the final one.

const fs = require('node:fs');
const timers = require('node:timers');
const { session, postSync } = require('./inspector');

/** How long to wait for the next id map update (V8 updates every 50 ms while the loop turns). */
const UPDATE_TIMEOUT_MS = 5000;

/** V8's snapshot layout (meta) of the leak check's warm-up snapshot (lib/assert.js). */
const META = JSON.stringify({
  node_fields: ['type', 'name', 'id', 'self_size', 'edge_count', 'detachedness'],
  node_types: [
    ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native', 'synthetic'],
    'string',
    'number',
    'number',
    'number',
    'number',
  ],
  edge_fields: ['type', 'name_or_index', 'to_node'],
  edge_types: [['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'], 'string_or_number', 'node'],
});

/**
 * The inspector names each global object `<name> / <origin of its context>` (DevTools' frame
 * URL), `global / ` in Node, where v8.writeHeapSnapshot writes `global`: the streamed snapshot's
 * string table gets V8's own names back, so holders read as in every other snapshot. After
 * `"strings":[` V8 writes the strings one per line (Node 20, 22) or all on one line (Node 24
 * on), so a string is found by its separators, not by lines: a `"…"` token right after `[`,
 * `,` or a newline and right before `,`, `]` or a newline (an unescaped quote can only open or
 * close a JSON string, so no such token starts inside another string). `push(chunk)` returns
 * the text to write (the token cut by the chunk's end waits for the next chunk), `end()` the
 * rest. (A string of the program's own that ends in " / " loses that end too: the price of not
 * parsing the JSON here.)
 */
function globalNames() {
  const MARK = '"strings":[';
  let inStrings = false;
  let carry = '';
  const fix = (text) => text.replace(/([[,\n])"([^"\\\n]*?) \/ "(?=[,\]\n])/g, '$1"$2"');
  return {
    push(chunk) {
      const text = carry + chunk;
      if (!inStrings) {
        const at = text.indexOf(MARK);
        if (at < 0) {
          // the mark may be cut by the chunk's end
          const keep = Math.max(0, text.length - MARK.length);
          carry = text.slice(keep);
          return text.slice(0, keep);
        }
        inStrings = true;
        carry = '';
        // keep the `[`: it is the first string's separator
        return text.slice(0, at + MARK.length - 1) + this.push(text.slice(at + MARK.length - 1));
      }
      // Everything up to the last separator is whole tokens; the rest may be cut.
      const fixed = fix(text);
      const cut = Math.max(fixed.lastIndexOf(','), fixed.lastIndexOf('\n'), fixed.lastIndexOf('['));
      if (cut <= 0) {
        carry = fixed;
        return '';
      }
      carry = fixed.slice(cut);
      return fixed.slice(0, cut);
    },
    end() {
      const text = inStrings ? fix(carry) : carry;
      carry = '';
      return text;
    },
  };
}

/**
 * Turns heap object tracking on (on the shared session, lib/inspector.js) and returns
 * `{ next(), stop(file) }`, or null when it cannot run here (no inspector, or tracking is
 * already on: another session's, or a check running at the same time). `next()` resolves with
 * the id of the next map update (rejects with `err.noUpdate` when none comes: a blocked loop); `stop(file)` ends tracking and writes its snapshot to `file`
 * (null: thrown away). stop must be called, whatever happens: tracking costs a full GC per 50 ms.
 */
function startTracking() {
  const s = session();
  if (!s || s.listenerCount('HeapProfiler.lastSeenObjectId') > 0) return null;
  let waiter = null;
  const onUpdate = (m) => {
    const w = waiter;
    waiter = null;
    if (w) w(Number(m.params.lastSeenObjectId));
  };
  s.on('HeapProfiler.lastSeenObjectId', onUpdate);
  try {
    postSync('HeapProfiler.enable');
    postSync('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
  } catch {
    s.off('HeapProfiler.lastSeenObjectId', onUpdate);
    return null;
  }
  let stopped = false;
  return {
    next() {
      return new Promise((resolve, reject) => {
        const timer = timers.setTimeout(() => {
          waiter = null;
          const err = new Error(`no heap object id update in ${UPDATE_TIMEOUT_MS} ms`);
          err.noUpdate = true;
          reject(err);
        }, UPDATE_TIMEOUT_MS);
        waiter = (id) => {
          timers.clearTimeout(timer);
          resolve(id);
        };
      });
    },
    stop(file) {
      if (stopped) return;
      stopped = true;
      s.off('HeapProfiler.lastSeenObjectId', onUpdate);
      let fd = null;
      let error = null;
      try {
        if (file) fd = fs.openSync(file, 'wx', 0o600);
      } catch (err) {
        // Tracking must end even so (V8 would keep re-walking the heap every 50 ms for the
        // life of the process): stop it without a file, then report the open's failure.
        error = err;
      }
      const names = globalNames();
      const onChunk = (m) => {
        if (fd === null || error) return;
        try {
          fs.writeSync(fd, names.push(m.params.chunk));
        } catch (err) {
          error = err;
        }
      };
      s.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
      try {
        postSync('HeapProfiler.stopTrackingHeapObjects', { reportProgress: false });
        if (fd !== null && !error) fs.writeSync(fd, names.end());
      } finally {
        s.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
        if (fd !== null) fs.closeSync(fd);
      }
      if (error) throw error;
    },
  };
}

module.exports = { startTracking, SNAPSHOT_META: META };
