#!/usr/bin/env bash
# Serving users (issue 6, checks 1 and 4, and usage): a hub and two school nodes on loopback,
# one with the `proxy` miss policy, one with `redirect`. Checked with curl and raw sockets:
#   - request paths that try to leave the store (.., %2e%2e, .%2e, backslashes, NUL, encoded
#     slashes) are refused and never return a file the node holds outside its store;
#   - a resource the school does not mirror is served through `proxy` (bytes = the published
#     SHA-256, the source named, cached: the second request does not reach the hub) and through
#     `redirect` (302 to the hub's content address, which serves it);
#   - with the hub stopped, a mirrored resource is still served and a missing one gets a clear
#     502 page within seconds;
#   - views and downloads are counted, shown in status and survive a restart.
# Usage: serving.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18170}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM

code() { curl -s --path-as-is -o /dev/null -w '%{http_code}' "$@"; }
sha() { sha256sum | cut -d' ' -f1; }
# resource_json OFFSET ID
resource_json() { curl -sf "$(url "$1")/v1/catalog/resources/$2"; }

step "Hub with sample content; two schools mirroring 小学语文 (proxy and redirect)"
make_hub --resources 120 --seed 11 --size-scale 0.01
start_hub 0
sub='platform = k12 and board = 课程教学 and stage = 小学 and subject = 语文'
make_node proxy 1 school 330106 "$sub" "$(url 0)"
make_node redirect 2 school 330106 "$sub" "$(url 0)"
sed -i 's/^miss = .*/miss = "redirect"/' "$out/redirect/node.toml"
grep -q '^miss = "redirect"' "$out/redirect/node.toml" || fail "could not set the miss policy"
start_node proxy 1
start_node redirect 2
wait_release r1 1
wait_release r1 2

# A mirrored resource and one that is not, with their first files.
read -r local_id missing_id < <(curl -sf "$(url 1)/v1/catalog/search?limit=100" | field \
  '" ".join([[i["id"] for i in d["items"] if i["local"] and not i["link"]][0], [i["id"] for i in d["items"] if not i["local"] and not i["link"] and i["files"] > 0][0]])')
echo "mirrored: $local_id, not mirrored: $missing_id"
local_url=$(resource_json 1 "$local_id" | field 'd["resource"]["files"][0]["url"]')
local_sha=$(resource_json 1 "$local_id" | field 'd["resource"]["files"][0]["sha256"]')
missing_url=$(resource_json 1 "$missing_id" | field 'd["resource"]["files"][0]["url"]')
missing_sha=$(resource_json 1 "$missing_id" | field 'd["resource"]["files"][0]["sha256"]')
missing_content=$(resource_json 1 "$missing_id" | field 'd["resource"]["files"][0]["content_url"]')
[ "$(curl -sf "$(url 1)$local_url" | sha)" = "$local_sha" ] || fail "the mirrored file's bytes differ"

step "Ranges, HEAD and conditional requests on a real connection"
f="$(url 1)$local_url"
size=$(resource_json 1 "$local_id" | field 'd["resource"]["files"][0]["size"]')
curl -sf "$f" -o "$out/whole"
# range_is HEADER EXPECTED_STATUS EXPECTED_BYTES(first-last or "")
range_is() {
  local got_code
  got_code=$(curl -s -o "$out/part" -w '%{http_code}' -H "Range: $1" "$f")
  [ "$got_code" = "$2" ] || fail "Range: $1 answered $got_code, not $2"
  if [ -n "$3" ]; then
    local first=${3%-*} last=${3#*-}
    cmp -s "$out/part" <(tail -c +$((first + 1)) "$out/whole" | head -c $((last - first + 1))) ||
      fail "Range: $1 did not return bytes $3"
  fi
}
range_is "bytes=0-0" 206 "0-0"
range_is "bytes=-100" 206 "$((size - 100))-$((size - 1))"
range_is "bytes=$((size - 10))-" 206 "$((size - 10))-$((size - 1))"
range_is "bytes=0-18446744073709551615" 206 "0-$((size - 1))"
range_is "bytes=0-99999999999999999999999" 206 "0-$((size - 1))"
range_is "bytes=$size-" 416 ""
range_is "bytes=18446744073709551615-" 416 ""
range_is "bytes=5-3" 200 "0-$((size - 1))"
curl -s -D "$out/h" -o /dev/null -H "Range: bytes=$size-" "$f"
grep -qi "^Content-Range: bytes \*/$size" "$out/h" || fail "416 without Content-Range: bytes */$size"
# Overlapping multi-range: merged into two parts of a multipart/byteranges body.
curl -s -D "$out/h" -o "$out/multi" -H "Range: bytes=0-9,5-19,100-109" "$f"
grep -qi "^Content-Type: multipart/byteranges; boundary=" "$out/h" || fail "no multipart answer"
[ "$(grep -ac "^Content-Range: bytes" "$out/multi")" = 2 ] || fail "overlapping ranges were not merged"
grep -aq "^Content-Range: bytes 0-19/$size" "$out/multi" || fail "merged part 0-19 missing"
# HEAD: the headers of a GET, no body.
curl -sI "$f" >"$out/h"
grep -qi "^Content-Length: $size" "$out/h" || fail "HEAD without the file's length"
grep -qi "^Accept-Ranges: bytes" "$out/h" || fail "HEAD without Accept-Ranges"
etag=$(grep -i '^ETag:' "$out/h" | cut -d' ' -f2 | tr -d '\r')
[ "$etag" = "\"$local_sha\"" ] || fail "ETag is $etag"
[ "$(code -H "If-None-Match: $etag" "$f")" = 304 ] || fail "If-None-Match did not give 304"
[ "$(code -H 'If-None-Match: "other"' "$f")" = 200 ] || fail "a different tag gave no 200"
[ "$(code -H 'Range: bytes=0-9' -H "If-Range: $etag" "$f")" = 206 ] || fail "If-Range with the tag"
[ "$(code -H 'Range: bytes=0-9' -H 'If-Range: "old"' "$f")" = 200 ] || fail "If-Range with another tag"
content="$(url 1)$(resource_json 1 "$local_id" | field 'd["resource"]["files"][0]["content_url"]')"
curl -sI "$content" | grep -ci "^Cache-Control: public, max-age=31536000, immutable" >/dev/null ||
  fail "the content address is not immutable"

step "Paths that try to leave the store are refused"
# A file a traversal would reach: the node's own configuration and a planted secret.
echo "SECRET-$$" >"$out/proxy/secret.txt"
for p in "/v1/files/../../secret.txt" "/v1/files/%2e%2e/%2e%2e/secret.txt" \
  "/v1/files/.%2e/.%2e/secret.txt" "/v1/files/%2E%2E%2Fsecret.txt" "/v1/files/..%5c..%5csecret.txt" \
  "/v1/targets/../../node.toml" "/v1/targets/%2e%2e/%2e%2e/node.toml" "/ui/../../node.toml" \
  "/v1/catalog/resources/..%2f..%2fnode.toml" "/v1/files/$local_id/%00" "/v1/metadata/..%2froot.json" \
  "/v1/files/$local_id/..%2f..%2f..%2fsecret.txt"; do
  body=$(curl -s --path-as-is "$(url 1)$p")
  c=$(code "$(url 1)$p")
  case "$c" in 400 | 404) ;; *) fail "$p answered $c" ;; esac
  case "$body" in *SECRET* | *"[node]"*) fail "$p returned a file outside the store" ;; esac
done
# Raw requests curl will not send: backslashes and a NUL byte in the request line.
python3 - "$port" <<'EOF' || fail "a raw request with a backslash or NUL was served"
import socket, sys
port = int(sys.argv[1]) + 1
for target in [b"/v1/files/..\\..\\secret.txt", b"/v1/files/a\x00/../../secret.txt",
               b"/v1/targets/..\\node.toml"]:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    status = data.split(b" ", 2)[1] if data.startswith(b"HTTP/1.1 ") else b"(closed)"
    if b"SECRET" in data or b"[node]" in data or status == b"200":
        print("served:", target, data[:200])
        sys.exit(1)
    print("refused:", target, status.decode())
EOF

step "Miss policy proxy: fetched from the hub, verified, cached; the second request stays local"
hub_batches() { metric "$(url 0)" tiersync_http_requests_total 'endpoint="batch"'; }
before=$(hub_batches)
headers="$out/proxy-headers.txt"
got=$(curl -sf -D "$headers" "$(url 1)$missing_url" | sha)
[ "$got" = "$missing_sha" ] || fail "proxied bytes differ from the published SHA-256"
grep -qi "^X-Tiersync-Source: $(url 0)" "$headers" || fail "the proxied answer does not name its source"
[ "$(hub_batches)" -gt "$before" ] || fail "the proxy did not fetch from the hub"
[ -f "$out/proxy/cache/$missing_sha" ] || fail "the proxied file is not in the cache"
after_first=$(hub_batches)
got=$(curl -sf -D "$headers" "$(url 1)$missing_url" | sha)
[ "$got" = "$missing_sha" ] || fail "the cached bytes differ"
grep -qi "^X-Tiersync-Source" "$headers" && fail "the second request was proxied again"
[ "$(hub_batches)" = "$after_first" ] || fail "the second request reached the hub"
# Cached files are held: the content address answers too, and a range works on the cache.
[ "$(code "$(url 1)$missing_content")" = 200 ] || fail "the cached file's content address is not served"
[ "$(curl -sf -H 'Range: bytes=10-19' "$(url 1)$missing_url" | wc -c)" = 10 ] || fail "range on a cached file"
status 1 | field 'd["serving"]["cache"]["files"]' | grep -qx 1 || fail "status does not count the cached file"

step "Miss policy redirect: 302 to the hub's content address"
location=$(curl -s -o /dev/null -w '%{redirect_url}' "$(url 2)$missing_url")
[ "$location" = "$(url 0)$missing_content" ] || fail "redirect went to '$location'"
[ "$(code "$(url 2)$missing_url")" = 302 ] || fail "redirect policy did not answer 302"
[ "$(curl -sfL "$(url 2)$missing_url" | sha)" = "$missing_sha" ] || fail "the redirect target's bytes differ"
[ "$(curl -sf "$(url 2)$local_url" | sha)" = "$local_sha" ] || fail "the redirect node does not serve its own files"

step "/v1/resolve names the tiers that hold a resource"
resolve=$(curl -sf "$(url 2)/v1/resolve/$missing_id")
echo "$resolve" | field '[t["holds"] for t in d["tiers"]]' | grep -qx '\[False, True\]' ||
  fail "resolve: $resolve"

step "Hub stopped: mirrored still served, missing answered at once with a clear page"
kill "${pids[0]}"
wait "${pids[0]}" 2>/dev/null || true
[ "$(curl -sf "$(url 1)$local_url" | sha)" = "$local_sha" ] || fail "mirrored file not served with the hub down"
other_missing=$(curl -sf "$(url 1)/v1/catalog/search?limit=100" | field \
  '[i["id"] for i in d["items"] if not i["local"] and not i["link"] and i["files"] > 0 and i["id"] != "'"$missing_id"'"][0]')
other_url=$(resource_json 1 "$other_missing" | field 'd["resource"]["files"][0]["url"]')
start=$SECONDS
page=$(curl -s -m 20 -H 'Accept: text/html' -w '\n%{http_code}' "$(url 1)$other_url")
[ $((SECONDS - start)) -le 10 ] || fail "the miss took $((SECONDS - start)) s with the chain down"
[ "$(echo "$page" | tail -1)" = 502 ] || fail "a missing file with the chain down answered $(echo "$page" | tail -1)"
echo "$page" | grep -q "未镜像" || fail "the 502 page does not say what happened"
[ "$(code "$(url 2)$other_url")" = 502 ] || fail "redirect with the chain down did not answer 502"
[ "$(curl -sf "$(url 1)$missing_url" | sha)" = "$missing_sha" ] || fail "the cached file is not served with the hub down"

step "Usage: counted, in status, kept across a restart"
views=$(status 1 | field 'd["usage"]["today"]["views"]')
downloads=$(status 1 | field 'd["usage"]["today"]["downloads"]')
[ "$views" -ge 4 ] || fail "views today: $views"
[ "$downloads" -ge 4 ] || fail "downloads today: $downloads"
per=$(curl -sf "$(url 1)/v1/usage?days=1" | field 'd["days"][0]["resources"]["'"$missing_id"'"]["downloads"]')
[ "$per" -ge 3 ] || fail "downloads of $missing_id: $per"
stop_node proxy
ls "$out/proxy/usage/"*.json >/dev/null || fail "no usage file written at shutdown"
# A damaged day file is kept aside, not overwritten.
yesterday=$(date -u -d yesterday +%F)
echo "not json" >"$out/proxy/usage/$yesterday.json"
start_node proxy 1
[ "$(cat "$out/proxy/usage/$yesterday.json.damaged" 2>/dev/null)" = "not json" ] ||
  fail "the damaged usage file was not kept aside"
grep -q "usage/$yesterday.json is damaged" "$out/logs/proxy.log" || fail "the damaged usage file is not logged"
[ "$(status 1 | field 'd["usage"]["today"]["downloads"]')" = "$downloads" ] ||
  fail "downloads after a restart: $(status 1 | field 'd["usage"]["today"]["downloads"]'), before: $downloads"
echo "usage today: $views views, $downloads downloads"

echo "serving checks passed"
