#!/usr/bin/env bash
# The GM/T suite on real processes (issue 19, "must show" item 3). Loopback ports:
#   A. a federation on SM2/SM3 only: every key of root, timestamp, snapshot, targets and the
#      hash bins is sm2-sm3
#        hub (+0) <- province (+1) <- county (+2) <- school (+3)
#      snapshot and targets entries carry SM3 beside SHA-256, which every node checks;
#      every tier reaches r1 and r2; a TUF client pinned to the SM2 root downloads a file
#      from the school and gets the hub's bytes; the stock openssl command line verifies the
#      root's signature (how an auditor would check it).
#   B. an Ed25519 hub rotated to an SM2 root (root, timestamp, snapshot and targets keys; the
#      hash bins keep their Ed25519 key: a mixed federation)
#        hub (+5) <- early (+6)  pinned at the Ed25519 1.root.json, synced r1 before
#                 <- late (+7)   set up with the SM2 2.root.json
#      root 2 is signed by the old Ed25519 root key and the new SM2 one (TUF 5.3.4); a root 2
#      signed by the new key alone is refused by the hub's repository; both nodes reach r2.
# No node may count an honest source as lying.
# Usage: gm_suite.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
base="$2"
port="${TIERSYNC_TEST_PORT:-18550}"
out="$base/gm"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$base"
mkdir -p "$base"
trap cleanup EXIT
trap 'exit 130' INT TERM

sub='platform = k12 and board = 课程教学'

no_rejections() {  # OFFSET NAME
  local n
  n=$(status "$1" | field 'sum(s["rejections"] for s in d["sources"])')
  [ "$n" = 0 ] || fail "$2 counted $n rejections of honest sources: $(status "$1" | field 'd["recent_rejections"]')"
}

# schemes FILE [JSON_PATH]: the sorted set of key schemes in a metadata file's "keys" (root)
# or "delegations.keys" (targets).
schemes() {
  python3 - "$1" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["signed"]
keys = s.get("keys") or s.get("delegations", {}).get("keys", {})
print(",".join(sorted({k["keytype"] + "/" + k["scheme"] for k in keys.values()})))
EOF
}

# openssl_verifies ROOT_JSON KEYID PUBLIC_PEM_FILE: the openssl CLI checks the signature of
# KEYID over the canonical JSON of "signed" (OLPC canonical form, as securesystemslib's
# encode_canonical writes it: sorted keys, no whitespace, UTF-8, strings with only \ and "
# escaped — the newlines of PEM keys stay raw bytes, unlike in Python's json.dumps).
openssl_verifies() {
  python3 - "$1" "$2" "$out/audit" <<'EOF'
import json, sys
def canon(o):
    if isinstance(o, dict):
        return "{" + ",".join(canon(k) + ":" + canon(o[k]) for k in sorted(o)) + "}"
    if isinstance(o, list):
        return "[" + ",".join(canon(v) for v in o) + "]"
    if isinstance(o, str):
        return '"' + o.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(o, bool):
        return "true" if o else "false"
    return "null" if o is None else str(o)
doc = json.load(open(sys.argv[1]))
open(sys.argv[3] + ".msg", "wb").write(canon(doc["signed"]).encode("utf-8"))
sig = [s["sig"] for s in doc["signatures"] if s["keyid"] == sys.argv[2]][0]
open(sys.argv[3] + ".sig", "wb").write(bytes.fromhex(sig))
EOF
  openssl pkeyutl -verify -rawin -digest sm3 -pubin -inkey "$3" -in "$out/audit.msg" \
    -sigfile "$out/audit.sig" -pkeyopt distid:1234567812345678 >/dev/null
}

# snapshot_hashes: the hash algorithms of snapshot's entry in the hub's timestamp.
snapshot_hashes() {
  field '",".join(sorted(d["signed"]["meta"]["snapshot.json"]["hashes"]))' <"$meta/timestamp.json"
}

# key_pem KEY_PUB_JSON FILE: the public PEM of a .pub.json key file.
key_pem() { field 'd["keyval"]["public"]' <"$1" >"$2"; }
keyid() { "$bin" --json keys show "$1" | field 'd["keyid"]'; }

step "A. A hub whose every key is SM2 (root, timestamp, snapshot, targets, bins); r1"
key_scheme=sm2-sm3 make_hub --resources 30 --seed 11 --size-scale 0.0003
meta="$out/hub/tuf/metadata"
[ "$(schemes "$meta/1.root.json")" = "sm2/sm2-sm3" ] ||
  fail "root 1 lists keys other than SM2: $(schemes "$meta/1.root.json")"
targets_json=$(printf "%s\n" "$meta"/*.targets.json | sort -V | tail -1)
[ "$(schemes "$targets_json")" = "sm2/sm2-sm3" ] ||
  fail "the hash bins are delegated to keys other than SM2: $(schemes "$targets_json")"
[ "$(snapshot_hashes)" = "sha256,sm3" ] ||
  fail "an SM2 hub's timestamp does not hash snapshot with SM3 beside SHA-256: $(snapshot_hashes)"

step "A. The stock openssl command line verifies root 1's SM2 signature"
key_pem "$out/keys/root.key.pub.json" "$out/root.pub.pem"
openssl_verifies "$meta/1.root.json" "$(keyid "$out/keys/root.key.pub.json")" "$out/root.pub.pem" ||
  fail "openssl does not verify the hub's SM2 root signature"
# The negative control: another SM2 key does not verify it.
key_pem "$out/keys/targets.key.pub.json" "$out/targets.pub.pem"
if openssl_verifies "$meta/1.root.json" "$(keyid "$out/keys/root.key.pub.json")" \
  "$out/targets.pub.pem" 2>/dev/null; then
  fail "openssl verified the root signature under the targets key: the check proves nothing"
fi

step "A. Province, county and school on the SM2 root sync r1, then r2"
make_node province 1 province 330000 "$sub" "$(url 0)"
make_node county 2 county 330106 "$sub" "$(url 0)" "$(url 1)"
make_node school 3 school 330106 "$sub" "$(url 0)" "$(url 2)"
start_hub 0
for n in province:1 county:2 school:3; do start_node "${n%:*}" "${n#*:}"; done
for o in 1 2 3; do wait_release r1 "$o" 90; done
next_release r2
for o in 1 2 3; do wait_release r2 "$o" 90; done

step "A. A TUF client pinned to the SM2 root downloads a file from the school: the hub's bytes"
id=$("$bin" --json catalog ls --repo "$out/hub" --filter "$sub" | python3 -c \
  'import json,sys; print([r["id"] for r in json.load(sys.stdin) if r["files"] and not r["retired"] and not r["link"]][0])')
file=$("$bin" --json catalog show --repo "$out/hub" "$id" | field 'd["files"][0]["name"]')
sha=$("$bin" --json catalog show --repo "$out/hub" "$id" | field 'd["files"][0]["sha256"]')
"$bin" tuf-client --metadata-dir "$out/client" init "$meta/1.root.json" ||
  fail "tuf-client init with the SM2 root"
"$bin" tuf-client --metadata-dir "$out/client" --metadata-url "$(url 3)/v1/metadata" \
  --target-base-url "$(url 3)/v1/targets" --target-dir "$out/client-targets" \
  --target-name "national/$id/$file" download || fail "tuf-client download from the school"
got=$(sha256sum "$out/client-targets/"* | cut -c1-64)
[ "$got" = "$sha" ] || fail "the school's national/$id/$file has SHA-256 $got, the hub signed $sha"
for n in province:1 county:2 school:3; do no_rejections "${n#*:}" "${n%:*}"; done
echo "SM2 federation: r2 at every tier; national/$id/$file verified end to end"

step "B. An Ed25519 hub; a node pinned at its root 1 syncs r1 and stops"
out="$base/rotation"
make_hub --resources 30 --seed 7 --size-scale 0.0003
meta="$out/hub/tuf/metadata"
[ "$(schemes "$meta/1.root.json")" = "ed25519/ed25519" ] || fail "root 1 is not Ed25519"
[ "$(snapshot_hashes)" = "sha256" ] || fail "an Ed25519 hub writes $(snapshot_hashes), not SHA-256 alone"
start_hub 5
node_root="$meta/1.root.json" make_node early 6 province 330000 "$sub" "$(url 5)"
start_node early 6
wait_release r1 6
stop_node early

step "B. Rotate to an SM2 root: root 2 without the old root key's signature is refused"
k="$out/keys"
for role in root timestamp snapshot targets; do
  "$bin" keys gen --scheme sm2-sm3 "$k/${role}2.key" >/dev/null
done
rotate_args=(--root-key "$k/root2.key.pub.json" --timestamp-key "$k/timestamp2.key.pub.json"
  --snapshot-key "$k/snapshot2.key.pub.json" --targets-key "$k/targets2.key.pub.json"
  -k "$k/root2.key" -k "$k/targets2.key" -k "$k/snapshot2.key" -k "$k/timestamp2.key")
if "$bin" repo rotate-root "$out/hub/tuf" "${rotate_args[@]}" >/dev/null 2>&1; then
  fail "the hub's repository published an SM2 root 2 that the Ed25519 root key did not sign"
fi
[ ! -f "$meta/2.root.json" ] || fail "a refused rotation wrote 2.root.json"
"$bin" repo rotate-root "$out/hub/tuf" "${rotate_args[@]}" -k "$k/root.key" >/dev/null ||
  fail "repo rotate-root to the SM2 root"
[ "$(schemes "$meta/2.root.json")" = "sm2/sm2-sm3" ] ||
  fail "root 2 lists keys other than SM2: $(schemes "$meta/2.root.json")"
python3 - "$meta/2.root.json" "$(keyid "$k/root.key.pub.json")" "$(keyid "$k/root2.key.pub.json")" <<'EOF' ||
import json, sys
ids = {s["keyid"] for s in json.load(open(sys.argv[1]))["signatures"]}
sys.exit(0 if {sys.argv[2], sys.argv[3]} <= ids else 1)
EOF
  fail "root 2 is not signed by both the old Ed25519 and the new SM2 root key"

step "B. Publish r2 (targets, snapshot, timestamp by SM2 keys; bins by their Ed25519 key)"
"$bin" demo generate "$out/catalog" --next-release >/dev/null
"$bin" hub publish "$out/hub" --input "$out/catalog" -k "$k/targets2.key" -k "$k/targets.key" \
  -k "$k/snapshot2.key" -k "$k/timestamp2.key" --publisher "$publisher" -m r2 >/dev/null ||
  fail "hub publish r2 after the rotation"
[ "$(snapshot_hashes)" = "sha256,sm3" ] ||
  fail "after the rotation to SM2 the timestamp does not hash snapshot with SM3: $(snapshot_hashes)"

step "B. The node pinned at the Ed25519 root follows to SM2; a node set up with root 2 syncs"
start_node early 6
wait_release r2 6 90
cmp -s "$out/early/trusted/2.root.json" "$meta/2.root.json" || fail "early does not trust root 2"
node_root="$meta/2.root.json" make_node late 7 county 330106 "$sub" "$(url 5)" "$(url 6)"
start_node late 7
wait_release r2 7 90
no_rejections 6 early
no_rejections 7 late
echo "rotation: Ed25519 root 1 -> SM2 root 2 followed by a node pinned at root 1"
step "OK"
