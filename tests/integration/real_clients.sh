#!/usr/bin/env bash
# Real download clients and a real caching proxy against a school node's end-user file API
# (docs/serving.md): stock curl, wget, aria2c and nginx, as teachers, schools and ISPs use them.
#   hub (+0)  <-  school node (+1), mirroring 小学 course teaching  <-  nginx proxy_cache (+2)
# Checked, each file's SHA-256 against the one published in the signed catalog:
#   a. curl: a download interrupted part-way, then `curl -C -` completes it with a 206;
#   b. wget: a rate-limited download stopped by `timeout`, then `wget -c` (a /v1/files URL);
#   c. aria2c -x4 -s4 -k1M: one file over several connections, each a range (206s counted);
#   d. nginx as a caching reverse proxy: a content URL twice is MISS then HIT and the node saw
#      one request; a range of the cached file comes from the cache; a range of an uncached
#      file through nginx has the right bytes too.
# Evidence that the node answered ranges: each client's own view of the answers (curl -v, wget
# -S, aria2c's log), the node's usage counts (a download is a GET from byte 0) and nginx's log
# of its upstream requests; the node's /metrics too, where it counts user API requests.
# Usage: real_clients.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT: +0 hub, +1 node,
# +2 nginx). Needs curl, wget, aria2c, nginx, python3, openssl.
set -euo pipefail
bin="$(realpath "$1")"
out="$(realpath -m "$2")"
port="${TIERSYNC_TEST_PORT:-18150}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
for tool in curl wget aria2c nginx python3 openssl; do
  command -v "$tool" >/dev/null || { echo "TEST FAILED: $tool is not installed" >&2; exit 1; }
done
rm -rf "$out"
mkdir -p "$out/logs" "$out/dl"
trap cleanup EXIT
trap 'exit 130' INT TERM
mib=$((1 << 20))
node="$(url 1)"
proxy="$(url 2)"

sha() { openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1; }
size() { stat -c %s "$1"; }
# requests ENDPOINT CODE: the node's tiersync_http_requests_total for that endpoint and status
# (either may be empty for "any"), summed over its samples.
requests() {
  curl -sf --max-time 5 "$node/metrics" | awk -v ep="$1" -v code="$2" '
    $1 ~ /^tiersync_http_requests_total[{]/ &&
      (ep == "" || index($1, "endpoint=\"" ep "\"")) && (code == "" || index($1, "code=\"" code "\"")) {
      s += $2 }
    END { printf "%d\n", s }'
}
# settled ENDPOINT CODE N: requests ENDPOINT CODE once it reaches N (should the node count a
# request only when its answer is done, just after the client has it), or after 2 s.
settled() {
  local n
  for _ in $(seq 1 20); do
    n=$(requests "$1" "$2")
    [ "$n" -ge "$3" ] && break
    sleep 0.1
  done
  echo "$n"
}
# downloads ID: the node's download count of resource ID (today and yesterday, UTC).
downloads() {
  curl -sf --max-time 5 "$node/v1/usage?days=2" |
    field 'sum(x["resources"].get(sys.argv[2], {}).get("downloads", 0) for x in d["days"])' "$1"
}
# expect_file FILE SHA256 SIZE WHAT: FILE is complete and has the published SHA-256.
expect_file() {
  [ -f "$1" ] || fail "$4: no file $1"
  [ "$(size "$1")" = "$3" ] || fail "$4: $1 has $(size "$1") bytes, expected $3"
  [ "$(sha "$1")" = "$2" ] || fail "$4: SHA-256 of $1 is $(sha "$1"), published: $2"
}
# interrupted CMD...: runs a download that is cut short part-way (by `timeout`, or by a reader
# that goes away); fails unless the command says it was.
interrupted() {
  local rc=0
  "$@" >>"$out/logs/clients.log" 2>&1 || rc=$?
  [ "$rc" -ne 0 ] || fail "the download was not interrupted: $*"
}
# partial FILE FULL_SIZE WHAT: FILE holds some but not all of the bytes.
partial() {
  [ -f "$1" ] || fail "$3: the interrupted download left no file"
  local n
  n=$(size "$1")
  if [ "$n" -le 0 ] || [ "$n" -ge "$2" ]; then fail "$3: the interrupted download left $n of $2 bytes"; fi
  echo "$n"
}

step "Hub with sample content (videos of several MiB), a school node mirroring a subscription"
make_hub --resources 10 --seed 1 --size-scale 0.03
start_hub 0
sub='platform = k12 and board = 课程教学 and stage = 小学'
make_node school 1 school 330106 "$sub" "$(url 0)" "$(url 0)"
start_node school 1
wait_release r1 1 60
echo "the school node serves r1: $(status 1 | field 'd["current"]["files"]') files, $(($(status 1 | field 'd["current"]["bytes"]') / mib)) MiB"

step "Media files from the node's catalog API, checked against the signed catalog"
# Every local file of at least 8 MiB, largest first: "id name size sha256 url content_url".
curl -sf --max-time 10 "$node/v1/catalog/search?local=1&limit=100" >"$out/search.json" ||
  fail "GET /v1/catalog/search?local=1&limit=100 failed"
ids=$(field '" ".join(i["id"] for i in d["items"] if i["local"])' <"$out/search.json")
[ -n "$ids" ] || fail "the node's catalog lists no local resource: $(cat "$out/search.json")"
: >"$out/files.txt"
for id in $ids; do
  curl -sf --max-time 10 "$node/v1/catalog/resources/$id" >"$out/res-$id.json" ||
    fail "GET /v1/catalog/resources/$id failed"
  field '"\n".join(" ".join([d["resource"]["id"], f["name"], str(f["size"]), f["sha256"], f["url"],
      f["content_url"]]) for f in d["resource"]["files"] if f["local"] and f["size"] >= 8 << 20)' \
    <"$out/res-$id.json" | grep . >>"$out/files.txt" || true
done
sort -k3,3nr -o "$out/files.txt" "$out/files.txt"
[ "$(wc -l <"$out/files.txt")" -ge 3 ] || fail "fewer than 3 local files of 8 MiB or more: $(cat "$out/files.txt")"
# The published SHA-256 of each, from the hub's signed catalog (not from the node).
while read -r id name fsize fsha furl fcontent; do
  pub=$("$bin" --json catalog show --repo "$out/hub" "$id" </dev/null |
    field '[f["sha256"] for f in d["files"] if f["name"] == sys.argv[2]][0]' "$name")
  [ "$pub" = "$fsha" ] || fail "the node's catalog says $id/$name has SHA-256 $fsha, the hub published $pub"
  [ "$furl" = "/v1/files/$id/$name" ] || fail "$id/$name: url is $furl, expected /v1/files/$id/$name"
  [[ "$fcontent" == /v1/targets/*/"$fsha.$name" ]] || fail "$id/$name: content_url $fcontent is not /v1/targets/<dir>/$fsha.$name"
done <"$out/files.txt"
# Three different files: the largest for aria2c's several connections and the cache check,
# another for curl (then a range of it through the empty cache), another for wget.
read -r id1 name1 size1 sha1 _ content1 < <(sed -n 1p "$out/files.txt")
read -r id2 name2 size2 sha2 files2 _ < <(sed -n 2p "$out/files.txt")
read -r id3 name3 size3 sha3 _ content3 < <(sed -n 3p "$out/files.txt")
while read -r id name fsize fsha _; do echo "  $id/$name: $fsize bytes, $fsha"; done <"$out/files.txt"
# Whether the node's /metrics counts user API requests (a HEAD of a content URL).
before=$(requests targets "")
curl -sfI --max-time 10 -o /dev/null "$node$content1" || fail "HEAD $content1 failed"
metrics_users=0
[ "$(settled targets "" $((before + 1)))" -gt "$before" ] && metrics_users=1
[ "$metrics_users" = 1 ] ||
  echo "NOTE: the node's /metrics does not count user API requests (tiersync_http_requests_total has no /v1/targets answered by the user API); relying on the clients' logs, the node's usage counts and nginx's upstream log"

step "a. curl: an interrupted download resumed with curl -C -"
f="$out/dl/curl-$name3"
# The reader goes away after 3 MiB: the connection is closed mid-transfer (curl exits 23).
before_downloads=$(downloads "$id3")
# shellcheck disable=SC2016 # $1.. are the arguments of bash -c
interrupted bash -o pipefail -c 'curl -sS "$1" | head -c "$2" >"$3"' _ "$node$content3" $((3 * mib)) "$f"
got=$(partial "$f" "$size3" "curl")
before=$(requests "" 206)
curl -sS --max-time 30 -v -C - -o "$f" "$node$content3" 2>"$out/logs/curl-resume.txt" ||
  fail "curl -C - failed: $(tail -n 5 "$out/logs/curl-resume.txt")"
grep -q '^< HTTP/1.1 206' "$out/logs/curl-resume.txt" || fail "curl -C - did not get a 206: $(grep '^[<>]' "$out/logs/curl-resume.txt")"
grep -qi "^> Range: bytes=$got-" "$out/logs/curl-resume.txt" || fail "curl -C - did not ask for bytes=$got-"
grep -qi "^< Content-Range: bytes $got-$((size3 - 1))/$size3" "$out/logs/curl-resume.txt" ||
  fail "curl -C -: wrong Content-Range: $(grep -i '^< Content-Range' "$out/logs/curl-resume.txt")"
expect_file "$f" "$sha3" "$size3" "curl -C -"
if [ "$metrics_users" = 1 ]; then
  [ "$(settled "" 206 $((before + 1)))" -gt "$before" ] || fail "the node's /metrics counted no 206 for the resumed download"
fi
n=$(($(downloads "$id3") - before_downloads))
[ "$n" = 1 ] || fail "the node counted $n downloads of $id3 for a download and its resumption, expected 1"
echo "interrupted at $got of $size3 bytes; curl -C - asked for bytes=$got-, got 206; SHA-256 matches; the node counted 1 download"

step "b. wget: an interrupted download resumed with wget -c (/v1/files URL)"
mkdir -p "$out/dl/wget"
f="$out/dl/wget/$name2"
before_downloads=$(downloads "$id2")
interrupted timeout 2 wget -q --limit-rate=1m -P "$out/dl/wget" "$node$files2"
got=$(partial "$f" "$size2" "wget")
before=$(requests "" 206)
wget -c -S --timeout=20 --tries=1 -P "$out/dl/wget" "$node$files2" 2>"$out/logs/wget-resume.txt" ||
  fail "wget -c failed: $(tail -n 5 "$out/logs/wget-resume.txt")"
grep -q 'HTTP/1.1 206' "$out/logs/wget-resume.txt" || fail "wget -c did not get a 206: $(cat "$out/logs/wget-resume.txt")"
grep -qi "Content-Range: bytes $got-$((size2 - 1))/$size2" "$out/logs/wget-resume.txt" ||
  fail "wget -c: wrong Content-Range: $(grep -i 'Content-Range' "$out/logs/wget-resume.txt")"
expect_file "$f" "$sha2" "$size2" "wget -c"
if [ "$metrics_users" = 1 ]; then
  [ "$(settled "" 206 $((before + 1)))" -gt "$before" ] || fail "the node's /metrics counted no 206 for wget -c"
fi
n=$(($(downloads "$id2") - before_downloads))
[ "$n" = 1 ] || fail "the node counted $n downloads of $id2 for a download and its resumption, expected 1"
echo "interrupted at $got of $size2 bytes; wget -c got 206 from byte $got; SHA-256 matches; the node counted 1 download"

step "c. aria2c -x4 -s4 -k1M: several connections, each a range"
before=$(requests "" 206)
timeout 60 aria2c -x4 -s4 -k1M --file-allocation=none --allow-overwrite=true --auto-file-renaming=false \
  --summary-interval=0 --console-log-level=warn --log="$out/logs/aria2c.log" --log-level=info \
  --checksum="sha-256=$sha1" -d "$out/dl" -o "aria2c-$name1" "$node$content1" \
  >>"$out/logs/clients.log" 2>&1 || fail "aria2c failed (exit $?): $(tail -n 5 "$out/logs/clients.log")"
expect_file "$out/dl/aria2c-$name1" "$sha1" "$size1" "aria2c"
# aria2c's log: "CUID#N - Response received:" then the status line; N is the connection.
read -r ranges conns < <(awk '/ - Response received:/ { match($0, /CUID#[0-9]+/); c = substr($0, RSTART, RLENGTH); next }
  c != "" && /^HTTP\/1\.1 206/ { n++; seen[c] = 1 } { if ($0 !~ /^HTTP/) next; c = "" }
  END { k = 0; for (x in seen) k++; print n + 0, k }' "$out/logs/aria2c.log")
if [ "$ranges" -lt 2 ] || [ "$conns" -lt 2 ]; then
  fail "aria2c -x4 -s4 got $ranges answers 206 on $conns connections, expected at least 2 on 2"
fi
if [ "$metrics_users" = 1 ]; then
  n=$(($(settled "" 206 $((before + ranges))) - before))
  [ "$n" -ge "$ranges" ] || fail "aria2c saw $ranges answers 206, the node's /metrics counted $n"
fi
echo "aria2c: $ranges answers 206 on $conns connections (its log); SHA-256 matches"

step "d. nginx as a caching reverse proxy in front of the node"
ngx="$out/nginx"
mkdir -p "$ngx/cache" "$ngx/tmp"
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user $(id -un) $(id -gn);" # workers would otherwise be nobody
cat >"$ngx/nginx.conf" <<CONF
# Written by tests/integration/real_clients.sh: a caching reverse proxy on loopback.
$user_line
daemon off;
worker_processes 1;
pid $ngx/nginx.pid;
error_log $ngx/error.log info;
events { worker_connections 64; }
http {
  log_format cache '\$request "\$http_range" \$status \$body_bytes_sent \$upstream_cache_status '
                   'upstream: \$upstream_status \$upstream_response_length';
  access_log $ngx/access.log cache;
  client_body_temp_path $ngx/tmp/body;
  proxy_temp_path $ngx/tmp/proxy;
  fastcgi_temp_path $ngx/tmp/fastcgi;
  uwsgi_temp_path $ngx/tmp/uwsgi;
  scgi_temp_path $ngx/tmp/scgi;
  proxy_cache_path $ngx/cache levels=1:2 keys_zone=tiersync:10m max_size=1g inactive=1h use_temp_path=off;
  server {
    listen 127.0.0.1:$((port + 2));
    location / {
      proxy_pass $node;
      proxy_http_version 1.1;
      proxy_cache tiersync;
      add_header X-Cache-Status \$upstream_cache_status always;
    }
  }
}
CONF
nginx -t -p "$ngx" -e "$ngx/error.log" -c "$ngx/nginx.conf" >>"$out/logs/nginx.log" 2>&1 ||
  fail "nginx -t refused the configuration: $(tail -n 5 "$out/logs/nginx.log")"
nginx -p "$ngx" -e "$ngx/error.log" -c "$ngx/nginx.conf" >>"$out/logs/nginx.log" 2>&1 &
pids+=($!)
nginx_pid=$!
for _ in $(seq 1 100); do
  (: <>"/dev/tcp/127.0.0.1/$((port + 2))") 2>/dev/null && break
  kill -0 "$nginx_pid" 2>/dev/null || fail "nginx exited: $(tail -n 5 "$ngx/error.log")"
  sleep 0.1
done
(: <>"/dev/tcp/127.0.0.1/$((port + 2))") 2>/dev/null || fail "nginx does not listen on $proxy"
# get URL FILE [curl options...]: GET through nginx; prints the X-Cache-Status.
get() {
  local u="$1" f="$2"
  shift 2
  curl -sS --max-time 30 -D "$f.headers" -o "$f" "$@" "$proxy$u" || fail "GET $proxy$u failed"
  tr -d '\r' <"$f.headers" | awk 'tolower($1) == "x-cache-status:" { print $2 }'
}
before=$(requests targets "")
before_downloads=$(downloads "$id1")
c1=$(get "$content1" "$out/dl/nginx-1")
expect_file "$out/dl/nginx-1" "$sha1" "$size1" "nginx, first GET"
[ "$c1" = MISS ] || fail "first GET through nginx: X-Cache-Status '$c1', expected MISS"
[ "$metrics_users" = 0 ] || settled targets "" $((before + 1)) >/dev/null
c2=$(get "$content1" "$out/dl/nginx-2")
expect_file "$out/dl/nginx-2" "$sha1" "$size1" "nginx, second GET"
[ "$c2" = HIT ] || fail "second GET through nginx: X-Cache-Status '$c2', expected HIT"
grep -qi '^Cache-Control: public, max-age=31536000, immutable' "$out/dl/nginx-2.headers" ||
  fail "the cached answer lost Cache-Control: $(cat "$out/dl/nginx-2.headers")"
# A range of the cached file, from the cache.
off=$((size1 / 3))
c3=$(get "$content1" "$out/dl/nginx-range" -r "$off-$((off + 999999))")
grep -q '^HTTP/1.1 206' "$out/dl/nginx-range.headers" || fail "a range through nginx: $(head -n 1 "$out/dl/nginx-range.headers")"
[ "$c3" = HIT ] || fail "a range of the cached file through nginx: X-Cache-Status '$c3', expected HIT"
cmp -s "$out/dl/nginx-range" <(tail -c +$((off + 1)) "$out/dl/nginx-1" | head -c 1000000) ||
  fail "a range of the cached file through nginx has the wrong bytes"
# What reached the node: nginx's upstream requests for that URL (its log: upstream status "-"
# when none), the node's download count (a GET from byte 0) and, if kept, its /metrics.
upstream=$(awk -v u="$content1" 'index($0, "GET " u " ") && $0 !~ /upstream: - /' "$ngx/access.log" | wc -l)
[ "$upstream" = 1 ] || fail "nginx asked the node $upstream times for two GETs and a range: $(cat "$ngx/access.log")"
seen=$(($(downloads "$id1") - before_downloads))
[ "$seen" = 1 ] || fail "the node counted $seen downloads of $id1 for two GETs and a range through nginx, expected 1"
if [ "$metrics_users" = 1 ]; then
  sleep 0.3 # a stray request would have time to show
  seen=$(($(requests targets "") - before))
  [ "$seen" = 1 ] || fail "the node's /metrics counted $seen requests of /v1/targets for two GETs and a range through nginx, expected 1"
fi
echo "GET twice: $c1 then $c2; a range of it: 206 $c3 with the right bytes; the node saw 1 request (nginx's log, the node's usage)"
# A video player's first request through an empty cache is often a range.
before=$(requests targets "")
off=$((size3 - 500000))
c4=$(get "$content3" "$out/dl/nginx-range3" -r "$off-")
grep -Eq '^HTTP/1.1 (206|200)' "$out/dl/nginx-range3.headers" || fail "a range of an uncached file through nginx: $(head -n 1 "$out/dl/nginx-range3.headers")"
if grep -q '^HTTP/1.1 206' "$out/dl/nginx-range3.headers"; then
  cmp -s "$out/dl/nginx-range3" <(tail -c 500000 "$out/dl/curl-$name3") ||
    fail "a range of an uncached file through nginx has the wrong bytes"
else
  expect_file "$out/dl/nginx-range3" "$sha3" "$size3" "a range of an uncached file through nginx (answered whole)"
fi
echo "a range of an uncached file through nginx: $(head -n 1 "$out/dl/nginx-range3.headers" | tr -d '\r') $c4, right bytes"

step "All real-client checks passed"
