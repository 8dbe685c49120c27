// The HTML report's browser script (a plain browser script, not a module): lib/report/index.js
// inlines it into every page after lib/format.js's formatBytes, formatDelta and formatCount, so
// it may use those three and browser APIs, nothing else. It reads the JSON model from
// #lg-data, builds every section with DOM APIs (textContent, setAttribute; never markup:
// class names and paths are user data), then applies `?sort=` / `?filter=` from the URL, writes
// any error into #lg-errors and sets `<html data-lg-ready="1">` (the tests wait for it).
// It must never spell a script end tag or an HTML comment opener (index.js checks).

'use strict';

(() => {
  const doc = document;
  const errors = doc.getElementById('lg-errors');
  const fail = (where, e) => {
    const li = doc.createElement('li');
    li.textContent = where + ': ' + (e?.stack ? String(e.stack).split('\n').slice(0, 4).join(' | ') : String(e));
    errors.appendChild(li);
  };
  window.addEventListener('error', (ev) => fail('uncaught', ev.error || ev.message));

  /** h('td', { class: 'num', title }, children): an element; strings become text nodes. */
  function h(tag, attrs, children) {
    const e = doc.createElement(tag);
    for (const k in attrs || {}) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      e.setAttribute(k, v === true ? '' : String(v));
    }
    add(e, children);
    return e;
  }
  function add(e, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) {
      for (const x of c) add(e, x);
    } else if (typeof c === 'object' && c.nodeType) e.appendChild(c);
    else e.appendChild(doc.createTextNode(String(c)));
  }
  const SVG = 'http://www.w3.org/2000/svg'; // a namespace name, never fetched
  function s(tag, attrs, text) {
    const e = doc.createElementNS(SVG, tag);
    for (const k in attrs || {}) if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const arr = (x) => (Array.isArray(x) ? x : []);
  const str = (x) => (x === null || x === undefined ? '' : String(x));
  const isNum = (x) => typeof x === 'number' && Number.isFinite(x);
  const notice = (text, kind) => h('p', { class: 'notice' + (kind ? ' ' + kind : '') }, text);
  const body = (id) => doc.querySelector('#' + id + ' .body');
  // Long strings (string contents, code) are cut for display; the full text is in the tooltip.
  const cut = (x, n) => {
    const t = str(x);
    return t.length > n ? t.slice(0, n - 1) + '\u2026' : t;
  };
  // V8 distances: negative = unreachable, shown as `–`; rows the engine flags `system` are
  // reachable only through V8's internal roots, shown as `sys`, as the CLI prints them.
  const distance = (d) => (isNum(d) && d >= 0 ? d : null);

  const tables = Object.create(null);

  /**
   * A table sortable by every column (click the header; numbers sort numerically, first click
   * descending; text ascending; the next click toggles), with an optional class-name filter.
   */
  function table(id, cols, rows, sorted) {
    const state = { key: sorted ? sorted[0] : null, dir: sorted ? sorted[1] : null, filter: '' };
    const ths = Object.create(null);
    const byKey = Object.create(null);
    const headRow = h('tr');
    for (const c of cols) {
      byKey[c.key] = c;
      const btn = h('button', { type: 'button', class: 'sort', 'data-key': c.key }, c.label);
      btn.addEventListener('click', () => clickSort(c.key));
      const th = h('th', { scope: 'col', class: c.num ? 'num' : null, 'data-key': c.key, title: c.help, 'aria-sort': 'none' }, btn);
      ths[c.key] = th;
      headRow.appendChild(th);
    }
    const trs = rows.map((r) =>
      h(
        'tr',
        null,
        cols.map((c) => {
          const v = c.cell ? c.cell(r) : r[c.key];
          const cls = [c.num ? 'num' : '', c.cls || '', c.tone ? c.tone(r) : ''].filter(Boolean).join(' ');
          return h('td', { class: cls || null, title: c.tip ? c.tip(r) : null }, v);
        }),
      ),
    );
    const tbody = h('tbody', null, trs);
    const tbl = h('table', { id, class: 'sortable' }, [h('thead', null, headRow), tbody]);
    let order = rows.map((_, i) => i);

    function clickSort(key) {
      const c = byKey[key];
      const dir = state.key === key ? (state.dir === 'asc' ? 'desc' : 'asc') : c.num ? 'desc' : 'asc';
      sortBy(key, dir);
    }
    function sortBy(key, dir) {
      const c = byKey[key];
      const get = c.sort || ((r) => r[key]);
      const vals = rows.map(get);
      const sign = dir === 'asc' ? 1 : -1;
      const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });
      order = rows.map((_, i) => i);
      order.sort((a, b) => {
        const x = vals[a];
        const y = vals[b];
        const mx = x === null || x === undefined;
        const my = y === null || y === undefined;
        if (mx || my) return mx === my ? a - b : mx ? 1 : -1; // missing values last, both ways
        const d = c.num ? x - y : collator.compare(String(x), String(y));
        return d ? sign * d : a - b;
      });
      state.key = key;
      state.dir = dir;
      for (const k in ths) ths[k].setAttribute('aria-sort', k === key ? (dir === 'asc' ? 'ascending' : 'descending') : 'none');
      const frag = doc.createDocumentFragment();
      for (const i of order) frag.appendChild(trs[i]);
      tbody.appendChild(frag);
    }
    function setFilter(q) {
      state.filter = q.toLowerCase();
      rows.forEach((r, i) => {
        trs[i].hidden = state.filter !== '' && str(r.className).toLowerCase().indexOf(state.filter) < 0;
      });
    }
    if (sorted) ths[sorted[0]].setAttribute('aria-sort', sorted[1] === 'asc' ? 'ascending' : 'descending');
    const api = { el: h('div', { class: 'scroll' }, tbl), table: tbl, ths, state, sortBy, setFilter };
    tables[id] = api;
    return api;
  }

  /** One panel per item, a tab bar to switch (no bar for a single item). */
  function tabs(name, items, selected) {
    const bar = h('div', { class: 'tabs', role: 'tablist' });
    const buttons = [];
    const panels = items.map((it, i) => {
      const b = h(
        'button',
        {
          type: 'button',
          role: 'tab',
          id: name + '-tab-' + i,
          'aria-controls': name + '-panel-' + i,
          'aria-selected': String(i === selected),
          title: it.title,
        },
        it.label,
      );
      b.addEventListener('click', () => select(i));
      buttons.push(b);
      bar.appendChild(b);
      return h('div', { role: 'tabpanel', id: name + '-panel-' + i, 'aria-labelledby': b.id, hidden: i !== selected }, it.content());
    });
    function select(i) {
      buttons.forEach((b, j) => {
        b.setAttribute('aria-selected', String(i === j));
      });
      panels.forEach((p, j) => {
        p.hidden = i !== j;
      });
    }
    return items.length > 1 ? [bar].concat(panels) : panels;
  }

  function filterBox(label, ids) {
    const input = h('input', { type: 'search', placeholder: 'Filter classes\u2026', 'aria-label': label, spellcheck: 'false' });
    input.addEventListener('input', () => {
      for (const id of ids) tables[id]?.setFilter(input.value);
    });
    return h('div', { class: 'tools' }, h('label', null, input));
  }

  const bytesCol = (key, label, help) => ({ key, label, num: true, help, cell: (r) => formatBytes(r[key]) });
  const countCol = (key, label, help) => ({ key, label, num: true, help, cell: (r) => formatCount(r[key]) });
  const classCol = { key: 'className', label: 'Class', cls: 'cls mono', tip: (r) => cut(r.className, 2000), cell: (r) => cut(r.className, 200) };
  const distCol = {
    key: 'distance',
    label: 'Distance',
    num: true,
    help: 'References from a global object (sys: reachable only through V8\u2019s internal roots; \u2013: unreachable)',
    sort: (r) => distance(r.distance),
    cell: (r) => (distance(r.distance) === null ? '\u2013' : r.system ? 'sys' : formatCount(r.distance)),
  };
  const tone = (key) => (r) => (r[key] > 0 ? 'up' : r[key] < 0 ? 'down' : '');

  // Lone surrogates (a heap can hold any UTF-16) shown as U+FFFD: the data stays exact, but
  // ill-formed text in the DOM breaks tools that encode it as UTF-8 (Chromium's --dump-dom dies).
  const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
  const data = JSON.parse(doc.getElementById('lg-data').textContent, (_k, v) => (typeof v === 'string' ? v.replace(lone, '\uFFFD') : v));
  const files = arr(data.files);

  function renderFiles() {
    const sizes =
      data.sizes === 'raw'
        ? 'raw (V8\u2019s self sizes as written)'
        : data.sizes === 'devtools'
          ? 'devtools (as Chrome DevTools shows them)'
          : str(data.sizes) || 'unknown';
    const tool = data.tool && typeof data.tool === 'object' ? (str(data.tool.name) || 'leakguard') + ' ' + str(data.tool.version) : 'leakguard';
    let when = str(data.generatedAt);
    const d = new Date(when);
    if (when && !Number.isNaN(d.getTime()))
      when = d
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC');
    doc.getElementById('lg-meta').textContent = ['Generated ' + (when || 'at an unknown time'), 'by ' + tool.trim(), 'sizes: ' + sizes].join(' \u00b7 ');
    const el = body('files');
    if (!files.length) {
      el.appendChild(notice('No snapshot files in this report.'));
      return;
    }
    const rows = files.map((f, i) => ({
      index: i + 1,
      label: str(f.label),
      path: str(f.path),
      bytes: f.bytes,
      nodeCount: f.nodeCount,
      edgeCount: f.edgeCount,
      totalSize: f.totalSize,
      totalDelta: i > 0 && isNum(f.totalSize) && isNum(files[i - 1].totalSize) ? f.totalSize - files[i - 1].totalSize : null,
    }));
    const t = table(
      'files-table',
      [
        { key: 'index', label: '#', num: true },
        { key: 'label', label: 'Snapshot', cls: 'name mono', tip: (r) => cut(r.path || r.label, 2000), cell: (r) => cut(r.label, 200) },
        bytesCol('bytes', 'File size'),
        countCol('nodeCount', 'Nodes'),
        countCol('edgeCount', 'Edges'),
        bytesCol('totalSize', 'Total size', 'Sum of the self sizes of all objects'),
        {
          key: 'totalDelta',
          label: '\u0394 total',
          num: true,
          help: 'Change from the previous snapshot',
          tone: tone('totalDelta'),
          cell: (r) => (r.totalDelta === null ? '' : formatDelta(r.totalDelta)),
        },
      ],
      rows,
    );
    el.appendChild(t.el);
  }

  function renderSummary() {
    const el = body('summary');
    if (!files.length) return el.appendChild(notice('No snapshot files, no class summary.'));
    el.appendChild(
      filterBox(
        'Filter the class summaries',
        files.map((_, i) => 'summary-' + i),
      ),
    );
    const items = files.map((f, i) => ({
      label: cut(f.label, 80) || 'file ' + (i + 1),
      title: str(f.label),
      content: () => {
        const rows = arr(f.summary);
        const total = isNum(f.totalSize) && f.totalSize > 0 ? f.totalSize : null;
        const shown = rows.length + ' of ' + formatCount(isNum(f.summaryTotal) ? f.summaryTotal : rows.length) + ' classes, biggest retained size first';
        const t = table(
          'summary-' + i,
          [
            classCol,
            countCol('count', 'Count', 'Objects of the class'),
            bytesCol('shallowSize', 'Shallow size', 'Sum of their own sizes'),
            bytesCol('retainedSize', 'Retained size', 'Memory freed if they all went away'),
            {
              key: 'pct',
              label: '% of heap',
              num: true,
              cls: 'pct',
              help: 'Retained size / total size of the snapshot',
              sort: (r) => (total && isNum(r.retainedSize) ? r.retainedSize / total : null),
              cell: (r) => {
                if (!total || !isNum(r.retainedSize)) return '\u2013';
                const p = Math.max(0, Math.min(100, (100 * r.retainedSize) / total));
                const bar = h('span', { class: 'bar' });
                bar.style.width = p.toFixed(1) + '%';
                return [h('span', { class: 'barbox' }, bar), p.toFixed(1) + ' %'];
              },
            },
            distCol,
          ],
          rows,
          ['retainedSize', 'desc'],
        );
        return [h('p', { class: 'note' }, shown + (total ? ' \u00b7 total ' + formatBytes(total) : '')), rows.length ? t.el : notice('No class rows.')];
      },
    }));
    add(el, tabs('summary', items, files.length - 1));
  }

  function renderLargest() {
    const el = body('largest');
    if (!files.length) return el.appendChild(notice('No snapshot files, no objects.'));
    const items = files.map((f, i) => ({
      label: cut(f.label, 80) || 'file ' + (i + 1),
      title: str(f.label),
      content: () => {
        const rows = arr(f.largest);
        if (!rows.length) return notice('No objects listed for this file.');
        return table(
          'largest-' + i,
          [
            { key: 'id', label: 'Id', num: true, cls: 'mono', cell: (r) => '@' + str(r.id) },
            classCol,
            { key: 'name', label: 'Name', cls: 'name mono', tip: (r) => cut(r.name, 2000), cell: (r) => cut(r.name, 200) },
            bytesCol('shallowSize', 'Shallow size'),
            bytesCol('retainedSize', 'Retained size'),
            distCol,
          ].concat(
            // Where the object's code is (docs/locations.md), when the snapshot tells.
            rows.some((r) => r.location) ? [{ key: 'location', label: 'Location', cls: 'loc mono', cell: (r) => cut(str(r.location), 300) }] : [],
          ),
          rows,
        ).el;
      },
    }));
    add(el, tabs('largest', items, files.length - 1));
  }

  function renderDiffs() {
    const el = body('diffs');
    const diffs = arr(data.diffs);
    if (!diffs.length) return el.appendChild(notice(files.length < 2 ? 'A diff needs at least two snapshot files.' : 'No diffs in this report.'));
    el.appendChild(
      filterBox(
        'Filter the diffs',
        diffs.map((_, i) => 'diff-' + i),
      ),
    );
    diffs.forEach((d, i) => {
      const box = h('div', { class: 'diff', id: 'diff-box-' + i });
      box.appendChild(h('h3', null, [h('code', null, cut(d.base, 200)), ' \u2192 ', h('code', null, cut(d.current, 200))]));
      if (d.error) {
        box.appendChild(notice([h('b', null, str(d.error.code) || 'Error'), ': ', str(d.error.message)], 'error'));
      } else {
        const rows = arr(d.rows);
        if (!rows.length) box.appendChild(notice('No class changed between these two snapshots.'));
        else {
          box.appendChild(
            h(
              'p',
              { class: 'note' },
              rows.length + ' of ' + formatCount(isNum(d.rowsTotal) ? d.rowsTotal : rows.length) + ' changed classes, biggest size change first',
            ),
          );
          box.appendChild(
            table(
              'diff-' + i,
              [
                classCol,
                countCol('addedCount', '# New', 'Objects in the current snapshot only'),
                countCol('removedCount', '# Deleted', 'Objects in the base snapshot only'),
                { key: 'countDelta', label: '# \u0394', num: true, tone: tone('countDelta'), cell: (r) => formatCount(r.countDelta, true) },
                bytesCol('addedSize', 'Alloc. size'),
                bytesCol('removedSize', 'Freed size'),
                { key: 'sizeDelta', label: 'Size \u0394', num: true, tone: tone('sizeDelta'), cell: (r) => formatDelta(r.sizeDelta) },
              ],
              rows,
            ).el,
          );
        }
      }
      el.appendChild(box);
    });
  }

  // The edge as the engine writes it in DevTools' notation (`.prop`, `[3]`, `->ctxVar`, `{internal}`).
  function edgeLabel(edge) {
    const text = str(edge.text);
    const type = str(edge.type);
    if (type === 'indirect') return [h('code', null, '\u2026'), h('span', { class: 'etype' }, 'shortened chain')];
    return [h('code', { title: cut(text, 2000) }, cut(text, 120)), type ? h('span', { class: 'etype' }, type) : null];
  }

  function chain(path) {
    const ol = h('ol', { class: 'chain' });
    arr(path.steps).forEach((st, i) => {
      if (i > 0) ol.appendChild(h('li', { class: 'edge' }, st.edge ? edgeLabel(st.edge) : h('code', null, '?')));
      const cls = str(st.className);
      const name = str(st.name);
      ol.appendChild(
        h('li', { class: 'step mono', title: cut(cls + (name && name !== cls ? ' ' + name : ''), 2000) }, [
          h('span', { class: 'cls' }, cut(cls, 160)),
          name && name !== cls ? h('span', { class: 'nm' }, cut(name, 160)) : null,
          st.id !== undefined && st.id !== null ? h('span', { class: 'oid' }, '@' + str(st.id)) : null,
          st.location ? h('code', { class: 'loc', title: 'source location: select to copy' }, cut(str(st.location), 400)) : null,
        ]),
      );
    });
    return ol;
  }

  // A suspect's allocation stacks as a bottom-up tree (lib/locations.js bottomUpTree): the
  // allocating functions first, each with its callers below, biggest first; Node's own frames dimmed.
  function allocTree(nodes, depth) {
    const ul = h('ul', { class: 'alloc-tree' });
    arr(nodes).forEach((n) => {
      const kids = arr(n.children);
      ul.appendChild(
        h('li', null, [
          h('span', { class: 'mono' }, formatBytes(n.size) + ' \u00d7' + formatCount(n.count) + ' '),
          h('code', { class: n.user ? 'loc' : 'loc internal' }, cut(str(n.frame), 400)),
          kids.length && depth < 8 ? allocTree(kids, depth + 1) : null,
        ]),
      );
    });
    return ul;
  }

  // The growing collections (docs/leaks.md#growing-collections): one card each, the line the
  // CLI prints (computed in Node by lib/collections.js), then sizes, holder path and newest entries.
  function renderCollections(el, list) {
    if (!list.length) return;
    el.appendChild(h('h3', { id: 'collections' }, 'Growing collections (' + formatCount(list.length) + ')'));
    list.forEach((c, i) => {
      const card = h('article', { class: 'suspect collection', id: 'collection-' + i });
      card.appendChild(h('h3', null, [h('span', { class: 'rank' }, '#' + (i + 1) + ' '), h('code', { title: cut(c.line, 2000) }, cut(c.line, 400))]));
      card.appendChild(h('p', { class: 'facts' }, [h('span', null, ['retained ', h('b', null, cut(c.sizes, 400))])]));
      if (c.path?.text) card.appendChild(h('p', { class: 'held' }, ['Path: ', h('code', { title: cut(c.path.text, 2000) }, cut(c.path.text, 400))]));
      if (c.defined) card.appendChild(h('p', { class: 'held' }, ['Defined at: ', h('code', null, cut(c.defined, 400))]));
      const samples = arr(c.samples);
      if (samples.length) card.appendChild(h('p', { class: 'shape' }, ['Newest: ', h('code', null, cut(samples.join(', '), 600))]));
      el.appendChild(card);
    });
  }

  function renderLeaks() {
    const el = body('leaks');
    const L = data.leaks;
    if (!L || typeof L !== 'object') {
      return el.appendChild(
        notice(
          'Leak detection needs three snapshots (baseline, target, final: take them before, during and after repeating the suspect action); this report has ' +
            files.length +
            '.',
        ),
      );
    }
    el.appendChild(
      h('p', { class: 'facts' }, [
        h('span', null, ['baseline ', h('b', { class: 'mono' }, cut(L.baseline, 120))]),
        h('span', null, ['target ', h('b', { class: 'mono' }, cut(L.target, 120))]),
        h('span', null, ['final ', h('b', { class: 'mono' }, cut(L.final, 120))]),
      ]),
    );
    if (L.error) return el.appendChild(notice([h('b', null, str(L.error.code) || 'Error'), ': ', str(L.error.message)], 'error'));
    el.appendChild(
      h(
        'p',
        { class: 'note' },
        formatCount(L.newInTarget) + ' objects were new in the target snapshot; ' + formatCount(L.stillAlive) + ' of them are still alive in the final one.',
      ),
    );
    renderCollections(el, arr(L.collections));
    const suspects = arr(L.suspects);
    if (!suspects.length)
      return el.appendChild(
        h(
          'p',
          { class: 'notice ok', id: 'no-suspects' },
          'No leak suspects: nothing allocated between baseline and target stayed alive in a way that looks like a leak.',
        ),
      );
    suspects.forEach((sp, i) => {
      const card = h('article', { class: 'suspect', id: 'suspect-' + i });
      card.appendChild(
        h('h3', null, [h('span', { class: 'rank' }, '#' + (i + 1) + ' '), h('code', { title: cut(sp.className, 2000) }, cut(sp.className, 200))]),
      );
      card.appendChild(
        h('p', { class: 'facts' }, [
          h('span', null, ['count ', h('b', null, formatCount(sp.count))]),
          h('span', null, ['retained ', h('b', null, formatBytes(sp.retainedSize))]),
          h('span', null, ['shallow ', h('b', null, formatBytes(sp.shallowSize))]),
          arr(sp.sampleIds).length
            ? h('span', null, [
                'samples ',
                h(
                  'b',
                  { class: 'mono' },
                  arr(sp.sampleIds)
                    .slice(0, 8)
                    .map((x) => '@' + str(x))
                    .join(' ') + (arr(sp.sampleIds).length > 8 ? ' \u2026' : ''),
                ),
              ])
            : null,
        ]),
      );
      const via = typeof sp.heldVia === 'number' ? suspects[sp.heldVia] : null;
      if (via && via !== sp) {
        card.appendChild(
          h('p', { class: 'notice via' }, [
            'Kept alive through ',
            h('a', { href: '#suspect-' + sp.heldVia }, 'suspect #' + (sp.heldVia + 1) + ' (' + cut(str(via.className), 200) + ')'),
            ': fixing that leak frees these too.',
          ]),
        );
      }
      if (sp.heldBy) {
        const at = sp.heldAt ? [', a variable of ', h('code', { class: 'loc' }, cut(str(sp.heldAt), 400))] : [];
        card.appendChild(h('p', { class: 'held' }, ['Held by: ', h('code', { title: cut(sp.heldBy, 2000) }, cut(sp.heldBy, 400))].concat(at)));
      }
      if (sp.location) card.appendChild(h('p', { class: 'held' }, ['Defined at: ', h('code', { class: 'loc' }, cut(str(sp.location), 400))]));
      const tree = arr(sp.allocationTree);
      if (tree.length)
        card.appendChild(h('details', { open: true, class: 'alloc' }, [h('summary', null, 'Allocated by (bottom-up, by size)'), allocTree(tree, 0)]));
      if (sp.shape) card.appendChild(h('p', { class: 'shape' }, ['Shape: ', h('code', { title: cut(sp.shape, 2000) }, cut(sp.shape, 400))]));
      const paths = arr(sp.paths);
      if (!paths.length) card.appendChild(h('p', { class: 'note' }, 'No retainer path (the samples may be retained only by weak or internal references).'));
      paths.forEach((p, j) => {
        const kind = str(p.kind) || 'devtools';
        const label =
          'Retainer path ' + (j + 1) + ' of ' + paths.length + ' (' + kind + (p.complete === false ? ', incomplete: does not reach a GC root' : '') + ')';
        card.appendChild(h('details', { open: j === 0, class: 'path' }, [h('summary', { title: cut(p.text, 2000) }, label), chain(p)]));
      });
      el.appendChild(card);
    });
  }

  // ---- memory timeline ----------------------------------------------------------------
  function niceStep(range, target) {
    const raw = range / target;
    const p = 10 ** Math.floor(Math.log10(raw));
    const f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }
  function decimals(step) {
    return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  }
  function byteTicks(lo, hi) {
    const big = Math.max(Math.abs(lo), Math.abs(hi), 1);
    const p = Math.max(0, Math.min(4, Math.floor(Math.log(big) / Math.log(1024))));
    const scale = 1024 ** p;
    const unit = ['B', 'KB', 'MB', 'GB', 'TB'][p];
    let step = niceStep((hi - lo) / scale, 5);
    if (p === 0) step = Math.max(1, step);
    const a = Math.floor(lo / scale / step) * step;
    let b = Math.ceil(hi / scale / step) * step;
    if (b <= a) b = a + step;
    const dec = decimals(step);
    const ticks = [];
    for (let i = 0; a + i * step <= b + step / 2; i++) {
      const v = a + i * step;
      ticks.push({ v: v * scale, label: v.toFixed(dec) + ' ' + unit });
    }
    return { lo: a * scale, hi: b * scale, ticks };
  }
  function timeTicks(span) {
    const step = niceStep(span, 8);
    const dec = decimals(step);
    const ticks = [];
    for (let i = 0; i * step <= span + step * 1e-6; i++) ticks.push({ v: i * step, label: (i * step).toFixed(dec) + ' s' });
    return ticks;
  }
  function nearest(t, x) {
    let lo = 0;
    let hi = t.length - 1;
    while (hi - lo > 1) {
      const m = (lo + hi) >> 1;
      if (t[m] < x) lo = m;
      else hi = m;
    }
    return Math.abs(t[lo] - x) <= Math.abs(t[hi] - x) ? lo : hi;
  }

  function duration(sec) {
    if (sec < 120) return sec.toFixed(1) + ' s';
    if (sec < 7200) return (sec / 60).toFixed(1) + ' min';
    return (sec / 3600).toFixed(1) + ' h';
  }

  function renderTrend(tr) {
    const v = str(tr.verdict);
    const known = { leak: 'Leak', growing: 'Growing', flat: 'Flat', insufficient: 'Insufficient data' };
    const win = isNum(tr.windowMs) ? ' over ' + duration(tr.windowMs / 1000) : '';
    return h('div', { class: 'trend', id: 'trend' }, [
      h('span', { class: 'verdict ' + (known[v] ? v : 'other') }, known[v] || v || 'unknown'),
      h('span', null, ['slope ', h('b', null, formatDelta(tr.slopeBytesPerMinute) + '/min')]),
      isNum(tr.confidence)
        ? h('span', null, ['confidence ', h('b', null, (tr.confidence * 100).toFixed(tr.confidence >= 0.99 && tr.confidence < 1 ? 2 : 1) + ' %')])
        : null,
      isNum(tr.growthBytes)
        ? h('span', null, [
            'growth ',
            h(
              'b',
              null,
              formatDelta(tr.growthBytes) + (isNum(tr.growthRatio) ? ' (' + (tr.growthRatio >= 0 ? '+' : '') + (tr.growthRatio * 100).toFixed(1) + ' %)' : ''),
            ),
          ])
        : null,
      isNum(tr.window) ? h('span', null, ['window ', h('b', null, formatCount(tr.window) + ' post-GC points' + win)]) : null,
      tr.reason && tr.reason !== 'leak' ? h('span', { class: 'note' }, '(' + str(tr.reason) + ')') : null,
    ]);
  }

  function renderTimeline() {
    const el = body('timeline');
    const tl = data.timeline;
    if (!tl) {
      el.appendChild(notice('No samples were given. Record them with the memory sampler and pass the file with --samples:'));
      el.appendChild(
        h(
          'pre',
          null,
          h(
            'code',
            null,
            "const sampler = require('leakguard').startSampling();\n// \u2026 run the workload \u2026\nfs.writeFileSync('samples.json', JSON.stringify(sampler)); // samples + trend\n\n$ leakguard report a.heapsnapshot b.heapsnapshot c.heapsnapshot --html report.html --samples samples.json",
          ),
        ),
      );
      return;
    }
    if (tl.trend) el.appendChild(renderTrend(tl.trend));
    const series = arr(tl.series).filter((x) => arr(x.t).length);
    if (!series.length) return el.appendChild(notice('The samples file holds no points.'));
    const line = tl.trendLine;
    const shown = Object.create(null);
    for (const x of series) shown[x.key] = true;
    shown.trend = !!line;
    const started = isNum(tl.start) ? new Date(tl.start) : null;
    el.appendChild(
      h(
        'p',
        { class: 'note' },
        'Time in seconds since the first sample' +
          (started && !Number.isNaN(started.getTime())
            ? ' (' +
              started
                .toISOString()
                .replace('T', ' ')
                .replace(/\.\d+Z$/, ' UTC') +
              ')'
            : '') +
          ', ' +
          (isNum(tl.span) ? duration(tl.span) : '?') +
          ' in all. Hover for values.',
      ),
    );

    const legend = h('ul', { class: 'legend', id: 'legend' });
    const toggles = series.map((x) => ({ key: x.key, label: x.label, n: x.n, dot: x.key === 'baseline' }));
    if (line) toggles.push({ key: 'trend', label: 'trend (Theil\u2013Sen)', n: null });
    toggles.forEach((x) => {
      const box = h('input', { type: 'checkbox', checked: true, 'data-series': x.key });
      box.addEventListener('change', () => {
        shown[x.key] = box.checked;
        draw();
      });
      legend.appendChild(
        h(
          'li',
          null,
          h('label', null, [
            box,
            h('span', { class: 'sw ' + (x.dot ? 'dot ' : '') + 's-' + x.key }),
            x.label + (x.n !== null ? ' (' + formatCount(x.n) + ')' : ''),
          ]),
        ),
      );
    });
    const zero = h('input', { type: 'checkbox', checked: true, id: 'y-zero' });
    zero.addEventListener('change', () => draw());
    legend.appendChild(h('li', null, h('label', null, [zero, 'y axis from 0'])));
    el.appendChild(legend);

    const W = 1000;
    const H = 380;
    const M = { l: 74, r: 18, t: 12, b: 40 };
    const pw = W - M.l - M.r;
    const ph = H - M.t - M.b;
    const svg = s('svg', {
      viewBox: '0 0 ' + W + ' ' + H,
      role: 'img',
      id: 'timeline-chart',
      'aria-label': 'Memory over time: ' + series.map((x) => x.label).join(', '),
    });
    const wrap = h('div', { class: 'chart' }, svg);
    const tip = h('div', { class: 'tip', hidden: true });
    wrap.appendChild(tip);
    el.appendChild(wrap);
    const span = isNum(tl.span) && tl.span > 0 ? tl.span : 1;
    let y = null;
    const X = (t) => M.l + (t / span) * pw;
    const Y = (v) => M.t + ph - ((v - y.lo) / (y.hi - y.lo)) * ph;
    const P = (t, v) => X(t).toFixed(1) + ',' + Y(v).toFixed(1);

    function draw() {
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      const vis = series.filter((x) => shown[x.key]);
      const values = vis.map((x) => x.v).concat(line && shown.trend ? [line.v] : []);
      let lo = Infinity;
      let hi = -Infinity;
      for (const vs of values) {
        for (const v of vs) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
      if (lo === Infinity) {
        lo = 0;
        hi = 1;
      }
      if (zero.checked) lo = Math.min(0, lo);
      if (hi <= lo) hi = lo + Math.max(1024, Math.abs(lo) * 0.1);
      y = byteTicks(lo, hi);
      let grid = '';
      const g = s('g', { class: 'axes' });
      for (const tk of y.ticks) {
        grid += 'M' + M.l + ',' + Y(tk.v).toFixed(1) + 'H' + (W - M.r);
        g.appendChild(s('text', { x: M.l - 8, y: Y(tk.v) + 4, 'text-anchor': 'end', class: 'tick y' }, tk.label));
      }
      for (const tk of timeTicks(span)) {
        grid += 'M' + X(tk.v).toFixed(1) + ',' + M.t + 'V' + (M.t + ph);
        g.appendChild(s('text', { x: X(tk.v), y: M.t + ph + 18, 'text-anchor': 'middle', class: 'tick x' }, tk.label));
      }
      g.appendChild(s('text', { x: M.l + pw / 2, y: H - 4, 'text-anchor': 'middle', class: 'axis-title' }, 'seconds since the first sample'));
      svg.appendChild(s('path', { class: 'grid', d: grid }));
      svg.appendChild(s('path', { class: 'axis', d: 'M' + M.l + ',' + M.t + 'V' + (M.t + ph) + 'H' + (W - M.r) }));
      svg.appendChild(g);
      for (const x of vis) {
        const pts = x.t.map((t, i) => P(t, x.v[i]));
        if (x.key === 'baseline') {
          // Points, one path: a zero-length segment with round caps draws a dot.
          svg.appendChild(s('path', { class: 'dots s-' + x.key, 'data-series': x.key, d: 'M' + pts.join('h0M') + 'h0' }));
        } else if (pts.length === 1) {
          svg.appendChild(s('path', { class: 'dots s-' + x.key, 'data-series': x.key, d: 'M' + pts[0] + 'h0' }));
        } else {
          svg.appendChild(s('path', { class: 'line s-' + x.key, 'data-series': x.key, d: 'M' + pts.join('L') }));
        }
      }
      if (line && shown.trend)
        svg.appendChild(s('path', { class: 'trendline', 'data-series': 'trend', d: 'M' + P(line.t[0], line.v[0]) + 'L' + P(line.t[1], line.v[1]) }));
      svg.appendChild(s('line', { class: 'cross', x1: 0, x2: 0, y1: M.t, y2: M.t + ph, visibility: 'hidden' }));
      svg.appendChild(s('rect', { class: 'hit', x: M.l, y: M.t, width: pw, height: ph, fill: 'transparent' }));
    }
    draw();

    svg.addEventListener('mousemove', (ev) => {
      const r = svg.getBoundingClientRect();
      const sx = ((ev.clientX - r.left) / r.width) * W;
      if (sx < M.l || sx > W - M.r) return hide();
      const t = ((sx - M.l) / pw) * span;
      const cross = svg.querySelector('.cross');
      cross.setAttribute('x1', sx);
      cross.setAttribute('x2', sx);
      cross.setAttribute('visibility', 'visible');
      while (tip.firstChild) tip.removeChild(tip.firstChild);
      tip.appendChild(h('div', null, h('b', null, t.toFixed(1) + ' s')));
      for (const x of series) {
        if (!shown[x.key]) continue;
        const i = nearest(x.t, t);
        tip.appendChild(
          h('div', null, [
            h('span', { class: 'sw ' + (x.key === 'baseline' ? 'dot ' : '') + 's-' + x.key }),
            ' ' + x.label + ' ' + formatBytes(x.v[i]) + (x.key === 'baseline' ? ' @ ' + x.t[i].toFixed(1) + ' s' : ''),
          ]),
        );
      }
      tip.hidden = false;
      const wr = wrap.getBoundingClientRect();
      const left = ev.clientX - wr.left + 14;
      tip.style.left = (left + tip.offsetWidth > wr.width ? left - tip.offsetWidth - 28 : left) + 'px';
      tip.style.top = Math.max(4, ev.clientY - wr.top - tip.offsetHeight / 2) + 'px';
    });
    function hide() {
      tip.hidden = true;
      const cross = svg.querySelector('.cross');
      if (cross) cross.setAttribute('visibility', 'hidden');
    }
    svg.addEventListener('mouseleave', hide);
  }

  /**
   * ?sort=<tableId>:<column>:<asc|desc> (repeatable; also in the #hash): sorts through the
   * header buttons, i.e. the very code path of a user's click, and shows the table's tab.
   */
  function applyUrl() {
    const params = [new URLSearchParams(location.search), new URLSearchParams(location.hash.replace(/^#/, ''))];
    for (const p of params) {
      for (const spec of p.getAll('sort')) {
        const m = /^([\w-]+):(\w+):(asc|desc)$/.exec(spec);
        const t = m && tables[m[1]];
        if (!t?.ths[m[2]]) {
          fail('url', new Error('sort=' + spec + ': no such table or column'));
          continue;
        }
        const btn = t.ths[m[2]].querySelector('button');
        for (let i = 0; i < 2 && !(t.state.key === m[2] && t.state.dir === m[3]); i++) btn.click();
        const panel = t.table.closest('[role=tabpanel]');
        const tab = panel && doc.getElementById(panel.getAttribute('aria-labelledby'));
        if (tab) tab.click();
      }
      const q = p.get('filter');
      if (q !== null) {
        for (const input of doc.querySelectorAll('.tools input[type=search]')) {
          input.value = q;
          input.dispatchEvent(new Event('input'));
        }
      }
    }
  }

  const steps = [
    ['files', renderFiles],
    ['timeline', renderTimeline],
    ['leaks', renderLeaks],
    ['diffs', renderDiffs],
    ['summary', renderSummary],
    ['largest', renderLargest],
    ['url', applyUrl],
  ];
  for (const [name, fn] of steps) {
    try {
      fn();
    } catch (e) {
      fail(name, e);
    }
  }
  doc.documentElement.setAttribute('data-lg-ready', '1');
})();
