// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// knotscope's live dashboard.  Everything comes from the agent itself:
// one Server-Sent Events stream (/api/events) with the wait-for graph,
// contended locks, processes and health; /api/history when the number of
// findings (deadlocks, stalls) changes; /api/trends and /api/http now and
// then; /api/waits when its list is opened.  Text from traced programs
// (thread names, symbols, paths) only ever goes into the page as text,
// never as markup.  What the user opened stays open: the incidents are
// added and hidden, never drawn again.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);

  const state = {
    filter: '',
    search: '',
    graphKey: '',
    historyTotal: -1,
    latest: null,
    history: null,
    traceUrl: null,
    incidents: new Map(), // deadlock or stall id -> its <details>
    trends: null,
    charts: new Map(), // lock key -> its uPlot
    http: null,
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

  // Whether text has what the search box says (case aside).
  function found(text) {
    return !state.search || text.toLowerCase().includes(state.search);
  }

  // A link to the trace viewer (--trace-url), or null without one.
  function traceLink(traceId, text) {
    if (!state.traceUrl || !traceId) return null;
    const a = el('a', text || 'trace');
    a.href = state.traceUrl.split('{trace_id}').join(encodeURIComponent(traceId));
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.className = 'trace-link';
    return a;
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
    const shown = doc.locks.filter((lock) => visible(lock.pid) && found([
      lock.process_comm, lock.pid, lock.address, lock.kind,
      lock.holders.map((h) => h.comm).join(' '),
      lock.sites.map((site) => frameText(site)).join(' '),
    ].join(' ')));
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

  // --- Incidents: deadlocks and stalls, from /api/history.

  function incidentDetails(r) {
    const stall = r.type === 'stall';
    const details = el('details', null, r.type);
    details.dataset.id = r.id;
    details.dataset.pids = (stall ? [r.pid] : r.pids).join(',');
    const latency = r.detection_latency_ms !== null ? ', found in ' + r.detection_latency_ms.toFixed(0) + ' ms' : '';
    const handlers = stall && r.signal_handlers && r.signal_handlers.length ?
      '; signal handlers: ' + r.signal_handlers.join(', ') : '';
    const what = stall ?
      'stall: all ' + r.threads.length + ' threads of pid ' + r.pid + ' (' + r.process_comm + ') wait' :
      'deadlock: ' + r.threads.length + ' threads of pid ' + r.pids.join(', ');
    const summary = el('summary', r.time + ': ' + what + latency + handlers + ' [' + r.id + ']');
    if (r.restored) summary.appendChild(el('span', 'before a restart', 'badge'));
    details.appendChild(summary);
    const link = traceLink(r.trace_id, 'its trace');
    if (link) details.appendChild(link);
    // A stall's locks are guessed from their memory, a deadlock's known;
    // a deadlock's wait in I/O names its pipe, socket or child instead.
    for (const t of stall ? r.threads : r.threads.concat(r.blocked_behind)) {
      const lock = (stall ? t.wait.guess : t.wait.kind) + ' ' + (t.wait.address || t.wait.object);
      const holder = t.holder ? 'held by ' + t.holder.comm + ' ' + t.holder.tid : 'no holder known';
      details.appendChild(el('p', t.comm + ' ' + t.tid + ' waits for ' + lock + ', ' + holder));
      details.appendChild(el('pre', stackText(t.stack)));
    }
    return details;
  }

  // New incidents go on top; those shown stay as they are (open or not).
  function renderIncidents(doc) {
    const box = $('incident-list');
    const incidents = doc.records.filter((r) => r.type === 'deadlock' || r.type === 'stall');
    for (const r of incidents.slice().reverse()) {
      if (state.incidents.has(r.id)) continue;
      const details = incidentDetails(r);
      state.incidents.set(r.id, details);
      box.prepend(details);
    }
    filterIncidents();
  }

  function filterIncidents() {
    let shown = 0;
    for (const details of state.incidents.values()) {
      const pids = details.dataset.pids.split(',');
      details.hidden = (state.filter && !pids.includes(state.filter)) || !found(details.textContent);
      shown += details.hidden ? 0 : 1;
    }
    $('incidents-empty').hidden = shown > 0;
  }

  // --- Contention over the last hour, a small chart per lock.

  const TREND_ROWS = 10;

  function trendChart(lock, bucketS, end) {
    const xs = lock.wait_ns.map((_, i) => end / 1000 - (lock.wait_ns.length - 1 - i) * bucketS);
    const ys = lock.wait_ns.map((v) => v / 1e6);
    return [xs, ys];
  }

  function renderTrends(doc) {
    const body = $('trends').tBodies[0];
    const end = Date.parse(doc.end);
    const shown = doc.locks.filter((lock) => visible(lock.pid) &&
      found([lock.process_comm, lock.pid, lock.address, lock.kind].join(' '))).slice(0, TREND_ROWS);
    const keep = new Set(shown.map((lock) => lock.pid + ':' + lock.address));
    for (const [key, chart] of state.charts) {
      if (keep.has(key)) continue;
      chart.destroy();
      state.charts.delete(key);
    }
    body.replaceChildren();
    for (const lock of shown) {
      const key = lock.pid + ':' + lock.address;
      const cell = el('td', null, 'trend');
      const tr = row([
        lock.process_comm + ' ' + lock.pid,
        lock.kind + ' ' + lock.address,
        { text: count(lock.waits.reduce((a, b) => a + b, 0)), num: true },
        { text: ns(lock.wait_ns_total), num: true },
      ]);
      tr.appendChild(cell);
      tr.dataset.key = key;
      body.appendChild(tr);
      const data = trendChart(lock, doc.bucket_s, end);
      let chart = state.charts.get(key);
      if (chart) {
        cell.appendChild(chart.root);
        chart.setData(data);
      } else {
        chart = new uPlot({
          width: 420,
          height: 70,
          legend: { show: false },
          cursor: { show: false },
          scales: { x: { time: true } },
          axes: [{ show: false }, { size: 64, values: (u, v) => v.map((x) => x + ' ms') }],
          series: [{}, { stroke: '#d0312d', fill: 'rgba(208,49,45,0.15)', width: 1 }],
        }, data, cell);
        state.charts.set(key, chart);
      }
    }
    $('trends-empty').hidden = shown.length > 0;
  }

  async function fetchTrends() {
    const response = await fetch('/api/trends', { cache: 'no-store' });
    if (!response.ok) return;
    state.trends = await response.json();
    renderTrends(state.trends);
  }

  // --- HTTP requests per service and route.

  function ms(value) {
    return value === null || value === undefined ? '' : value.toFixed(value < 10 ? 2 : 0) + ' ms';
  }

  function exemplarCell(exemplar) {
    const td = el('td');
    if (!exemplar) return td;
    const text = ms(exemplar.duration_ms) + (exemplar.status ? ' (' + exemplar.status + ')' : '');
    td.appendChild(traceLink(exemplar.trace_id, text) || el('span', text));
    return td;
  }

  function renderHttp(doc) {
    const body = $('http').tBodies[0];
    body.replaceChildren();
    $('http-off').hidden = doc.enabled;
    $('http').hidden = !doc.enabled;
    if (!doc.enabled) return;
    for (const r of doc.rows) {
      if (!found([r.service, r.kind, r.method, r.route].join(' '))) continue;
      const tr = row([
        r.service, r.kind, r.method, r.route,
        { text: r.rate_per_s.toFixed(2), num: true },
        { text: count(r.minute_errors) + (r.minute_requests ? ' (' + (100 * r.minute_errors / r.minute_requests).toFixed(0) + ' %)' : ''), num: true },
        { text: ms(r.p50_ms), num: true },
        { text: ms(r.p95_ms), num: true },
        { text: count(r.requests), num: true },
      ]);
      tr.appendChild(exemplarCell(r.slowest));
      tr.appendChild(exemplarCell(r.last_error));
      tr.dataset.service = r.service;
      tr.dataset.route = r.route;
      body.appendChild(tr);
    }
    $('http-empty').hidden = body.rows.length > 0;
  }

  async function fetchHttp() {
    const response = await fetch('/api/http', { cache: 'no-store' });
    if (!response.ok) return;
    state.http = await response.json();
    renderHttp(state.http);
  }

  // Addresses and stacks only on demand: fetched when the list is opened.
  async function fetchLongWaits() {
    const response = await fetch('/api/waits', { cache: 'no-store' });
    if (!response.ok) return;
    const doc = await response.json();
    const box = $('long-waits-list');
    box.replaceChildren();
    for (const t of doc.threads) {
      if (!visible(t.pid)) continue;
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
    if (h.kubernetes) {
      items.push(['kubernetes API', h.kubernetes.state + ': ' + count(h.kubernetes.pods) + ' pods' +
        (h.kubernetes.last_error ? ' (last error: ' + h.kubernetes.last_error + ')' : '')]);
    }
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
    state.traceUrl = latest.health.trace_url;
    $('logout').hidden = !latest.health.login;
    renderFilter(latest);
    renderGraph(latest.graph);
    renderLocks(latest.locks);
    renderHealth(latest.health);
  }

  // What the filter and the search box narrow, drawn again at once.
  function refilter() {
    renderAll();
    filterIncidents();
    if (state.trends) renderTrends(state.trends);
    if (state.http) renderHttp(state.http);
  }

  async function fetchHistory() {
    const response = await fetch('/api/history', { cache: 'no-store' });
    if (!response.ok) return;
    state.history = await response.json();
    renderIncidents(state.history);
  }

  $('long-waits').addEventListener('toggle', (event) => {
    if (event.target.open) fetchLongWaits();
  });

  $('process-filter').addEventListener('change', (event) => {
    state.filter = event.target.value;
    refilter();
  });
  $('search').addEventListener('input', (event) => {
    state.search = event.target.value.trim().toLowerCase();
    refilter();
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
    const first = !state.latest;
    state.latest = JSON.parse(event.data);
    renderAll();
    if (state.latest.history_total !== state.historyTotal) {
      state.historyTotal = state.latest.history_total;
      fetchHistory();
    }
    if (first) {
      fetchTrends();
      fetchHttp();
    }
  });
  // Trends move by 20-second buckets, requests by the second.
  setInterval(fetchTrends, 10000);
  setInterval(fetchHttp, 3000);
})();
