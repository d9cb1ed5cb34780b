#!/usr/bin/env bash
# The package test (issue 18; scripts/test.sh runs it, as root or with sudo): builds the Debian
# package from this checkout (scripts/package.sh, TIERSYNC_PACKAGE_BUILD=fast unless set;
# scripts/test.sh sets prebuilt, with the suite's own binary),
# installs it with dpkg -i, checks the installed units with systemd-analyze verify and the .deb
# with lintian, makes a node with `tiersync node init --instance` as root (configuration in
# /etc/tiersync/<instance>, the node in /var/lib/tiersync/<instance>, owners and modes
# checked), then runs the installed tiersync-node@.service's ExecStart — parsed from the
# installed unit file — as the package's user with the package's paths against a hub on
# loopback: the node must tell systemd READY=1, sync, serve a user's file, apply a subscription
# edited in /etc on the unit's ExecReload signal, and stop on SIGTERM within the unit's
# TimeoutStopSec. Last, dpkg -r must keep /var/lib/tiersync and
# /etc/tiersync, and dpkg -P remove them, asking nothing.
#
# It refuses to run where a tiersync package is installed already (it would purge it).
# Ports: TIERSYNC_TEST_PORT (18500) and the next one.
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
port="${TIERSYNC_TEST_PORT:-18500}"
out="$src/build-deb/package-test"
instance=ci-school
unit=/lib/systemd/system/tiersync-node@.service
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
bin=/usr/bin/tiersync
# shellcheck source=tests/integration/nodes_lib.sh
source "$src/tests/integration/nodes_lib.sh"

installed() { dpkg-query -W -f='${Status}' tiersync 2>/dev/null | grep -qv 'not-installed'; }
if installed; then
  fail "a tiersync package is installed on this machine; this test would purge it (dpkg -P tiersync first)"
fi
rm -rf "$out"
mkdir -p "$out/logs"
# What the package's user and lintian's user must reach, wherever the checkout is.
shared="$(mktemp -d /tmp/tiersync-package-test.XXXXXX)"
chmod 755 "$shared"
node_pid=""
finish() {
  [ -n "$node_pid" ] && $SUDO kill -KILL "$node_pid" 2>/dev/null
  cleanup
  rm -rf "$shared"
  if installed; then $SUDO dpkg -P tiersync </dev/null >/dev/null || true; fi
}
trap finish EXIT

step "Build the package"
deb="$(TIERSYNC_PACKAGE_BUILD="${TIERSYNC_PACKAGE_BUILD:-fast}" "$src/scripts/package.sh" | tail -n 1)"
[ -f "$src/$deb" ] || fail "scripts/package.sh made no .deb"
deb="$src/$deb"

step "lintian"
# As an unprivileged user (lintian warns about root); every tag fails, info included — but for
# _FORTIFY_SOURCE, which the fast build's -O0 and the sanitizer build (prebuilt) do not have,
# and the sanitizer build's bindnow and PIE (CMakeLists.txt: it starts faster without); the
# release build has all three.
lintian_as=(); [ "$(id -u)" -eq 0 ] && lintian_as=(runuser -u nobody --)
suppress=()
case "${TIERSYNC_PACKAGE_BUILD:-fast}" in
  fast) suppress=(--suppress-tags hardening-no-fortify-functions) ;;
  prebuilt) suppress=(--suppress-tags hardening-no-fortify-functions,hardening-no-bindnow,hardening-no-pie) ;;
esac
cp "$deb" "$shared/" && chmod a+r "$shared/$(basename "$deb")"
"${lintian_as[@]}" lintian --fail-on error,warning,info,pedantic --display-info --pedantic \
  "${suppress[@]}" "$shared/$(basename "$deb")" || fail "lintian reports tags (above)"

step "dpkg -i"
$SUDO dpkg -i "$deb" </dev/null || fail "dpkg -i"
id tiersync >/dev/null || fail "the package did not create the user tiersync"
[ "$(id -u tiersync)" -lt 1000 ] || fail "tiersync is not a system user"
[ "$(stat -c '%U %a' /var/lib/tiersync)" = "tiersync 750" ] || fail "/var/lib/tiersync: $(stat -c '%U %a' /var/lib/tiersync)"
[ "$(stat -c '%U:%G %a' /etc/tiersync)" = "root:tiersync 750" ] || fail "/etc/tiersync: $(stat -c '%U:%G %a' /etc/tiersync)"

step "systemd-analyze verify every installed unit"
mapfile -t units < <(dpkg -L tiersync | grep -E '^/lib/systemd/system/.*\.(service|timer)$')
[ "${#units[@]}" -ge 6 ] || fail "expected at least 6 units, the package has ${#units[@]}"
# verify also checks that ExecStart's binaries and the Documentation= man pages are installed.
systemd-analyze verify "${units[@]}" || fail "systemd-analyze verify"

step "A hub on loopback; node init --instance as root, as docs/operators/package.md says"
make_hub --resources 40 --seed 5 --size-scale 0.001
start_hub 0
# The operator's root.json, anywhere: init copies it into /etc/tiersync/<instance>/.
$SUDO "$bin" node init --instance "$instance" --name "测试学校" --tier school --region 330106 \
  --listen "127.0.0.1:$((port + 1))" --national "$(url 0)" \
  --root "$out/hub/tuf/metadata/1.root.json" --subscription 'platform = k12 and grade in (1..3)' \
  --poll-seconds 5 >"$out/init.log" || fail "node init --instance: $(cat "$out/init.log")"
grep -q "systemctl enable --now tiersync-node@$instance" "$out/init.log" ||
  fail "init did not name the next step: $(cat "$out/init.log")"
conf="/etc/tiersync/$instance"
[ "$(stat -c '%U:%G %a' "$conf")" = "root:tiersync 750" ] || fail "$conf: $(stat -c '%U:%G %a' "$conf")"
for f in node.toml root.json; do
  [ "$(stat -c '%U:%G %a' "$conf/$f")" = "root:tiersync 640" ] ||
    fail "$conf/$f: $(stat -c '%U:%G %a' "$conf/$f")"
done
[ "$(stat -c '%U:%G' "/var/lib/tiersync/$instance")" = "tiersync:tiersync" ] ||
  fail "/var/lib/tiersync/$instance is not tiersync's"
[ -z "$(find "/var/lib/tiersync/$instance" ! -user tiersync)" ] ||
  fail "files in /var/lib/tiersync/$instance not owned by tiersync: $(find "/var/lib/tiersync/$instance" ! -user tiersync)"
[ "$(readlink "/var/lib/tiersync/$instance/node.toml")" = "$conf/node.toml" ] ||
  fail "the node's node.toml is not a link to $conf/node.toml"

step "Run the unit's ExecStart as tiersync, with systemd's notification socket"
# The command line as systemd would run it: ExecStart= with %i replaced (no prefixes, no $VARS).
execstart="$(sed -n 's/^ExecStart=//p' "$unit")"
[ -n "$execstart" ] || fail "no ExecStart in $unit"
execstart="${execstart//%i/$instance}"
[[ "$execstart" != *[%\$]* ]] || fail "ExecStart has specifiers or variables this test cannot expand: $execstart"
read -r -a command <<<"$execstart"
[ "$(sed -n 's/^User=//p' "$unit")" = tiersync ] || fail "the unit does not run as tiersync"
stop_timeout="$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\?$/\1/p' "$unit")"
[ -n "$stop_timeout" ] || fail "no TimeoutStopSec in seconds in $unit"
# A datagram socket standing in for systemd's: it records what the node sends.
notify="$shared/notify.sock"
python3 - "$notify" "$out/notify.log" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
import os; os.chmod(sys.argv[1], 0o777)
with open(sys.argv[2], "ab", buffering=0) as log:
    while True:
        log.write(s.recv(4096) + b"\n")
EOF
pids+=($!)
for _ in $(seq 1 50); do [ -S "$notify" ] && break; sleep 0.1; done
$SUDO setpriv --reuid=tiersync --regid=tiersync --init-groups --no-new-privs \
  env -i PATH=/usr/bin:/bin NOTIFY_SOCKET="$notify" "${command[@]}" >>"$out/logs/node.log" 2>&1 &
node_pid=$!
wait_http 1
for _ in $(seq 1 50); do grep -q READY=1 "$out/notify.log" 2>/dev/null && break; sleep 0.1; done
grep -q '^READY=1$' "$out/notify.log" || fail "the node did not tell systemd READY=1"
owner="$(ps -o user= -p "$(pgrep -P "$node_pid" -f "$bin" || echo "$node_pid")")"
[ "$owner" = tiersync ] || fail "the node runs as $owner, not tiersync"

step "It syncs from the hub and serves a user's file"
wait_release r1 1 120
read -r id < <(curl -sf "$(url 1)/v1/catalog/search?local=1&limit=100" |
  field '[i["id"] for i in d["items"] if i["local"] and not i["link"] and i["files"] > 0][0]')
file="$(curl -sf "$(url 1)/v1/catalog/resources/$id")"
want_sha="$(field 'd["resource"]["files"][0]["sha256"]' <<<"$file")"
got_sha="$(curl -sf "$(url 1)$(field 'd["resource"]["files"][0]["url"]' <<<"$file")" | sha256sum | cut -d' ' -f1)"
[ "$got_sha" = "$want_sha" ] || fail "the user's file $id: sha256 $got_sha, want $want_sha"
[ "$(stat -c %U "/var/lib/tiersync/$instance/CURRENT")" = tiersync ] || fail "CURRENT not owned by tiersync"

step "systemctl reload: node.toml edited in /etc, then the unit's ExecReload signal"
reload_cmd="$(sed -n 's/^ExecReload=//p' "$unit")"
[ "$reload_cmd" = '/bin/kill -HUP $MAINPID' ] || fail "unexpected ExecReload: $reload_cmd"
before="$(status 1 | field '(d["current"] or {}).get("files", 0)')"
$SUDO sed -i 's/^rules = .*/rules = "platform = k12"/' "$conf/node.toml"
[ "$(readlink "/var/lib/tiersync/$instance/node.toml")" = "$conf/node.toml" ] ||
  fail "sed -i on $conf/node.toml broke the link"
$SUDO kill -HUP "$node_pid"
deadline=$((SECONDS + 60))
until status 1 | field 'd.get("reload", {}).get("applied", [])' | grep -q subscription; do
  [ $SECONDS -lt $deadline ] || fail "no reload of the subscription in status: $(status 1 | field 'd.get("reload")')"
  sleep 0.3
done
while [ "$(status 1 | field '(d["current"] or {}).get("files", 0)')" -le "$before" ] &&
  [ $SECONDS -lt $deadline ]; do sleep 0.3; done
after="$(status 1 | field '(d["current"] or {}).get("files", 0)')"
[ "$after" -gt "$before" ] || fail "the widened subscription did not apply: $before -> $after files"
echo "reload: $before -> $after files"

step "SIGTERM stops it within TimeoutStopSec (${stop_timeout} s)"
$SUDO kill -TERM "$node_pid"
deadline=$((SECONDS + stop_timeout))
while kill -0 "$node_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
kill -0 "$node_pid" 2>/dev/null && fail "the node still runs ${stop_timeout} s after SIGTERM"
rc=0; wait "$node_pid" || rc=$?
node_pid=""
[ "$rc" = 0 ] || fail "the node exited $rc after SIGTERM"

step "dpkg -r keeps data and configuration; dpkg -P removes them"
$SUDO dpkg -r tiersync </dev/null >/dev/null || fail "dpkg -r"
[ ! -e "$bin" ] || fail "dpkg -r left $bin"
[ -f "/var/lib/tiersync/$instance/CURRENT" ] || fail "dpkg -r removed the node's data"
[ -f "$conf/node.toml" ] || fail "dpkg -r removed /etc/tiersync"
$SUDO dpkg -P tiersync </dev/null >/dev/null || fail "dpkg -P"
[ ! -e /var/lib/tiersync ] || fail "dpkg -P left /var/lib/tiersync"
[ ! -e /etc/tiersync ] || fail "dpkg -P left /etc/tiersync"
installed && fail "tiersync is still installed after dpkg -P"
echo "package test passed"
