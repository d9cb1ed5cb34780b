// Interop against a live hub: the stock TUF client tuf-js refreshes from `tiersync hub serve`
// and downloads a lesson video that the hub streams out of its chunk store, plus the signed
// catalog manifest, each verified by tuf-js against the hub's root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Updater } from 'tuf-js';

const BIN = process.env.TIERSYNC_BIN;
const run = (...args) => execFileSync(BIN, args, { encoding: 'utf8' });

// Starts `tiersync hub serve` on a free port; resolves with { url, child } once it listens.
function serve(hub) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['hub', 'serve', hub, '--listen', '127.0.0.1:0'],
                        { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/on (http:\/\/127\.0\.0\.1:\d+\/v1\/)/);
      if (m) resolve({ url: m[1], child });
    });
    child.on('exit', (code) => reject(new Error(`hub serve exited with ${code}: ${out}`)));
  });
}

test('tuf-js downloads a chunk-served media target from a live hub', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiersync-hub-tufjs-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const k = {};
  for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
    k[role] = path.join(dir, `${role}.key`);
    run('keys', 'gen', k[role]);
  }
  const hub = path.join(dir, 'hub');
  const catalog = path.join(dir, 'catalog');
  run('hub', 'init', hub, '--root-key', k.root, '--targets-key', k.targets, '--snapshot-key',
      k.snapshot, '--timestamp-key', k.timestamp, '-k', k.root, '-k', k.targets, '-k',
      k.snapshot, '-k', k.timestamp);
  run('demo', 'generate', catalog, '--resources', '60', '--seed', '3', '--size-scale', '0.0002');
  run('hub', 'publish', hub, '--input', catalog, '-k', k.targets, '-k', k.snapshot, '-k',
      k.timestamp, '--publisher', 'interop <interop@example.edu.cn>');

  // A lesson video of the generated catalog (the largest file: several chunks).
  let best = null;
  for (const name of fs.readdirSync(path.join(catalog, 'resources'))) {
    const r = JSON.parse(fs.readFileSync(path.join(catalog, 'resources', name), 'utf8'));
    for (const f of r.files ?? []) {
      if (!r.retired && (!best || f.size > best.size)) best = { id: r.id, ...f };
    }
  }
  assert.ok(best && best.size > 64 * 1024, 'a multi-chunk file exists');

  const { url, child } = await serve(hub);
  try {
    const metadataDir = path.join(dir, 'client');
    const targetDir = path.join(dir, 'downloads');
    fs.mkdirSync(metadataDir);
    fs.mkdirSync(targetDir);
    fs.copyFileSync(path.join(hub, 'tuf', 'metadata', '1.root.json'),
                    path.join(metadataDir, 'root.json'));
    const updater = new Updater({ metadataDir, metadataBaseUrl: `${url}metadata`, targetDir,
                                  targetBaseUrl: `${url}targets` });
    await updater.refresh();
    const target = `national/${best.id}/${best.name}`;
    const info = await updater.getTargetInfo(target);
    assert.ok(info, `tuf-js finds ${target} through the hash bins`);
    assert.equal(info.hashes.sha256, best.sha256);
    const file = await updater.downloadTarget(info, path.join(targetDir, 'video'));
    assert.deepEqual(fs.readFileSync(file),
                     fs.readFileSync(path.join(catalog, 'media', best.id, best.name)));

    const manifest = await updater.getTargetInfo('catalog/manifest.txt');
    assert.equal(manifest.custom.release, 'r1');
    const got = await updater.downloadTarget(manifest, path.join(targetDir, 'manifest.txt'));
    assert.match(fs.readFileSync(got, 'utf8'), /^[0-9a-f]{64}  README\.md\n/);
  } finally {
    // Wait for it to exit: the directory is removed next, and a hub still stopping writes
    // into it (its users' usage, its fleet store).
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
});
