'use strict';

// Jest matchers: `expect.extend(require('leakguard/jest'))`, then
//   await expect(fn).not.toLeak();            // fails with the LeakError message
//   await expect(fn).toLeak({ iterations: 50 });
// or list `leakguard/jest/setup` in `setupFilesAfterEnv` (lib/jest-setup.js) instead.
// Works in Jest's per-file VM context and in its worker processes: leakguard forces GCs without
// --expose-gc and recognises its own objects across module copies (Symbol.for keys). The
// matcher itself is shared with leakguard/vitest (lib/matchers.js).

const { toLeak } = require('./matchers');

module.exports = { toLeak };
