// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// knotscope's live dashboard.  Everything comes from the agent itself:
// one Server-Sent Events stream (/api/events) with the wait-for graph,
// contended locks, processes and health, and /api/deadlocks when the
// number of deadlocks or stalls changes.  Text from traced programs (thread names,
// symbols, paths) only ever goes into the page as text, never as markup.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);

  const state = {
    filter: '',
    graphKey: '',
    deadlocksTotal: -1,
    stallsTotal: -1,
    latest: null,
    history: null,
  };

  const cy = cytoscape({
    container: $('graph'),
    minZoom: 0.2,
    maxZoom: 3,
    style: [
      {
        selector: 'node',
        style: {
          label: 'data(label)',
          'font-size': 10,
          'text-valign': 'bottom',
          'text-margin-y': 4,
          color: '#1d2430',
        },
      },
      {
        selector: 'node[kind = "thread"]',
        style: { shape: 'ellipse', 'background-color': '#2f6fb3', width: 26, height: 26 },
      },
      {
        selector: 'node[kind = "thread"][!waiting]',
        style: { 'background-color': '#8fb3d9' },
      },
      {
        selector: 'node[kind = "lock"]',
        style: { shape: 'round-rectangle', 'background-color': '#8a6d1f', width: 34, height: 18 },
      },
      {
        selector: 'edge',
        style: {
          'curve-style': 'bezier',
          'target-arrow-shape': 'triangle',
          width: 2,
          'line-color': '#9aa4b1',
          'target-arrow-color': '#9aa4b1',
          label: 'data(label)',
          'font-size': 8,
          color: '#5c6675',
        },
      },
      {
        selector: 'edge.io_wait',
        style: { 'line-style': 'dashed' },
      },
      {
        selector: 'node.cycle',
        style: { 'background-color': '#d0312d', 'border-width': 3, 'border-color': '#7f1d1a' },
      },
      {
        selector: 'edge.cycle',
        style: { 'line-color': '#d0312d', 'target-arrow-color': '#d0312d', width: 3 },
      },
    ],
  });
  // For people at the browser console, and for the browser test.
  window.knotscope = { cy, state };

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function row(cells) {
    const tr = el('tr');
    for (const cell of cells) {
      const td = el('td', cell.text !== undefined ? cell.text : cell, cell.num ? 'num' : '');
      tr.appendChild(td);
    }
    return tr;
  }

  function ns(value) {
    if (value === null || value === undefined) return '';
    if (value >= 1e9) return (value / 1e9).toFixed(2) + ' s';
    if (value >= 1e6) return (value / 1e6).toFixed(2) + ' ms';
    if (value >= 1e3) return (value / 1e3).toFixed(1) + ' µs';
    return Math.round(value) + ' ns';
  }

  function count(value) {
    return Number(value).toLocaleString('en-US');
  }

  const basename = (path) => path.slice(path.lastIndexOf('/') + 1);

  function frameText(frame) {
    let text = frame.function ? frame.function : frame.pc;
    if (frame.file) text += ' (' + frame.file + ':' + frame.line + ')';
    else if (frame.module) text += ' (' + basename(frame.module) + '+' + frame.module_offset + ')';
    return text;
  }

  function stackText(stack) {
    return (stack || []).map((f, i) => '#' + i + '  ' + frameText(f)).join('\n');
  }

  function visible(pid) {
    return !state.filter || String(pid) === state.filter;
  }

  // --- The wait-for graph.

  // An I/O wait's edge leads to a thread that could end it: "pipe-write pipe:[123]".
  function edgeLabel(e) {
    if (e.kind === 'io_wait') return e.wait_kind + ' ' + e.object;
    return e.kind === 'held_by' ? 'held by' : 'waits for';
  }

  function graphElements(graph) {
    const nodes = [];
    const ids = new Set();
    for (const t of graph.threads) {
      if (!visible(t.pid)) continue;
      ids.add(t.id);
      nodes.push({
        group: 'nodes',
        data: {
          id: t.id,
          kind: 'thread',
          label: t.comm + ' ' + t.tid,
          tid: t.tid,
          pid: t.pid,
          waiting: t.waiting,
          blocked_ms: t.blocked_ms,
          io: t.io || null,
          stack: t.stack || null,
        },
        classes: t.in_cycle ? 'cycle' : '',
      });
    }
    for (const l of graph.locks) {
      if (!visible(l.pid)) continue;
      ids.add(l.id);
      nodes.push({
        group: 'nodes',
        data: { id: l.id, kind: 'lock', label: l.kind + ' ' + l.address, pid: l.pid },
      });
    }
    const edges = graph.edges
      .filter((e) => ids.has(e.from) && ids.has(e.to))
      .map((e) => ({
        group: 'edges',
        data: {
          id: e.from + '>' + e.to,
          source: e.from,
          target: e.to,
          label: edgeLabel(e),
        },
        classes: (e.in_cycle ? 'cycle ' : '') + e.kind,
      }));
    return nodes.concat(edges);
  }

  function renderGraph(graph) {
    const elements = graphElements(graph);
    const key = elements
      .map((e) => e.data.id + '/' + e.classes)
      .sort()
      .join(' ');
    if (key !== state.graphKey) {
      state.graphKey = key;
      cy.elements().remove();
      cy.add(elements);
      cy.layout({ name: 'cose', animate: false, nodeRepulsion: () => 9000, idealEdgeLength: () => 70 }).run();
      cy.fit(undefined, 30);
    } else {
      // Same shape: keep positions, refresh what changes (times, stacks).
      for (const e of elements) cy.getElementById(e.data.id).data(e.data);
    }
    $('graph-empty').hidden = elements.length > 0;
    renderCycles(graph);
  }

  function renderCycles(graph) {
    const byId = new Map(graph.threads.map((t) => [t.id, t]));
    const list = $('cycles');
    list.replaceChildren();
    for (const cycle of graph.cycles) {
      const members = cycle.map((id) => byId.get(id)).filter((t) => t && visible(t.pid));
      if (!members.length) continue;
      const li = el('li', 'cycle: ' + members.map((t) => t.comm + ' ' + t.tid).join(' → ') + ' → back');
      li.dataset.tids = members.map((t) => t.tid).join(',');
      list.appendChild(li);
    }
  }

  const tooltip = $('tooltip');
  cy.on('mouseover', 'node[kind = "thread"]', (event) => {
    const d = event.target.data();
    let text = d.label + ' (pid ' + d.pid + ')';
    if (d.waiting) {
      text += d.blocked_ms !== null ? ', blocked ' + ns(d.blocked_ms * 1e6) : ', blocked since before the agent';
      if (d.io) {
        text += ' in ' + d.io.syscall + '() on ' + d.io.object + (d.io.fd !== null ? ' (fd ' + d.io.fd + ')' : '');
        if (d.io.local) text += ', ' + d.io.local + ' -> ' + d.io.remote;
      }
      text += '\n' + (d.stack ? stackText(d.stack) : 'stack not unwound yet');
    } else {
      text += ', not waiting';
    }
    tooltip.textContent = text;
    tooltip.hidden = false;
  });
  cy.on('mouseout', 'node', () => {
    tooltip.hidden = true;
  });
  $('graph').addEventListener('mousemove', (event) => {
    tooltip.style.left = event.clientX + 14 + 'px';
    tooltip.style.top = event.clientY + 14 + 'px';
  });

  // --- Tables.

  // The page shows the head of the list; /api/locks has them all.
  const LOCK_ROWS = 20;

  function renderLocks(doc) {
    const body = $('locks').tBodies[0];
    const shown = doc.locks.filter((lock) => visible(lock.pid));
    body.replaceChildren();
    $('locks-more').textContent = shown.length > LOCK_ROWS ?
      (shown.length - LOCK_ROWS) + ' more in /api/locks; ' + doc.tracked + ' locks tracked.' : '';
    for (const lock of shown.slice(0, LOCK_ROWS)) {
      const holders = lock.holders.map((h) => (h.comm || '?') + ' ' + h.tid + ' ×' + h.waits);
      if (lock.unknown_holder_waits) holders.push('unknown ×' + lock.unknown_holder_waits);
      const sites = lock.sites.map((s) => frameText(s) + ' ×' + s.samples);
      const tr = row([
        lock.process_comm + ' ' + lock.pid,
        lock.kind + (lock.mutex_type ? ' (' + lock.mutex_type + ')' : '') + ' ' + lock.address,
        { text: count(lock.waits), num: true },
        { text: ns(lock.wait_ns), num: true },
        { text: ns(lock.max_wait_ns), num: true },
        { text: ns(lock.avg_wait_ns), num: true },
        holders.join(', '),
        sites.join('\n'),
      ]);
      tr.dataset.address = lock.address;
      tr.dataset.pid = lock.pid;
      tr.lastChild.style.whiteSpace = 'pre';
      body.appendChild(tr);
    }
    $('locks-empty').hidden = body.rows.length > 0;
  }

  function renderDeadlocks(doc) {
    const box = $('deadlocks');
    box.replaceChildren();
    for (const d of doc.deadlocks) {
      if (state.filter && !d.pids.some((pid) => String(pid) === state.filter)) continue;
      const details = el('details', null, 'deadlock');
      details.dataset.id = d.id;
      const latency = d.detection_latency_ms !== null ? ', found in ' + d.detection_latency_ms.toFixed(0) + ' ms' : '';
      details.appendChild(
        el('summary', d.time + ': ' + d.threads.length + ' threads of pid ' + d.pids.join(', ') + latency + ' [' + d.id + ']'),
      );
      for (const t of d.threads.concat(d.blocked_behind)) {
        const what = t.comm + ' ' + t.tid + ' waits for ' + t.wait.kind + ' ' + (t.wait.address || t.wait.object) +
          ' held by ' + t.holder.comm + ' ' + t.holder.tid;
        details.appendChild(el('p', what));
        details.appendChild(el('pre', stackText(t.stack)));
      }
      box.appendChild(details);
    }
    $('deadlocks-empty').hidden = box.children.length > 0;
  }

  function renderStalls(doc) {
    const box = $('stalls');
    box.replaceChildren();
    for (const s of doc.stalls || []) {
      if (state.filter && String(s.pid) !== state.filter) continue;
      const details = el('details', null, 'stall');
      details.dataset.id = s.id;
      const latency = s.detection_latency_ms !== null ? ', found in ' + s.detection_latency_ms.toFixed(0) + ' ms' : '';
      const handlers = s.signal_handlers && s.signal_handlers.length ? '; signal handlers: ' + s.signal_handlers.join(', ') : '';
      details.appendChild(
        el('summary', s.time + ': all ' + s.threads.length + ' threads of pid ' + s.pid + ' (' + s.process_comm + ')' +
          latency + handlers + ' [' + s.id + ']'),
      );
      for (const t of s.threads) {
        const holder = t.holder ? 'held by ' + t.holder.comm + ' ' + t.holder.tid : 'no holder known';
        const what = t.comm + ' ' + t.tid + ' waits for ' + t.wait.guess + ' ' + t.wait.address + ' (' + holder + ')';
        details.appendChild(el('p', what));
        details.appendChild(el('pre', stackText(t.stack)));
      }
      box.appendChild(details);
    }
    $('stalls-empty').hidden = box.children.length > 0;
  }

  // Addresses and stacks only on demand: fetched when the list is opened.
  async function fetchLongWaits() {
    const response = await fetch('/api/waits', { cache: 'no-store' });
    if (!response.ok) return;
    const doc = await response.json();
    const box = $('long-waits-list');
    box.replaceChildren();
    for (const t of doc.threads) {
      if (state.filter && String(t.pid) !== state.filter) continue;
      box.appendChild(el('p', t.comm + ' ' + t.tid + ' of pid ' + t.pid + ' waits for ' + t.wait.guess + ' ' +
        t.wait.address + ' (no holder known) for ' + ns(t.wait.blocked_ms * 1e6)));
      if (t.stack) box.appendChild(el('pre', stackText(t.stack)));
    }
    if (!box.children.length) box.appendChild(el('p', 'None.', 'empty'));
  }

  function renderHealth(h) {
    const dl = $('health');
    dl.replaceChildren();
    const total = (o) => Object.values(o).reduce((a, b) => a + b, 0);
    const items = [
      ['state', h.phase],
      ['version', h.version + ' (pid ' + h.agent_pid + ', ' + (h.attach_mode || 'not attached') + ')'],
      ['up for', ns(h.uptime_s * 1e9)],
      ['events', count(total(h.events)) + ' (' + h.events_per_s.toFixed(1) + '/s)'],
      ['lost (ring buffer full)', count(h.kernel_lost_total)],
      ['untracked waits', count(h.untracked_waits)],
      ['malformed records', count(h.malformed_records)],
      ['deadlocks', count(h.deadlocks)],
      ['stalls', count(h.stalls)],
      ['blocked long, no known holder', count(h.unknown_holder_waits.count) +
        (h.unknown_holder_waits.count ? ' (longest ' + ns(h.unknown_holder_waits.longest_ms * 1e6) + ')' : '')],
      ['watching', count(h.processes) + ' processes, ' + count(h.threads) + ' threads'],
      ['locks tracked', count(h.locks.tracked) + ' (' + count(h.locks.evicted) + ' evicted)'],
    ];
    for (const [name, value] of items) {
      dl.appendChild(el('dt', name));
      const dd = el('dd', value);
      dd.dataset.name = name;
      dl.appendChild(dd);
    }

    const exportBody = $('export').tBodies[0];
    exportBody.replaceChildren();
    for (const [signal, s] of Object.entries(h.export || {})) {
      exportBody.appendChild(
        row([
          signal,
          { text: count(s.produced), num: true },
          { text: count(s.exported), num: true },
          { text: count(s.rejected), num: true },
          { text: count(s.dropped_queue_full + s.dropped_shutdown), num: true },
          { text: count(total(s.failed)), num: true },
          { text: count(s.queued), num: true },
        ]),
      );
    }
    $('export').hidden = !h.export;
    $('export-off').hidden = !!h.export;

    const bpfBody = $('bpf').tBodies[0];
    bpfBody.replaceChildren();
    for (const p of h.bpf_programs) {
      bpfBody.appendChild(
        row([
          p.name,
          { text: count(p.run_count), num: true },
          { text: ns(p.run_time_ns), num: true },
          { text: ns(p.avg_run_ns), num: true },
          { text: p.cpu_percent === null ? '' : p.cpu_percent.toFixed(3) + ' %', num: true },
        ]),
      );
    }
    $('bpf').hidden = !h.bpf_stats;
    $('bpf-off').hidden = h.bpf_stats;
  }

  function renderFilter(latest) {
    const select = $('process-filter');
    const known = new Map();
    for (const p of latest.processes.processes) known.set(String(p.pid), p.comm);
    for (const t of latest.graph.threads) known.set(String(t.pid), t.process_comm);
    const wanted = [...known.entries()].sort((a, b) => Number(a[0]) - Number(b[0]));
    const have = [...select.options].slice(1).map((o) => o.value).join(',');
    if (have === wanted.map((w) => w[0]).join(',')) return;
    while (select.options.length > 1) select.remove(1);
    for (const [pid, comm] of wanted) {
      const option = el('option', comm + ' (' + pid + ')');
      option.value = pid;
      select.appendChild(option);
    }
    select.value = known.has(state.filter) ? state.filter : '';
  }

  function renderAll() {
    const latest = state.latest;
    if (!latest) return;
    renderFilter(latest);
    renderGraph(latest.graph);
    renderLocks(latest.locks);
    renderHealth(latest.health);
    if (state.history) {
      renderDeadlocks(state.history);
      renderStalls(state.history);
    }
  }

  async function fetchDeadlocks() {
    const response = await fetch('/api/deadlocks', { cache: 'no-store' });
    if (!response.ok) return;
    state.history = await response.json();
    renderDeadlocks(state.history);
    renderStalls(state.history);
  }

  $('long-waits').addEventListener('toggle', (event) => {
    if (event.target.open) fetchLongWaits();
  });

  $('process-filter').addEventListener('change', (event) => {
    state.filter = event.target.value;
    renderAll();
  });

  const connection = $('connection');
  const events = new EventSource('/api/events');
  events.addEventListener('open', () => {
    connection.dataset.state = 'live';
    connection.textContent = 'live';
  });
  events.addEventListener('error', () => {
    connection.dataset.state = 'reconnecting';
    connection.textContent = 'reconnecting';
  });
  events.addEventListener('state', (event) => {
    state.latest = JSON.parse(event.data);
    renderAll();
    if (state.latest.deadlocks_total !== state.deadlocksTotal ||
        state.latest.stalls_total !== state.stallsTotal) {
      state.deadlocksTotal = state.latest.deadlocks_total;
      state.stallsTotal = state.latest.stalls_total;
      fetchDeadlocks();
    }
  });
})();
