#include "fleet/fleet_records.h"

#include <nlohmann/json.hpp>

namespace tiersync::fleet::records {
namespace {

using nlohmann::json;

constexpr uint64_t kSignBit = uint64_t{1} << 63;

std::string Be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}
uint64_t FromBe64(std::string_view b) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(b[i]);
  return v;
}

// Parses a stored JSON object; kCorruption naming `what` if it is none.
Result<json> ParseObject(std::string_view value, const char* what) {
  json j = json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return CorruptionError(std::string("fleet store: bad ") + what + " value");
  return j;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// j[key] as T, or kCorruption.
template <class T>
Result<T> Member(const json& j, const char* key, const char* what) {
  auto it = j.find(key);
  bool fits = it != j.end();
  if constexpr (std::is_same_v<T, std::string>) {
    fits = fits && it->is_string();
  } else if constexpr (std::is_same_v<T, bool>) {
    fits = fits && it->is_boolean();
  } else {
    fits = fits && it->is_number_integer();
  }
  if (!fits) return CorruptionError(std::string("fleet store: ") + what + " without " + key);
  return it->get<T>();
}

}  // namespace

const std::vector<std::string>& TableNames() {
  static const std::vector<std::string> kNames = {
      "nodes",  "nodes_by_region", "nodes_by_stored", "nodes_by_seen",
      "events", "usage",           "usage_days"};
  return kNames;
}

std::string TimeKey(int64_t t) { return Be64(static_cast<uint64_t>(t) ^ kSignBit); }
int64_t TimeFromKey(std::string_view key) { return static_cast<int64_t>(FromBe64(key) ^ kSignBit); }

std::string EncodeStoredNode(const FleetStore::StoredNode& n) {
  return Dump({{"stored_at", n.stored_at}, {"state", NodeStateJson(n.state)}});
}

Result<FleetStore::StoredNode> DecodeStoredNode(std::string_view value) {
  TS_ASSIGN_OR_RETURN(json j, ParseObject(value, "node"));
  FleetStore::StoredNode n;
  TS_ASSIGN_OR_RETURN(n.stored_at, Member<int64_t>(j, "stored_at", "node"));
  auto state = j.find("state");
  if (state == j.end()) return CorruptionError("fleet store: node without state");
  Result<NodeState> s = NodeStateFromJson(*state);
  if (!s.ok()) return CorruptionError("fleet store: node: " + s.status().message());
  n.state = std::move(s).value();
  return n;
}

std::vector<std::pair<Table, std::string>> NodeIndexKeys(const FleetStore::StoredNode& n) {
  const std::string& name = n.state.name;
  return {{kNodesByRegion, n.state.region + name},
          {kNodesByStored, TimeKey(n.stored_at) + name},
          {kNodesBySeen, TimeKey(n.state.seen_at) + name}};
}

std::string EventKey(const FleetStore::Event& e) { return TimeKey(e.at) + e.name; }

std::string EncodeEvent(const FleetStore::Event& e) { return Dump(EventJson(e)); }

Result<FleetStore::Event> DecodeEvent(std::string_view value) {
  TS_ASSIGN_OR_RETURN(json j, ParseObject(value, "event"));
  FleetStore::Event e;
  TS_ASSIGN_OR_RETURN(e.at, Member<int64_t>(j, "at", "event"));
  TS_ASSIGN_OR_RETURN(e.version, Member<uint64_t>(j, "version", "event"));
  TS_ASSIGN_OR_RETURN(e.sync_ok, Member<bool>(j, "sync_ok", "event"));
  for (auto [key, field] : {std::pair{"name", &e.name}, std::pair{"tier", &e.tier},
                            std::pair{"region", &e.region}, std::pair{"release", &e.release},
                            std::pair{"health", &e.health}, std::pair{"why", &e.why}}) {
    TS_ASSIGN_OR_RETURN(*field, Member<std::string>(j, key, "event"));
  }
  return e;
}

std::string UsageDayKey(std::string_view date, std::string_view reporter) {
  std::string k(date);
  k += '\0';
  k += reporter;
  return k;
}

std::string UsageKey(std::string_view date, std::string_view reporter, std::string_view resource) {
  std::string k = UsageDayKey(date, reporter);
  k += '\0';
  k += resource;
  return k;
}

Result<UsageKeyParts> SplitUsageKey(std::string_view key, bool with_resource) {
  const size_t a = key.find('\0');
  const size_t b = a == std::string_view::npos ? a : key.find('\0', a + 1);
  if (a == std::string_view::npos || (b == std::string_view::npos) == with_resource) {
    return CorruptionError("fleet store: bad usage key");
  }
  UsageKeyParts p{key.substr(0, a), key.substr(a + 1, b - a - 1), {}};
  if (with_resource) p.resource = key.substr(b + 1);
  return p;
}

std::string EncodeCounts(const serving::UsageCounts& c) {
  return Be64(c.views) + Be64(c.downloads);
}

Result<serving::UsageCounts> DecodeCounts(std::string_view value) {
  if (value.size() != 16) return CorruptionError("fleet store: usage counts of a wrong size");
  return serving::UsageCounts{FromBe64(value), FromBe64(value.substr(8))};
}

std::string EncodeUsageDayMeta(const UsageDayMeta& m) {
  return Dump({{"region", m.region}, {"changed_at", m.changed_at}});
}

Result<UsageDayMeta> DecodeUsageDayMeta(std::string_view value) {
  TS_ASSIGN_OR_RETURN(json j, ParseObject(value, "usage day"));
  UsageDayMeta m;
  TS_ASSIGN_OR_RETURN(m.region, Member<std::string>(j, "region", "usage day"));
  TS_ASSIGN_OR_RETURN(m.changed_at, Member<int64_t>(j, "changed_at", "usage day"));
  return m;
}

}  // namespace tiersync::fleet::records
