// Types for `leakguard/vitest` (lib/vitest.mjs): the matcher for Vitest's `expect.extend({ toLeak })`.
// Importing this module (or listing `leakguard/vitest` in tsconfig `types`) adds `toLeak` to
// Vitest's `Assertion`, so `await expect(fn).not.toLeak()` type-checks.
//
// Only `Assertion` is augmented, not `Matchers` or `AsymmetricMatchersContaining`: those would
// also declare `expect.toLeak()` as an asymmetric matcher (`expect.objectContaining` style),
// which cannot work for an async matcher (Vitest reads `pass` synchronously there).
// An ES module declaration on purpose: under moduleResolution node16/nodenext a CommonJS-format
// file resolves 'vitest' to its require entry (index.d.cts, an `export *`), and augmenting
// that does not reach `Assertion`.
// `import 'vitest'` first, as Vitest's guide does: when this file is the first to reach
// 'vitest' (a setup file that imports only leakguard/vitest/setup), TypeScript otherwise
// drops the augmentation of the re-exported `Assertion`.
import 'vitest';
import type { LeakCheckOptions, LeakCheckResult } from '../index.js';

export interface LeakMatcherResult {
  pass: boolean;
  message(): string;
  result: LeakCheckResult;
}

/** `await expect(fn).not.toLeak(options?)`: fails when calls of `fn` leave objects alive. */
export declare function toLeak(this: unknown, received: unknown, options?: LeakCheckOptions): Promise<LeakMatcherResult>;

declare module 'vitest' {
  interface Assertion<T = any> {
    /**
     * Calls the function under test repeatedly between heap snapshots and passes when the
     * objects its calls create survive in a number that grows with the calls (a leak). Use
     * `await expect(fn).not.toLeak()`. An async matcher: always `await` it, and give the test
     * a timeout that fits three heap snapshots (`testTimeout`).
     */
    toLeak(options?: LeakCheckOptions): Promise<void>;
  }
}
