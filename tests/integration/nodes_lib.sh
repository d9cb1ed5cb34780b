# shellcheck shell=bash
# Helpers for the multi-process node tests (sourced): a hub with sample content, nodes,
# waiting for releases, reading /v1/status and /metrics. The caller sets $bin (the tiersync
# binary), $out (a scratch directory) and $port (the first of its loopback ports), and calls
# cleanup on exit (trap). Every helper fails the test with a message when it cannot do its job.
# shellcheck source=deploy/demo/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../deploy/demo/lib.sh"

pids=()
# Stops every process started here; in a sanitizer build, what they reported (also at exit)
# fails the test.
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$out"/logs/*.log 2>/dev/null >&2; then
    echo "TEST FAILED: sanitizer reports in the logs above" >&2
    exit 1
  fi
}
fail() {
  echo "TEST FAILED: $*" >&2
  echo "logs: $out/logs" >&2
  exit 1
}
url() { echo "http://127.0.0.1:$((port + $1))"; }
status() { curl -sf "$(url "$1")/v1/status"; }
# field EXPR [ARGS...] < json: prints eval(EXPR) with the JSON as d (and sys.argv for ARGS).
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$@"; }
# metric URL NAME [LABEL_SUBSTRING]: the value of a Prometheus sample (0 if absent).
metric() {
  curl -sf "$1/metrics" | awk -v name="$2" -v label="${3:-}" \
    '$1 ~ "^"name"([{]|$)" && index($1, label) { v = $2 } END { print v + 0 }'
}

sign_keys() { echo -k "$out/keys/targets.key" -k "$out/keys/snapshot.key" -k "$out/keys/timestamp.key"; }
publisher="国家智慧教育平台 发布员 <publish@hub.example.edu.cn>"

# make_hub [demo generate options...]: keys (of scheme $key_scheme, default ed25519), hub init
# (with the options in the array hub_init_args, if set), sample content, release r1.
make_hub() {
  mkdir -p "$out/keys" "$out/logs"
  for role in root targets snapshot timestamp; do
    "$bin" keys gen --scheme "${key_scheme:-ed25519}" "$out/keys/$role.key" >/dev/null
  done
  # shellcheck disable=SC2046
  "$bin" hub init "$out/hub" --root-key "$out/keys/root.key" --targets-key "$out/keys/targets.key" \
    --snapshot-key "$out/keys/snapshot.key" --timestamp-key "$out/keys/timestamp.key" \
    -k "$out/keys/root.key" $(sign_keys) "${hub_init_args[@]}" >/dev/null
  "$bin" demo generate "$out/catalog" "$@" >/dev/null
  publish r1
}

# publish MESSAGE: publishes the catalog in $out/catalog as the next release.
publish() {
  # shellcheck disable=SC2046
  "$bin" hub publish "$out/hub" --input "$out/catalog" $(sign_keys) --publisher "$publisher" \
    -m "$1" >/dev/null || fail "hub publish $1"
}

# next_release MESSAGE: changes some resources and publishes them.
next_release() {
  "$bin" demo generate "$out/catalog" --next-release >/dev/null
  publish "$1"
}

# port_free OFFSET: fails the test if something already answers on that port (a process left
# over from another run would otherwise pass for the one about to start).
port_free() {
  if curl -s -o /dev/null --max-time 2 "$(url "$1")/v1/status"; then
    fail "something already listens on $(url "$1"): a process left over from another run?"
  fi
}

# start_hub OFFSET
start_hub() {
  port_free "$1"
  "$bin" hub serve "$out/hub" --listen "127.0.0.1:$((port + $1))" >>"$out/logs/hub.log" 2>&1 &
  pids+=($!)
  wait_http "$1"
}

# make_node NAME OFFSET TIER REGION SUBSCRIPTION NATIONAL_URL [UPSTREAM_URL...]; the pinned
# root is $node_root if set, else the hub's 1.root.json.
make_node() {
  local name="$1" offset="$2" tier="$3" region="$4" sub="$5" national="$6"
  shift 6
  local ups=()
  for u in "$@"; do ups+=(--upstream "$u"); done
  "$bin" node init "$out/$name" --name "$name" --tier "$tier" --region "$region" \
    --listen "127.0.0.1:$((port + offset))" "${ups[@]}" --national "$national" \
    --root "${node_root:-$out/hub/tuf/metadata/1.root.json}" --subscription "$sub" \
    --poll-seconds 5 >/dev/null ||
    fail "node init $name"
}

# set_toml NODE SECTION KEY VALUE: sets KEY in [SECTION] of NODE's node.toml to VALUE (TOML
# text, e.g. 524288 or '["22:00-06:00"]'); keys of the same name in other sections are left.
set_toml() {
  python3 - "$out/$1/node.toml" "$2" "$3" "$4" <<'EOF' || fail "could not set [$2] $3 of $1"
import re, sys
path, section, key, value = sys.argv[1:]
lines, current, done = open(path).read().split("\n"), None, False
for i, line in enumerate(lines):
    m = re.match(r"\[([a-z_]+)\]", line)
    if m:
        current = m.group(1)
    elif current == section and re.match(re.escape(key) + r"\s*=", line):
        lines[i], done = f"{key} = {value}", True
if not done:
    sys.exit(f"no {key} in [{section}]")
open(path, "w").write("\n".join(lines))
EOF
}

# clock OFFSET_MINUTES: the local time of day that far from now, as HH:MM (for windows).
clock() { date -d "@$(($(date +%s) + $1 * 60))" +%H:%M; }

# reload_until NAME OFFSET EXPR VALUE: SIGHUP to node NAME, then until field EXPR of its status
# prints VALUE (at most 20 s).
reload_until() {
  kill -HUP "${node_pid[$1]}"
  local deadline=$((SECONDS + 20))
  until [ "$(status "$2" | field "$3")" = "$4" ]; do
    [ $SECONDS -lt $deadline ] || fail "$1 did not take its reloaded node.toml: $3 is not $4"
    sleep 0.2
  done
}

# priority_part SUBSCRIPTION: "<priority bytes> <ordinary bytes> <priority resources with
# files>" of the hub's current release for that subscription (the listing in $out/ls.json).
priority_part() {
  "$bin" --json catalog ls --repo "$out/hub" --filter "$1" >"$out/ls.json"
  python3 -c '
import json, sys
rs = [r for r in json.load(open(sys.argv[1])) if not r["retired"] and not r["link"]]
p = [r for r in rs if r["priority"]]
print(sum(r["bytes"] for r in p), sum(r["bytes"] for r in rs if not r["priority"]),
      len([r for r in p if r["bytes"] > 0]))' "$out/ls.json"
}

# slope SAMPLES: "<span seconds> <bytes> <bytes/s>" of a file of "<time> <bytes so far>" lines,
# between the first and the last sample taken strictly inside the transfer (more than the first
# reading, less than the last): neither its start nor its end has to be caught. "0 0 0" when
# fewer than two samples are inside.
slope() {
  python3 - "$1" <<'EOF'
import sys
s = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
first, last = s[0][1], s[-1][1]
inside = [(t, b) for t, b in s if first < b < last]
if len(inside) < 2:
    print(0, 0, 0)
else:
    (t0, b0), (t1, b1) = inside[0], inside[-1]
    print(round(t1 - t0, 1), int(b1 - b0), int((b1 - b0) / (t1 - t0)) if t1 > t0 else 0)
EOF
}

# hub_province_school SEED: a hub (40 resources, r1) at offset 0, a province subscribing to
# nothing of its own at 1 and a school (K-12 grades 1-6) at 2 under it, all started; returns
# once the school serves r1.
hub_province_school() {
  make_hub --resources 40 --seed "$1" --size-scale 0.0005
  start_hub 0
  make_node province 1 province 330000 "" "$(url 0)"
  make_node school 2 school 330106 'platform = k12 and grade in (1..6)' "$(url 0)" "$(url 1)"
  start_node province 1
  start_node school 2
  wait_release r1 2 120
}

# start_node NAME OFFSET: serves the node in the background; its pid is in node_pid[NAME].
declare -A node_pid
start_node() {
  port_free "$2"
  "$bin" node serve "$out/$1" >>"$out/logs/$1.log" 2>&1 &
  node_pid[$1]=$!
  pids+=($!)
  wait_http "$2"
}

stop_node() {
  kill "${node_pid[$1]}" 2>/dev/null || true
  wait "${node_pid[$1]}" 2>/dev/null || true
}

# wait_http OFFSET: until something answers on that port (at most 20 s).
wait_http() {
  for _ in $(seq 1 200); do
    curl -s -o /dev/null "$(url "$1")/v1/status" && return 0
    sleep 0.1
  done
  fail "nothing answers on $(url "$1")"
}

# wait_release RELEASE OFFSET [SECONDS]: until the node at OFFSET serves RELEASE.
wait_release() {
  local deadline=$((SECONDS + ${3:-60}))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(status "$2" | field '(d["current"] or {}).get("release")' 2>/dev/null)" = "$1" ] && return 0
    sleep 0.2
  done
  fail "$(url "$2") did not reach $1 within ${3:-60} s: $(status "$2" | field 'd["last_sync"]' 2>/dev/null)"
}

# served_release OFFSET: the release a node serves now.
served_release() { status "$1" | field '(d["current"] or {}).get("release")'; }

# local_files OFFSET: the users' URL of every file the node holds, one a line.
local_files() {
  python3 - "$(url "$1")" <<'EOF' || fail "cannot list the files of $(url "$1")"
import json, sys, urllib.request
base = sys.argv[1]
items = json.load(urllib.request.urlopen(base + "/v1/catalog/search?local=1&limit=500"))["items"]
for item in items:
    res = json.load(urllib.request.urlopen(base + "/v1/catalog/resources/" + item["id"]))["resource"]
    for f in res["files"]:
        if f["local"]:
            print(f["url"])
EOF
}

# check_files OFFSET: every file the node holds is served with the SHA-256 its catalog gives.
check_files() {
  python3 - "$(url "$1")" <<'EOF' || fail "a local file of $(url "$1") is not served whole"
import hashlib, json, sys, urllib.request
base = sys.argv[1]
items = json.load(urllib.request.urlopen(base + "/v1/catalog/search?local=1&limit=500"))["items"]
n = 0
for item in items:
    res = json.load(urllib.request.urlopen(base + "/v1/catalog/resources/" + item["id"]))["resource"]
    for f in res["files"]:
        if not f["local"]:
            continue
        body = urllib.request.urlopen(base + f["url"]).read()
        if hashlib.sha256(body).hexdigest() != f["sha256"]:
            sys.exit(f"{f['url']}: {len(body)} bytes, not the published SHA-256")
        n += 1
if n == 0:
    sys.exit("no local file")
print(f"{n} local files served whole")
EOF
}
