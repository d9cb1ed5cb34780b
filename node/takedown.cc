#include "node/takedown.h"

#include "base/bytes.h"
#include "base/hex.h"
#include "base/layout_version.h"
#include "protocol/tuf_time.h"

namespace tiersync::node {
namespace {

using nlohmann::json;
namespace tuf = protocol::tuf;

constexpr std::string_view kTakedownsKind = "tiersync-takedowns";
constexpr int kTakedownsVersion = 1;

Withdrawal WithdrawalOf(const replication::RoleRetraction& r) {
  return Withdrawal{std::string(tuf::RetractionKindName(r.retraction.kind)), r.role,
                    r.retraction.reason, r.retraction.since};
}

std::string Describe(const replication::RoleRetraction& r) {
  return "role " + r.role + "'s retraction of " +
         std::string(tuf::RetractionKindName(r.retraction.kind)) + " " + r.retraction.value;
}

json ToJson(const Withdrawal& w) {
  return {{"kind", w.kind}, {"role", w.role}, {"reason", w.reason}, {"since", w.since}};
}

Result<Withdrawal> FromJson(const json& j) {
  if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string() || !j.contains("role") ||
      !j["role"].is_string() || !j.contains("reason") || !j["reason"].is_string() ||
      !j.contains("since") || !j["since"].is_number_integer()) {
    return CorruptionError("takedowns.json: a withdrawal is not {kind, role, reason, since}");
  }
  return Withdrawal{j["kind"].get<std::string>(), j["role"].get<std::string>(),
                    j["reason"].get<std::string>(), j["since"].get<int64_t>()};
}

}  // namespace

TakedownResolver::TakedownResolver(std::vector<replication::RoleRetraction> retractions,
                                   const catalogs::RegionTable& regions)
    : retractions_(std::move(retractions)), regions_(regions) {}

void TakedownResolver::Add(const catalogs::Resource& r) {
  std::vector<std::pair<std::string, const catalogs::ResourceFile*>> paths;
  for (const auto& f : r.files) paths.emplace_back(catalogs::TargetPath(r, f, regions_), &f);
  // A resource without files (an external link) is in the namespace of the paths it would have.
  catalogs::ResourceFile any;
  any.name = "-";
  const std::string probe = catalogs::TargetPath(r, any, regions_);
  const replication::RoleRetraction* whole = nullptr;
  std::map<std::string, const replication::RoleRetraction*> by_file;  // path -> retraction
  for (const auto& rr : retractions_) {
    const tuf::Retraction& x = rr.retraction;
    if (x.kind == tuf::Retraction::Kind::kSha256) {
      for (const auto& [path, f] : paths) {
        if (ToHex(f->sha256) != x.value) continue;
        if (rr.Covers(path)) {
          by_file.emplace(path, &rr);
        } else {
          ++refused_counts_[Describe(rr) + " does not cover " + path + ": refused"];
        }
      }
      continue;
    }
    const bool match =
        x.kind == tuf::Retraction::Kind::kResource ? r.id == x.value : r.provider == x.value;
    if (!match || whole != nullptr) continue;
    bool covered = rr.Covers(probe);
    for (const auto& p : paths) covered = covered && rr.Covers(p.first);
    if (covered) {
      whole = &rr;
    } else {
      ++refused_counts_[Describe(rr) + " reaches outside its namespace: refused for " +
                        (x.kind == tuf::Retraction::Kind::kResource ? r.id : "resource " + r.id)];
    }
  }
  if (whole != nullptr) out_.resources.emplace(r.id, WithdrawalOf(*whole));
  for (const auto& [path, f] : paths) {
    const replication::RoleRetraction* by = whole;
    if (by == nullptr) {
      auto it = by_file.find(path);
      if (it != by_file.end()) by = it->second;
    }
    if (by != nullptr) {
      out_.files.emplace(path, WithdrawalOf(*by));
      out_.digests.insert(ToHex(f->sha256));
    } else if (catalogs::IsServed(r)) {
      served_digests_.insert(ToHex(f->sha256));
    }
  }
}

Takedowns TakedownResolver::Finish() {
  for (const std::string& d : served_digests_) out_.digests.erase(d);
  for (const auto& [text, n] : refused_counts_) {
    out_.refused.push_back(n == 1 ? text : text + " (" + std::to_string(n) + " times)");
  }
  return std::move(out_);
}

std::string EncodeTakedowns(const Takedowns& t) {
  json j = {{"format", std::string(kTakedownsKind) + " " + std::to_string(kTakedownsVersion)},
            {"resources", json::object()},
            {"files", json::object()},
            {"digests", t.digests},
            {"refused", t.refused}};
  for (const auto& [id, w] : t.resources) j["resources"][id] = ToJson(w);
  for (const auto& [path, w] : t.files) j["files"][path] = ToJson(w);
  return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<Takedowns> DecodeTakedowns(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (!j.is_object() || !j.contains("format") || !j["format"].is_string()) {
    return CorruptionError("takedowns.json is not a tiersync takedown list");
  }
  const std::string format = j["format"].get<std::string>();
  const std::string prefix = std::string(kTakedownsKind) + " ";
  if (!format.starts_with(prefix)) {
    return CorruptionError("takedowns.json is not a tiersync takedown list");
  }
  int version = 0;
  try {
    version = std::stoi(format.substr(prefix.size()));
  } catch (...) {
    return CorruptionError("takedowns.json has no format version");
  }
  TS_RETURN_IF_ERROR(
      CheckLayoutVersion(version, kTakedownsVersion, "takedowns.json", "takedowns.json"));
  Takedowns t;
  for (const char* key : {"resources", "files"}) {
    if (!j.contains(key) || !j[key].is_object()) {
      return CorruptionError(std::string("takedowns.json has no \"") + key + "\" object");
    }
  }
  for (const auto& [id, w] : j["resources"].items()) {
    TS_ASSIGN_OR_RETURN(t.resources[id], FromJson(w));
  }
  for (const auto& [path, w] : j["files"].items()) {
    TS_ASSIGN_OR_RETURN(t.files[path], FromJson(w));
  }
  for (const char* key : {"digests", "refused"}) {
    if (!j.contains(key) || !j[key].is_array()) {
      return CorruptionError(std::string("takedowns.json has no \"") + key + "\" list");
    }
    for (const auto& v : j[key]) {
      if (!v.is_string()) return CorruptionError(std::string("takedowns.json: bad ") + key);
      if (std::string_view(key) == "digests") {
        t.digests.insert(v.get<std::string>());
      } else {
        t.refused.push_back(v.get<std::string>());
      }
    }
  }
  return t;
}

Result<Takedowns> ReadTakedowns(Env* env, const std::string& release_dir_path) {
  const std::string path = JoinPath(release_dir_path, kTakedownsName);
  if (!env->FileExists(path)) return Takedowns{};
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, path, size_t{256} << 20));
  auto t = DecodeTakedowns(AsChars(bytes));
  if (!t.ok()) return t.status().WithContext(path);
  return t;
}

json TakedownsStatusJson(const Takedowns& t) {
  return {{"withdrawn_resources", t.resources.size()},
          {"withdrawn_files", t.files.size()},
          {"refused", t.refused}};
}

json WithdrawalJson(const Withdrawal& w) {
  return {{"withdrawn",
           {{"reason", w.reason},
            {"since", protocol::FormatTufTime(w.since)},
            {"by", w.role},
            {"kind", w.kind}}}};
}

}  // namespace tiersync::node
