// Writes fixtures/tufjs-repo: a TUF repository produced by another implementation
// (@tufjs/models, the metadata library of tuf-js), for `tiersync tuf-client` to read.
// Run once: `node make_fixture.mjs`; the output is committed and never regenerated in CI
// (keys are random, so every run gives different bytes).
//
// Contents: root v1 and v2 (v2 rotates the timestamp key; signed by the root key, which
// stays), top-level targets with two files, a delegation of "regions/330000/*" to role
// "330000" with one file, snapshot and timestamp; consistent snapshots; expiry 2036-01-01.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import { Key, Metadata, MetaFile, Root, Signature, Snapshot, TargetFile, Targets, Timestamp }
  from '@tufjs/models';

const out = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'tufjs-repo');
const expires = '2036-01-01T00:00:00Z';

function newKey() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  const json = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw } };
  const keyID = crypto.createHash('sha256').update(canonicalize(json)).digest('hex');
  const key = new Key({ keyID, keyType: 'ed25519', scheme: 'ed25519', keyVal: { public: raw } });
  const signer = (bytes) => new Signature({ keyID, sig: crypto.sign(null, bytes, privateKey).toString('hex') });
  return { key, signer };
}

function write(name, metadata) {
  const file = path.join(out, 'metadata', name);
  fs.writeFileSync(file, JSON.stringify(metadata.toJSON(), null, 1));
  return fs.readFileSync(file);
}

function addTarget(targets, targetPath, content) {
  const sha256 = crypto.createHash('sha256').update(content).digest('hex');
  targets.targets[targetPath] = new TargetFile({ path: targetPath, length: content.length, hashes: { sha256 } });
  const dir = path.join(out, 'targets', path.dirname(targetPath));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${sha256}.${path.basename(targetPath)}`), content);
}

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'metadata'), { recursive: true });
const k = { root: newKey(), timestamp: newKey(), timestamp2: newKey(), snapshot: newKey(), targets: newKey(), region: newKey() };

const root = new Root({ version: 1, expires, consistentSnapshot: true });
for (const role of ['root', 'timestamp', 'snapshot', 'targets']) root.addKey(k[role].key, role);
const rootMd = new Metadata(root);
rootMd.sign(k.root.signer);
write('1.root.json', rootMd);

const root2 = new Root({ version: 2, expires, consistentSnapshot: true });
for (const role of ['root', 'snapshot', 'targets']) root2.addKey(k[role].key, role);
root2.addKey(k.timestamp2.key, 'timestamp');
const root2Md = new Metadata(root2);
root2Md.sign(k.root.signer);
write('2.root.json', root2Md);

const top = new Targets({ version: 1, expires });
addTarget(top, 'lessons/math/grade1.txt', Buffer.from('一年级数学 第一课\n'));
addTarget(top, 'readme.txt', Buffer.from('fixture made by @tufjs/models\n'));
// Delegations are not exported by the package index; load them from its files.
const require = createRequire(import.meta.url);
const modelsDir = path.dirname(require.resolve('@tufjs/models'));
const { Delegations } = require(path.join(modelsDir, 'delegations.js'));
const { DelegatedRole } = require(path.join(modelsDir, 'role.js'));
top.delegations = new Delegations({
  keys: { [k.region.key.keyID]: k.region.key },
  roles: { '330000': new DelegatedRole({ name: '330000', keyIDs: [k.region.key.keyID], threshold: 1, terminating: true, paths: ['regions/330000/*'] }) },
});
const topMd = new Metadata(top);
topMd.sign(k.targets.signer);
write('1.targets.json', topMd);

const region = new Targets({ version: 1, expires });
addTarget(region, 'regions/330000/zhejiang.txt', Buffer.from('浙江省 local resource\n'));
const regionMd = new Metadata(region);
regionMd.sign(k.region.signer);
write('1.330000.json', regionMd);

const snapshot = new Snapshot({ version: 1, expires, meta: {
  'targets.json': new MetaFile({ version: 1 }), '330000.json': new MetaFile({ version: 1 }) } });
const snapshotMd = new Metadata(snapshot);
snapshotMd.sign(k.snapshot.signer);
write('1.snapshot.json', snapshotMd);

const timestamp = new Timestamp({ version: 1, expires, snapshotMeta: new MetaFile({ version: 1 }) });
const timestampMd = new Metadata(timestamp);
timestampMd.sign(k.timestamp2.signer);
write('timestamp.json', timestampMd);
console.log(`wrote ${out}`);
