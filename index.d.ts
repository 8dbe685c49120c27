// Type definitions for leakguard. The native loader's own types (binding.d.ts) are internal.
//
// index.js is CommonJS (`module.exports = { … }`), so this file says `export =` of a namespace,
// the exact shape of module.exports: named imports type-check everywhere; a default import
// where Node or a bundler hands it module.exports (an ES module, esModuleInterop, bundler
// resolution), and elsewhere TypeScript says to turn on esModuleInterop (TS1259) instead of
// compiling `require('leakguard').default`, which does not exist.

import { EventEmitter } from 'node:events';

declare namespace leakguard {
  /** Stable error codes carried by every error leakguard raises (`err.code`). */
  export type LeakguardErrorCode =
    | 'ERR_LEAKGUARD_PARSE'
    | 'ERR_LEAKGUARD_IO'
    | 'ERR_LEAKGUARD_INVALID_ARG'
    | 'ERR_LEAKGUARD_ABORTED'
    | 'ERR_LEAKGUARD_MISMATCH'
    | 'ERR_LEAKGUARD_TOO_LARGE'
    | 'ERR_LEAKGUARD_INTERNAL'
    | 'ERR_LEAKGUARD_LEAK'
    | 'ERR_LEAKGUARD_TIMEOUT'
    | 'ERR_LEAKGUARD_NO_BINARY'
    | 'ERR_LEAKGUARD_NO_HEADROOM'
    | 'ERR_LEAKGUARD_CALLBACK';

  /**
   * The error class behind every leakguard failure. Invalid-argument errors
   * (`ERR_LEAKGUARD_INVALID_ARG`) are `TypeError`s, named `'TypeError'`, and also pass
   * `instanceof LeakguardError`.
   */
  export class LeakguardError extends Error {
    readonly code: LeakguardErrorCode;
    /** For ERR_LEAKGUARD_PARSE: the byte offset in the file where parsing failed. */
    readonly offset?: number;
    /** For ERR_LEAKGUARD_IO: the path involved. */
    readonly path?: string;
    /** For ERR_LEAKGUARD_IO: the underlying errno code (`ENOSPC`, `ENOENT`, …). */
    readonly errno?: string;
    readonly syscall?: string;
    /** For ERR_LEAKGUARD_NO_BINARY: the platform the addon was looked for (`linux-x64-gnu`, `darwin-arm64`, …); `cause` has the loader's error. */
    readonly platform?: string;
    /** For ERR_LEAKGUARD_NO_HEADROOM: bytes a dump needs, bytes available, and where that figure came from (`'cgroup v2'`, `'cgroup v1'`, `'system free memory'`, `'V8 heap limit'`). */
    readonly needed?: number;
    readonly available?: number;
    readonly source?: string;
  }

  /** The error codes, by short name. */
  export const codes: {
    readonly PARSE: 'ERR_LEAKGUARD_PARSE';
    readonly IO: 'ERR_LEAKGUARD_IO';
    readonly INVALID_ARG: 'ERR_LEAKGUARD_INVALID_ARG';
    readonly ABORTED: 'ERR_LEAKGUARD_ABORTED';
    readonly MISMATCH: 'ERR_LEAKGUARD_MISMATCH';
    readonly TOO_LARGE: 'ERR_LEAKGUARD_TOO_LARGE';
    readonly INTERNAL: 'ERR_LEAKGUARD_INTERNAL';
    readonly LEAK: 'ERR_LEAKGUARD_LEAK';
    readonly TIMEOUT: 'ERR_LEAKGUARD_TIMEOUT';
    readonly NO_BINARY: 'ERR_LEAKGUARD_NO_BINARY';
    readonly NO_HEADROOM: 'ERR_LEAKGUARD_NO_HEADROOM';
    readonly CALLBACK: 'ERR_LEAKGUARD_CALLBACK';
  };

  // ---------------------------------------------------------------------------------------------
  // Capture (node-heapdump compatible)

  /**
   * Writes a V8 heap snapshot of the current thread's isolate, node-heapdump style.
   *
   * Without `filename`, writes `heapdump-<sec>.<usec>.heapsnapshot` into the directory set by
   * `configure({ directory })`, else the current directory. A relative `filename` is resolved
   * against the current directory. The file appears atomically (temp file + rename) with mode
   * 0600. Returns the absolute path. With a callback, it is called with `(null, path)` or
   * `(err)` (then the return value is `undefined`); without, errors are thrown. I/O failures
   * (bad path, unwritable directory, full disk) have `code` `ERR_LEAKGUARD_IO` and leave no file.
   */
  export function writeSnapshot(filename?: string, callback?: (err: LeakguardError | null, filename?: string) => void): string;
  export function writeSnapshot(callback: (err: LeakguardError | null, filename?: string) => void): string;

  /** Defaults shared by the capture functions. */
  export interface ConfigureOptions {
    /** Directory for unnamed dumps (`null` = the current directory at dump time). */
    directory?: string | null;
  }
  /** Sets capture defaults; returns the settings now in force. */
  export function configure(options: ConfigureOptions): { directory: string | null };

  /** Options of dumpOnSignal(). */
  export interface DumpOnSignalOptions {
    /**
     * Signal to listen for. Default `'SIGUSR2'`. SIGTERM, SIGINT, SIGHUP and SIGQUIT are refused
     * (a listener would stop them from ending the process), as are SIGKILL and SIGSTOP.
     */
    signal?: NodeJS.Signals;
    /** Where dumps go (created 0700 if missing). Default: `configure()`'s directory, else cwd. */
    directory?: string;
    /**
     * Keep at most this many of the dumps this call wrote (a whole number >= 1, or Infinity);
     * older ones are deleted, also after a failed dump to make room. Files it did not write
     * (other processes', other workers', renamed or planted ones) are never deleted. Default: no limit.
     */
    maxFiles?: number;
    /** Signals closer together than this collapse into one trailing dump (finite, ms). Default 1000. */
    minIntervalMs?: number;
    /**
     * Skip a dump (with an `ERR_LEAKGUARD_NO_HEADROOM` error to `onError`) unless this many times
     * the used heap is free (cgroup limit, else system free memory), or when the old generation
     * has under max(8 MiB, 5% of its limit) left. `false` or 0 disables the check. Default 8.
     */
    headroom?: number | false;
    /** Called with the path of each completed dump. If it throws, `onError` gets an `ERR_LEAKGUARD_CALLBACK` error (the dump stays). */
    onDump?: (file: string) => void;
    /** Called with each failure or skipped dump (default: a process warning; never a crash). */
    onError?: (err: LeakguardError) => void;
  }
  /**
   * Dumps a snapshot whenever `signal` arrives. Off unless called. The app's own listeners for
   * the signal keep running. In a worker thread the main thread relays the signal (the main
   * thread must have loaded leakguard too). Returns a function that uninstalls it.
   */
  export function dumpOnSignal(options?: DumpOnSignalOptions): () => void;

  /** Options of dumpNearHeapLimit(). */
  export interface DumpNearHeapLimitOptions {
    /** Where dumps go. Default: `configure()`'s directory, else cwd. */
    directory?: string;
    /** At most this many dumps. Default 1. */
    maxCount?: number;
    /** Dump when the old generation’s use reaches threshold × its limit (checked after each major GC). From 0.05 to 0.99 (0.95 while the `headroom` check is on, which wants 5% of the heap free to write the dump); default 0.8. */
    threshold?: number;
    /** Also arm V8's in-allocation near-limit hook (Node's own file names, written to cwd or --diagnostic-dir). */
    native?: boolean;
    /** As in dumpOnSignal(): skip the dump when writing it could exhaust memory. Default 8. */
    headroom?: number | false;
    onDump?: (file: string) => void;
    onError?: (err: LeakguardError) => void;
  }
  /** Writes a snapshot when the heap approaches its limit. Returns a function that disarms it. */
  export function dumpNearHeapLimit(options?: DumpNearHeapLimitOptions): () => void;

  // ---------------------------------------------------------------------------------------------
  // Snapshots in Rust memory

  /** Options of loadSnapshot(). */
  export interface LoadOptions {
    /** Aborting rejects with `ERR_LEAKGUARD_ABORTED` at once; the worker stops within milliseconds. */
    signal?: AbortSignal;
    /** Called with the fraction done (0..1), at most every 50 ms, and with 1 at the end. */
    onProgress?: (fraction: number) => void;
  }

  /** A parsed heap snapshot held in Rust memory. */
  export class HeapSnapshot {
    private constructor();
    /** Number of nodes (heap objects, including synthetic roots). */
    readonly nodeCount: number;
    /** Number of edges (references). */
    readonly edgeCount: number;
    /** Sum of all self sizes, in bytes. */
    readonly totalSize: number;
    /** Approximate bytes of native memory this snapshot holds: the graph, plus the analysis once computed; 0 after dispose(). */
    readonly memoryBytes: number;
    /** Whether dispose() was called. */
    readonly disposed: boolean;
    /** Whether the snapshot has V8's closure `locations` table, so results carry `location`s (docs/locations.md). */
    readonly hasLocations: boolean;
    /** Whether the snapshot was written with allocation tracking on (`node --track-heap-objects`), so leak suspects carry `allocations`. */
    readonly hasAllocationTrace: boolean;
    /** For snapshots from takeSnapshot(): `"<pid>:<threadId>"` of the heap shown; null for files. */
    readonly origin: string | null;
    /** Frees the native memory now (the garbage collector frees it otherwise). */
    dispose(): void;

    /**
     * Per-class rows, biggest retained size first. The first analysis call computes distances,
     * dominators and retained sizes on a worker thread and caches them.
     */
    summary(options?: SummaryOptions): Promise<ClassRow[]>;
    /** Objects of one class (default: 100, biggest retained size first). */
    objects(className: string, options?: ObjectsOptions): Promise<ObjectRow[]>;
    /**
     * The `n` objects with the biggest retained size (default 20), among those a user root reaches
     * (as in DevTools; objects held only by V8's internal roots, with a `distance` of 100000000 or
     * more, and synthetic roots are left out).
     */
    largestObjects(n?: number, options?: AnalysisOptions): Promise<ObjectRow[]>;
    /**
     * Why an object is alive: the chain of references from a user root (usually the global
     * object) down to it. Resolves null for an object nothing retains.
     */
    retainerPath(id: number, options?: RetainerPathOptions): Promise<RetainerPath | null>;
    /**
     * Where one object comes from: its location and allocation stack, as far as the snapshot
     * tells; null when no object has that id. Synchronous (one pass over the ids).
     */
    sourceInfo(id: number): SourceInfo | null;
  }

  /** What a snapshot tells about where one object comes from (docs/locations.md). */
  export interface SourceInfo {
    id: number;
    /** `url:line:column` (1-based) of a function's code, a context's function or an object's constructor; null when unknown. */
    location: string | null;
    /** The stack that allocated it, allocating function first; null without allocation tracking (or for objects from before it started). */
    allocationStack: AllocationFrame[] | null;
  }
  /** One frame of an allocation stack. */
  export interface AllocationFrame {
    /** '' for an anonymous function. */
    functionName: string;
    /** Script name: an absolute path, a `file://` URL, a `node:` internal; '' when unknown. */
    url: string;
    /** 1-based line of the function's start (V8 records functions, not call lines); 0 when unknown. */
    line: number;
    /** 1-based column; 0 when unknown. */
    column: number;
  }
  /** Live objects one call stack allocated. */
  export interface AllocationSite {
    /** The allocating function first, then its callers. */
    frames: AllocationFrame[];
    count: number;
    /** Their self sizes summed, bytes. */
    size: number;
  }

  /** `'devtools'` (default): current DevTools sizes, where the self size of an internal array or
   * hidden object with a single owner is counted in that owner; `'raw'`: V8's sizes as written. */
  export type SizeMode = 'devtools' | 'raw';

  /** Options shared by every analysis call. */
  export interface AnalysisOptions {
    sizes?: SizeMode;
    /** Aborting rejects with `ERR_LEAKGUARD_ABORTED` at once. */
    signal?: AbortSignal;
    /** Called with the fraction done while the analysis is computed. */
    onProgress?: (fraction: number) => void;
  }
  export interface SummaryOptions extends AnalysisOptions {
    /** At most this many rows. */
    top?: number;
  }
  export interface ObjectsOptions extends AnalysisOptions {
    limit?: number;
    sortBy?: 'retained' | 'shallow' | 'distance' | 'id';
  }
  export interface RetainerPathOptions {
    /** `'devtools'` (default): the chain DevTools' Retainers view expands (each step takes the
     * retainer closest to a root); `'shortest'`: a true shortest path from a root. */
    kind?: 'devtools' | 'shortest';
    /** Longest path returned (default 20 edges, as DevTools). */
    maxSteps?: number;
    signal?: AbortSignal;
    onProgress?: (fraction: number) => void;
  }

  /** One row of the class summary. */
  export interface ClassRow {
    className: string;
    count: number;
    /** Sum of self sizes, bytes. */
    shallowSize: number;
    /** Memory freed if all objects of the class were freed (no double counting), bytes. */
    retainedSize: number;
    /** Shortest distance of a member from a user root (−5: unreachable). */
    distance: number;
    /** Whether even the closest member is reachable only through V8's system roots (`distance` ≥ 100000000, shown as `sys`). */
    system: boolean;
  }

  /** One object. */
  export interface ObjectRow {
    /** V8's object id, stable across snapshots of one heap. */
    id: number;
    className: string;
    name: string;
    shallowSize: number;
    retainedSize: number;
    distance: number;
    /** Whether the object is reachable only through V8's system roots (`distance` ≥ 100000000, shown as `sys`). */
    system: boolean;
    /** `url:line:column` (1-based) of a function's code, a context's function or an object's constructor, when the snapshot tells (docs/locations.md). */
    location?: string;
  }

  /** One step of a retainer path. */
  export interface PathStep {
    id: number;
    className: string;
    name: string;
    /** The reference from the previous step to this one; null on the first step. Type `'indirect'` (name `'…'`) when a leak report shortens a long chain (a linked list) between a holder and the object. */
    edge: {
      type: string;
      name: string;
      /** The edge in DevTools' notation, as `RetainerPath.text` writes it: `.prop`, `["a b"]`, `[3]`, `->ctxVar`, `{internal}`, `[[weak]]`, `…`. */
      text: string;
    } | null;
    /** `url:line:column` (1-based) of a function's code or a context's function, when the snapshot tells (docs/locations.md); `text` shows a function's as `(Function @ url:line:column)`. */
    location?: string;
  }

  /** A chain of references that keeps an object alive, root side first. */
  export interface RetainerPath {
    steps: PathStep[];
    /** One line, e.g. `Window → ->requests (Map) → {table} (array) → [7] → IncomingMessage`. */
    text: string;
    kind: 'devtools' | 'shortest';
    /** Whether the path reaches a root (false when cut by maxSteps or stuck in garbage). */
    complete: boolean;
  }

  /**
   * Parses a `.heapsnapshot` file on a worker thread. Corrupt input rejects with
   * `ERR_LEAKGUARD_PARSE` (with `offset`), a missing or unreadable file with `ERR_LEAKGUARD_IO`.
   */
  export function loadSnapshot(path: string, options?: LoadOptions): Promise<HeapSnapshot>;
  /** loadSnapshot on the calling thread (blocks it): for scripts and command-line tools. */
  export function loadSnapshotSync(path: string): HeapSnapshot;

  // ---------------------------------------------------------------------------------------------
  // In-memory snapshots, diff and the leak finder

  /** Options of takeSnapshot(). */
  export interface TakeSnapshotOptions extends LoadOptions {
    /** Where the private temp file goes while it is parsed (default: os.tmpdir()). */
    tmpdir?: string;
  }
  /**
   * Captures this thread's heap and loads it into Rust memory. The capture blocks (V8 does it
   * synchronously); the parse runs off the event loop. No file is left behind.
   */
  export function takeSnapshot(options?: TakeSnapshotOptions): Promise<HeapSnapshot>;

  /** One row of a comparison (DevTools Comparison view). */
  export interface DiffRow {
    className: string;
    /** Objects of the class in `current` whose id is not in `base`. */
    addedCount: number;
    /** Objects of the class in `base` whose id is not in `current`. */
    removedCount: number;
    countDelta: number;
    addedSize: number;
    removedSize: number;
    sizeDelta: number;
  }
  /**
   * Per-class changes from `base` to `current`, objects matched by V8 id; classes with nothing
   * new or deleted are omitted; biggest size delta first. Snapshots of different heaps reject
   * with `ERR_LEAKGUARD_MISMATCH`.
   */
  export function diff(base: HeapSnapshot, current: HeapSnapshot, options?: AnalysisOptions): Promise<DiffRow[]>;

  /** Options of findLeaks(). */
  export interface FindLeaksOptions extends AnalysisOptions {
    /** Ignore groups with fewer objects (default 5). */
    minCount?: number;
    /** Ignore groups retaining fewer bytes (default 0). */
    minRetainedSize?: number;
    /** Classes never reported (known, accepted growth). */
    ignoreClasses?: string[];
    /** Sample ids and paths per suspect (default 5). */
    maxSamples?: number;
    pathKind?: 'devtools' | 'shortest';
    maxPathSteps?: number;
    /** Also regroup the suspects by class into `LeakReport.classes` (docs/leaks.md#per-class-grouping). */
    classes?: LeakClassOptions;
    /**
     * The collections that grew in every step into `LeakReport.collections`
     * (docs/leaks.md#growing-collections): `true` for the defaults or thresholds. Default: on
     * for an array of snapshots, off for `{ baseline, target, final }`.
     */
    collections?: boolean | GrowingCollectionOptions;
  }
  /** Thresholds of the growing collections. */
  export interface GrowingCollectionOptions {
    /** Entries gained from the first snapshot to the last, for a collection listed by its entries (default 10). */
    minGrowth?: number;
    /** Retained bytes gained, for one listed by its retained size alone (default 65536). */
    minRetainedGrowth?: number;
    /** Entries a plain object needs in the last snapshot to count as a dictionary (default 16). */
    minProperties?: number;
    /** Collections listed at most (default 20). */
    maxCollections?: number;
    /** Newest entries shown per collection (default 3). */
    maxSamples?: number;
  }
  /** A Map, Set, array, typed array or dictionary object that grew in every step (matched by object id). */
  export interface GrowingCollection {
    /** V8 object id (the same in every snapshot). */
    id: number;
    kind: 'map' | 'set' | 'array' | 'typedArray' | 'object';
    className: string;
    /** The variable or property holding it (`requests`, `handlers[2]`); '' without a path. */
    name: string;
    /** Entries per snapshot, in the order given (0 before it existed). */
    entries: number[];
    /** Retained size per snapshot (0 before it existed). */
    retainedSizes: number[];
    /** Index of the first snapshot it is in. */
    firstSeen: number;
    entryGrowth: number;
    retainedGrowth: number;
    /** Whether the entry count grew in every step (else only the retained size did). */
    entriesGrew: boolean;
    /** The holder path in the last snapshot. */
    path: RetainerPath | null;
    /** Newest entries first, each side shortened (strings quoted, objects as `Class @id`). */
    newest: { key: string; value: string }[];
    /** Where it is defined (`file:line:col`) when known; null so far. */
    location: string | null;
  }
  /** Options of findLeaks' per-class grouping. */
  export interface LeakClassOptions {
    /** How many times the action ran (>= 1): `perIteration` = count / calls. */
    calls: number;
    /** Drop classes with fewer objects per call (default 0). */
    threshold?: number;
    /** Drop classes with fewer objects in all (default 0). */
    minCount?: number;
    /** Classes left out of the grouping only (their suspects stay in `suspects`). */
    ignoreClasses?: string[];
  }
  /** The leaked objects of one class, over all its suspects. */
  export interface LeakClass {
    className: string;
    count: number;
    perIteration: number;
    retainedSize: number;
    /** The first of `paths`, '' if none. */
    path: string;
    /** First path of up to 5 holders (shapes differing only by digits are one holder), most objects first, V8-internal roots last. */
    paths: string[];
    /** The first of `paths` whole, with its steps and their locations (where the holding variable is declared is read from them). */
    holder?: RetainerPath;
    /** The one other class through whose leaked objects every suspect of this class is held, else null. */
    via: string | null;
    /** `classes.calls`, echoed. */
    calls: number;
    /** Where the class is defined, from its first suspect that tells (`url:line:column`). */
    location?: string;
    /** Its suspects' allocation stacks merged, biggest first (at most 5); only with an allocation trace. */
    allocations?: AllocationSite[];
  }
  /** A group of leaked objects of one class held by the same path. */
  export interface LeakSuspect {
    className: string;
    count: number;
    /** Memory that would be freed with them (they are disjoint in the dominator tree). */
    retainedSize: number;
    shallowSize: number;
    /** Ids of the biggest members (in the final snapshot). */
    sampleIds: number[];
    /** Why the samples are alive. */
    paths: RetainerPath[];
    /** The path with indices normalised: what the group has in common. */
    shape: string;
    /**
     * Index in `suspects` of another suspect whose objects the first path runs through (e.g.
     * sockets kept alive by leaked requests): a consequence of that leak, fixed with it. Else null.
     */
    heldVia: number | null;
    /** Where the class is defined (`url:line:column` of its constructor, or a function's own code), when the snapshot tells. */
    location?: string;
    /** The call stacks that allocated the group's objects, biggest first (at most 5); only in snapshots written with allocation tracking on. */
    allocations?: AllocationSite[];
  }
  /** What findLeaks() found. */
  export interface LeakReport {
    /** Biggest retained size first. */
    suspects: LeakSuspect[];
    /** Objects in `target` that were not in `baseline`. */
    newInTarget: number;
    /** Of those, how many are still alive in `final`. */
    stillAlive: number;
    nodes: { baseline: number; target: number; final: number };
    /** Present only with the `classes` option: by objects per call, then retained size. */
    classes?: LeakClass[];
    /** Present when the growing collections were asked for: biggest retained growth first. */
    collections?: GrowingCollection[];
  }
  /**
   * The three-snapshot method: objects created after `baseline`, present in `target` and still
   * alive in `final`, without internal noise (code, hidden objects, internal arrays, anything
   * owned by another suspect), grouped by class and retainer path, biggest first, each with the
   * chain of references from a root that keeps it alive.
   */
  export function findLeaks(snapshots: { baseline: HeapSnapshot; target: HeapSnapshot; final: HeapSnapshot }, options?: FindLeaksOptions): Promise<LeakReport>;
  /**
   * Two or more snapshots of one heap, oldest first: the suspects of the first, second-to-last
   * and last, and (unless `collections: false`) the collections that grew in every step. With
   * two snapshots there is no third to tell survivors from new objects: `suspects` is empty and
   * only `collections` speak.
   */
  export function findLeaks(snapshots: HeapSnapshot[], options?: FindLeaksOptions): Promise<LeakReport>;

  // ---------------------------------------------------------------------------------------------
  // Leak assertions for tests

  /** Options of checkLeak() / assertNoLeak() (and of the Jest and Mocha helpers). */
  export interface LeakCheckOptions {
    /** Calls per measured round (two rounds). Default 100; at least 2. */
    iterations?: number;
    /** Calls before the baseline snapshot (fills bounded caches, lazy init, JIT). Default max(10, iterations). */
    warmup?: number;
    /** A class leaks when this many of its objects per call from round 1 survive round 2. Default 0.5. */
    threshold?: number;
    /** …and at least this many of them in all (a floor against small constant noise). Default 10. */
    minCount?: number;
    /**
     * Secondary signal: a class whose heap size grows by at least this many bytes per call in both
     * rounds is reported even when none of its objects survive (a string copied into a longer one
     * on every call). Default 16; `false` turns the signal off.
     */
    byteThreshold?: number | false;
    /** Classes never reported (known, accepted growth). */
    ignoreClasses?: string[];
    /** Rejects with `ERR_LEAKGUARD_TIMEOUT` when the whole check takes longer. Default 60000; `Infinity` for none. */
    timeoutMs?: number;
    /** Full GCs (each after a macrotask) before each snapshot. Default 3. */
    gcRounds?: number;
    /** Size semantics of the analysis (default 'devtools'). */
    sizes?: SizeMode;
    /** Aborting stops the check and rejects with `ERR_LEAKGUARD_ABORTED`. */
    signal?: AbortSignal;
    /**
     * `'sampling'` (default): survivor rounds under V8's sampling heap profiler decide first, and a
     * bounded function is passed without any snapshot; snapshots only explain a leak.
     * `'snapshots'`: the three-snapshot method alone.
     */
    method?: 'sampling' | 'snapshots';
    /** The slow-leak floor of the survivor rounds, objects per call (default 0.05: one per 20 calls). */
    minRate?: number;
  }

  /**
   * One class whose objects outlive the calls that made them: findLeaks' per-class grouping
   * (`count` objects made in round 1 and alive after round 2; `perIteration` = count / calls).
   */
  export interface LeakCheckSuspect extends LeakClass {
    /**
     * Where the class's objects were allocated, the program's own frames first (Node's internals
     * above the first one dropped, leakguard's call loop and the runner below cut); null when
     * unknown. See docs/leaks.md#allocation-sites.
     */
    allocation: LeakCheckAllocation | null;
  }

  /** A leak check's allocation site: what `allocated at …` in the message names. */
  export interface LeakCheckAllocation extends AllocationSite {
    /**
     * false: `frames[0]` made the objects. true: `frames[0]` is the nearest function of the
     * program whose call made them (`allocated within …`), lower frames not telling them apart.
     */
    within: boolean;
  }

  /** A class whose heap size grows in both rounds (the secondary, bytes signal). */
  export interface LeakCheckGrowth {
    className: string;
    /** The smaller of the two rounds' growth, per call. */
    bytesPerIteration: number;
    /** Growth of the class in round 1 and round 2, bytes. */
    sizeDelta: [number, number];
    /** Where the memory that round 2 added is held (a retainer path), or ''. */
    path: string;
    calls: number;
  }

  /** What checkLeak() found. */
  export interface LeakCheckResult {
    /** Whether a class crossed `threshold` objects per call, or grew by `byteThreshold` bytes per call in both rounds. */
    leaked: boolean;
    iterations: number;
    warmup: number;
    threshold: number;
    byteThreshold: number;
    /** Classes above the threshold, most objects per call first. */
    suspects: LeakCheckSuspect[];
    /** Classes growing by at least `byteThreshold` per call in both rounds. */
    growth: LeakCheckGrowth[];
    /** For a leak of bytes alone (no suspects): where the growing allocations come from, when the rounds tell. */
    allocation?: LeakCheckAllocation | null;
    /** findLeaks' full report (every group, down to one object); null when no snapshot was needed. */
    report: LeakReport | null;
    /** Heap snapshots taken: 0 (the rounds showed a bounded function), 1 (a synchronous leak explained from one snapshot) or 3. */
    snapshots: number;
    /** What decided: the survivor rounds alone, or snapshots. */
    method: 'sampling' | 'snapshots';
    /** The survivor rounds' verdict and figures (absent with `method: 'snapshots'`). */
    rounds?: LeakCheckRounds;
    /** True when the suspects come from the slow-leak rule (growing with calls below `threshold`). */
    slow?: boolean;
    /** Every call of `fn` the check made, warm-up included. */
    calls: number;
    durationMs: number;
    /** Where the time went, ms per phase (prepare, warmup, rounds, settle, snapshots, findLeaks, …). */
    timings: Record<string, number>;
  }

  /** The survivor rounds of checkLeak (docs/leaks.md). */
  export interface LeakCheckRounds {
    state: 'bounded' | 'undecided' | 'growing';
    /** Calls made during the rounds. */
    calls: number;
    /** One line: which series decided and why. */
    reason: string;
    /** The verdict per series (each allocation site, and all sites together). */
    verdict: { state: 'bounded' | 'undecided' | 'growing'; calls: number; reason: string; series: unknown[] };
    /** Allocation sites seen in the rounds. */
    sites: unknown[];
    /** The sampling interval used, bytes. */
    interval: number;
    stages: unknown[];
    /** Where the rounds' time went, ms. */
    phases: Record<string, number>;
    durationMs: number;
  }

  /**
   * Calls `fn` (sync or async; awaited) `warmup` times, then survivor rounds under V8's sampling
   * heap profiler (no --expose-gc needed), and tells whether the objects its calls create survive
   * in a number that grows with the calls. A bounded function passes without a heap snapshot; a
   * leak is explained (class, per-call count, retained size, holder) from one or three
   * snapshots. An error thrown by `fn` rejects as is.
   */
  export function checkLeak(fn: () => unknown, options?: LeakCheckOptions): Promise<LeakCheckResult>;
  /** checkLeak(), rejecting with a LeakError when `fn` leaks; resolves with the result otherwise. */
  export function assertNoLeak(fn: () => unknown, options?: LeakCheckOptions): Promise<LeakCheckResult>;

  /** The assertion failure of assertNoLeak (and the message of the Jest matcher). */
  export class LeakError extends LeakguardError {
    readonly code: 'ERR_LEAKGUARD_LEAK';
    readonly result: LeakCheckResult;
  }

  // ---------------------------------------------------------------------------------------------
  // Memory sampling and trend-based leak alerts

  /** One memory reading (bytes). */
  export interface MemoryUsage {
    rss: number;
    heapTotal: number;
    heapUsed: number;
    external: number;
    arrayBuffers: number;
    /** V8's heap limit (`v8.getHeapStatistics().heap_size_limit`). */
    heapSizeLimit: number;
    /** Contexts (vm contexts, iframes) that are detached but still alive: a leak sign. */
    numberOfDetachedContexts: number;
  }
  /** `process.memoryUsage()` plus V8's heap limit and detached contexts; cheap to call often. */
  export function memoryUsage(): MemoryUsage;

  /** Options of startSampling(). */
  export interface SamplingOptions {
    /** Sampling period of RSS (Rust thread) and of the JS heap figures (timer). Default 1000, at least 10. */
    intervalMs?: number;
    /** Capacity of each ring buffer (RSS, heap, GC points). Default 3600, at least 16. */
    maxSamples?: number;
    /** Trend window: the newest this many post-GC points. Default 30. */
    window?: number;
    /** …and only points at most this old (ms before the newest). Default: no limit. */
    windowMs?: number;
    /** Presets of the thresholds below. Default `'normal'`. */
    sensitivity?: 'low' | 'normal' | 'high';
    /** No verdict with fewer post-GC points in the window. Default 12. */
    minPoints?: number;
    /** Minimum Theil–Sen slope (normal: 16 KiB/min). */
    minSlopeBytesPerMinute?: number;
    /** Minimum Mann–Kendall confidence of an increase, 0..1 (normal: 0.99). */
    minConfidence?: number;
    /** Minimum growth over the window (normal: 1 MiB). */
    minGrowthBytes?: number;
    /** Minimum growth relative to the window's start (normal: 0.05). */
    minGrowthRatio?: number;
    /** `'snapshot'`: write a heap snapshot into `directory` on a leak alert (at most `maxSnapshots`); a function: called with the report. */
    onLeak?: 'snapshot' | 'diagnose' | ((report: TrendReport) => void);
    /** `onLeak: 'diagnose'` settings (docs/sampling.md#diagnosis). */
    diagnose?: DiagnoseOptions;
    /** Where leak snapshots go (created 0700 if missing). Default: `configure({ directory })`, else cwd. */
    directory?: string;
    /** Leak snapshots at most. Default 1. */
    maxSnapshots?: number;
    /** As for `dumpOnSignal`: skip a leak snapshot (an `ERR_LEAKGUARD_NO_HEADROOM` `'error'` event, or a warning) unless this many times the used heap is free. `false` or 0 disables the check. Default 8. */
    headroom?: number | false;
    /** Run one full GC when V8 ran none for 10 s while heapUsed doubled since the last post-GC baseline (and grew 16 MiB): a fast leak gets few major GCs, too few for a verdict. At most one every 10 s. Default true. */
    confirmGc?: boolean;
  }

  /** How `onLeak: 'diagnose'` spaces its three snapshots and how often it runs. */
  export interface DiagnoseOptions {
    /** Growth wanted between two snapshots, at the alert's slope (default 4 MiB). */
    stepBytes?: number;
    /** Bounds of the spacing (default 5 000 and 300 000 ms). */
    minSpacingMs?: number;
    maxSpacingMs?: number;
    /** At most one diagnosis per this many ms (default 3 600 000; Infinity: once). */
    everyMs?: number;
    /** Also write the three dumps and an HTML report into `directory` (mode 0600). Default false. */
    report?: boolean;
  }
  /** What `onLeak: 'diagnose'` found. */
  export interface Diagnosis {
    time: number;
    /** The alert that started it. */
    trend: TrendReport;
    /** Time between two snapshots. */
    spacingMs: number;
    /** findLeaks' suspects (at most 10). */
    suspects: LeakSuspect[];
    collections: GrowingCollection[];
    newInTarget: number;
    stillAlive: number;
    /** The dumps written (with `report`), else []. */
    snapshots: string[];
    /** The HTML report (with `report`), else null. */
    report: string | null;
    /** Event-loop pauses of the three captures, the analysis (off the loop) and the whole, ms. */
    cost: { pausesMs: number[]; maxPauseMs: number; analysisMs: number; totalMs: number };
  }

  /** A point of a series: ms since the epoch and bytes. */
  export interface SamplePoint {
    time: number;
    value: number;
  }
  /** One reading of the JS heap figures. */
  export interface HeapSample {
    time: number;
    rss: number;
    heapTotal: number;
    heapUsed: number;
    external: number;
    arrayBuffers: number;
  }
  /** The heap after a major GC. */
  export interface GcSample {
    time: number;
    /** Heap used outside the young generation: the post-GC baseline the trend is computed on. */
    baseline: number;
    heapUsed: number;
  }
  /** What a 'gc' event carries. */
  export interface GcEvent extends GcSample {
    durationMs: number;
  }
  /** What a 'sample' event carries. */
  export interface SampleEvent extends MemoryUsage {
    time: number;
  }

  /** The trend test over one window (the 'leak' and 'stats' payload, and trend()). */
  export interface TrendReport {
    verdict: 'insufficient' | 'flat' | 'growing' | 'leak';
    leak: boolean;
    /** No meaningful growth: re-arms the alert after a leak episode. */
    flat: boolean;
    /** The first condition of the rule that failed, or `'leak'`. */
    reason: 'too few points' | 'slope below minimum' | 'confidence below threshold' | 'growth too small' | 'levelled off' | 'leak';
    /** Which rule found the leak: `'trend'` (the statistical rule over the window) or `'fast'` (the heap at least doubled over 15 s or more through rising post-GC points, however few: a fast leak gets few major GCs); null without a leak. */
    rule: 'trend' | 'fast' | null;
    /** Points in the window. */
    window: number;
    windowMs: number;
    /** Theil–Sen slope (median of pairwise slopes). */
    slopeBytesPerMinute: number;
    /** Theil–Sen intercept: the fitted line's bytes at `samples[0].time` (the line is `intercept + slope × (t − samples[0].time)`); 0 without a slope. */
    intercept: number;
    /** Mann–Kendall one-sided confidence that the series increases. */
    confidence: number;
    pValue: number;
    z: number;
    mannKendallS: number;
    /** Share of pairwise slopes that are positive. */
    positiveFraction: number;
    /** Median of the window's first third. */
    baselineStart: number;
    /** Median of the window's middle third. */
    baselineMiddle: number;
    /** Median of the window's last third. */
    baselineEnd: number;
    growthBytes: number;
    growthRatio: number;
    /** (baselineEnd − baselineMiddle) / growthBytes: about 0.5 while memory keeps growing, about 0 once it levelled off in the older part of the window (a leak needs ≥ 0.3). */
    recentGrowthShare: number;
    /** Slope and confidence of the newest third (a plateau has none). */
    tailSlopeBytesPerMinute: number;
    tailConfidence: number;
    /** The points of the window. */
    samples: SamplePoint[];
  }

  /** Counters of a sampler. */
  export interface SamplerStats {
    rssSamples: number;
    rssSamplesTaken: number;
    lastRss: number | null;
    heapSamples: number;
    gcSamples: number;
    gcSamplesTaken: number;
    capacity: number;
    /** Bytes reserved by the three ring buffers (fixed from the start). */
    bufferBytes: number;
    /** Why RSS cannot be sampled on this platform (non-Linux), else null. */
    rssError: string | null;
    snapshots: number;
    /** Diagnoses emitted (`onLeak: 'diagnose'`). */
    diagnoses: number;
    /** Full GCs the sampler ran itself (`confirmGc`) because V8 ran none for 10 s while the heap doubled. */
    confirmGcs: number;
    running: boolean;
  }

  /** A running memory sampler. Never keeps the process alive. */
  export class MemorySampler extends EventEmitter {
    private constructor();
    /** Every sample held, oldest first. */
    samples(): { rss: SamplePoint[]; heap: HeapSample[]; gc: GcSample[] };
    /** The current trend: of the post-GC baseline (default; what alerts use), RSS or heap used. */
    trend(series?: 'baseline' | 'rss' | 'heapUsed'): TrendReport;
    stats(): SamplerStats;
    /** `JSON.stringify(sampler)`: the samples plus `trend` (the post-GC baseline's trend); the samples file of `leakguard report --samples`. */
    toJSON(): { rss: SamplePoint[]; heap: HeapSample[]; gc: GcSample[]; trend: TrendReport };
    readonly running: boolean;
    /** Stops the thread, the timer and the GC observer; samples stay readable. */
    stop(): void;

    on(event: 'sample', listener: (sample: SampleEvent) => void): this;
    on(event: 'gc', listener: (gc: GcEvent) => void): this;
    on(event: 'stats', listener: (trend: TrendReport) => void): this;
    /** Once per leak episode (re-armed when the trend goes flat). */
    on(event: 'leak', listener: (report: TrendReport) => void): this;
    /** After `onLeak: 'snapshot'` wrote a dump. */
    on(event: 'snapshot', listener: (file: string, report: TrendReport) => void): this;
    /** After `onLeak: 'diagnose'` analysed three snapshots. */
    on(event: 'diagnosis', listener: (diagnosis: Diagnosis) => void): this;
    /** A leak snapshot or diagnosis failed (without a listener: a process warning). */
    on(event: 'error', listener: (err: LeakguardError) => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
    once(event: 'leak', listener: (report: TrendReport) => void): this;
    once(event: string | symbol, listener: (...args: any[]) => void): this;
  }
  /** Starts sampling memory: RSS from a Rust thread, heap figures from a timer, post-GC baselines from GC events. */
  export function startSampling(options?: SamplingOptions): MemorySampler;
}

export = leakguard;
