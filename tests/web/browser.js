// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Debian's Chromium, headless, with a fresh profile each run (playwright
// passes it as --user-data-dir), for the dashboard's browser tests.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

// Runs fn(context) in a new browser with the given viewport; closes the
// browser and removes its profile whatever fn does.
async function withBrowser(viewport, fn) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
      '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
  try {
    return await fn(context);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

module.exports = { withBrowser };
