'use strict';

// leakguard/jest/setup: registers the toLeak matcher when listed in Jest's config,
//   setupFilesAfterEnv: ['leakguard/jest/setup']
// so test files call `await expect(fn).not.toLeak()` without `expect.extend` of their own.
// Jest runs this file in each test file's context after the framework is installed, so the
// `expect` it extends is that file's own. With `injectGlobals: false` there is no global
// `expect`; `@jest/globals` (which Jest's runtime answers by name) gives the same one.

const { toLeak } = require('./jest');
const { invalidArg } = require('./errors');

function jestExpect() {
  const g = globalThis.expect;
  if (typeof g === 'function' && typeof g.extend === 'function') return g;
  let globals;
  try {
    globals = require('@jest/globals');
  } catch (cause) {
    const err = invalidArg("leakguard/jest/setup found no Jest `expect`: list it in Jest's `setupFilesAfterEnv`, not in `setupFiles` or outside Jest");
    err.cause = cause;
    throw err;
  }
  return globals.expect;
}

jestExpect().extend({ toLeak });
