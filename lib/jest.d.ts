// Types for `leakguard/jest`: matchers for `expect.extend(require('leakguard/jest'))`.
// Importing this module (or listing it in `types`/a `/// <reference types>`) adds `toLeak` to
// Jest's matchers, both the global `expect` (@types/jest) and `@jest/globals`' (the `expect`
// package).
import type { LeakCheckOptions, LeakCheckResult } from '../index';

interface LeakMatcherResult {
  pass: boolean;
  message(): string;
  result: LeakCheckResult;
}

declare const matchers: {
  /** `await expect(fn).not.toLeak(options?)`: fails when calls of `fn` leave objects alive. */
  toLeak(this: unknown, received: unknown, options?: LeakCheckOptions): Promise<LeakMatcherResult>;
};
export = matchers;

declare global {
  namespace jest {
    // biome-ignore lint/complexity/noBannedTypes: must match @types/jest's declaration to merge with it
    interface Matchers<R, T = {}> {
      /**
       * Calls the function under test repeatedly between heap snapshots and passes when the
       * objects its calls create survive in a number that grows with the calls (a leak). Use
       * `await expect(fn).not.toLeak()`. An async matcher: always `await` it.
       */
      toLeak(options?: LeakCheckOptions): Promise<R>;
    }
  }
}

declare module 'expect' {
  interface Matchers<R extends void | Promise<void>, T = unknown> {
    /** Calls `fn` repeatedly between heap snapshots; `await expect(fn).not.toLeak()`. */
    toLeak(options?: LeakCheckOptions): Promise<R>;
  }
}
