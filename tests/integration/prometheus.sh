#!/usr/bin/env bash
# Real Prometheus (Debian's package `prometheus`) watching a federation on loopback (issue 20,
# check 5; deploy/prometheus/, docs/operators/monitoring.md):
#   a. promtool accepts the shipped configuration and rules, and the rules' unit tests pass;
#   b. /usr/bin/prometheus with the shipped example configuration (its hosts rewritten to the
#      test's ports, every interval 1 s) and the shipped rules (every `for:` shortened to 2 s),
#      then a hub, a province and a school: all three targets are up, with the example's
#      labels; the school's release number and version, its disk and the hub's store are what
#      they themselves say; every rule is loaded from the file and evaluates without error; no
#      alert is active (the disk's only if the disk really is more than 90% full);
#   c. the school restarted with a lying source as its only one (the hub's timestamp.json with
#      another version: its signature fails): TiersyncSourceRejecting fires for the school and
#      that source; r2 and r3 published (the school 2 releases behind), TiersyncNodeLagging
#      stays silent; r4 (3 behind), it fires, for the school only;
#   d. the hub stopped: TiersyncTargetDown goes pending, then fires, for the hub only.
# Usage: prometheus.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT: +0 hub, +1 province,
# +2 school, +5 Prometheus, +6 the lying source)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18700}"
here="$(cd "$(dirname "$0")" && pwd)"
shipped="$(cd "$here/../../deploy/prometheus" && pwd)"
# shellcheck source=tests/integration/nodes_lib.sh
source "$here/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM
started=$SECONDS

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  fail "prometheus and promtool are not installed: ./scripts/install-deps.sh prometheus"
fi

prom="$(url 5)"
host() { echo "127.0.0.1:$((port + $1))"; }

# api MODE [ARG]: asks Prometheus' HTTP API; prints, one a line, sorted:
#   value EXPR     the value of the one sample the instant query EXPR selects ("none": none);
#   samples EXPR   every sample the instant query EXPR selects: "<instance> <value>";
#   alerts         the active alerts: "<alertname> <state> <instance> <source>" ("-": no label);
#   targets        "<job> <instance> <tier> <health>";
#   rules          "<name> <health> <last error or -> <file>";
#   evaluated S    nothing; returns once every rule group was last evaluated S seconds after
#                  the call or later (at most 20 s).
api() {
  python3 - "$prom" "$@" <<'EOF'
import datetime, json, re, sys, time, urllib.parse, urllib.request
base, mode, arg = sys.argv[1], sys.argv[2], (sys.argv[3:] or [""])[0]
def get(path, **params):
    query = "?" + urllib.parse.urlencode(params) if params else ""
    with urllib.request.urlopen(base + "/api/v1/" + path + query, timeout=5) as reply:
        return json.load(reply)["data"]
def epoch(rfc3339):  # Go's RFC 3339 with nanoseconds
    m = re.fullmatch(r"([0-9-]+T[0-9:]+)(\.[0-9]+)?(Z|[+-][0-9:]+)", rfc3339)
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.datetime.fromisoformat(m.group(1) + zone).timestamp() + float(m.group(2) or 0)
lines = []
if mode == "value":
    result = get("query", query=arg)["result"]
    if len(result) > 1:
        sys.exit(f"{arg} selects more than one sample: {result}")
    lines.append(result[0]["value"][1] if result else "none")
elif mode == "samples":
    for r in get("query", query=arg)["result"]:
        lines.append(f'{r["metric"].get("instance", "-")} {r["value"][1]}')
elif mode == "alerts":
    for a in get("alerts")["alerts"]:
        l = a["labels"]
        lines.append(f'{l["alertname"]} {a["state"]} {l.get("instance", "-")} {l.get("source", "-")}')
elif mode == "targets":
    for t in get("targets")["activeTargets"]:
        l = t["labels"]
        lines.append(f'{l["job"]} {l["instance"]} {l.get("tier", "-")} {t["health"]}')
elif mode == "rules":
    for g in get("rules")["groups"]:
        for r in g["rules"]:
            lines.append(f'{r["name"]} {r["health"]} {r.get("lastError") or "-"} {g["file"]}')
elif mode == "evaluated":
    after, deadline = time.time() + float(arg), time.time() + 20
    while min(epoch(g["lastEvaluation"]) for g in get("rules")["groups"]) < after:
        if time.time() > deadline:
            sys.exit("the rules were not evaluated for 20 s")
        time.sleep(0.2)
if lines:
    print("\n".join(sorted(lines)))
EOF
}
# alerts NAME: the active alerts of that name, one a line: "<state> <instance> <source>".
alerts() { api alerts | awk -v name="$1" '$1 == name { print $2, $3, $4 }'; }
# wait_alert NAME EXPECTED [SECONDS]: until `alerts NAME` prints EXPECTED exactly.
wait_alert() {
  local deadline=$((SECONDS + ${3:-20}))
  until [ "$(alerts "$1")" = "$2" ]; do
    [ $SECONDS -lt $deadline ] || fail "$1 is not '$2' but '$(alerts "$1")'"
    sleep 0.2
  done
}
# wait_value EXPR VALUE [SECONDS]: until Prometheus has VALUE for EXPR.
wait_value() {
  local deadline=$((SECONDS + ${3:-20}))
  until [ "$(api value "$1")" = "$2" ]; do
    [ $SECONDS -lt $deadline ] || fail "$1 is not $2 in Prometheus but $(api value "$1")"
    sleep 0.2
  done
}

step "a. promtool accepts the shipped configuration and rules"
mkdir -p "$out/logs" "$out/prometheus"
promtool check config "$shipped/prometheus.yml" >"$out/logs/promtool.log" 2>&1 ||
  fail "promtool check config: $(cat "$out/logs/promtool.log")"
promtool check rules "$shipped/tiersync-alerts.yml" >>"$out/logs/promtool.log" 2>&1 ||
  fail "promtool check rules: $(cat "$out/logs/promtool.log")"
promtool test rules "$shipped/tiersync-alerts.test.yml" >>"$out/logs/promtool.log" 2>&1 ||
  fail "promtool test rules: $(cat "$out/logs/promtool.log")"
cat "$out/logs/promtool.log"
rule_names=$(sed -n 's/^ *- alert: *//p' "$shipped/tiersync-alerts.yml" | sort)
[ "$(wc -l <<<"$rule_names")" -ge 4 ] || fail "too few alert rules in the shipped file: $rule_names"

step "b. Prometheus with the example configuration; a hub, a province and a school"
# The example with the test's hosts: the hub, the province and the school become loopback
# targets, the city and the county (not started here) are left out; every interval 1 s.
python3 - "$shipped/prometheus.yml" "$out/prometheus/prometheus.yml" "$(host 0)" "$(host 1)" \
  "$(host 2)" <<'EOF' || fail "the example configuration is not what this test rewrites"
import re, sys
src, dst, hub, province, school = sys.argv[1:]
hosts = {"hub.example.edu.cn:8080": hub, "zhejiang.example.edu.cn:8080": province,
         "school.xihu.example.edu.cn:8080": school, "hangzhou.example.edu.cn:8080": None,
         "xihu.example.edu.cn:8080": None}
out, seen, skip_below = [], set(), None
for line in open(src).read().split("\n"):
    indent = len(line) - len(line.lstrip())
    if skip_below is not None:
        if line.strip() and indent > skip_below:
            continue  # the labels of a target left out
        skip_below = None
    m = re.match(r'(\s*- targets: \[)"([^"]+)"(\].*)', line)
    if m:
        if m.group(2) not in hosts:
            sys.exit(f"unexpected target {m.group(2)}")
        seen.add(m.group(2))
        if hosts[m.group(2)] is None:
            skip_below = indent
            continue
        line = f'{m.group(1)}"{hosts[m.group(2)]}"{m.group(3)}'
    out.append(re.sub(r"^(\s*(scrape_interval|scrape_timeout|evaluation_interval): ).*",
                      r"\g<1>1s", line))
if seen != set(hosts):
    sys.exit(f"targets missing from the example: {set(hosts) - seen}")
text = "\n".join(out)
for key in ("scrape_interval", "scrape_timeout", "evaluation_interval"):
    if f"  {key}: 1s" not in text:
        sys.exit(f"no global {key} in the example")
open(dst, "w").write(text)
EOF
sed -E 's/^( +for: ).*/\12s/' "$shipped/tiersync-alerts.yml" >"$out/prometheus/tiersync-alerts.yml"
grep -q "for: 2s" "$out/prometheus/tiersync-alerts.yml" || fail "no for: to shorten in the rules"
promtool check config "$out/prometheus/prometheus.yml" >"$out/logs/promtool-test.log" 2>&1 ||
  fail "promtool check config (the test's): $(cat "$out/logs/promtool-test.log")"
# Prometheus first: it starts while the federation does (its targets are down until then).
port_free 5
prometheus --config.file="$out/prometheus/prometheus.yml" \
  --storage.tsdb.path="$out/prometheus/data" --web.listen-address="$(host 5)" \
  >>"$out/logs/prometheus.log" 2>&1 &
pids+=($!)
hub_province_school 11
hub_pid="${pids[1]}"  # pids: Prometheus, then the hub (start_hub)
deadline=$((SECONDS + 30))
until curl -sf -o /dev/null --max-time 2 "$prom/-/ready"; do
  [ $SECONDS -lt $deadline ] || fail "Prometheus is not ready on $prom"
  sleep 0.2
done

# Every target up: exactly the hub, the province and the school, with the example's labels.
expected_targets="tiersync-hub $(host 0) national up
tiersync-node $(host 1) province up
tiersync-node $(host 2) school up"
deadline=$((SECONDS + 20))
until [ "$(api targets)" = "$expected_targets" ]; do
  [ $SECONDS -lt $deadline ] || fail "the targets are not all up: $(api targets)"
  sleep 0.2
done
api targets
[ "$(api samples 'up{job=~"tiersync-.*"}')" = "$(printf '%s 1\n' "$(host 0)" "$(host 1)" "$(host 2)")" ] ||
  fail "up is not 1 for all three: $(api samples 'up{job=~"tiersync-.*"}')"

# What Prometheus stored is what the processes say themselves.
school="instance=\"$(host 2)\""
version=$(status 2 | field 'd["current"]["version"]')
[ "$(api value "tiersync_served_release_version{$school}")" = "$version" ] ||
  fail "the school's tiersync_served_release_version in Prometheus is not its status' $version"
[ "$(api value "tiersync_served_release_number{$school}")" = 1 ] ||
  fail "the school's tiersync_served_release_number in Prometheus is not 1 (it serves r1)"
hub_chunks=$(metric "$(url 0)" tiersync_store_chunks)
[ "$hub_chunks" -gt 0 ] || fail "the hub's /metrics has no tiersync_store_chunks"
[ "$(api value 'tiersync_store_chunks{job="tiersync-hub"}')" = "$hub_chunks" ] ||
  fail "the hub's tiersync_store_chunks in Prometheus is not its /metrics' $hub_chunks"
hub_metadata=$(api value 'sum(tiersync_http_requests_total{job="tiersync-hub",endpoint="metadata"})')
if [ "$hub_metadata" = none ] || [ "$hub_metadata" -eq 0 ]; then
  fail "Prometheus saw no metadata request answered by the hub: $hub_metadata"
fi
# statvfs: blocks, their size (f_frsize), blocks available to the node's user.
read -r fs_blocks fs_block_size fs_avail < <(stat -f --format='%b %S %a' "$out/school")
fs_size=$((fs_blocks * fs_block_size))
fs_used=$(awk -v a="$fs_avail" -v b="$fs_blocks" 'BEGIN { printf "%.4f", 1 - a / b }')
[ "$(api value "tiersync_filesystem_size_bytes{$school}")" = "$fs_size" ] ||
  fail "the school's tiersync_filesystem_size_bytes is not statvfs' $fs_size"
echo "the school: version $version, r1; the hub: $hub_chunks chunks; the disk: $fs_size bytes, $fs_used used"

# Every shipped rule loaded from the file and evaluated without error.
expected_rules=$(while read -r name; do
  echo "$name ok - $out/prometheus/tiersync-alerts.yml"
done <<<"$rule_names")
deadline=$((SECONDS + 20))
until [ "$(api rules)" = "$expected_rules" ]; do
  [ $SECONDS -lt $deadline ] || fail "the rules are not all loaded and healthy: $(api rules)"
  sleep 0.2
done
api rules

# Nothing is wrong: after the rules' `for:` (2 s) no alert is active, but the disk's if it
# really is more than 90% full (too close to 90% to say, it is not looked at).
api evaluated 2.5
active=$(api alerts)
if awk -v u="$fs_used" 'BEGIN { exit !(u > 0.895 && u < 0.905) }'; then
  active=$(grep -v '^TiersyncDiskFull ' <<<"$active" || true)
elif awk -v u="$fs_used" 'BEGIN { exit !(u > 0.9) }'; then
  expected=$(printf 'TiersyncDiskFull firing %s -\n' "$(host 1)" "$(host 2)")
  [ "$(grep '^TiersyncDiskFull ' <<<"$active" || true)" = "$expected" ] ||
    fail "the disk is $fs_used used, but TiersyncDiskFull is not firing for both nodes: $active"
  echo "the disk is more than 90% full: TiersyncDiskFull fires for the province and the school"
  active=$(grep -v '^TiersyncDiskFull ' <<<"$active" || true)
fi
[ -z "$active" ] || fail "alerts are active: $active"
echo "no alert is active"

step "c. The school's only source lies; r2, r3, r4 published"
port_free 6
mkdir -p "$out/liar/v1/metadata"
# The hub's timestamp with another version and its signature kept: it does not verify.
python3 - "$out/hub/tuf/metadata/timestamp.json" "$out/liar/v1/metadata/timestamp.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
t["signed"]["version"] += 1000
json.dump(t, open(sys.argv[2], "w"))
EOF
python3 -m http.server --bind 127.0.0.1 --directory "$out/liar" $((port + 6)) \
  >>"$out/logs/liar.log" 2>&1 &
pids+=($!)
wait_http 6
set_toml school upstream sources "[\"$(url 6)\"]"
set_toml school upstream national "\"$(url 6)\""
stop_node school
start_node school 2
wait_alert TiersyncSourceRejecting "firing $(host 2) $(url 6)"
[ "$(served_release 2)" = r1 ] || fail "the school does not serve r1 any more"
echo "TiersyncSourceRejecting fires for the school and $(url 6)"

next_release r2
next_release r3
wait_release r3 1 60
lag="scalar(max(tiersync_served_release_number)) - tiersync_served_release_number{$school}"
wait_value "$lag" 2
api evaluated 2.5
[ -z "$(alerts TiersyncNodeLagging)" ] ||
  fail "TiersyncNodeLagging is active 2 releases behind: $(alerts TiersyncNodeLagging)"
echo "2 releases behind: TiersyncNodeLagging is silent"
next_release r4
wait_release r4 1 60
wait_alert TiersyncNodeLagging "firing $(host 2) -"
[ "$(api value 'ALERTS{alertname="TiersyncNodeLagging",alertstate="firing"}')" = 1 ] ||
  fail "the ALERTS series does not hold the firing TiersyncNodeLagging"
[ "$(api value "$lag")" = 3 ] || fail "the school is not 3 releases behind: $(api value "$lag")"
[ "$(served_release 2)" = r1 ] || fail "the school does not serve r1 any more"
echo "3 releases behind: TiersyncNodeLagging fires for the school only"

step "d. The hub stops: TiersyncTargetDown, pending, then firing"
[ -z "$(alerts TiersyncTargetDown)" ] || fail "TiersyncTargetDown is active: $(alerts TiersyncTargetDown)"
kill "$hub_pid"
wait "$hub_pid" 2>/dev/null || true
seen_pending=0
deadline=$((SECONDS + 20))
while :; do
  now=$(alerts TiersyncTargetDown)
  [ "$now" = "firing $(host 0) -" ] && break
  [ "$now" = "pending $(host 0) -" ] && seen_pending=1
  [ $SECONDS -lt $deadline ] || fail "TiersyncTargetDown does not fire: $now"
  sleep 0.1
done
[ "$seen_pending" = 1 ] || fail "TiersyncTargetDown fired without being pending for its for:"
[ "$(api value "up{instance=\"$(host 0)\"}")" = 0 ] || fail "up of the stopped hub is not 0"
echo "TiersyncTargetDown: pending, then firing, for the hub only"

echo
echo "PASSED in $((SECONDS - started)) s"
