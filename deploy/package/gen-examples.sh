#!/usr/bin/env bash
# gen-examples.sh TIERSYNC OUTDIR: writes an example node.toml per tier into OUTDIR
# (province.toml, city.toml, county.toml, school.toml) by running `tiersync node init` itself
# — the 浙江省 → 杭州市 → 西湖区 → school chain of the demo — so the examples are always in
# the format the binary writes and reads. The root it pins is a throwaway made here and is not
# copied: each real node pins the ministry's root.json (docs/operators/package.md).
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$bin" keys gen "$tmp/root.key" >/dev/null
"$bin" repo init "$tmp/repo" --root-key "$tmp/root.key" --targets-key "$tmp/root.key" \
  --snapshot-key "$tmp/root.key" --timestamp-key "$tmp/root.key" -k "$tmp/root.key" >/dev/null

# example TIER NAME REGION SUBSCRIPTION [UPSTREAM...]
example() {
  local tier="$1" name="$2" region="$3" sub="$4"
  shift 4
  local ups=()
  for u in "$@"; do ups+=(--upstream "$u"); done
  "$bin" node init "$tmp/$tier" --name "$name" --tier "$tier" --region "$region" \
    --listen 0.0.0.0:8080 "${ups[@]}" --national http://hub.example.edu.cn:8080 \
    --root "$tmp/repo/metadata/1.root.json" --subscription "$sub" --quota 500G >/dev/null
  {
    echo "# An example $tier node, written by \`tiersync node init\` (see"
    echo "# /usr/share/doc/tiersync/operators/node.md for every key). With the package,"
    echo "# \`tiersync node init --instance NAME\` writes it to /etc/tiersync/NAME/node.toml (the"
    echo "# node: /var/lib/tiersync/NAME); run it with tiersync-node@NAME."
    cat "$tmp/$tier/node.toml"
  } >"$out/$tier.toml"
}

# Upper tiers subscribe to nothing themselves: they mirror what the schools below them ask for.
example province 浙江省教育技术中心 330000 ""
example city 杭州市教育局 330100 "" http://zhejiang.example.edu.cn:8080
example county 西湖区教育局 330106 "" http://hangzhou.example.edu.cn:8080 \
  http://zhejiang.example.edu.cn:8080
example school 西湖区实验小学 330106 "stage = 小学" http://xihu.example.edu.cn:8080 \
  http://hangzhou.example.edu.cn:8080 http://zhejiang.example.edu.cn:8080
echo "examples in $out"
