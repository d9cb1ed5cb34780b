// Interop, one direction: `tiersync tuf-client` refreshes from, and downloads out of, a
// repository whose metadata another implementation (@tufjs/models) produced
// (fixtures/tufjs-repo, made once by make_fixture.mjs), served over loopback HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serveDir } from './serve.mjs';

const BIN = process.env.TIERSYNC_BIN;
const FIXTURE = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'tufjs-repo');

// Runs `tiersync tuf-client ARGS` without blocking the event loop that serves the repository.
function client(args) {
  return new Promise((resolve) => {
    const child = spawn(BIN, ['tuf-client', ...args]);
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

async function withServedCopy(fn, mutate = () => {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiersync-interop-'));
  fs.cpSync(FIXTURE, path.join(dir, 'repo'), { recursive: true });
  mutate(path.join(dir, 'repo'));
  const server = await serveDir(path.join(dir, 'repo'));
  try {
    const md = path.join(dir, 'client-metadata');
    fs.mkdirSync(md);
    const common = ['--metadata-dir', md, '--metadata-url', `${server.url}/metadata`];
    assert.equal((await client(['--metadata-dir', md, 'init', path.join(FIXTURE, 'metadata', '1.root.json')])).status, 0);
    await fn({ dir, md, common, server });
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('tiersync tuf-client refreshes a tuf-js repository, walking root v1 -> v2', async () => {
  await withServedCopy(async ({ md, common, server }) => {
    const r = await client([...common, 'refresh']);
    assert.equal(r.status, 0, r.stderr);
    const root = JSON.parse(fs.readFileSync(path.join(md, 'root.json')));
    assert.equal(root.signed.version, 2);
    assert.deepEqual(server.requests.slice(0, 4), [
      '/metadata/2.root.json', '/metadata/3.root.json', '/metadata/timestamp.json',
      '/metadata/1.snapshot.json']);
  });
});

test('tiersync tuf-client downloads top-level and delegated targets', async () => {
  await withServedCopy(async ({ dir, common }) => {
    const targetDir = path.join(dir, 'downloads');
    for (const [name, want] of [['lessons/math/grade1.txt', '一年级数学 第一课\n'],
                                ['regions/330000/zhejiang.txt', '浙江省 local resource\n']]) {
      const r = await client([...common, '--target-name', name, '--target-base-url',
                        common[3].replace('/metadata', '/targets'),
                        '--target-dir', targetDir, 'download']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.readFileSync(path.join(targetDir, encodeURIComponent(name)), 'utf8'), want);
    }
  });
});

test('tiersync tuf-client rejects a tampered target and a target outside the delegation', async () => {
  await withServedCopy(async ({ dir, common }) => {
    const targetDir = path.join(dir, 'downloads');
    const base = common[3].replace('/metadata', '/targets');
    let r = await client([...common, '--target-name', 'readme.txt', '--target-base-url', base,
                    '--target-dir', targetDir, 'download']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /sha256 mismatch|length mismatch/);
    r = await client([...common, '--target-name', 'regions/110000/x.txt', '--target-base-url', base,
                '--target-dir', targetDir, 'download']);
    assert.equal(r.status, 1);
  }, (repo) => {
    const dir = path.join(repo, 'targets');
    const f = fs.readdirSync(dir).find((n) => n.endsWith('.readme.txt'));
    fs.writeFileSync(path.join(dir, f), 'fixture made by @tufjs/MODELS\n');  // same length
  });
});

test('tiersync tuf-client rejects a timestamp with a broken signature', async () => {
  await withServedCopy(async ({ common }) => {
    const r = await client([...common, 'refresh']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /threshold not met/);
  }, (repo) => {
    const file = path.join(repo, 'metadata', 'timestamp.json');
    const ts = JSON.parse(fs.readFileSync(file));
    ts.signed.version = 7;  // signature no longer covers what is signed
    fs.writeFileSync(file, JSON.stringify(ts));
  });
});
