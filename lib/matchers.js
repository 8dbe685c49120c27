'use strict';

// The `toLeak` matcher, one implementation for both runners: leakguard/jest and
// leakguard/vitest export this function. Jest's `expect.extend` and Vitest's (Jest-compatible)
// call a matcher with the same context: `this.isNot`, `this.promise` and
// `this.utils.matcherHint`/`printReceived`; both await a returned promise and negate `pass`
// themselves for `.not`, then show `message()` when the assertion fails.
// The message is formatResult's, as assertNoLeak's LeakError (checkLeak has named block-scoped
// holders, all of a module's variables under Vitest, through lib/scopes.js).

const { checkLeak, formatResult } = require('./assert');
const { invalidArg } = require('./errors');

function hintOf(ctx) {
  if (ctx?.utils && typeof ctx.utils.matcherHint === 'function') {
    return ctx.utils.matcherHint('toLeak', 'fn', 'options', { isNot: ctx.isNot, promise: ctx.promise });
  }
  // Called as a plain function (not through expect.extend): still a readable first line.
  return `expect(fn).${ctx?.isNot ? 'not.' : ''}toLeak()`;
}

/** `expect(fn).toLeak(options?)`: an async matcher; await it. */
async function toLeak(received, options) {
  const hint = hintOf(this);
  if (typeof received !== 'function') {
    const shown = this && this.utils && typeof this.utils.printReceived === 'function' ? this.utils.printReceived(received) : String(received);
    throw invalidArg(`${hint}\n\nreceived value must be a function (the code to call repeatedly), got ${shown}`);
  }
  const result = await checkLeak(received, options);
  return {
    pass: result.leaked,
    // Shown when the assertion fails: for .not.toLeak() that is when fn leaked.
    message: () => `${hint}\n\n${formatResult(result)}`,
    result,
  };
}

module.exports = { toLeak };
