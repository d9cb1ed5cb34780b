#include "node/child_reports.h"

#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/sha256.h"
#include "catalogs/region_table.h"
#include "catalogs/subscription.h"
#include "catalogs/taxonomy.h"

namespace tiersync::node {
namespace {

using nlohmann::json;

constexpr size_t kMaxReportBytes = 256 << 10;

std::string FileNameOf(const std::string& child) {
  return ToHex(Sha256(AsBytes(child))).substr(0, 16) + ".json";
}

Status CheckSubscription(const std::string& text, const char* field) {
  auto sub = catalogs::Subscription::Parse(text, catalogs::Taxonomy::Builtin(),
                                           catalogs::RegionTable::Builtin());
  return sub.ok() ? Status::Ok() : sub.status().WithContext(field);
}

}  // namespace

std::string EncodeChildReport(const ChildReport& r) {
  json j = {{"name", r.name},
            {"tier", r.tier},
            {"region", r.region},
            {"subscription", r.subscription},
            {"rolled_up", r.rolled_up}};
  if (!r.release.empty()) j["release"] = r.release, j["version"] = r.version;
  if (r.received_at != 0) j["received_at"] = r.received_at;
  if (r.seq != 0) j["seq"] = r.seq;
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

std::string EncodeChildReportFile(const ChildReport& r) {
  json j = json::parse(EncodeChildReport(r));
  j["format"] = kChildReportFileFormat;
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

Result<ChildReport> DecodeChildReport(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  auto str = [&](const char* key) -> std::string {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string() ||
      !j.contains("subscription") || !j["subscription"].is_string()) {
    return InvalidArgumentError("a report is a JSON object with name and subscription");
  }
  ChildReport r;
  r.name = str("name");
  r.tier = str("tier");
  r.region = str("region");
  r.release = str("release");
  r.subscription = str("subscription");
  // A child of an older version reports only its own subscription.
  r.rolled_up =
      j.contains("rolled_up") && j["rolled_up"].is_string() ? str("rolled_up") : r.subscription;
  if (j.contains("version") && j["version"].is_number_unsigned()) {
    r.version = j["version"].get<uint64_t>();
  }
  if (j.contains("received_at") && j["received_at"].is_number_integer()) {
    r.received_at = j["received_at"].get<int64_t>();
  }
  if (j.contains("seq") && j["seq"].is_number_unsigned()) r.seq = j["seq"].get<uint64_t>();
  if (r.name.empty()) return InvalidArgumentError("a report names its node");
  return r;
}

ChildReports::ChildReports(Env* env, const NodePaths& paths) : env_(env), paths_(paths) {}

void ChildReports::Load() {
  auto names = env_->GetChildren(paths_.children);
  if (!names.ok()) return;
  std::map<std::string, ChildReport> loaded;
  for (const std::string& name : *names) {
    if (!name.ends_with(".json")) continue;
    auto bytes = ReadFileToBytes(env_, JoinPath(paths_.children, name), kMaxReportBytes);
    if (!bytes.ok()) continue;
    const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    // A file of a format this build does not know is skipped like a damaged one.
    json j = json::parse(text, nullptr, false);
    if (j.is_object() && j.contains("format") && j["format"] != kChildReportFileFormat) continue;
    auto r = DecodeChildReport(text);
    if (r.ok()) loaded.emplace(name, std::move(r).value());
  }
  MutexLock lock(&mu_);
  reports_ = std::move(loaded);
}

Status ChildReports::Check(const ChildReport& r) {
  for (auto [text, field] :
       {std::pair{&r.subscription, "subscription"}, std::pair{&r.rolled_up, "rolled_up"}}) {
    TS_RETURN_IF_ERROR(CheckSubscription(*text, field));
  }
  return Status::Ok();
}

HttpReply ChildReports::Accept(const HttpRequest& request) {
  if (request.method != "POST") return HttpReply::Text(405, "POST a report");
  auto r = DecodeChildReport(request.body);
  if (!r.ok()) return HttpReply::Text(400, r.status().message());
  if (Status s = Check(*r); !s.ok()) return HttpReply::Text(400, s.message());
  auto stored = Put(std::move(r).value());
  if (!stored.ok()) {
    const StatusCode code = stored.status().code();
    return HttpReply::Text(code == StatusCode::kResourceExhausted    ? 503
                           : code == StatusCode::kFailedPrecondition ? 409
                                                                     : 500,
                           stored.status().message());
  }
  return HttpReply::Json("{\"ok\": true}");
}

Result<bool> ChildReports::Put(ChildReport r) {
  r.received_at = static_cast<int64_t>(env_->NowMicros() / 1000000);
  const std::string file = FileNameOf(r.name);
  MutexLock serial(&write_mu_);
  {
    MutexLock lock(&mu_);
    auto it = reports_.find(file);
    if (it == reports_.end() && reports_.size() >= kMaxChildren) {
      return ResourceExhaustedError("too many children (" + std::to_string(kMaxChildren) + ")");
    }
    if (it != reports_.end() && r.seq != 0 && it->second.seq != 0) {
      if (r.seq < it->second.seq) {
        return FailedPreconditionError("report " + std::to_string(r.seq) + " of " + r.name +
                                       " is older than the last one accepted (" +
                                       std::to_string(it->second.seq) + "): a replay");
      }
      if (r.seq == it->second.seq) return false;
    }
  }
  TS_RETURN_IF_ERROR(CreateDirs(env_, paths_.children));
  TS_RETURN_IF_ERROR(WriteFileAtomically(env_, JoinPath(paths_.children, file),
                                         AsBytes(EncodeChildReportFile(r))));
  MutexLock lock(&mu_);
  reports_[file] = std::move(r);
  return true;
}

uint64_t ChildReports::LastSeq(const std::string& name) const {
  MutexLock lock(&mu_);
  auto it = reports_.find(FileNameOf(name));
  return it == reports_.end() ? 0 : it->second.seq;
}

std::vector<std::string> ChildReports::Subscriptions() const {
  MutexLock lock(&mu_);
  std::map<std::string, std::string> by_name;
  for (const auto& [file, r] : reports_) by_name[r.name] = r.rolled_up;
  std::vector<std::string> out;
  for (auto& [name, text] : by_name) out.push_back(std::move(text));
  return out;
}

std::vector<ChildReport> ChildReports::Reports() const {
  MutexLock lock(&mu_);
  std::vector<ChildReport> out;
  for (const auto& [file, r] : reports_) out.push_back(r);
  return out;
}

size_t ChildReports::size() const {
  MutexLock lock(&mu_);
  return reports_.size();
}

}  // namespace tiersync::node
