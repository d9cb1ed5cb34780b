// A withdrawn resource in a real browser (node/takedown.h): run by tests/browser/run.sh after
// `hub retract` reached the school. The resource's page says it was withdrawn, why and since
// when — not a broken player — and offers no file.
//   TIERSYNC_UI_URL               the node
//   TIERSYNC_UI_WITHDRAWN_ID      the withdrawn resource
//   TIERSYNC_UI_WITHDRAWN_REASON  the reason the retraction signs
//   TIERSYNC_UI_SHOTS             where the screenshot goes
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';

const base = process.env.TIERSYNC_UI_URL || 'http://127.0.0.1:18141';
const id = process.env.TIERSYNC_UI_WITHDRAWN_ID;
const reason = process.env.TIERSYNC_UI_WITHDRAWN_REASON;
const shots = process.env.TIERSYNC_UI_SHOTS || 'screenshots';

test('a withdrawn resource says so instead of playing', async () => {
  assert.ok(id && reason, 'TIERSYNC_UI_WITHDRAWN_ID and _REASON are required');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    timeout: 15000,
  });
  try {
    const page = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
    page.setDefaultTimeout(15000);
    await page.goto(base + '/#/r/' + encodeURIComponent(id));
    const notice = page.locator('[data-testid="withdrawn"]');
    await notice.waitFor({ state: 'visible' });
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'withdrawn.png'), fullPage: true });
    const text = await notice.textContent();
    assert.ok(text.includes(reason), text);
    assert.ok(text.includes('下架'), text);
    assert.equal(await page.locator('[data-testid="file"]').count(), 0, 'files are offered');
    assert.equal(await page.locator('video, audio, iframe').count(), 0, 'a player is shown');
    await page.locator('[data-testid="withdrawn-badge"]').first().waitFor({ state: 'visible' });
  } finally {
    await browser.close();
  }
});
