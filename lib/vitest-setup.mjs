// leakguard/vitest/setup: registers the toLeak matcher when listed in Vitest's config,
//   test: { setupFiles: ['leakguard/vitest/setup'] }
// so test files call `await expect(fn).not.toLeak()` without `expect.extend` of their own
// (and without `globals: true`: the `expect` extended is the one `vitest` exports, the instance
// the test files import).
import { expect } from 'vitest';
import { toLeak } from './vitest.mjs';

expect.extend({ toLeak });
