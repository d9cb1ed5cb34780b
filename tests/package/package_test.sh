#!/usr/bin/env bash
# The package test (issue 18; scripts/test.sh runs it, as root or with sudo): builds the Debian
# package from this checkout (scripts/package.sh, TIERSYNC_PACKAGE_BUILD=fast unless set),
# installs it with dpkg -i, checks the installed units with systemd-analyze verify and the .deb
# with lintian, then runs the installed tiersync-node@.service's ExecStart — parsed from the
# installed unit file — as the package's user with the package's paths against a hub on
# loopback: the node must tell systemd READY=1, sync, serve a user's file, and stop on SIGTERM
# within the unit's TimeoutStopSec. Last, dpkg -r must keep /var/lib/tiersync and
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
# the fast build's -O0, which turns off _FORTIFY_SOURCE (the release build has it).
lintian_as=(); [ "$(id -u)" -eq 0 ] && lintian_as=(runuser -u nobody --)
suppress=()
[ "${TIERSYNC_PACKAGE_BUILD:-fast}" = fast ] && suppress=(--suppress-tags hardening-no-fortify-functions)
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

step "A hub on loopback, a node instance made as the package's user"
make_hub --resources 40 --seed 5 --size-scale 0.001
start_hub 0
$SUDO install -d -o root -g tiersync -m 0750 "/etc/tiersync/$instance"
$SUDO install -o root -g tiersync -m 0640 "$out/hub/tuf/metadata/1.root.json" "/etc/tiersync/$instance/root.json"
$SUDO runuser -u tiersync -- "$bin" node init "/var/lib/tiersync/$instance" --name "测试学校" \
  --tier school --region 330106 --listen "127.0.0.1:$((port + 1))" --national "$(url 0)" \
  --root "/etc/tiersync/$instance/root.json" --subscription 'platform = k12' --poll-seconds 5 \
  >/dev/null || fail "node init as tiersync"

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
[ -f "/etc/tiersync/$instance/root.json" ] || fail "dpkg -r removed /etc/tiersync"
$SUDO dpkg -P tiersync </dev/null >/dev/null || fail "dpkg -P"
[ ! -e /var/lib/tiersync ] || fail "dpkg -P left /var/lib/tiersync"
[ ! -e /etc/tiersync ] || fail "dpkg -P left /etc/tiersync"
installed && fail "tiersync is still installed after dpkg -P"
echo "package test passed"
