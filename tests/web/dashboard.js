// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Opens knotscope's dashboard in Debian's headless Chromium and checks what
// a person would see: the deadlocked threads highlighted as a cycle in the
// wait-for graph, and a contended lock in the table.  Prints what it found
// as JSON, saves a screenshot, and exits non-zero when a check fails.
//
// usage: node dashboard.js --url URL --cycle-tids T1,T2 --lock-pid PID
//                          --screenshot FILE [--timeout-ms MS]
'use strict';

const { withBrowser } = require('./browser');

function options(argv) {
  const opts = { timeoutMs: 20000 };
  for (let i = 2; i < argv.length; i += 2) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--url': opts.url = value; break;
      case '--cycle-tids': opts.cycleTids = value.split(',').map(Number).sort(); break;
      case '--lock-pid': opts.lockPid = Number(value); break;
      case '--screenshot': opts.screenshot = value; break;
      case '--timeout-ms': opts.timeoutMs = Number(value); break;
      default: throw new Error('unknown option ' + argv[i]);
    }
  }
  if (!opts.url || !opts.cycleTids || !opts.lockPid || !opts.screenshot) {
    throw new Error('--url, --cycle-tids, --lock-pid and --screenshot are needed');
  }
  return opts;
}

async function main() {
  const opts = options(process.argv);
  const result = { requests: [] };
  await withBrowser({ width: 1280, height: 1400 }, async (context) => {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    // Everything must come from the agent: nothing fetched elsewhere.
    page.on('request', (request) => result.requests.push(request.url()));
    await page.goto(opts.url, { waitUntil: 'load' });

    // The cycle: both threads on the graph with the class that paints them
    // red, the edges between them too, and the cycle spelled out.
    await page.waitForFunction((tids) => {
      const cy = window.knotscope && window.knotscope.cy;
      if (!cy) return false;
      const red = cy.nodes('.cycle').map((n) => n.data('tid')).sort();
      return JSON.stringify(red) === JSON.stringify(tids);
    }, opts.cycleTids, { timeout: opts.timeoutMs });
    result.cycle = await page.evaluate(() => {
      const cy = window.knotscope.cy;
      return {
        nodes: cy.nodes('.cycle').map((n) => ({
          tid: n.data('tid'),
          color: n.style('background-color'),
          stack: (n.data('stack') || []).map((f) => f.function),
        })),
        edges: cy.edges('.cycle').length,
        listed: [...document.querySelectorAll('#cycles li')].map((li) => li.dataset.tids),
      };
    });

    // The contended lock of the other workload, with its numbers.
    await page.waitForSelector('#locks tbody tr[data-pid="' + opts.lockPid + '"]', {
      timeout: opts.timeoutMs,
    });
    result.lock = await page.$eval('#locks tbody tr[data-pid="' + opts.lockPid + '"]', (tr) => ({
      address: tr.dataset.address,
      cells: [...tr.cells].map((td) => td.textContent),
    }));
    result.connection = await page.$eval('#connection', (e) => e.dataset.state);
    result.health_state = await page.$eval('#health dd[data-name="state"]', (e) => e.textContent);
    result.bpf_programs = await page.$$eval('#bpf tbody tr', (rows) => rows.map((r) => r.cells[0].textContent));
    // The deadlock history, with the stacks of the threads.
    await page.waitForSelector('#incident-list details.deadlock', { timeout: opts.timeoutMs });
    result.deadlocks = await page.$$eval('#incident-list details.deadlock', (list) => list.map((d) => d.dataset.id));

    // Hovering a thread of the cycle shows its stack.  The graph is laid
    // out again whenever its shape changes (other threads of the machine
    // block and wake), which can move the node from under the pointer:
    // find it again and hover again until the tooltip shows.
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      const point = await page.evaluate((tid) => {
        const node = window.knotscope.cy.nodes().filter((n) => n.data('tid') === tid)[0];
        const box = document.getElementById('graph').getBoundingClientRect();
        const at = node.renderedPosition();
        return { x: box.left + at.x, y: box.top + at.y };
      }, opts.cycleTids[0]);
      await page.mouse.move(0, 0);
      await page.mouse.move(point.x, point.y);
      try {
        // This thread's tooltip: the pointer may have landed on another.
        await page.waitForFunction((tid) => {
          const tip = document.getElementById('tooltip');
          return !tip.hidden && tip.textContent.includes(' ' + tid + ' (pid ');
        }, opts.cycleTids[0], { timeout: 1000 });
        break;
      } catch (error) {
        if (Date.now() > deadline)
          throw error;
      }
    }
    result.tooltip = await page.$eval('#tooltip', (e) => e.textContent);

    await page.screenshot({ path: opts.screenshot, fullPage: true });
    result.errors = errors;
  });
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + '\n');
  process.exit(1);
});
