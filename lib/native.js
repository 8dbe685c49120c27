'use strict';

// The compiled addon, loaded through the loader that `napi build --platform` generates
// (it picks ./leakguard.<platform>.node or the per-platform npm package).
let native;
try {
  native = require('../binding.js');
} catch (err) {
  const e = new Error(
    `leakguard: the native addon could not be loaded (${err.message}). ` +
      'From a source checkout, run `npm run build` first.',
  );
  e.code = 'ERR_LEAKGUARD_NOT_BUILT';
  e.cause = err;
  throw e;
}
module.exports = native;
