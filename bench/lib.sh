# shellcheck shell=bash
# Helpers shared by the comparisons under bench/. Sourced by bench/run.sh, not run directly.
#
# A comparison records every timed run as one line of a raw TSV file
#   kind <TAB> command-id <TAB> run <TAB> seconds <TAB> peak-rss-KiB
# with bench_measure, then summarises it with bench_summarise and bench_ratio.

bench_log() { printf '[bench] %s\n' "$*" >&2; }

bench_die() {
  printf '[bench] error: %s\n' "$*" >&2
  exit 1
}

# bench_measure RAW_TSV KIND CMD_ID RUN -- COMMAND...
# Runs COMMAND under `/usr/bin/time -f '%e %M'` (wall seconds, peak RSS in KiB) with its own
# output discarded, and appends one line to RAW_TSV. On failure prints the command and the
# tail of its output and exits.
bench_measure() {
  local raw="$1" kind="$2" id="$3" run="$4"
  shift 4
  [ "${1:-}" = "--" ] && shift
  local tfile log rc=0
  tfile="$(mktemp -p "${BENCH_WORK:-${TMPDIR:-/tmp}}")"
  log="$(mktemp -p "${BENCH_WORK:-${TMPDIR:-/tmp}}")"
  /usr/bin/time -f '%e %M' -o "$tfile" "$@" >"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    printf '[bench] error: %s (%s, run %s) failed with exit status %s:\n  %s\n' \
      "$id" "$kind" "$run" "$rc" "$*" >&2
    printf '[bench] last lines of its output:\n' >&2
    tail -n 20 "$log" >&2 || true
    rm -f "$tfile" "$log"
    exit 1
  fi
  local secs rss
  # GNU time may print a status line first; the figures are on the last line.
  read -r secs rss < <(tail -n 1 "$tfile")
  rm -f "$tfile" "$log"
  [[ "$secs" =~ ^[0-9]+(\.[0-9]+)?$ && "$rss" =~ ^[0-9]+$ ]] ||
    bench_die "could not parse /usr/bin/time output for $id: '$secs $rss'"
  printf '%s\t%s\t%s\t%s\t%s\n' "$kind" "$id" "$run" "$secs" "$rss" >>"$raw"
  bench_log "  $kind $id run $run: ${secs} s, peak RSS ${rss} KiB"
}

# bench_summarise RAW_TSV KIND CMD_ID BYTES
# Prints "runs median min max MiB/s-at-median median-peak-RSS-KiB" (tab-separated) for one
# command, or nothing if it has no runs.
bench_summarise() {
  local raw="$1" kind="$2" id="$3" bytes="$4"
  awk -F '\t' -v kind="$kind" -v id="$id" -v bytes="$bytes" '
    function median(a, n,   i, j, t) {
      for (i = 2; i <= n; i++) {            # insertion sort, n is small
        t = a[i]
        for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
        a[j + 1] = t
      }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    $1 == kind && $2 == id { n++; s[n] = $4 + 0; r[n] = $5 + 0 }
    END {
      if (n == 0) exit
      for (i = 1; i <= n; i++) { c[i] = s[i] }
      med = median(c, n); lo = c[1]; hi = c[n]
      rss = median(r, n)
      mibps = (med > 0) ? sprintf("%.1f", bytes / 1048576 / med) : "inf"
      printf "%d\t%.3f\t%.2f\t%.2f\t%s\t%d\n", n, med, lo, hi, mibps, rss
    }' "$raw"
}

# bench_ratio T_PEER T_OURS -> throughput ratio ours/peer (= t_peer / t_ours), 2 decimals.
bench_ratio() {
  awk -v p="$1" -v o="$2" 'BEGIN { if (o > 0) printf "%.2f", p / o; else print "n/a" }'
}

# bench_column_median RAW_TSV ID COLUMN -> the median of COLUMN over the runs of command ID
# (column 2) in a runs file, rounded to an integer; nothing if no run has a value there.
bench_column_median() {
  awk -F '\t' -v id="$2" -v col="$3" '
    NR > 1 && $2 == id && $col != "" { n++; v[n] = $col + 0 }
    END {
      if (n == 0) exit
      for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
      printf "%.0f\n", (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }' "$1"
}

# bench_goal RATIO GOAL -> "met" or "missed by X%" (X = how far the ratio is below the goal,
# relative to the goal).
bench_goal() {
  awk -v r="$1" -v g="$2" 'BEGIN {
    if (r == "n/a" || r == "") { print "not measured"; exit }
    if (r + 0 >= g + 0) print "met"
    else printf "missed by %.0f%%\n", (1 - r / g) * 100
  }'
}

# bench_goal_record COMPARISON GOAL MEASURED RESULT: appends one goal of the issue, as a
# comparison's report states it, to BENCH_OUT/goals.tsv, from which run.sh writes the summary
# at the top of report.md and the goals of report.json.
bench_goal_record() {
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$BENCH_OUT/goals.tsv"
}

# bench_tsv_json FILE: the rows of a TSV file with a header line as a JSON array of objects
# (numbers as numbers, everything else as strings). No jq, no python: awk.
bench_tsv_json() {
  awk -F '\t' '
    function q(v) {
      gsub(/\\/, "&&", v); gsub(/"/, "\\\"", v)
      return "\"" v "\""
    }
    function val(v) { return (v ~ /^-?[0-9]+(\.[0-9]+)?$/) ? v + 0 : q(v) }
    NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i; n = NF; printf "["; next }
    {
      printf "%s{", (NR > 2 ? "," : "")
      for (i = 1; i <= n; i++) printf "%s%s: %s", (i > 1 ? ", " : ""), q(h[i]), val($i)
      printf "}"
    }
    END { if (NR == 0) printf "["; print "]" }' "$1"
}

# bench_goal_at_most RATIO BOUND -> "met" (RATIO <= BOUND) or "missed by X%" (X = how far
# RATIO is above BOUND, relative to BOUND): for ratios where smaller is better (bytes).
bench_goal_at_most() {
  awk -v r="$1" -v g="$2" 'BEGIN {
    if (r == "n/a" || r == "") { print "not measured"; exit }
    if (r + 0 <= g + 0) print "met"
    else printf "missed by %.0f%%\n", (r / g - 1) * 100
  }'
}

# bench_record DIR ID NAME MEDIA_TYPE SIZE SHA TITLE RETIRED: DIR/resources/ID.json, one
# national resource (docs/formats/catalog.md) with one file, NAME, in a publishing input.
bench_record() {
  local dir="$1" id="$2" name="$3" type="$4" size="$5" sha="$6" title="$7" retired="$8"
  cat >"$dir/resources/$id.json" <<JSON
{
  "files": [
    {
      "media_type": "$type",
      "name": "$name",
      "sha256": "$sha",
      "size": $size
    }
  ],
  "format": "tiersync-resource 1",
  "id": "$id",
  "language": "zh-CN",
  "origin": "national",
  "placements": [
    {
      "board": "课程教学",
      "category": "小学",
      "platform": "k12"
    }
  ],
  "priority": false,
  "provider": "bench",
  "retired": $retired,
  "review": "approved",
  "title": "$title"
}
JSON
}

# bench_machine_md: the machine section of a report (markdown).
bench_machine_md() {
  local model commit
  model="$(lscpu 2>/dev/null | grep 'Model name' | head -n 1 | sed 's/^Model name:[[:space:]]*//')"
  commit="$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  # bench/ itself does not change what is measured.
  if [ -n "$(git -C "$BENCH_ROOT" status --porcelain -- . ':!bench' 2>/dev/null)" ]; then
    commit="$commit (work tree has uncommitted changes)"
  fi
  echo "## Machine"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- cores (\`nproc\`): $(nproc)"
  echo "- load average when the report was written (\`/proc/loadavg\`, 1/5/15 min; other work on the machine slows every command): $(cut -d ' ' -f 1-3 /proc/loadavg)"
  echo "- CPU (\`lscpu | grep 'Model name'\`): ${model:-unknown}"
  echo "- tiersync: commit $commit, build type ${TIERSYNC_BUILD_TYPE:-RelWithDebInfo}"
  echo "- peers: $(casync --version 2>/dev/null | head -n 1), $(rsync --version 2>/dev/null | head -n 1 | awk '{ print $1, $2, $3 }'), $(openssl version 2>/dev/null), $(dd --version 2>/dev/null | head -n 1)"
  echo "- disk directory: \`$BENCH_WORK\` on $(df -P "$BENCH_WORK" | awk 'NR == 2 { print $1 }');" \
    "tmpfs directory: \`${BENCH_SHM:-none}\`"
  echo
  echo "\`free -g\`:"
  echo
  echo '```'
  free -g
  echo '```'
}

# ---------------------------------------------------------------------------------------------
# Background servers (hub serve, node serve, rsync --daemon). bench_spawn records each pid in
# BENCH_PIDS; run.sh's exit trap calls bench_stop_all, so nothing is left running after an
# error or Ctrl-C. Only these pids are ever signalled.

BENCH_PIDS=()

# bench_spawn LOG COMMAND... : starts COMMAND in the background (stdin from /dev/null, output to
# LOG) and sets BENCH_SPAWNED to its pid.
bench_spawn() {
  local log="$1"
  shift
  "$@" </dev/null >"$log" 2>&1 &
  BENCH_SPAWNED=$!
  BENCH_PIDS+=("$BENCH_SPAWNED")
}

# bench_stop PID...: SIGTERM, up to 5 s to exit, then SIGKILL; reaps them.
bench_stop() {
  local pid i keep=() p
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for p in "${BENCH_PIDS[@]}"; do
    [[ " $* " == *" $p "* ]] || keep+=("$p")
  done
  BENCH_PIDS=("${keep[@]}")
}

# bench_stop_all: every server still running, newest first (a child tier before its parent:
# a node whose parent vanishes while it is stopping is the case to avoid, see propagate.sh).
bench_stop_all() {
  local i
  for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do bench_stop "${BENCH_PIDS[$i]}"; done
  return 0
}

# bench_port_free PORT: fails (with a message) if something already listens on 127.0.0.1:PORT.
bench_port_free() {
  if (: <>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    bench_die "port $1 on 127.0.0.1 is in use (another bench, test or demo?); set BENCH_PORT_BASE to move the bench's ports"
  fi
}

# bench_wait_http URL SECONDS PID LOG: waits until URL answers 2xx; dies (showing LOG) if PID
# exits first or SECONDS pass.
bench_wait_http() {
  local url="$1" secs="$2" pid="$3" log="$4" i
  for ((i = 0; i < secs * 10; i++)); do
    curl -sf -o /dev/null --max-time 2 "$url" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log" >&2 || true
      bench_die "the server behind $url exited (log above)"
    fi
    sleep 0.1
  done
  tail -n 20 "$log" >&2 || true
  bench_die "$url did not answer within $secs s (log above)"
}

# bench_hwm PID: VmHWM (the peak resident set) of a running process, in KiB.
bench_hwm() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"; }

# bench_now: seconds since the epoch with nanoseconds (for sub-10 ms timings).
bench_now() { date +%s.%N; }

# bench_elapsed START END -> END - START in seconds, 3 decimals.
bench_elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# bench_size_bytes SIZE (256M, 1G, ...) -> bytes.
bench_size_bytes() {
  awk -v s="$1" 'BEGIN {
    u = toupper(substr(s, length(s))); n = s + 0
    m = (u == "K") ? 1024 : (u == "M") ? 1048576 : (u == "G") ? 1073741824 : 1
    printf "%.0f", n * m }'
}

# bench_keys_and_hub DIR: four fresh keys in DIR/keys and an initialised hub in DIR/hub.
# Sets BENCH_SIGN to the signing options of hub publish.
bench_keys_and_hub() {
  local dir="$1" role k="$1/keys"
  mkdir -p "$k"
  for role in root targets snapshot timestamp; do
    "$TIERSYNC" keys gen "$k/$role.key" >/dev/null || bench_die "tiersync keys gen failed"
  done
  "$TIERSYNC" hub init "$dir/hub" --root-key "$k/root.key" --targets-key "$k/targets.key" \
    --snapshot-key "$k/snapshot.key" --timestamp-key "$k/timestamp.key" \
    -k "$k/root.key" -k "$k/targets.key" -k "$k/snapshot.key" -k "$k/timestamp.key" >/dev/null ||
    bench_die "tiersync hub init failed"
  # shellcheck disable=SC2034 # read by the comparisons
  BENCH_SIGN=(-k "$k/targets.key" -k "$k/snapshot.key" -k "$k/timestamp.key"
    --publisher "bench <bench@example.edu.cn>")
}

# bench_wait_port PORT WHAT LOG...: waits (10 s at most) until the server just started with
# bench_spawn (BENCH_SPAWNED) accepts connections on 127.0.0.1:PORT; dies showing its LOGs if it
# exits first or does not start.
bench_wait_port() {
  local port="$1" what="$2" i
  shift 2
  for ((i = 0; i < 100; i++)); do
    (: <>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$BENCH_SPAWNED" 2>/dev/null || break
    sleep 0.1
  done
  cat "$@" >&2 2>/dev/null || true
  bench_die "$what did not start on port $port"
}

# bench_rsyncd DIR NAME PATH PORT: writes DIR/NAME.conf (module "m" = PATH, read-only, no auth,
# no chroot, loopback only) and starts `rsync --daemon --no-detach` on 127.0.0.1:PORT; waits
# until it accepts connections. Sets BENCH_SPAWNED.
bench_rsyncd() {
  local dir="$1" name="$2" path="$3" port="$4" i
  bench_port_free "$port"
  cat >"$dir/$name.conf" <<CONF
# throwaway rsyncd.conf written by bench/ (loopback only, no auth)
use chroot = no
uid = $(id -u)
gid = $(id -g)
numeric ids = yes
max connections = 4
log file = $dir/$name.rsyncd.log
[m]
    path = $path
    read only = yes
CONF
  bench_spawn "$dir/$name.log" rsync --daemon --no-detach --config="$dir/$name.conf" \
    --address=127.0.0.1 --port="$port"
  bench_wait_port "$port" "rsync daemon $name" "$dir/$name.log" "$dir/$name.rsyncd.log"
}

# bench_json_int FILE KEY: the first integer value of "KEY" in FILE (flat JSON, any layout);
# empty if absent. No jq: a regular expression is enough for the integers the CLI prints.
bench_json_int() {
  awk -v key="$2" 'match($0, "\"" key "\": *[0-9]+") {
    s = substr($0, RSTART, RLENGTH); sub(/.*: */, "", s); print s; exit }' "$1"
}

# bench_nginx DIR ROOT PORT [nolog]: nginx serving the static files of ROOT on 127.0.0.1:PORT
# (sendfile on, `worker_processes auto`), started under bench_spawn; returns once nginx has
# checked its configuration (DIR/nginx.conf) and bound the port. Sets BENCH_SPAWNED. Every
# request is logged to DIR/access.log as
#   <status> <bytes_sent> <request_length> <request>
# (bytes_sent: the whole response, headers included; request_length: the whole request), so a
# comparison can add up the bytes that went over the wire (bench_nginx_bytes); `nolog` turns
# the log off (a throughput comparison at tens of thousands of requests per second).
bench_nginx() {
  local log="access_log $1/access.log bytes;"
  [ "${4:-}" = nolog ] && log="access_log off;"
  bench_nginx_start "$1" "$3" "worker_processes auto;" "  $log
  sendfile on;
  tcp_nopush on;
  server {
    listen 127.0.0.1:$3;
    root $2;
  }"
}

# bench_nginx_proxy DIR UPSTREAM_PORT PORT: nginx on 127.0.0.1:PORT as a reverse proxy to
# 127.0.0.1:UPSTREAM_PORT (HTTP/1.1 keep-alive, no buffering either way, no body limit), logging
# every request as bench_nginx does: bench_nginx_bytes then adds up every HTTP byte a client
# exchanged with the upstream through it, headers and request bodies included. Sets
# BENCH_SPAWNED.
bench_nginx_proxy() {
  bench_nginx_start "$1" "$3" "worker_processes 1;" "  access_log $1/access.log bytes;
  upstream up { server 127.0.0.1:$2; keepalive 8; }
  server {
    listen 127.0.0.1:$3;
    client_max_body_size 0;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_set_header Host \$http_host;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 300s;
    }
  }"
}

# bench_nginx_start DIR PORT MAIN_DIRECTIVES HTTP_BLOCK: the nginx.conf both of the above write
# (foreground, run as the current user, pid, logs and temporary files in DIR) and the start.
bench_nginx_start() {
  local dir="$1" port="$2" user_line=""
  command -v nginx >/dev/null || bench_die "nginx is missing (./scripts/install-deps.sh nginx)"
  bench_port_free "$port"
  [ "$(id -u)" -eq 0 ] && user_line="user $(id -un) $(id -gn);" # workers would otherwise be nobody
  mkdir -p "$dir/tmp"
  : >"$dir/access.log"
  cat >"$dir/nginx.conf" <<CONF
# throwaway nginx.conf written by bench/ (loopback only)
$user_line
daemon off;
$3
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
  log_format bytes '\$status \$bytes_sent \$request_length "\$request"';
  default_type application/octet-stream;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
$4
}
CONF
  nginx -t -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/nginx.log" 2>&1 ||
    { cat "$dir/nginx.log" >&2; bench_die "nginx -t refused the configuration $dir/nginx.conf"; }
  bench_spawn "$dir/nginx.log" nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
  bench_wait_port "$port" nginx "$dir/nginx.log" "$dir/error.log"
}

# bench_nginx_bytes ACCESS_LOG -> "responses_bytes requests_bytes requests" added up over the
# log (the format bench_nginx writes). Truncate the log (: >LOG) to start a new count.
bench_nginx_bytes() {
  awk '{ out += $2; in_ += $3; n++ } END { printf "%.0f %.0f %d\n", out, in_, n }' "$1"
}
