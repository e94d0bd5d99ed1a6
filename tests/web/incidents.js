// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// The dashboard as someone on call uses it, in Debian's headless Chromium:
// logs in through the form with the agent's token, finds the deadlock an
// earlier run of the agent reported (kept across the restart), opens it
// and checks it stays open while the page updates, follows its trace
// link, opens the stall of that run too, reads the last hour of a contended lock and the HTTP requests of
// a service, and narrows all of it with the search box.  Prints what it
// found as JSON, saves screenshots, exits non-zero when a check fails.
//
// usage: node incidents.js --url URL --token TOKEN --deadlock ID
//          --trace-id HEX --stall ID --lock-pid PID --service NAME --route ROUTE
//          --screenshots DIR [--timeout-ms MS]
'use strict';

const path = require('path');
const { withBrowser } = require('./browser');

function options(argv) {
  const opts = { timeoutMs: 30000 };
  const names = {
    '--url': 'url', '--token': 'token', '--deadlock': 'deadlock', '--trace-id': 'traceId', '--stall': 'stall',
    '--lock-pid': 'lockPid', '--service': 'service', '--route': 'route',
    '--screenshots': 'screenshots', '--timeout-ms': 'timeoutMs',
  };
  for (let i = 2; i < argv.length; i += 2) {
    if (!names[argv[i]]) throw new Error('unknown option ' + argv[i]);
    opts[names[argv[i]]] = argv[i + 1];
  }
  for (const name of Object.values(names)) {
    if (opts[name] === undefined) throw new Error('missing ' + name);
  }
  opts.timeoutMs = Number(opts.timeoutMs);
  return opts;
}

// What the run found, printed even when a check fails.
let failed = null;

async function main() {
  const opts = options(process.argv);
  const result = { requests: [] };
  failed = result;
  const wait = { timeout: opts.timeoutMs };
  await withBrowser({ width: 1400, height: 1600 }, async (context) => {
    const page = await context.newPage();
    const errors = [];
    result.errors = errors;
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('request', (request) => result.requests.push(request.url()));

    // The page sends a browser without a session to the form.
    await page.goto(opts.url, { waitUntil: 'load' });
    result.login_url = page.url();
    await page.fill('#login input[name="token"]', 'not-' + opts.token);
    await Promise.all([page.waitForNavigation(), page.click('#login button')]);
    result.wrong_token_refused = await page.isVisible('#login-failed');
    await page.fill('#login input[name="token"]', opts.token);
    await Promise.all([page.waitForNavigation(), page.click('#login button')]);
    result.after_login = page.url();
    const cookies = await context.cookies();
    result.cookie = cookies.filter((c) => c.name === 'knotscope_session')
      .map((c) => ({ httpOnly: c.httpOnly, sameSite: c.sameSite }))[0];
    result.cookie_in_script = await page.evaluate(() => document.cookie.includes('knotscope_session'));
    await page.waitForFunction(() => document.getElementById('connection').dataset.state === 'live', null, wait);
    await page.waitForSelector('#logout', wait);
    result.logout_offered = await page.isVisible('#logout');

    // The incident of the earlier run, restored, with its trace.
    const incident = '#incident-list details.deadlock[data-id="' + opts.deadlock + '"]';
    await page.waitForSelector(incident, wait);
    result.incident = await page.$eval(incident, (d) => ({
      summary: d.querySelector('summary').textContent,
      restored: !!d.querySelector('.badge'),
      trace: d.querySelector('a.trace-link') && d.querySelector('a.trace-link').href,
    }));
    await page.click(incident + ' summary');
    // The stall of that run, beside it, with each thread's wait and stack.
    const stall = '#incident-list details.stall[data-id="' + opts.stall + '"]';
    await page.waitForSelector(stall, wait);
    await page.click(stall + ' summary');
    result.stall = await page.$eval(stall, (d) => ({
      summary: d.querySelector('summary').textContent,
      restored: !!d.querySelector('.badge'),
      waits: [...d.querySelectorAll('p')].map((p) => p.textContent),
      stacks: [...d.querySelectorAll('pre')].map((pre) => pre.textContent),
    }));
    // Several publications later (one each 500 ms), still open.
    const seen = await page.evaluate(() => window.knotscope.state.latest.health.uptime_s);
    await page.waitForFunction((then) => window.knotscope.state.latest.health.uptime_s > then + 2, seen, wait);
    result.still_open = await page.$eval(incident, (d) => d.open);
    await page.screenshot({ path: path.join(opts.screenshots, 'incident.png'), fullPage: true });

    // The contended lock's last hour, drawn.
    const trend = '#trends tbody tr';
    await page.waitForFunction((pid) => [...document.querySelectorAll('#trends tbody tr')]
      .some((tr) => tr.cells[0].textContent.endsWith(' ' + pid) && tr.querySelector('canvas')), opts.lockPid, wait);
    result.trend = await page.$$eval(trend, (rows, pid) => rows
      .filter((tr) => tr.cells[0].textContent.endsWith(' ' + pid))
      .map((tr) => ({ waits: tr.cells[2].textContent, total: tr.cells[3].textContent,
        canvas: tr.querySelector('canvas').width }))[0], opts.lockPid);
    result.trend_points = await page.evaluate((pid) => {
      const doc = window.knotscope.state.trends;
      const lock = doc.locks.find((l) => String(l.pid) === pid);
      return { buckets: lock.wait_ns.length, nonzero: lock.wait_ns.filter((v) => v > 0).length };
    }, opts.lockPid);
    await page.locator('#trends-section').screenshot({ path: path.join(opts.screenshots, 'trends.png') });

    // The service's requests, with their rate and a link to the slowest.
    const httpRow = '#http tbody tr[data-service="' + opts.service + '"][data-route="' + opts.route + '"]';
    await page.waitForFunction((sel) => {
      const tr = document.querySelector(sel);
      return tr && parseFloat(tr.cells[4].textContent) > 0;
    }, httpRow, wait);
    result.http = await page.$eval(httpRow, (tr) => ({
      cells: [...tr.cells].map((td) => td.textContent),
      slowest: tr.cells[9].querySelector('a') && tr.cells[9].querySelector('a').href,
    }));
    await page.locator('#http-section').screenshot({ path: path.join(opts.screenshots, 'http.png') });

    // The search box narrows every list; emptied, everything is back.
    await page.fill('#search', 'no-such-thing-anywhere');
    result.search_hides = await page.evaluate(() => ({
      incidents: [...document.querySelectorAll('#incident-list details')].filter((d) => !d.hidden).length,
      http: document.querySelectorAll('#http tbody tr').length,
      trends: document.querySelectorAll('#trends tbody tr').length,
    }));
    await page.fill('#search', opts.route);
    result.search_route = await page.$$eval('#http tbody tr', (rows) => rows.map((tr) => tr.dataset.route));
    await page.fill('#search', '');
    result.search_cleared = await page.$eval(incident, (d) => !d.hidden && d.open);

    await page.screenshot({ path: path.join(opts.screenshots, 'dashboard-incidents.png'), fullPage: true });
  });
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((error) => {
  // What was found so far, and the page's errors, say why.
  process.stderr.write(JSON.stringify(failed) + '\n');
  process.stderr.write(String(error && error.stack ? error.stack : error) + '\n');
  process.exit(1);
});
