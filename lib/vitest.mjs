// Vitest matchers: `import { toLeak } from 'leakguard/vitest'; expect.extend({ toLeak })`, then
//   await expect(fn).not.toLeak();
//   await expect(fn).toLeak({ iterations: 50 });
// or list `leakguard/vitest/setup` in `test.setupFiles` (lib/vitest-setup.mjs) instead.
// The same matcher as leakguard/jest (lib/matchers.js); lib/vitest.d.mts adds `toLeak` to
// Vitest's `Assertion` type. An ES module like Vitest itself (which cannot be required), so
// `import * as leakMatchers` holds only the matchers and can be passed to expect.extend. Works
// in Vitest's forks and threads pools: leakguard forces GCs without --expose-gc, and a worker
// thread snapshots its own isolate.
import matchers from './matchers.js';

export const { toLeak } = matchers;
