#!/usr/bin/env bash
# Enrollment down five tiers on real processes (issue 19, first slice; docs/operators/node.md
# "Enrolling a node"):
#   a. the ministry's offline CA (identity ca-init) in the national root (hub init
#      --identity-ca); a province certified offline: node identity request -> identity issue ->
#      node identity install;
#   b. city, county and school each enroll by invitation from their running parent
#      (node invite, node enroll -> POST /v1/enroll); status shows each identity;
#   c. refusals, each with its exact failure: a token used twice; an expired invitation; an
#      invitation outside the inviter's scope; a node of another province with a token minted
#      for 330106; a forged chain (a second, self-made CA); an unenrolled node's invite; the
#      audit logs record them;
#   d. users' anonymous GET of /v1/status and of a file still work; a child whose clock is
#      behind its parent's (faketime, when installed): seconds behind, it enrolls; hours
#      behind, it refuses the chain, keeps it in identity/node.crt.received, and installs it
#      with `node identity install` once its clock is right;
#   e. a CA rollover is a root rotation (repo rotate-root --identity-ca twice): once a node
#      trusts the new root, a certificate from the new CA installs.
# Usage: enrollment.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18740}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM

# refused WHAT EXPECTED_EXIT EXPECTED_TEXT COMMAND...: the command fails with that exit code
# and says EXPECTED_TEXT on stderr.
refused() {
  local what="$1" code="$2" text="$3" rc=0
  shift 3
  "$@" >"$out/refused.out" 2>"$out/refused.err" || rc=$?
  [ "$rc" = "$code" ] ||
    fail "$what: exit $rc, not $code: $(cat "$out/refused.err" "$out/refused.out")"
  grep -qF -- "$text" "$out/refused.err" ||
    fail "$what: stderr does not say \"$text\": $(cat "$out/refused.err")"
  echo "refused as expected ($what): $(head -c 300 "$out/refused.err")"
}
# identity OFFSET EXPR: a field of a running node's status identity.
identity() { status "$1" | field "d['identity']$2"; }
# invite NODE TIER REGION [ARGS...]: the token of a new invitation.
invite() {
  local node="$1" tier="$2" region="$3"
  shift 3
  "$bin" node invite "$out/$node" --tier "$tier" --region "$region" "$@" 2>>"$out/logs/cli.log" ||
    fail "node invite $node $tier $region"
}

step "a. The national identity CA in the root; the province certified offline"
mkdir -p "$out/keys" "$out/logs"
"$bin" keys gen --scheme ed25519 "$out/keys/ca.key" >/dev/null
"$bin" identity ca-init --key "$out/keys/ca.key" --out "$out/ca.pem" --name "教育部 节点身份CA" \
  >/dev/null || fail "identity ca-init"
"$bin" identity show "$out/ca.pem" | grep -q "national '教育部 节点身份CA' (000000)" ||
  fail "identity show does not name the CA: $("$bin" identity show "$out/ca.pem")"
hub_init_args=(--identity-ca "$out/ca.pem")
make_hub --resources 20 --seed 5 --size-scale 0.0005
python3 - "$out/hub/tuf/metadata/1.root.json" "$out/ca.pem" <<'EOF' || fail "root v1 does not carry the CA"
import json, sys
cas = json.load(open(sys.argv[1]))["signed"]["x-tiersync-identity-ca"]
assert cas == [open(sys.argv[2]).read()], cas
EOF
start_hub 0
sub='platform = k12'
make_node prov 1 province 330000 "$sub" "$(url 0)" "$(url 0)"
make_node city 2 city 330100 "$sub" "$(url 0)" "$(url 1)"
make_node county 3 county 330106 "$sub" "$(url 0)" "$(url 2)"
make_node school 4 school 330106 "$sub" "$(url 0)" "$(url 3)"

"$bin" node identity request "$out/prov" --out "$out/prov.csr" >/dev/null ||
  fail "node identity request"
[ "$(stat -c %a "$out/prov/identity/node.key")" = 600 ] || fail "node.key is not mode 0600"
"$bin" identity issue --ca-key "$out/keys/ca.key" --ca-cert "$out/ca.pem" \
  --request "$out/prov.csr" --out "$out/prov.crt" >/dev/null || fail "identity issue"
"$bin" identity show "$out/prov.crt" | grep -q "issuer  *national '教育部 节点身份CA'" ||
  fail "identity show of the province: $("$bin" identity show "$out/prov.crt")"
"$bin" node identity install "$out/prov" "$out/prov.crt" >/dev/null || fail "node identity install"
start_node prov 1
[ "$(identity 1 '["enrolled"]')" = True ] || fail "the province is not enrolled: $(identity 1 '')"
[ "$(identity 1 '.get("error")')" = None ] || fail "the province's chain: $(identity 1 '')"

step "b. City, county and school enroll by invitation from their running parents"
token=$(invite prov city 330100 --name city)
"$bin" node enroll "$out/city" --token "$token" >/dev/null || fail "the city's enrollment"
start_node city 2
token=$(invite city county 330106)
"$bin" node enroll "$out/county" --token "$token" >/dev/null || fail "the county's enrollment"
start_node county 3
school_token=$(invite county school 330106 --expires 10m)
"$bin" node enroll "$out/school" --token "$school_token" --scheme sm2-sm3 >/dev/null ||
  fail "the school's enrollment"
start_node school 4
[ "$(identity 4 '["issuer"]')" = "county 'county' (330106)" ] ||
  fail "the school's issuer: $(identity 4 '')"
[ "$(identity 4 '["key"]')" = sm2-sm3 ] || fail "the school's key: $(identity 4 '')"
[ "$(grep -c 'BEGIN CERTIFICATE' "$out/school/identity/node.crt")" = 4 ] ||
  fail "the school's chain is not school, county, city, province"
# node status exits non-zero while a sync fails; what it says is the point here.
node_status() { "$bin" node status "$out/$1" 2>&1 || true; }
node_status school | grep -q "identity: school 'school' (330106), certified by county" ||
  fail "node status does not show the identity: $(node_status school)"

step "c. Refusals"
refused "a token used twice" 1 "was already used" \
  "$bin" node enroll "$out/school" --token "$school_token"

# An expired invitation (a second school; its node only needs a directory).
make_node school2 5 school 330106 "$sub" "$(url 0)" "$(url 3)"
token=$(invite county school 330106 --expires 1s)
sleep 2
refused "an expired invitation" 6 "expired at" "$bin" node enroll "$out/school2" --token "$token"

refused "an invitation outside the inviter's region" 2 "is not inside its issuer" \
  "$bin" node invite "$out/city" --tier county --region 320106
refused "an invitation of the inviter's own tier" 2 "is not below its issuer" \
  "$bin" node invite "$out/county" --tier county --region 330106

# A node of another province presents a token minted for 330106.
make_node jiangsu 6 school 320102 "$sub" "$(url 0)" "$(url 3)"
token=$(invite county school 330106)
refused "a node of another province" 2 "outside the scope of county 'county' (330106)" \
  "$bin" node enroll "$out/jiangsu" --token "$token"
# ... and the token stays usable by the school it was meant for.
"$bin" node enroll "$out/school2" --token "$token" >/dev/null ||
  fail "a refused request used the invitation up"

# A forged chain: a certificate from a second, self-made CA with the same name.
"$bin" keys gen --scheme ed25519 "$out/keys/forged-ca.key" >/dev/null
"$bin" identity ca-init --key "$out/keys/forged-ca.key" --out "$out/forged-ca.pem" \
  --name "教育部 节点身份CA" >/dev/null
make_node prov2 7 province 330000 "$sub" "$(url 0)" "$(url 0)"
"$bin" node identity request "$out/prov2" --out "$out/prov2.csr" >/dev/null
"$bin" identity issue --ca-key "$out/keys/forged-ca.key" --ca-cert "$out/forged-ca.pem" \
  --request "$out/prov2.csr" --out "$out/prov2.crt" >/dev/null
refused "a forged chain" 3 "is not issued under the national identity CA" \
  "$bin" node identity install "$out/prov2" "$out/prov2.crt"
# ... and a genuine certificate for another node's key.
refused "another node's certificate" 2 "the certificate is for province 'prov'" \
  "$bin" node identity install "$out/prov2" "$out/prov.crt"

# An unenrolled node invites; a node enrolls with an unenrolled parent (prov2, served).
refused "an unenrolled node's invite" 6 "is not enrolled" \
  "$bin" node invite "$out/prov2" --tier city --region 330100
start_node prov2 7
make_node city2 8 city 330100 "$sub" "$(url 0)" "$(url 7)"
refused "a parent that is not enrolled" 6 "cannot enroll nodes: it holds no valid certificate" \
  "$bin" node enroll "$out/city2" --token "tsinv1.00000000000000000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
refused "an unknown invitation" 7 "unknown invitation" \
  "$bin" node enroll "$out/school2" --token "tsinv1.0123456789abcdef0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

# Each refusal and enrollment is in the issuer's audit log, with the client's address.
python3 - "$out/county/identity/audit.log" <<'EOF' || fail "the county's audit log"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
enroll = [l for l in lines if l["action"] == "enroll"]
assert all(l["from"] == "127.0.0.1" for l in enroll), enroll
outcomes = [l["outcome"] for l in enroll]
assert sum(o == "ok" for o in outcomes) == 2, outcomes
assert any("was already used" in o for o in outcomes), outcomes
assert any("expired at" in o for o in outcomes), outcomes
assert any("outside the scope" in o for o in outcomes), outcomes
assert len([l for l in lines if l["action"] == "invite"]) >= 4, lines
EOF
node_status prov2 | grep -q "identity: not enrolled" ||
  fail "node status of an unenrolled node: $(node_status prov2)"
# The parent's answer names none of its files.
grep -q "no identity/node.crt" "$out/refused.err" && fail "the parent's answer names its files"
grep -q "no identity/node.crt" "$out/prov2/identity/audit.log" ||
  fail "the parent's audit log does not say why it cannot enroll"
[ "$(stat -c %a "$out/county/identity/audit.log")" = 600 ] || fail "audit.log is not mode 0600"

step "d. Users' anonymous requests still work"
wait_release r1 4 60
file=$(local_files 4 | sed -n 1p)
[ -n "$file" ] || fail "the school holds no file"
curl -sf -o /dev/null "$(url 4)$file" || fail "a users' GET of $file"
curl -sf -o /dev/null "$(url 4)/v1/status" || fail "a users' GET of /v1/status"

if command -v faketime >/dev/null; then
  # libfaketime is preloaded ahead of a sanitizer build's ASan runtime: ASan must not object.
  skewed=(env "ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0" faketime)
  # A child a few seconds behind its parent accepts its chain (issued an hour back).
  make_node school3 9 school 330106 "$sub" "$(url 0)" "$(url 3)"
  token=$(invite county school 330106)
  "${skewed[@]}" -f -30s "$bin" node enroll "$out/school3" --token "$token" >/dev/null ||
    fail "a child 30 s behind its parent"
  # Hours behind, it refuses the chain and keeps it; installed once its clock is right.
  make_node school4 10 school 330106 "$sub" "$(url 0)" "$(url 3)"
  token=$(invite county school 330106)
  refused "a child hours behind its parent" 3 \
    "tiersync node identity install $out/school4 $out/school4/identity/node.crt.received" \
    "${skewed[@]}" -f -3h "$bin" node enroll "$out/school4" --token "$token"
  "$bin" node identity install "$out/school4" "$out/school4/identity/node.crt.received" \
    >/dev/null || fail "the kept chain once the clock is right"
else
  echo "faketime is not installed: the clock-skew enrollment is not tried"
fi

step "e. A CA rollover: root v2 lists the old and the new CA"
"$bin" keys gen --scheme sm2-sm3 "$out/keys/ca2.key" >/dev/null
"$bin" identity ca-init --key "$out/keys/ca2.key" --out "$out/ca2.pem" --name "教育部 节点身份CA 2" \
  >/dev/null
# shellcheck disable=SC2046
refused "a province's certificate as an identity CA" 2 "not a national identity CA" \
  "$bin" repo rotate-root "$out/hub/tuf" --identity-ca "$out/prov.crt" -k "$out/keys/root.key" \
  $(sign_keys)
# shellcheck disable=SC2046
"$bin" repo rotate-root "$out/hub/tuf" --identity-ca "$out/ca.pem" --identity-ca "$out/ca2.pem" \
  -k "$out/keys/root.key" $(sign_keys) >/dev/null || fail "repo rotate-root --identity-ca"
"$bin" identity issue --ca-key "$out/keys/ca2.key" --ca-cert "$out/ca2.pem" \
  --request "$out/prov2.csr" --out "$out/prov2-ca2.crt" >/dev/null
deadline=$((SECONDS + 60))
until [ -f "$out/prov2/trusted/2.root.json" ]; do
  [ $SECONDS -lt $deadline ] || fail "prov2 did not take root v2"
  sleep 0.2
done
"$bin" node identity install "$out/prov2" "$out/prov2-ca2.crt" >/dev/null ||
  fail "a certificate of the new CA after the rollover"
[ "$(identity 7 '["issuer"]')" = "national '教育部 节点身份CA 2' (000000)" ] ||
  fail "prov2's identity after the rollover: $(identity 7 '')"
# The old CA still counts: the province's certificate is valid under root v2 too.
[ "$(identity 1 '.get("error")')" = None ] || fail "the province after the rollover: $(identity 1 '')"
echo "PASS: enrollment"
