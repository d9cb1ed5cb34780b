// The staleness banner in a real browser (node/offline_policy.h): run by tests/browser/run.sh
// against the school node twice — fresh (TIERSYNC_UI_STALE_SINCE empty: no banner) and with
// its clock past its metadata's expiry, within the root's offline grace (the banner names the
// expiry the node reports).
//   TIERSYNC_UI_URL          the node
//   TIERSYNC_UI_STALE_SINCE  the expiry the banner must show; empty: the banner must not show
//   TIERSYNC_UI_SHOTS        where the screenshot goes
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';

const base = process.env.TIERSYNC_UI_URL || 'http://127.0.0.1:18141';
const since = process.env.TIERSYNC_UI_STALE_SINCE || '';
const shots = process.env.TIERSYNC_UI_SHOTS || 'screenshots';

test(since ? 'a stale node says since when' : 'a fresh node shows no staleness banner', async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    timeout: 15000,
  });
  try {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(15000);
    await page.goto(base + '/');
    // The home page has asked the API (the tree) once it shows a platform.
    await page.locator('[data-testid="main"] a').first().waitFor();
    const banner = page.locator('[data-testid="stale"]');
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, since ? 'stale.png' : 'fresh.png'), fullPage: true });
    if (since) {
      await banner.waitFor({ state: 'visible' });
      assert.ok((await banner.textContent()).includes(since), await banner.textContent());
    } else {
      assert.equal(await banner.isHidden(), true, 'a fresh node shows the banner');
    }
  } finally {
    await browser.close();
  }
});
