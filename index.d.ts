// Type definitions for leakguard. The native loader's own types (binding.d.ts) are internal.

/** Stable error codes carried by every error leakguard raises (`err.code`). */
export type LeakguardErrorCode =
  | 'ERR_LEAKGUARD_PARSE'
  | 'ERR_LEAKGUARD_IO'
  | 'ERR_LEAKGUARD_INVALID_ARG'
  | 'ERR_LEAKGUARD_ABORTED'
  | 'ERR_LEAKGUARD_MISMATCH'
  | 'ERR_LEAKGUARD_TOO_LARGE'
  | 'ERR_LEAKGUARD_INTERNAL';

/** The error class behind every leakguard failure. */
export declare class LeakguardError extends Error {
  readonly code: LeakguardErrorCode;
  /** For ERR_LEAKGUARD_PARSE: the byte offset in the file where parsing failed. */
  readonly offset?: number;
  /** For ERR_LEAKGUARD_IO: the path involved. */
  readonly path?: string;
  /** For ERR_LEAKGUARD_IO: the underlying errno code (`ENOSPC`, `ENOENT`, …). */
  readonly errno?: string;
  readonly syscall?: string;
}

/** The error codes, by short name. */
export declare const codes: {
  readonly PARSE: 'ERR_LEAKGUARD_PARSE';
  readonly IO: 'ERR_LEAKGUARD_IO';
  readonly INVALID_ARG: 'ERR_LEAKGUARD_INVALID_ARG';
  readonly ABORTED: 'ERR_LEAKGUARD_ABORTED';
  readonly MISMATCH: 'ERR_LEAKGUARD_MISMATCH';
  readonly TOO_LARGE: 'ERR_LEAKGUARD_TOO_LARGE';
  readonly INTERNAL: 'ERR_LEAKGUARD_INTERNAL';
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
export declare function writeSnapshot(
  filename?: string,
  callback?: (err: LeakguardError | null, filename?: string) => void,
): string;
export declare function writeSnapshot(callback: (err: LeakguardError | null, filename?: string) => void): string;

/** Defaults shared by the capture functions. */
export interface ConfigureOptions {
  /** Directory for unnamed dumps (`null` = the current directory at dump time). */
  directory?: string | null;
}
/** Sets capture defaults; returns the settings now in force. */
export declare function configure(options: ConfigureOptions): { directory: string | null };

/** Options of dumpOnSignal(). */
export interface DumpOnSignalOptions {
  /** Signal to listen for. Default `'SIGUSR2'`. */
  signal?: NodeJS.Signals;
  /** Where dumps go (created 0700 if missing). Default: `configure()`'s directory, else cwd. */
  directory?: string;
  /** Keep at most this many `heapdump-*.heapsnapshot` files in `directory`; older ones are deleted. Default: no limit. */
  maxFiles?: number;
  /** Signals closer together than this collapse into one trailing dump. Default 1000. */
  minIntervalMs?: number;
  /** Called with the path of each completed dump. */
  onDump?: (file: string) => void;
  /** Called with each failure (default: a process warning; never a crash). */
  onError?: (err: LeakguardError) => void;
}
/**
 * Dumps a snapshot whenever `signal` arrives. Off unless called. The app's own listeners for
 * the signal keep running. In a worker thread the main thread relays the signal (the main
 * thread must have loaded leakguard too). Returns a function that uninstalls it.
 */
export declare function dumpOnSignal(options?: DumpOnSignalOptions): () => void;

/** Options of dumpNearHeapLimit(). */
export interface DumpNearHeapLimitOptions {
  /** Where dumps go. Default: `configure()`'s directory, else cwd. */
  directory?: string;
  /** At most this many dumps. Default 1. */
  maxCount?: number;
  /** Dump when the old generation’s use reaches threshold × its limit (checked after each major GC). Default 0.8. */
  threshold?: number;
  /** Also arm V8's in-allocation near-limit hook (Node's own file names, written to cwd or --diagnostic-dir). */
  native?: boolean;
  onDump?: (file: string) => void;
  onError?: (err: LeakguardError) => void;
}
/** Writes a snapshot when the heap approaches its limit. Returns a function that disarms it. */
export declare function dumpNearHeapLimit(options?: DumpNearHeapLimitOptions): () => void;

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
export declare class HeapSnapshot {
  private constructor();
  /** Number of nodes (heap objects, including synthetic roots). */
  readonly nodeCount: number;
  /** Number of edges (references). */
  readonly edgeCount: number;
  /** Sum of all self sizes, in bytes. */
  readonly totalSize: number;
  /** Approximate bytes of native memory this snapshot holds. */
  readonly memoryBytes: number;
  /** Whether dispose() was called. */
  readonly disposed: boolean;
  /** Frees the native memory now (the garbage collector frees it otherwise). */
  dispose(): void;
}

/**
 * Parses a `.heapsnapshot` file on a worker thread. Corrupt input rejects with
 * `ERR_LEAKGUARD_PARSE` (with `offset`), a missing or unreadable file with `ERR_LEAKGUARD_IO`.
 */
export declare function loadSnapshot(path: string, options?: LoadOptions): Promise<HeapSnapshot>;
/** loadSnapshot on the calling thread (blocks it): for scripts and command-line tools. */
export declare function loadSnapshotSync(path: string): HeapSnapshot;
