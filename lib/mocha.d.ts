// Types for `leakguard/mocha`.
import type { LeakCheckOptions, LeakCheckResult } from '../index';
export { assertNoLeak, checkLeak, LeakError, LeakCheckOptions, LeakCheckResult } from '../index';

/** Options of itDoesNotLeak/itLeaks: checkLeak's options, plus the `it` to use (default: Mocha's global). */
export interface LeakTestOptions extends LeakCheckOptions {
  it?: (title: string, fn: (this: any) => Promise<unknown>) => any;
}

/**
 * Declares a Mocha test (`it(title)`) that calls `fn` repeatedly between heap snapshots and
 * fails with a LeakError when it leaks. Its timeout fits the check (`timeoutFor(options)`).
 */
export declare const itDoesNotLeak: {
  (title: string, fn: () => unknown, options?: LeakTestOptions): any;
  only(title: string, fn: () => unknown, options?: LeakTestOptions): any;
};
/** A Mocha timeout (ms) that fits a check with these options: `timeoutMs` plus a margin (0 = none). */
export declare function timeoutFor(options?: LeakCheckOptions): number;
