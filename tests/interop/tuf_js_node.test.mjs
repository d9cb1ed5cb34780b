// Interop against a live school node: a national hub publishes a small catalog, a school node
// (tier school, 西湖区 330106) attached straight to national mirrors the part its subscription
// selects, and the stock TUF client tuf-js refreshes from the school's /v1/metadata/ (relayed
// byte for byte from national) and downloads from its /v1/targets/: a file the subscription
// selected comes back verified; one it did not select fails cleanly (the school does not hold
// it). The hub then publishes a second release; once the school serves it, tuf-js sees the new
// timestamp version through the school. Finally stock git clones the school's catalog.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Updater } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';

const BIN = process.env.TIERSYNC_BIN;
const run = (...args) => execFileSync(BIN, args, { encoding: 'utf8' });
const runJson = (...args) => JSON.parse(run('--json', ...args));

// What the school mirrors; also a `catalog ls --filter` (same language), to know which
// resources it selects.
const SUBSCRIPTION = 'platform = k12 and board = 课程教学 and edition in (人教版)';
const PUBLISHER = 'interop <interop@example.edu.cn>';

// Every process this file starts, so that after() ends them whatever failed.
const children = [];

// Starts BIN ARGS; resolves with { entry, match } once stdout matches `ready` (the
// listening line, which names the port: both servers bind port 0). Rejects if it exits first
// or is not ready within 10 s.
function start(args, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const entry = { child, log: '', exited: false };
    children.push(entry);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')}: not ready in 10 s: ${out}`)),
                             10000);
    child.stdout.on('data', (d) => {
      out += d;
      entry.log += d;
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ entry, match: m });
      }
    });
    child.stderr.on('data', (d) => { entry.log += d; });
    child.on('exit', (code, signal) => {
      entry.exited = true;
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (${code ?? signal}): ${entry.log}`));
    });
  });
}

// Ends a started process: SIGTERM, then SIGKILL if it is still there after 5 s.
function stop(entry) {
  if (entry.exited || entry.child.exitCode !== null || entry.child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const kill = setTimeout(() => entry.child.kill('SIGKILL'), 5000);
    entry.child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    entry.child.kill('SIGTERM');
  });
}

async function status(base) {
  const r = await fetch(`${base}/v1/status`);
  assert.equal(r.status, 200);
  return r.json();
}

// Polls the node's /v1/status until it serves `release` (at most `ms`); returns the status.
async function waitForRelease(base, release, node, ms = 20000) {
  const deadline = Date.now() + ms;
  let last = null;
  while (Date.now() < deadline) {
    if (node.exited) break;
    try {
      last = await status(base);
      if (last.current?.release === release) return last;
    } catch {
      // not answering yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the school did not serve ${release} within ${ms} ms; last status: ` +
              `${JSON.stringify(last)}\nnode log:\n${node.log}`);
}

// The files of the (non-retired) resources `filter` selects in the hub's latest release, each
// as the hub's record has it: { id, name, sha256, size }. Lazy: one `catalog show` per resource.
function* filesSelectedBy(hub, filter) {
  for (const r of runJson('catalog', 'ls', '--repo', hub, '--filter', filter)) {
    if (r.retired) continue;
    const record = runJson('catalog', 'show', '--repo', hub, r.id);
    for (const f of record.files ?? []) yield { id: record.id, ...f };
  }
}

// The largest of `files` (at least one).
function largest(files) {
  const all = [...files];
  assert.ok(all.length > 0, 'the subscription selects some files');
  return all.reduce((a, b) => (b.size > a.size ? b : a));
}

// The version tuf-js trusts: the timestamp it persisted in its metadata directory.
const trustedTimestampVersion = (metadataDir) =>
  JSON.parse(fs.readFileSync(path.join(metadataDir, 'timestamp.json'), 'utf8')).signed.version;

describe('tuf-js against a live school node', { timeout: 55000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiersync-node-tufjs-'));
  const hub = path.join(dir, 'hub');
  const catalog = path.join(dir, 'catalog');
  const school = path.join(dir, 'school');
  const metadataDir = path.join(dir, 'client');
  const targetDir = path.join(dir, 'downloads');
  const k = {};
  let hubUrl;
  let schoolUrl;
  let node;
  let r1Version;

  const publish = (message) =>
    run('hub', 'publish', hub, '--input', catalog, '-k', k.targets, '-k', k.snapshot, '-k',
        k.timestamp, '--publisher', PUBLISHER, '-m', message);
  const updater = () => new Updater({
    metadataDir, metadataBaseUrl: `${schoolUrl}/v1/metadata/`, targetDir,
    targetBaseUrl: `${schoolUrl}/v1/targets/`,
  });

  before(async () => {
    for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
      k[role] = path.join(dir, `${role}.key`);
      run('keys', 'gen', k[role]);
    }
    run('hub', 'init', hub, '--root-key', k.root, '--targets-key', k.targets, '--snapshot-key',
        k.snapshot, '--timestamp-key', k.timestamp, '-k', k.root, '-k', k.targets, '-k',
        k.snapshot, '-k', k.timestamp);
    run('demo', 'generate', catalog, '--resources', '60', '--seed', '3', '--size-scale', '0.0003');
    publish('r1');
    const h = await start(['hub', 'serve', hub, '--listen', '127.0.0.1:0'],
                         /on (http:\/\/127\.0\.0\.1:\d+)\/v1\//);
    hubUrl = h.match[1];

    run('node', 'init', school, '--name', '西湖区文三街小学', '--tier', 'school', '--region', '330106',
        '--listen', '127.0.0.1:0', '--national', hubUrl, '--root',
        path.join(hub, 'tuf', 'metadata', '1.root.json'), '--subscription', SUBSCRIPTION);
    const n = await start(['node', 'serve', school], /on port (\d+)/);
    node = n.entry;
    schoolUrl = `http://127.0.0.1:${n.match[1]}`;
    const s = await waitForRelease(schoolUrl, 'r1', node);
    r1Version = s.current.version;

    fs.mkdirSync(metadataDir);
    fs.mkdirSync(targetDir);
    fs.copyFileSync(path.join(hub, 'tuf', 'metadata', '1.root.json'),
                    path.join(metadataDir, 'root.json'));
  });

  after(async () => {
    await Promise.all(children.map(stop));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('tuf-js downloads a file the school subscribed to; its SHA-256 is the hub record\'s',
       async () => {
    const best = largest(filesSelectedBy(hub, SUBSCRIPTION));
    assert.ok(best.size > 64 * 1024, 'a multi-chunk file is selected');

    const u = updater();
    await u.refresh();
    assert.equal(trustedTimestampVersion(metadataDir), r1Version,
                 'tuf-js trusts the timestamp the school serves');
    const name = `national/${best.id}/${best.name}`;
    const info = await u.getTargetInfo(name);
    assert.ok(info, `tuf-js finds ${name} in the metadata the school relays`);
    const file = await u.downloadTarget(info, path.join(targetDir, 'wanted'));
    const bytes = fs.readFileSync(file);
    assert.equal(bytes.length, best.size);
    assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), best.sha256);
    assert.deepEqual(bytes, fs.readFileSync(path.join(catalog, 'media', best.id, best.name)));

    const manifest = await u.getTargetInfo('catalog/manifest.txt');
    assert.equal(manifest.custom.release, 'r1');
  });

  test('a file outside the school\'s subscription is a clean download error', async () => {
    const wanted = new Set([...filesSelectedBy(hub, SUBSCRIPTION)].map((f) => f.sha256));
    let other = null;
    for (const f of filesSelectedBy(hub, `not (${SUBSCRIPTION})`)) {
      if (!wanted.has(f.sha256)) {
        other = f;
        break;
      }
    }
    assert.ok(other, 'some file lies outside the subscription');

    const u = updater();
    await u.refresh();
    // The metadata is national's, whole: tuf-js knows the file, the school just does not hold it.
    const info = await u.getTargetInfo(`national/${other.id}/${other.name}`);
    assert.ok(info);
    assert.equal(info.hashes.sha256, other.sha256);
    const dest = path.join(targetDir, 'unwanted');
    await assert.rejects(u.downloadTarget(info, dest), (e) => {
      assert.ok(e instanceof DownloadHTTPError, `a DownloadHTTPError, got ${e}`);
      assert.equal(e.statusCode, 404);
      return true;
    });
    assert.equal(fs.existsSync(dest), false, 'nothing written');
  });

  test('after the hub publishes r2 and the school switches, tuf-js sees the new timestamp',
       async () => {
    run('demo', 'generate', catalog, '--next-release');
    publish('r2');
    const hubTimestamp = JSON.parse(
        fs.readFileSync(path.join(hub, 'tuf', 'metadata', 'timestamp.json'), 'utf8')).signed.version;
    assert.ok(hubTimestamp > r1Version);
    const s = await waitForRelease(schoolUrl, 'r2', node);
    assert.equal(s.current.version, hubTimestamp);

    const u = updater();
    await u.refresh();
    assert.equal(trustedTimestampVersion(metadataDir), hubTimestamp);
    const manifest = await u.getTargetInfo('catalog/manifest.txt');
    assert.equal(manifest.custom.release, 'r2');

    // And a selected file of r2 downloads, matching the hub's record of r2.
    const best = largest(filesSelectedBy(hub, SUBSCRIPTION));
    const info = await u.getTargetInfo(`national/${best.id}/${best.name}`);
    assert.ok(info);
    const file = await u.downloadTarget(info, path.join(targetDir, 'wanted-r2'));
    assert.equal(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'),
                 best.sha256);
  });

  test('stock git clones the school\'s catalog with both release tags', async () => {
    const clone = path.join(dir, 'catalog-clone');
    await new Promise((resolve, reject) => {
      execFile('git', ['clone', '-q', `${schoolUrl}/v1/catalog.git`, clone],
               { timeout: 20000, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } },
               (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`))
                                             : resolve()));
    });
    const tags = execFileSync('git', ['-C', clone, 'tag', '--list'], { encoding: 'utf8' })
                     .split('\n').filter(Boolean);
    assert.deepEqual(tags.sort(), ['r1', 'r2']);
    const head = execFileSync('git', ['-C', clone, 'rev-parse', 'HEAD^{commit}'],
                              { encoding: 'utf8' }).trim();
    const r2 = execFileSync('git', ['-C', clone, 'rev-parse', 'r2^{commit}'],
                            { encoding: 'utf8' }).trim();
    assert.equal(head, r2, 'the clone checks out the release the school serves');
  });
});
