'use strict';

// What a failing leak test says: `node demo/assertion.js`. A login handler that stores every
// session in a module-level Map, checked with assertNoLeak as a unit test would.

const lg = require('..');

class Session {
  constructor(user) {
    this.user = user;
    this.createdAt = Date.now();
    this.permissions = ['read', 'write'];
  }
}
const sessionStore = new Map();
let next = 0;

function login(user) {
  const id = `s${++next}`;
  sessionStore.set(id, new Session(user)); // never expired: the leak
  return id;
}

lg.assertNoLeak(() => login('alice')).then(
  () => console.log('assertNoLeak(login): passed (unexpected)'),
  (err) => {
    if (err.code !== 'ERR_LEAKGUARD_LEAK') throw err;
    console.log(`in a test: await assertNoLeak(() => login('alice')) rejects with ${err.code}:`);
    console.log(`  ${err.message.replace(/\n/g, '\n  ')}\n`);
  },
);
