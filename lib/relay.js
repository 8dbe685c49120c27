'use strict';

// Signals reach only the main thread of a Node process (process.on(signal) does nothing in a
// worker). So a worker that calls dumpOnSignal subscribes over a BroadcastChannel, and the main
// thread's copy of leakguard listens for the signal on its behalf and passes it on. The main
// thread must have required leakguard too (or run with -r leakguard/register).

const { BroadcastChannel, isMainThread, threadId } = require('node:worker_threads');

const CHANNEL = 'leakguard:signals';
const TERMINATING = new Set(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGKILL', 'SIGSTOP']);
let channel = null;

function open(onMessage) {
  channel = new BroadcastChannel(CHANNEL);
  channel.unref(); // never keep a thread alive just to relay
  channel.onmessage = (ev) => onMessage(ev.data || {});
  return channel;
}

/** Main thread: relays each subscribed signal to the workers that asked for it. */
function installMainRelay() {
  if (!isMainThread || channel) return;
  const subs = new Map(); // signal -> { ids: Set, listener }
  open((msg) => {
    // Any code in the process can post on this channel: never listen for a signal that ends
    // the process (a listener would disable Node's default exit), whatever a message asks.
    if (typeof msg.signal !== 'string' || TERMINATING.has(msg.signal)) return;
    let entry = subs.get(msg.signal);
    if (msg.t === 'sub') {
      if (!entry) {
        const listener = () => channel.postMessage({ t: 'sig', signal: msg.signal });
        try {
          process.on(msg.signal, listener);
        } catch {
          return; // not a signal this platform can listen for
        }
        entry = { ids: new Set(), listener };
        subs.set(msg.signal, entry);
      }
      entry.ids.add(msg.id);
    } else if (msg.t === 'unsub' && entry) {
      entry.ids.delete(msg.id);
      if (entry.ids.size === 0) {
        process.removeListener(msg.signal, entry.listener);
        subs.delete(msg.signal);
      }
    }
  });
  // Workers that subscribed before this channel existed re-send their subscriptions.
  channel.postMessage({ t: 'hello' });
}

const local = new Map(); // id -> { signal, listener }
let seq = 0;

/** Worker thread: calls `listener` whenever the main thread receives `signal`. */
function subscribe(signal, listener) {
  if (!channel) {
    open((msg) => {
      if (msg.t === 'sig') {
        for (const s of local.values()) if (s.signal === msg.signal) s.listener();
      } else if (msg.t === 'hello') {
        for (const [id, s] of local) channel.postMessage({ t: 'sub', signal: s.signal, id });
      }
    });
  }
  const id = `${threadId}:${++seq}`;
  local.set(id, { signal, listener });
  channel.postMessage({ t: 'sub', signal, id });
  return () => {
    if (local.delete(id)) channel.postMessage({ t: 'unsub', signal, id });
  };
}

module.exports = { installMainRelay, subscribe };
