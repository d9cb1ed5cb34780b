#!/usr/bin/env bash
# An emergency package (停课不停学) down five tiers on real processes (issue 22): hub → province
# → city → county → two schools; the upper tiers subscribe to nothing of their own. Every node's
# sync window is closed (it opens in two hours). The hub publishes r2: ordinary changes and an
# emergency package (resources marked priority).
#   - every tier holds the whole emergency package, verified, and every school serves it — the figure is
#     the time from the end of `hub publish` to the last school holding it;
#   - negative control: r2 also adds the same kind of package *without* the priority mark;
#     it waits for the window at every tier (deferred, not fetched), also a poll later;
#   - a school whose storage quota r2 exceeds gets the emergency package all the same (the
#     quota holds for ordinary content) and says the quota is exceeded.
# Usage: emergency.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18660}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM
schools=(school_a school_b)


# add_package PREFIX PRIORITY N: N new resources (ids PREFIX-1..N) for grades 1-6, each with a
# 384 KiB video of fresh bytes, into the hub's catalog input; PRIORITY true or false.
add_package() {
  python3 - "$out/catalog" "$1" "$2" "$3" <<'EOF'
import glob, hashlib, json, os, sys
root, prefix, priority, n = sys.argv[1], sys.argv[2], sys.argv[3] == "true", int(sys.argv[4])
template = None
for path in sorted(glob.glob(os.path.join(root, "resources", "*.json"))):
    r = json.load(open(path))
    g = r.get("facets", {}).get("grade")
    if r["placements"][0]["platform"] == "k12" and g and 1 <= g <= 6 and r.get("files"):
        template = r
        break
assert template, "no K-12 grade 1-6 resource to copy"
for i in range(1, n + 1):
    r = json.loads(json.dumps(template))
    r["id"] = f"{prefix}-{i}"
    r["title"] = f"停课不停学 应急课程 {i}" if priority else f"普通课程 {i}"
    r["priority"] = priority
    data = os.urandom(384 * 1024)
    r["files"] = [{"media_type": "video/mp4", "name": "lesson.mp4",
                   "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}]
    os.makedirs(os.path.join(root, "media", r["id"]), exist_ok=True)
    open(os.path.join(root, "media", r["id"], "lesson.mp4"), "wb").write(data)
    json.dump(r, open(os.path.join(root, "resources", r["id"] + ".json"), "w"), ensure_ascii=False,
              indent=2, sort_keys=True)
EOF
}
# holds OFFSET PREFIX N: whether the node serves r<release> with every file of PREFIX-1..N local.
holds() {
  python3 - "$(url "$1")" "$2" "$3" <<'EOF'
import json, sys, urllib.request
base, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(1, n + 1):
    try:
        r = json.load(urllib.request.urlopen(f"{base}/v1/catalog/resources/{prefix}-{i}"))["resource"]
    except Exception:
        sys.exit(1)
    if not r["files"] or not all(f["local"] for f in r["files"]):
        sys.exit(1)
EOF
}

step "Five tiers, r1 everywhere, windows open (none set)"
make_hub --resources 40 --seed 31 --size-scale 0.0005
start_hub 0
make_node province 1 province 330000 "" "$(url 0)"
make_node city 2 city 330100 "" "$(url 0)" "$(url 1)"
make_node county 3 county 330106 "" "$(url 0)" "$(url 2)" "$(url 1)"
sub='platform = k12 and grade in (1..6)'
make_node school_a 4 school 330106 "$sub" "$(url 0)" "$(url 3)" "$(url 2)" "$(url 1)"
make_node school_b 5 school 330106 "$sub" "$(url 0)" "$(url 3)" "$(url 2)" "$(url 1)"
i=1
for n in province city county "${schools[@]}"; do start_node "$n" $i; i=$((i + 1)); done
wait_release r1 4 120
wait_release r1 5 120
# The upper tiers mirror what the schools subscribe to once the reports have rolled it up.
for o in 3 2 1; do
  deadline=$((SECONDS + 60))
  until [ "$(status $o | field '(d["current"] or {}).get("files", 0)')" -gt 0 ]; do
    [ $SECONDS -lt $deadline ] || fail "$(url $o) did not mirror its subtree's subscription"
    sleep 0.2
  done
done

step "Every node's window closed (it opens in two hours), reloaded"
window="$(clock 120)-$(clock 180)"
i=1
for n in province city county "${schools[@]}"; do
  set_toml "$n" sync windows "[\"$window\"]"
  reload_until "$n" $i 'd["bandwidth"]["window_open"]' False
  i=$((i + 1))
done

step "r2: ordinary changes, an emergency package of 4 resources and an ordinary one of 4"
"$bin" demo generate "$out/catalog" --next-release >/dev/null
add_package k12-emergency true 4
add_package k12-ordinary false 4
start=$(date +%s.%N)
publish r2
published=$(date +%s.%N)
for s in 4 5; do
  deadline=$((SECONDS + 120))
  until [ "$(served_release $s)" = r2 ] && holds $s k12-emergency 4; do
    [ $SECONDS -lt $deadline ] ||
      fail "$(url $s) does not hold the emergency package: $(status $s | field 'd["current"], d["last_sync"]')"
    sleep 0.1
  done
done
took=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$published" "$(date +%s.%N)")
signing=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$published")
echo "the emergency package (4 x 384 KiB) at every school ${took} s after hub publish returned" \
  "(publish took ${signing} s; 5 tiers, every window closed, poll 5 s with push)"
for s in 4 5; do
  deferred=$(status $s | field 'd["current"].get("deferred", 0)')
  [ "$deferred" -gt 0 ] || fail "$(url $s) deferred no ordinary file of r2 outside its window"
  curl -sf "$(url $s)/v1/files/k12-emergency-1/lesson.mp4" | cmp -s - "$out/catalog/media/k12-emergency-1/lesson.mp4" ||
    fail "$(url $s) does not serve the emergency video byte for byte"
done
for o in 1 2 3; do
  [ "$(status $o | field 'd["current"].get("deferred", 0)')" -gt 0 ] ||
    fail "tier $(url $o) fetched r2's ordinary content outside its window"
  holds $o k12-emergency 4 || fail "tier $(url $o) does not hold the emergency package"
done

sleep 6  # a poll later, still outside the windows
for s in 4 5; do
  ! holds $s k12-ordinary 1 || fail "$(url $s) fetched the ordinary package outside its window"
done

step "A school whose storage quota r2 exceeds (no windows): the emergency package all the same"
make_node school_q 6 school 330106 "$sub" "$(url 0)" "$(url 3)"
sed -i 's/^quota = .*/quota = "1M"/' "$out/school_q/node.toml"
start_node school_q 6
deadline=$((SECONDS + 60))
until [ "$(served_release 6)" = r2 ] && holds 6 k12-emergency 4; do
  [ $SECONDS -lt $deadline ] ||
    fail "the school over quota does not hold the emergency package: $(status 6 | field 'd["last_sync"]')"
  sleep 0.2
done
status 6 | field 'd["last_check"]["quota_exceeded"]' | grep -q "quota" ||
  fail "status does not say the quota was exceeded: $(status 6 | field 'd["last_check"]')"
[ "$(status 6 | field 'd["current"].get("deferred", 0)')" -gt 0 ] || fail "nothing deferred over quota"
! holds 6 k12-ordinary 1 || fail "the school over quota fetched ordinary content"
"$bin" node status "$out/school_q" | grep -c "QUOTA EXCEEDED" >/dev/null || fail "node status does not say QUOTA EXCEEDED"
echo "emergency test passed"
