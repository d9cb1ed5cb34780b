#include "node/offline_policy.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "base/bytes.h"
#include "node/release_dir.h"
#include "protocol/tuf_metadata.h"
#include "protocol/tuf_time.h"

namespace tiersync::node {
namespace {

namespace tuf = protocol::tuf;

// N of "N.root.json", 0 for any other name.
uint64_t RootVersion(const std::string& name) {
  if (!name.ends_with(".root.json")) return 0;
  uint64_t n = 0;
  const char* end = name.data() + name.size() - 10;
  auto [p, ec] = std::from_chars(name.data(), end, n);
  return ec == std::errc() && p == end ? n : 0;
}

}  // namespace

Freshness JudgeFreshness(int64_t now, const ReleaseValidity& v) {
  Freshness f;
  f.expires = v.expires;
  const int64_t grace = static_cast<int64_t>(
      std::min<uint64_t>(v.grace_seconds, std::numeric_limits<int64_t>::max() / 2));
  f.grace_until = v.expires + grace;
  // TUF: metadata are expired when "now" is past (not at) their expiry.
  if (now <= v.expires) {
    f.state = Freshness::State::kFresh;
  } else if (now <= f.grace_until) {
    f.state = Freshness::State::kStale;
  } else {
    f.state = Freshness::State::kExpired;
  }
  return f;
}

Result<ReleaseValidity> ReadReleaseValidity(Env* env, const std::string& dir) {
  const std::string meta = JoinPath(dir, "metadata");
  TS_ASSIGN_OR_RETURN(auto names, env->GetChildren(meta));
  ReleaseValidity v;
  v.expires = std::numeric_limits<int64_t>::max();
  std::string newest_root;
  uint64_t newest = 0;
  bool any = false;
  for (const std::string& name : names) {
    if (const uint64_t n = RootVersion(name); n > 0) {
      if (n > newest) newest = n, newest_root = name;
      continue;
    }
    if (!name.ends_with(".json")) continue;
    TS_ASSIGN_OR_RETURN(auto bytes,
                        ReadFileToBytes(env, JoinPath(meta, name), kMaxReleaseMetadataBytes));
    auto envelope = tuf::ParseEnvelope(bytes, kMaxReleaseMetadataBytes);
    if (!envelope.ok()) return envelope.status().WithContext(JoinPath(meta, name));
    const protocol::Json* expires = envelope->signed_json.Find("expires");
    if (expires == nullptr || !expires->is_string()) {
      return CorruptionError(JoinPath(meta, name) + " has no \"expires\"");
    }
    auto t = protocol::ParseTufTime(expires->as_string());
    if (!t.ok()) return t.status().WithContext(JoinPath(meta, name));
    v.expires = std::min(v.expires, *t);
    any = true;
  }
  if (!any || newest_root.empty()) {
    return CorruptionError(meta + " holds no timestamp, snapshot or targets, or no root");
  }
  TS_ASSIGN_OR_RETURN(auto bytes,
                      ReadFileToBytes(env, JoinPath(meta, newest_root), kMaxReleaseMetadataBytes));
  auto envelope = tuf::ParseEnvelope(bytes, kMaxReleaseMetadataBytes);
  if (!envelope.ok()) return envelope.status().WithContext(JoinPath(meta, newest_root));
  auto root = tuf::ParseRoot(envelope->signed_json);
  if (!root.ok()) return root.status().WithContext(JoinPath(meta, newest_root));
  v.grace_seconds = root->offline_grace_seconds.value_or(0);
  return v;
}

nlohmann::json FreshnessJson(const Freshness& f) {
  const char* state = f.state == Freshness::State::kFresh   ? "fresh"
                      : f.state == Freshness::State::kStale ? "stale"
                                                            : "expired";
  return {{"state", state},
          {"expires", protocol::FormatTufTime(f.expires)},
          {"grace_until", protocol::FormatTufTime(f.grace_until)}};
}

}  // namespace tiersync::node
