// Interop, the other direction: the stock TUF client tuf-js refreshes from, and downloads out
// of, a repository that tiersync wrote (`tiersync keys` + `tiersync repo`), over loopback HTTP,
// including a target in a province's delegated namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Updater } from 'tuf-js';
import { serveDir } from './serve.mjs';

const BIN = process.env.TIERSYNC_BIN;
const run = (...args) => execFileSync(BIN, args, { encoding: 'utf8' });

function makeRepository(dir) {
  const key = (name, scheme = 'ed25519') => {
    run('keys', 'gen', '--scheme', scheme, path.join(dir, 'keys', name));
    return path.join(dir, 'keys', name);
  };
  fs.mkdirSync(path.join(dir, 'keys'));
  const k = {
    root: key('root'), timestamp: key('timestamp', 'ecdsa-sha2-nistp256'),
    snapshot: key('snapshot'), targets: key('targets', 'rsassa-pss-sha256'), zj: key('330000'),
  };
  const repo = path.join(dir, 'repo');
  run('repo', 'init', repo, '--root-key', k.root, '--timestamp-key', k.timestamp,
      '--snapshot-key', k.snapshot, '--targets-key', k.targets,
      '-k', k.root, '-k', k.timestamp, '-k', k.snapshot, '-k', k.targets);
  fs.writeFileSync(path.join(dir, 'grade1.mp4'), crypto.randomBytes(300000));
  fs.writeFileSync(path.join(dir, 'local.pdf'), '浙江省 校本课程\n');
  const publishers = ['-k', k.snapshot, '-k', k.timestamp];
  run('repo', 'add-target', repo, '--file', path.join(dir, 'grade1.mp4'), '--prefix',
      'lessons/数学/', '-k', k.targets, ...publishers);
  run('repo', 'delegate', repo, '--to', '330000', '--path', 'regions/330000/*',
      '--delegate-key', `${k.zj}.pub.json`, '--terminating', '-k', k.targets, '-k', k.zj,
      ...publishers);
  run('repo', 'add-target', repo, '--role', '330000', '--file', path.join(dir, 'local.pdf'),
      '--prefix', 'regions/330000/', '-k', k.zj, ...publishers);
  return repo;
}

test('tuf-js refreshes a tiersync repository and downloads verified targets', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiersync-tufjs-'));
  const repo = makeRepository(dir);
  const server = await serveDir(repo);
  try {
    const metadataDir = path.join(dir, 'client');
    fs.mkdirSync(metadataDir);
    fs.copyFileSync(path.join(repo, 'metadata', '1.root.json'), path.join(metadataDir, 'root.json'));
    const updater = new Updater({
      metadataDir, metadataBaseUrl: `${server.url}/metadata`,
      targetDir: path.join(dir, 'downloads'), targetBaseUrl: `${server.url}/targets`,
    });
    fs.mkdirSync(path.join(dir, 'downloads'));
    await updater.refresh();
    for (const [name, source] of [['lessons/数学/grade1.mp4', 'grade1.mp4'],
                                  ['regions/330000/local.pdf', 'local.pdf']]) {
      const info = await updater.getTargetInfo(name);
      assert.ok(info, `tuf-js finds ${name}`);
      const file = await updater.downloadTarget(info);
      assert.deepEqual(fs.readFileSync(file), fs.readFileSync(path.join(dir, source)));
    }
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('tuf-js rejects a tampered target served from a tiersync repository', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiersync-tufjs-'));
  const repo = makeRepository(dir);
  const targetsDir = path.join(repo, 'targets', 'lessons', '数学');
  const stored = fs.readdirSync(targetsDir)[0];
  const bytes = fs.readFileSync(path.join(targetsDir, stored));
  bytes[1000] ^= 1;
  fs.writeFileSync(path.join(targetsDir, stored), bytes);
  const server = await serveDir(repo);
  try {
    const metadataDir = path.join(dir, 'client');
    fs.mkdirSync(metadataDir);
    fs.mkdirSync(path.join(dir, 'downloads'));
    fs.copyFileSync(path.join(repo, 'metadata', '1.root.json'), path.join(metadataDir, 'root.json'));
    const updater = new Updater({
      metadataDir, metadataBaseUrl: `${server.url}/metadata`,
      targetDir: path.join(dir, 'downloads'), targetBaseUrl: `${server.url}/targets`,
    });
    await updater.refresh();
    const info = await updater.getTargetInfo('lessons/数学/grade1.mp4');
    await assert.rejects(updater.downloadTarget(info));
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
