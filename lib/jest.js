'use strict';

// Jest matchers: `expect.extend(require('leakguard/jest'))`, then
//   await expect(fn).not.toLeak();            // fails with the LeakError message
//   await expect(fn).toLeak({ iterations: 50 });
// Works in Jest's per-file VM context and in its worker processes: leakguard forces GCs without
// --expose-gc and recognises its own objects across module copies (Symbol.for keys).

const { checkLeak, formatResult } = require('./assert');

/** `expect(fn).toLeak(options?)`: an async matcher; await it. */
async function toLeak(received, options) {
  const name = 'toLeak';
  const hint = this && this.utils ? this.utils.matcherHint(name, 'fn', 'options', { isNot: this.isNot, promise: this.promise }) : `expect(fn).${this && this.isNot ? 'not.' : ''}toLeak()`;
  if (typeof received !== 'function') {
    const shown = this && this.utils ? this.utils.printReceived(received) : String(received);
    throw new TypeError(`${hint}\n\nreceived value must be a function (the code to call repeatedly), got ${shown}`);
  }
  const result = await checkLeak(received, options);
  return {
    pass: result.leaked,
    // Jest shows this when the assertion fails: for .not.toLeak() that is when fn leaked.
    message: () => `${hint}\n\n${formatResult(result)}`,
    result,
  };
}

module.exports = { toLeak };
