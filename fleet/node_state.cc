#include "fleet/node_state.h"

#include <array>
#include <functional>
#include <iterator>
#include <limits>

#include "catalogs/git_catalog.h"

namespace tiersync::fleet {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 5> kTiers = {"national", "province", "city", "county",
                                                    "school"};

bool HasControlChar(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Reads the members of one JSON object, naming them "<where><key>" in errors.
class MemberReader {
 public:
  MemberReader(const json& j, std::string where) : j_(j), where_(std::move(where)) {}

  Status String(const char* key, size_t max_bytes, std::string* out) const {
    TS_RETURN_IF_ERROR(Read(key, &json::is_string, "not a string", out));
    if (out->size() > max_bytes) {
      return Bad(key, "longer than " + std::to_string(max_bytes) + " bytes");
    }
    return Status::Ok();
  }
  Status Unsigned(const char* key, uint64_t* out) const {
    return Read(key, &json::is_number_unsigned, "not a non-negative integer", out);
  }
  Status Signed(const char* key, int64_t* out) const {
    return Read(key, &IsInt64, "not a 64-bit integer", out);
  }
  Status Bool(const char* key, bool* out) const {
    return Read(key, &json::is_boolean, "not true or false", out);
  }
  const json* Find(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  Status Bad(std::string_view key, std::string_view problem) const {
    return InvalidArgumentError(where_ + std::string(key) + ": " + std::string(problem));
  }

 private:
  // Sets *out to member `key` if it is there and `is` holds for it; `problem` otherwise.
  template <class T, class Is>
  Status Read(const char* key, Is is, const char* problem, T* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::Ok();
    if (!std::invoke(is, *v)) return Bad(key, problem);
    *out = v->get<T>();
    return Status::Ok();
  }
  static bool IsInt64(const json& v) {
    return v.is_number_integer() &&
           !(v.is_number_unsigned() &&
             v.get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()});
  }

  const json& j_;
  std::string where_;
};

json SourceJson(const SourceState& s) {
  return {{"name", s.name},
          {"url", s.url},
          {"ok", s.ok},
          {"failures", s.failures},
          {"last_error", s.last_error}};
}

Result<SourceState> SourceFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return InvalidArgumentError(where + ": not an object");
  MemberReader r(j, where + ".");
  SourceState s;
  TS_RETURN_IF_ERROR(r.String("name", kMaxStateStringBytes, &s.name));
  TS_RETURN_IF_ERROR(r.String("url", kMaxStateStringBytes, &s.url));
  TS_RETURN_IF_ERROR(r.Bool("ok", &s.ok));
  TS_RETURN_IF_ERROR(r.Unsigned("failures", &s.failures));
  TS_RETURN_IF_ERROR(r.String("last_error", kMaxStateStringBytes, &s.last_error));
  return s;
}

Status ReadSources(const MemberReader& r, std::vector<SourceState>* out) {
  const json* v = r.Find("sources");
  if (v == nullptr) return Status::Ok();
  if (!v->is_array()) return r.Bad("sources", "not an array");
  if (v->size() > kMaxSources) {
    return r.Bad("sources", "more than " + std::to_string(kMaxSources) + " sources");
  }
  for (size_t i = 0; i < v->size(); ++i) {
    TS_ASSIGN_OR_RETURN(SourceState s,
                        SourceFromJson((*v)[i], "sources[" + std::to_string(i) + "]"));
    out->push_back(std::move(s));
  }
  return Status::Ok();
}

// The members that say who the node is: required, and checked beyond their type.
Status ReadIdentity(const MemberReader& r, NodeState* s) {
  for (const char* key : {"name", "tier", "region"}) {
    if (r.Find(key) == nullptr) return r.Bad(key, "missing");
  }
  TS_RETURN_IF_ERROR(r.String("name", kMaxStateStringBytes, &s->name));
  if (Status st = CheckNodeName(s->name); !st.ok()) return r.Bad("name", st.message());
  TS_RETURN_IF_ERROR(r.String("tier", kMaxStateStringBytes, &s->tier));
  if (!IsTierName(s->tier)) return r.Bad("tier", "not a tier: \"" + s->tier + "\"");
  TS_RETURN_IF_ERROR(r.String("region", kMaxStateStringBytes, &s->region));
  if (Status st = CheckRegionCode(s->region); !st.ok()) return r.Bad("region", st.message());
  TS_RETURN_IF_ERROR(r.String("parent", kMaxStateStringBytes, &s->parent));
  if (Status st = CheckNodeName(s->parent); !s->parent.empty() && !st.ok()) {
    return r.Bad("parent", st.message());
  }
  TS_RETURN_IF_ERROR(r.String("release", kMaxStateStringBytes, &s->release));
  if (!s->release.empty() && !catalogs::ReleaseNumber(s->release)) {
    return r.Bad("release", "not a release name r<N>");
  }
  return Status::Ok();
}

Status ReadCounters(const MemberReader& r, NodeState* s) {
  for (auto [key, field] :
       {std::pair{"version", &s->version}, std::pair{"deferred", &s->deferred},
        std::pair{"rejections", &s->rejections}, std::pair{"store_bytes", &s->store_bytes},
        std::pair{"quota_bytes", &s->quota_bytes}, std::pair{"fs_size_bytes", &s->fs_size_bytes},
        std::pair{"fs_avail_bytes", &s->fs_avail_bytes}}) {
    TS_RETURN_IF_ERROR(r.Unsigned(key, field));
  }
  for (auto [key, field] :
       {std::pair{"switched_at", &s->switched_at}, std::pair{"reported_at", &s->reported_at},
        std::pair{"seen_at", &s->seen_at}, std::pair{"stale_after", &s->stale_after}}) {
    TS_RETURN_IF_ERROR(r.Signed(key, field));
  }
  return Status::Ok();
}

}  // namespace

Status CheckNodeName(std::string_view name) {
  if (name.empty()) return InvalidArgumentError("empty node name");
  if (name.size() > kMaxNodeNameBytes) {
    return InvalidArgumentError("node name longer than " + std::to_string(kMaxNodeNameBytes) +
                                " bytes");
  }
  if (HasControlChar(name)) return InvalidArgumentError("node name has a control character");
  return Status::Ok();
}

bool IsTierName(std::string_view tier) {
  for (std::string_view t : kTiers) {
    if (t == tier) return true;
  }
  return false;
}

json NodeStateJson(const NodeState& s) {
  json sources = json::array();
  for (const SourceState& src : s.sources) sources.push_back(SourceJson(src));
  return {{"name", s.name},
          {"tier", s.tier},
          {"region", s.region},
          {"parent", s.parent},
          {"release", s.release},
          {"version", s.version},
          {"switched_at", s.switched_at},
          {"deferred", s.deferred},
          {"sync_ok", s.sync_ok},
          {"last_error", s.last_error},
          {"sources", std::move(sources)},
          {"rejections", s.rejections},
          {"last_rejection", s.last_rejection},
          {"store_bytes", s.store_bytes},
          {"quota_bytes", s.quota_bytes},
          {"fs_size_bytes", s.fs_size_bytes},
          {"fs_avail_bytes", s.fs_avail_bytes},
          {"software", s.software},
          {"reported_at", s.reported_at},
          {"seen_at", s.seen_at},
          {"stale_after", s.stale_after}};
}

std::string EncodeNodeState(const NodeState& s) {
  // Invalid UTF-8 (a peer's error text) is replaced, never thrown on.
  return NodeStateJson(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<NodeState> NodeStateFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgumentError("node state: not a JSON object");
  MemberReader r(j, "");
  NodeState s;
  TS_RETURN_IF_ERROR(ReadIdentity(r, &s));
  TS_RETURN_IF_ERROR(ReadCounters(r, &s));
  TS_RETURN_IF_ERROR(r.Bool("sync_ok", &s.sync_ok));
  TS_RETURN_IF_ERROR(r.String("last_error", kMaxStateStringBytes, &s.last_error));
  TS_RETURN_IF_ERROR(r.String("last_rejection", kMaxStateStringBytes, &s.last_rejection));
  TS_RETURN_IF_ERROR(r.String("software", kMaxStateStringBytes, &s.software));
  TS_RETURN_IF_ERROR(ReadSources(r, &s.sources));
  return s;
}

Result<NodeState> DecodeNodeState(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("node state: not JSON");
  return NodeStateFromJson(j);
}

std::string_view HealthName(Health h) {
  constexpr std::string_view kNames[] = {"ok", "lagging", "failing", "rejecting", "down"};
  const auto i = static_cast<size_t>(h);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

namespace {

// A duration in the largest unit that keeps it at least 2: "90 s", "7 min", "5 h", "3 d".
struct Duration {
  std::string en, zh;
};
Duration Say(int64_t seconds) {
  struct Unit {
    int64_t seconds;
    const char *en, *zh;
  };
  constexpr Unit kUnits[] = {{86400, "d", " 天"}, {3600, "h", " 小时"}, {60, "min", " 分钟"}};
  for (const Unit& u : kUnits) {
    if (seconds >= 2 * u.seconds) {
      const std::string n = std::to_string(seconds / u.seconds);
      return {n + " " + u.en, n + u.zh};
    }
  }
  const std::string n = std::to_string(seconds);
  return {n + " s", n + " 秒"};
}

std::string Served(const NodeState& s) {
  return s.release.empty() ? "version " + std::to_string(s.version) : s.release;
}

HealthVerdict Lagging(const NodeState& s, uint64_t latest_version,
                      std::string_view latest_release) {
  if (s.release.empty() && s.version == 0) {
    return {Health::kLagging, "has no release yet", "尚无发布版本"};
  }
  if (!latest_release.empty()) {
    const std::string l(latest_release);
    return {Health::kLagging, "serves " + Served(s) + ", latest is " + l,
            "提供 " + Served(s) + "，最新为 " + l};
  }
  const std::string v = std::to_string(s.version), l = std::to_string(latest_version);
  return {Health::kLagging, "serves " + Served(s) + " (version " + v + "), latest version is " + l,
          "提供 " + Served(s) + "（版本 " + v + "），最新版本为 " + l};
}

}  // namespace

HealthVerdict JudgeHealth(const NodeState& s, int64_t now, uint64_t latest_version,
                          std::string_view latest_release) {
  if (s.stale_after > 0 && now > s.seen_at + s.stale_after) {
    const Duration ago = Say(now - s.seen_at), limit = Say(s.stale_after);
    return {Health::kDown, "no report for " + ago.en + " (expected within " + limit.en + ")",
            ago.zh + "未收到报告（应在 " + limit.zh + "内）"};
  }
  if (!s.sync_ok) {
    const std::string e = s.last_error.empty() ? "last sync failed" : s.last_error;
    return {Health::kFailing, "sync failing: " + e, "同步失败：" + e};
  }
  if (!s.last_rejection.empty()) {
    const std::string n = std::to_string(s.rejections);
    return {Health::kRejecting,
            "rejected forged or corrupt data (" + n + " in all): " + s.last_rejection,
            "拒收伪造或损坏的数据（共 " + n + " 次）：" + s.last_rejection};
  }
  if (s.version < latest_version) return Lagging(s, latest_version, latest_release);
  return {Health::kOk, "serves " + Served(s), "提供 " + Served(s)};
}

}  // namespace tiersync::fleet
