#include "node/fleet_report.h"

#include <nlohmann/json.hpp>

namespace tiersync::node {
namespace {

using nlohmann::json;

json UsageDayJson(const serving::UsageDay& day) {
  json resources = json::object();
  for (const auto& [id, c] : day.resources) {
    resources[id] = {{"views", c.views}, {"downloads", c.downloads}};
  }
  return {{"date", day.date}, {"resources", std::move(resources)}};
}

bool IsDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

Result<serving::UsageDay> UsageDayFromJson(const json& j, size_t* rows) {
  if (!j.is_object() || !j.contains("date") || !j["date"].is_string() || !j.contains("resources") ||
      !j["resources"].is_object()) {
    return InvalidArgumentError("usage: each day is {\"date\", \"resources\"}");
  }
  serving::UsageDay day;
  day.date = j["date"].get<std::string>();
  if (!IsDate(day.date)) return InvalidArgumentError("usage: bad date \"" + day.date + "\"");
  for (const auto& [id, c] : j["resources"].items()) {
    if (++*rows > kMaxReportUsageRows) {
      return InvalidArgumentError("usage: more than " + std::to_string(kMaxReportUsageRows) +
                                  " (day, resource) counts");
    }
    if (id.empty() || id.size() > 256) return InvalidArgumentError("usage: bad resource id");
    if (!c.is_object() || !c.contains("views") || !c["views"].is_number_unsigned() ||
        !c.contains("downloads") || !c["downloads"].is_number_unsigned()) {
      return InvalidArgumentError("usage: " + id + " needs views and downloads as counts");
    }
    day.resources[id] = {c["views"].get<uint64_t>(), c["downloads"].get<uint64_t>()};
  }
  return day;
}

template <typename T>
bool Get(const json& j, const char* key, T* out) {
  if (!j.contains(key)) return false;
  const json& v = j[key];
  if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) return false;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) return false;
  } else if constexpr (std::is_unsigned_v<T>) {
    if (!v.is_number_unsigned()) return false;
  } else {
    if (!v.is_number_integer()) return false;
  }
  *out = v.get<T>();
  return true;
}

}  // namespace

std::string EncodeFleetReport(const FleetReport& r) {
  json s = json::parse(EncodeChildReport(r.rollup));
  s.erase("received_at");
  s["_type"] = "tiersync-report";
  s["format"] = kReportFormat;
  s["seq"] = r.seq;
  s["sent_at"] = r.sent_at;
  s["report_every"] = r.report_every;
  s["state"] = fleet::NodeStateJson(r.state);
  json subtree = json::array();
  for (const auto& n : r.subtree) subtree.push_back(fleet::NodeStateJson(n));
  s["subtree"] = std::move(subtree);
  s["subtree_full"] = r.subtree_full;
  json usage = json::array();
  for (const auto& d : r.usage) usage.push_back(UsageDayJson(d));
  s["usage"] = std::move(usage);
  json envelope = {{"signed", std::move(s)}, {"signatures", json::array()}};
  return envelope.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<FleetReport> DecodeFleetReport(std::string_view body) {
  if (body.size() > kMaxReportBodyBytes) {
    return InvalidArgumentError("a report is at most " + std::to_string(kMaxReportBodyBytes) +
                                " bytes");
  }
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (!j.is_object()) return InvalidArgumentError("a report is a JSON object");
  FleetReport r;
  if (!j.contains("signed")) {  // format 1: the roll-up part only
    TS_ASSIGN_OR_RETURN(r.rollup, DecodeChildReport(body));
    r.format = 1;
    return r;
  }
  if (!j["signed"].is_object() || !j.contains("signatures") || !j["signatures"].is_array()) {
    return InvalidArgumentError("a report envelope is {\"signed\": {...}, \"signatures\": [...]}");
  }
  const json& s = j["signed"];
  int format = 0;
  if (!Get(s, "format", &format) || s.value("_type", "") != "tiersync-report") {
    return InvalidArgumentError("signed: not a tiersync-report with a format");
  }
  if (format > kReportFormat) {
    return NotSupportedError("report format " + std::to_string(format) +
                             " is newer than this build's " + std::to_string(kReportFormat));
  }
  TS_ASSIGN_OR_RETURN(r.rollup, DecodeChildReport(s.dump()));
  r.format = format;
  if (!Get(s, "seq", &r.seq) || r.seq == 0) return InvalidArgumentError("signed: no seq");
  if (!Get(s, "sent_at", &r.sent_at)) return InvalidArgumentError("signed: no sent_at");
  if (!Get(s, "report_every", &r.report_every) || r.report_every < 0) {
    return InvalidArgumentError("signed: no report_every");
  }
  if (!s.contains("state")) return InvalidArgumentError("signed: no state");
  auto state = fleet::NodeStateFromJson(s["state"]);
  if (!state.ok()) return state.status().WithContext("state");
  r.state = std::move(state).value();
  if (r.state.name != r.rollup.name) {
    return InvalidArgumentError("state names " + r.state.name + ", the report " + r.rollup.name);
  }
  if (!s.contains("subtree") || !s["subtree"].is_array()) {
    return InvalidArgumentError("signed: subtree is a list");
  }
  if (s["subtree"].size() > kMaxReportSubtree) {
    return InvalidArgumentError("subtree: more than " + std::to_string(kMaxReportSubtree) +
                                " nodes in one report");
  }
  for (const json& n : s["subtree"]) {
    auto node = fleet::NodeStateFromJson(n);
    if (!node.ok()) return node.status().WithContext("subtree");
    r.subtree.push_back(std::move(node).value());
  }
  Get(s, "subtree_full", &r.subtree_full);
  if (!s.contains("usage") || !s["usage"].is_array()) {
    return InvalidArgumentError("signed: usage is a list");
  }
  if (s["usage"].size() > kMaxReportUsageDays) {
    return InvalidArgumentError("usage: more than " + std::to_string(kMaxReportUsageDays) +
                                " days in one report");
  }
  size_t rows = 0;
  for (const json& d : s["usage"]) {
    TS_ASSIGN_OR_RETURN(serving::UsageDay day, UsageDayFromJson(d, &rows));
    r.usage.push_back(std::move(day));
  }
  return r;
}

}  // namespace tiersync::node
