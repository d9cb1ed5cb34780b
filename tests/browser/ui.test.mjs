// The node's web UI in a real browser (Debian chromium driven by playwright-core): the
// taxonomy tree, browsing a category, a Chinese search, a video that seeks and plays, a PDF,
// which tiers hold a resource, the node page, and the English interface.
//
// Run by tests/browser/run.sh, which starts a hub and a school node serving the catalog of
// make_catalog.py, and sets:
//   TIERSYNC_UI_URL       the node, e.g. http://127.0.0.1:18141
//   TIERSYNC_UI_SHOTS     where screenshots go (one per step)
//   TIERSYNC_UI_RELEASE   the release the node serves (e.g. r1)
//   TIERSYNC_UI_TIER      the node's tier (e.g. school; national: the hub's own UI)
//   TIERSYNC_UI_REGION    the node's region code (e.g. 330106; '' for the hub)
//   CHROMIUM              the browser (default /usr/bin/chromium)
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { stepper } from './steps.mjs';

const base = process.env.TIERSYNC_UI_URL || 'http://127.0.0.1:18141';
const shots = process.env.TIERSYNC_UI_SHOTS || 'screenshots';
const release = process.env.TIERSYNC_UI_RELEASE || 'r1';
const tier = process.env.TIERSYNC_UI_TIER || 'school';
const region = process.env.TIERSYNC_UI_REGION ?? '330106';  // '' for the hub: none

const VIDEO_TITLE = '第5课 古诗三首 视频';
const PDF_TITLE = '第5课 古诗三首 课后练习';
const SEEK_TO = 12;  // seconds into the 20 s fixture
const STEP_MS = 15000;  // the longest any single wait may take

let browser;
let page;
const problems = [];  // page errors and console errors, checked at the end

before(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--autoplay-policy=no-user-gesture-required'],
    timeout: STEP_MS,
  });
  const context = await browser.newContext({ viewport: { width: 412, height: 915 } });
  page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
});

after(async () => {
  if (browser) await browser.close();
});

let shotNumber = 0;
async function shot(name, fullPage = true) {
  shotNumber += 1;
  const file = join(shots, String(shotNumber).padStart(2, '0') + '-' + name + '.png');
  await page.screenshot({ path: file, fullPage });
}

const byTestId = (id) => page.locator(`[data-testid="${id}"]`);

const step = stepper(shots, () => page);

step('home shows the taxonomy tree with counts', async () => {
  await page.goto(base + '/?lang=zh');
  const platform = page.locator('[data-testid="tree-platform"][data-platform="k12"]');
  await platform.waitFor();
  assert.match(await platform.innerText(), /国家中小学智慧教育平台/);
  assert.match(await byTestId('tree-summary').innerText(), new RegExp(release));
  assert.equal(await byTestId('nav-node').innerText(), '本节点');
  await shot('home');
});

step('a category of the tree lists its resources, and a facet narrows them', async () => {
  const primary = page.locator('[data-platform="k12"] li.board', { hasText: '课程教学' })
    .locator('[data-testid="tree-category"]', { hasText: '小学' });
  await primary.click();
  await byTestId('result-item').first().waitFor();
  assert.equal(await byTestId('list-title').innerText(), '小学');
  const titles = await byTestId('result-link').allInnerTexts();
  assert.ok(titles.includes(VIDEO_TITLE), `${VIDEO_TITLE} in ${titles}`);
  assert.ok(titles.length >= 3, `several resources in 小学: ${titles}`);
  await shot('browse-category');

  await page.locator('[data-testid="facet-value"][data-facet="subject"][data-value="数学"]').click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="loading"]') &&
    document.querySelector('[data-facet="subject"][data-value="数学"].on'));
  const math = await byTestId('result-link').allInnerTexts();
  assert.ok(math.length >= 1 && math.length < titles.length, `math only: ${math}`);
  assert.ok(!math.includes(VIDEO_TITLE));
  await shot('browse-facet');
});

step('a Chinese search finds the lesson', async () => {
  await byTestId('search-input').fill('古诗三首');
  await byTestId('search-input').press('Enter');
  await page.locator('[data-testid="result-link"]', { hasText: VIDEO_TITLE }).waitFor();
  assert.equal(await byTestId('list-title').innerText(), '搜索“古诗三首”');
  const titles = await byTestId('result-link').allInnerTexts();
  assert.ok(titles.includes(PDF_TITLE), `${PDF_TITLE} in ${titles}`);
  await shot('search');
});

step('the video loads, seeks and plays from the sought position', async () => {
  const media = [];
  page.on('response', (r) => { if (r.url().endsWith('.lesson.webm')) media.push(r); });
  await page.locator('[data-testid="result-link"]', { hasText: VIDEO_TITLE }).click();
  await byTestId('resource-title').waitFor();
  assert.equal(await byTestId('resource-title').innerText(), VIDEO_TITLE);
  const video = byTestId('video').first();
  await video.waitFor();
  const src = await video.getAttribute('src');
  assert.match(src, /^\/v1\/targets\/.+\/[0-9a-f]{64}\.lesson\.webm$/, 'played by content address');

  const handle = await video.elementHandle();
  await page.waitForFunction((v) => v.readyState >= 1 && v.duration > 0, handle,
    { timeout: STEP_MS });
  const duration = await handle.evaluate((v) => v.duration);
  assert.ok(Math.abs(duration - 20) < 1, `duration ${duration}`);

  const seek = await handle.evaluate((v, to) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no seeked event')), 10000);
    v.muted = true;
    v.addEventListener('seeked', () => {
      clearTimeout(timer);
      resolve({ currentTime: v.currentTime, readyState: v.readyState });
    }, { once: true });
    v.currentTime = to;
  }), SEEK_TO);
  assert.ok(Math.abs(seek.currentTime - SEEK_TO) < 1, `after seek at ${seek.currentTime}`);
  await page.waitForFunction((v) => v.readyState >= 2, handle, { timeout: STEP_MS });

  // Play a little: time must advance from the sought position (frames decoded there).
  await handle.evaluate((v) => v.play());
  await page.waitForFunction(({ v, to }) => v.currentTime > to + 0.3, { v: handle, to: SEEK_TO },
    { timeout: STEP_MS });
  const played = await handle.evaluate((v) => {
    v.pause();
    return { currentTime: v.currentTime, readyState: v.readyState, error: v.error && v.error.code };
  });
  assert.equal(played.error, null);
  assert.ok(played.readyState >= 2, `readyState ${played.readyState}`);
  assert.ok(played.currentTime > SEEK_TO && played.currentTime < SEEK_TO + 5,
    `played from ${SEEK_TO} to ${played.currentTime}`);
  assert.ok(media.length >= 1, 'the video was fetched');
  for (const r of media) {
    assert.ok([200, 206].includes(r.status()), `video answer ${r.status()}`);
    assert.match(r.headers()['content-type'] || '', /^video\/webm/);
  }
  assert.match(await byTestId('file-local').first().innerText(), /本地已存/);
  await shot('video-seeked');

  await byTestId('resolve-button').click();
  await byTestId('resolve-tier').first().waitFor();
  assert.equal(await byTestId('resolve-tier').first().getAttribute('data-holds'), 'yes');
  await shot('resolve');
});

step('the PDF opens in the reader', async () => {
  await page.goBack();
  await page.locator('[data-testid="result-link"]', { hasText: PDF_TITLE }).click();
  await byTestId('pdf-open').waitFor();
  const link = await byTestId('pdf-link').getAttribute('href');
  assert.match(link, /\.exercises\.pdf$/);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('.exercises.pdf') && r.request().method() === 'GET',
      { timeout: STEP_MS }),
    byTestId('pdf-open').click(),
  ]);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-type'] || '', /^application\/pdf/);
  await byTestId('pdf-frame').waitFor();
  // The same bytes fetched by the page itself: a real PDF.
  const head = await page.evaluate(async (u) => {
    const r = await fetch(u);
    const b = new Uint8Array(await r.arrayBuffer());
    return String.fromCharCode(...b.slice(0, 5)) + ' ' + b.length;
  }, link);
  assert.match(head, /^%PDF- \d+$/);
  // For the screenshot: Chromium's own PDF viewer (an extension frame inside ours) paints a
  // moment after it loads, and only into a viewport screenshot (a full-page one resizes the
  // page under it). Best effort: a browser without the viewer still passes.
  const viewer = Date.now() + 5000;
  while (Date.now() < viewer && !page.frames().some((f) => f.url().startsWith('chrome-extension:'))) {
    await page.waitForTimeout(100);
  }
  await byTestId('pdf-frame').scrollIntoViewIfNeeded();
  await page.waitForTimeout(500);
  await shot('pdf', false);
});

step('the node page shows tier, region and the current release', async () => {
  await byTestId('nav-node').click();
  await byTestId('node-tier').waitFor();
  assert.equal(await byTestId('node-tier').innerText(), { school: '学校', county: '县级',
    city: '市级', province: '省级', national: '国家' }[tier]);
  assert.match(await byTestId('node-region').innerText(), new RegExp(region));
  assert.equal(await byTestId('node-release').innerText(), release);
  // The hub has nothing above it; every node has its chain.
  assert.equal(await byTestId('source-row').count() >= 1, tier !== 'national',
    'the upstream chain is listed');
  await shot('node');
});

step('the language switch turns the interface to English and is remembered', async () => {
  await byTestId('lang-switch').click();
  await page.waitForFunction(() =>
    document.querySelector('[data-testid="nav-node"]').textContent === 'This node');
  const english = tier[0].toUpperCase() + tier.slice(1);
  await page.locator('[data-testid="node-tier"]', { hasText: english }).waitFor();
  assert.equal(await byTestId('node-tier').innerText(), english);
  assert.match(await page.locator('.fields dt').first().innerText(), /^Name$/);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await shot('node-english');

  await page.goto(base + '/#/');
  await byTestId('tree-summary').waitFor();
  assert.match(await byTestId('tree-summary').innerText(), /^Release /);
  assert.equal(await byTestId('search-button').innerText(), 'Search');
  await shot('home-english');
  assert.deepEqual(problems, []);
});
