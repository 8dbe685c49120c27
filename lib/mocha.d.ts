// Types for `leakguard/mocha`. lib/mocha.js is CommonJS, hence `export =` (see index.d.ts).
import leakguard = require('../index');

declare namespace mocha {
  export import assertNoLeak = leakguard.assertNoLeak;
  export import checkLeak = leakguard.checkLeak;
  export import LeakError = leakguard.LeakError;
  export type LeakCheckOptions = leakguard.LeakCheckOptions;
  export type LeakCheckResult = leakguard.LeakCheckResult;

  /** Options of itDoesNotLeak/itLeaks: checkLeak's options, plus the `it` to use (default: Mocha's global). */
  export interface LeakTestOptions extends LeakCheckOptions {
    it?: (title: string, fn: (this: any) => Promise<unknown>) => any;
  }

  /**
   * Declares a Mocha test (`it(title)`) that calls `fn` repeatedly between heap snapshots and
   * fails with a LeakError when it leaks. Its timeout fits the check (`timeoutFor(options)`).
   */
  export const itDoesNotLeak: {
    (title: string, fn: () => unknown, options?: LeakTestOptions): any;
    only(title: string, fn: () => unknown, options?: LeakTestOptions): any;
  };
  /** A Mocha timeout (ms) that fits a check with these options: `timeoutMs` plus a margin (0 = none). */
  export function timeoutFor(options?: LeakCheckOptions): number;
}

export = mocha;
