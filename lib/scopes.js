'use strict';

// Names the variables that V8's heap snapshots leave unnamed: block-scoped ones.
//
// A snapshot names a context slot (`->sessionStore`) only for function, module and script
// contexts; a *block* context's slots come out as hidden edges (`{context} (system / Context) →
// {1} (Map)`). Vitest runs every source file through Vite's module runner, which wraps the
// module's code in a block (`async (…) => {{ code }}`), so each top-level `const`/`let` of a
// user's module lives in a block context and the leak message could not say which variable
// holds the leak. The objects are still alive after the check, so the name is recovered from
// the live heap: the inspector maps a snapshot node id to the object (HeapProfiler ids are the
// ones v8.writeHeapSnapshot writes), the closure's [[Scopes]] list its block scope's
// variables, and the variable whose value has the held object's id is the holder.
//
// Best effort by design: any step it cannot resolve keeps V8's own notation. The inspector
// session is lib/inspector.js's shared one, never disconnected (that would make V8 forget its
// heap object ids).

const CONTEXT = 'system / Context';

const { session, post } = require('./inspector');

/** The unnamed context slots of a path: [{ index, holderId, targetId }]. */
function unnamedSlots(steps) {
  const out = [];
  for (let i = 2; i < steps.length; i++) {
    const s = steps[i];
    if (s.edge?.type !== 'hidden' || steps[i - 1].className !== CONTEXT) continue;
    // The closure that owns the context chain: the step before the run of contexts.
    let j = i - 1;
    while (j > 0 && steps[j].className === CONTEXT) j--;
    if (j === i - 1) continue;
    out.push({ index: i, holderId: steps[j].id, targetId: s.id });
  }
  return out;
}

/** Variables of a function's non-global scopes whose value is the object with `targetId`. */
async function scopeVariableHolding(holderId, targetIds, group) {
  const found = new Map();
  const fn = await post('HeapProfiler.getObjectByHeapObjectId', { objectId: String(holderId), objectGroup: group });
  if (!fn.result?.objectId) return found;
  const own = await post('Runtime.getProperties', { objectId: fn.result.objectId, ownProperties: true });
  const scopes = (own.internalProperties || []).find((p) => p.name === '[[Scopes]]');
  if (!scopes?.value?.objectId) return found;
  const list = await post('Runtime.getProperties', { objectId: scopes.value.objectId, ownProperties: true });
  for (const scope of list.result) {
    const desc = scope.value?.description;
    // The global and script scopes are named in snapshots already (and are large).
    if (!scope.value?.objectId || desc === 'Global' || desc === 'Script') continue;
    const vars = await post('Runtime.getProperties', { objectId: scope.value.objectId, ownProperties: true });
    for (const v of vars.result) {
      if (!v.value?.objectId || found.size === targetIds.size) continue;
      const { heapSnapshotObjectId } = await post('HeapProfiler.getHeapObjectId', { objectId: v.value.objectId });
      const id = Number(heapSnapshotObjectId);
      if (targetIds.has(id) && !found.has(id)) found.set(id, v.name);
    }
  }
  return found;
}

/** Rewrites step `index` of a rendered path (`A → .b (B) → {1} (Map) → … → Obj`) to `->name`. */
function renameStep(text, stepCount, index, name) {
  const parts = text.split(' → ');
  if (parts.length !== stepCount + 1 || !/^\{\d+\}/.test(parts[index])) return text;
  parts[index] = parts[index].replace(/^\{\d+\}/, `->${name}`);
  return parts.join(' → ');
}

/**
 * Gives the unnamed block-scope steps of a leak result's retainer paths their variable names
 * (`{1} (Map)` → `->sessionStore (Map)`), in `result.suspects[].path/paths` and in the report
 * paths they came from. Resolves to the same result; never rejects.
 */
async function nameBlockScopes(result) {
  try {
    if (!result?.leaked || !result.report || !Array.isArray(result.suspects)) return result;
    const used = new Set(result.suspects.flatMap((s) => s.paths || []));
    const paths = [];
    for (const g of result.report.suspects) {
      for (const p of g.paths || []) if (used.has(p.text) && Array.isArray(p.steps)) paths.push(p);
    }
    const work = paths.map((p) => ({ p, slots: unnamedSlots(p.steps) })).filter((w) => w.slots.length > 0);
    if (work.length === 0 || !session()) return result;
    const byHolder = new Map();
    for (const w of work) {
      for (const s of w.slots) {
        if (!byHolder.has(s.holderId)) byHolder.set(s.holderId, new Set());
        byHolder.get(s.holderId).add(s.targetId);
      }
    }
    const group = 'leakguard-scopes';
    const names = new Map();
    try {
      for (const [holderId, targets] of byHolder) {
        try {
          for (const [id, name] of await scopeVariableHolding(holderId, targets, group)) names.set(`${holderId}:${id}`, name);
        } catch {
          // The holder is gone or is not a function: this step keeps V8's notation.
        }
      }
    } finally {
      await post('Runtime.releaseObjectGroup', { objectGroup: group }).catch(() => {});
    }
    const renamed = new Map();
    for (const { p, slots } of work) {
      let text = p.text;
      for (const s of slots) {
        const name = names.get(`${s.holderId}:${s.targetId}`);
        if (!name) continue;
        text = renameStep(text, p.steps.length, s.index, name);
        p.steps[s.index].edge = { type: 'context', name };
      }
      if (text !== p.text) {
        renamed.set(p.text, text);
        p.text = text;
      }
    }
    for (const s of result.suspects) {
      if (renamed.has(s.path)) s.path = renamed.get(s.path);
      if (Array.isArray(s.paths)) s.paths = s.paths.map((t) => renamed.get(t) || t);
    }
  } catch {
    // Naming is a refinement of the message; the check's verdict never depends on it.
  }
  return result;
}

module.exports = { nameBlockScopes, unnamedSlots, renameStep };
