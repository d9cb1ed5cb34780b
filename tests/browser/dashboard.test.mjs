// The federation dashboard (/federation/, webui/federation/) in a real browser (Debian
// chromium driven by playwright-core): the tile map renders, clicks on the chart itself drill
// down region by region to a node, whose detail shows its release; the nodes expected down are
// in the problems list; a reload keeps the place; nothing is asked of another origin; no
// console errors. One screenshot per step.
//
// Runs against any hub or upper-tier node serving the dashboard; set:
//   TIERSYNC_DASH_URL     the node, e.g. http://127.0.0.1:18140 (the page is at /federation/)
//   TIERSYNC_DASH_SHOTS   where screenshots go (one per step; FAILED.png at a failure)
//   TIERSYNC_DASH_PATH    the drill path, JSON, e.g.
//                         [{"region":"33"},{"region":"3301"},{"region":"330106"},{"node":"school-a"}]
//   TIERSYNC_DASH_EXPECT  JSON, every key optional: {"release":"r1","nodes":7,"down":["county-b"]}
//                         (the latest release, the node count and the nodes down, all at the top)
//   CHROMIUM              the browser (default /usr/bin/chromium)
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { stepper } from './steps.mjs';

const base = (process.env.TIERSYNC_DASH_URL || 'http://127.0.0.1:18140').replace(/\/$/, '');
const shots = process.env.TIERSYNC_DASH_SHOTS || 'screenshots/dashboard';
const drillPath = JSON.parse(process.env.TIERSYNC_DASH_PATH || '[]');
const expected = JSON.parse(process.env.TIERSYNC_DASH_EXPECT || '{}');
const STEP_MS = 15000;  // the longest any single wait may take
const GREY = [0xc9, 0xce, 0xd6];  // the colour of a tile with no nodes (app.js NO_NODES)

let browser;
let page;
const problems = [];  // page errors, console errors and requests to another origin

before(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    timeout: STEP_MS,
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);
  const origin = new URL(base).origin;
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (!['data:', 'blob:', 'about:'].includes(url.protocol) && url.origin !== origin) {
      problems.push('request to another origin: ' + r.url());
    }
  });
  page.on('pageerror', (e) => problems.push('page error: ' + e.stack));
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
});

after(async () => {
  if (browser) await browser.close();
});

let shotNumber = 0;
async function shot(name) {
  shotNumber += 1;
  const file = join(shots, String(shotNumber).padStart(2, '0') + '-' + name + '.png');
  await page.screenshot({ path: file, fullPage: true });
}

const byTestId = (id) => page.locator(`[data-testid="${id}"]`);

const step = stepper(shots, () => page);

// The map chart's tiles, read from the ECharts instance itself: for each, its data and the
// page coordinates of its centre (convertToPixel of its grid cell), its size in pixels, and
// the colour the canvas shows near its corner (inside the tile, away from the label).
async function tiles() {
  await page.locator('#map').scrollIntoViewIfNeeded();
  return page.evaluate(() => {
    const box = document.getElementById('map');
    const chart = window.echarts && window.echarts.getInstanceByDom(box);
    if (!chart) return [];
    const series = (chart.getOption().series || [])[0];
    if (!series || series.type !== 'custom') return [];
    const rect = box.getBoundingClientRect();
    const canvas = box.querySelector('canvas');
    const ctx = canvas.getContext('2d');
    const scale = canvas.width / canvas.getBoundingClientRect().width;
    return series.data.map((d) => {
      const [x, y] = chart.convertToPixel({ seriesIndex: 0 }, d.value.slice(0, 2));
      const [x1] = chart.convertToPixel({ seriesIndex: 0 }, [d.value[0] + 1, d.value[1]]);
      const cell = Math.abs(x1 - x);
      const px = ctx.getImageData(Math.round((x - cell * 0.36) * scale),
        Math.round((y - cell * 0.36) * scale), 1, 1).data;
      return {
        region: d.region, node: d.node, name: d.name, nodes: d.nodes,
        x: rect.left + x, y: rect.top + y, cell, pixel: [px[0], px[1], px[2], px[3]],
      };
    });
  });
}

function near(a, b, by) { return a.every((v, i) => Math.abs(v - b[i]) <= by); }

// The breadcrumb's current place, the map's region and the tiles once a drill has landed.
async function waitForPlace(region) {
  await page.waitForFunction((r) => {
    const map = document.getElementById('map');
    return map.dataset.region === r && Number(map.dataset.tiles) > 0 &&
      document.querySelector(`#breadcrumb [data-region="${r}"]`) !== null;
  }, region, { timeout: STEP_MS });
}

step('the dashboard loads: the tile map renders, totals and the latest release', async () => {
  await page.goto(base + '/federation/');
  await page.locator('#map canvas').first().waitFor();
  await page.waitForFunction(() => {
    const d = window.tiersyncDashboard;
    return d && d.state.refreshes > 0 && Number(document.getElementById('map').dataset.tiles) > 0;
  }, null, { timeout: STEP_MS });
  assert.ok(await byTestId('banner').isHidden(), 'no error banner: ' +
    (await byTestId('banner').innerText().catch(() => '')));

  // Non-blank: many pixels painted, in several colours.
  const painted = await page.evaluate(() => {
    const c = document.querySelector('#map canvas');
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let opaque = 0;
    const colours = new Set();
    for (let i = 0; i < data.length; i += 4 * 7) {
      if (data[i + 3] > 0) {
        opaque += 1;
        colours.add((data[i] >> 4) * 256 + (data[i + 1] >> 4) * 16 + (data[i + 2] >> 4));
      }
    }
    return { fraction: opaque / (data.length / 28), colours: colours.size };
  });
  assert.ok(painted.fraction > 0.1, `the map canvas is painted: ${JSON.stringify(painted)}`);
  assert.ok(painted.colours >= 3, `the map has colours: ${JSON.stringify(painted)}`);

  const all = await tiles();
  assert.ok(all.length > 0, 'tiles on the map');
  const first = drillPath[0];
  if (first && first.region != null) {
    const tile = all.find((t) => t.region === first.region && !t.node);
    assert.ok(tile, `a tile for ${first.region} among ${all.map((t) => t.region)}`);
    assert.ok(tile.nodes > 0, `${first.region} has nodes`);
    assert.ok(tile.pixel[3] > 0 && !near(tile.pixel.slice(0, 3), GREY, 12) &&
      !near(tile.pixel.slice(0, 3), [255, 255, 255], 12),
    `the tile of ${first.region} is coloured, not grey: rgba ${tile.pixel}`);
  }
  if (expected.release) {
    assert.match(await byTestId('latest').innerText(), new RegExp('^' + expected.release + '\\b'));
  }
  if (expected.nodes != null) {
    assert.equal(await byTestId('total-nodes').getAttribute('data-value'), String(expected.nodes));
  }
  await shot('country');
});

step('the nodes expected down are in the problems list, with why', async () => {
  for (const name of expected.down || []) {
    const row = page.locator(`[data-testid="problem"][data-node="${name}"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute('data-health'), 'down', name);
    assert.match(await row.locator('.why').innerText(), /\S/, `why ${name} is down`);
  }
});

for (const [i, where] of drillPath.entries()) {
  const label = where.node ? `node ${where.node}` : `region ${where.region}`;
  step(`a click on the map drills to ${label}`, async () => {
    const before = await tiles();
    const tile = before.find((t) => (where.node ? t.node === where.node
      : t.region === where.region && !t.node));
    assert.ok(tile, `a tile for ${label} among ${before.map((t) => t.node || t.region)}`);
    await page.mouse.click(tile.x, tile.y);

    if (where.node) {
      const detail = page.locator(`[data-testid="node-detail"][data-node="${where.node}"]`);
      await detail.locator('[data-testid="node-release"] [data-testid="release"]').waitFor();
      assert.match(await page.locator('#breadcrumb .here').last().innerText(), new RegExp(where.node));
      // Its release, as the API reports it.
      const region = await page.locator('#map').getAttribute('data-region');
      const r = await fetch(`${base}/v1/federation/nodes?region=${encodeURIComponent(region)}&limit=1000`);
      const record = (await r.json()).nodes.find((n) => n.name === where.node);
      assert.ok(record, `${where.node} in /v1/federation/nodes?region=${region}`);
      assert.equal(await detail.locator('[data-testid="node-release"] [data-testid="release"]').innerText(),
        record.release);
      assert.ok(await page.locator(`[data-testid="node-row"][data-node="${where.node}"]`).isVisible(),
        'the node is in the table of the nodes here');
    } else {
      await waitForPlace(where.region);
      const here = await page.locator('#breadcrumb .here').innerText();
      assert.equal(here, tile.name, 'the breadcrumb names the region clicked');
      const after = await tiles();
      assert.ok(after.length > 0, 'tiles after the drill');
      for (const t of after) {
        assert.ok(t.region.startsWith(where.region), `${t.region} is inside ${where.region}`);
      }
      assert.notDeepEqual(after.map((t) => t.node || t.region), before.map((t) => t.node || t.region),
        'the groups changed');
      assert.match(await page.evaluate(() => location.hash), new RegExp('region=' + where.region));
    }
    await page.mouse.move(0, 0);  // no tooltip in the screenshot (it fades out)
    await page.waitForTimeout(500);
    await shot(`drill-${i + 1}-${where.node || where.region}`);
  });
}

step('a reload keeps the place; the breadcrumb goes back to the top', async () => {
  const last = [...drillPath].reverse().find((w) => w.region != null);
  if (!last) return;
  await page.reload();
  await waitForPlace(last.region);
  const node = drillPath[drillPath.length - 1].node;
  if (node) await page.locator(`[data-testid="node-detail"][data-node="${node}"] [data-testid="release"]`).waitFor();
  await page.locator('#breadcrumb a').first().click();
  const top = await page.locator('#breadcrumb a, #breadcrumb .here').first().getAttribute('data-region');
  await waitForPlace(top);
  await shot('back-to-top');
});

step('nothing from another origin, no console errors', async () => {
  assert.deepEqual(problems, []);
});
