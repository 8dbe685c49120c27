'use strict';

// Text of findLeaks' growing collections (docs/leaks.md#growing-collections), one place for the
// CLI, the HTML report's model and the sampler's diagnosis, so all three say the same words:
// `requests (Map): 0 → 1,500 → 3,000 entries, +282.8 KB`.

const { formatBytes, formatCount, formatDelta } = require('./format');
const loc = require('./locations');

const KIND = { map: 'Map', set: 'Set', array: 'Array', typedArray: 'typed array', object: 'object' };

/** What to call the collection: its variable or property, else `Class @id`. */
function collectionName(c) {
  return c.name ? c.name : `${c.className} @${c.id}`;
}

/**
 * One line for a growing collection: name (class), entries per snapshot, retained growth.
 * Snapshots taken before it existed show `–`.
 * @param {object} c a GrowingCollection
 * @returns {string}
 */
function collectionLine(c) {
  const cls = c.className || KIND[c.kind] || c.kind;
  const counts = c.entries.map((n, i) => (i < c.firstSeen ? '\u2013' : formatCount(n))).join(' → ');
  const unit = c.kind === 'typedArray' ? 'elements' : 'entries';
  return `${collectionName(c)} (${cls}): ${counts} ${unit}, ${formatDelta(c.retainedGrowth)}`;
}

/** Retained sizes per snapshot: `184 B → 138.1 KB → 276.1 KB`. */
function collectionSizes(c) {
  return c.retainedSizes.map((n, i) => (i < c.firstSeen ? '\u2013' : formatBytes(n))).join(' → ');
}

/** The newest entries as `key → value` texts (a Set's entries have no value). */
function collectionSamples(c) {
  return (c.newest || []).map((e) => (e.value ? `${e.key} → ${e.value}` : e.key));
}

/**
 * Where the collection is defined, for a person: the declaration line of the variable holding
 * it when its script is a readable local file (lib/locations.js holderLocation), else the
 * engine's location of the holder (its scope's function, or the class of the object holding the
 * property); '' when the snapshot does not tell.
 */
function collectionLocation(c) {
  // holderLocation reads a path to a held object: the collection stands in the holder's place.
  const held = c.path && Array.isArray(c.path.steps) ? { steps: [...c.path.steps, { edge: null }] } : null;
  return loc.holderLocation(held) || loc.displayLocation(c.location);
}

module.exports = { collectionLine, collectionName, collectionSizes, collectionSamples, collectionLocation };
