#include "node/sync_runner.h"

#include "node/node_log.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <iostream>

#include "base/bytes.h"
#include "catalogs/region_table.h"

namespace tiersync::node {
namespace {

using nlohmann::json;

constexpr size_t kRecentRejections = 20;

json StorageJson(const replication::ChunkStore& store, const NodeConfig& config) {
  auto stats = store.Stats();
  if (!stats.ok()) return nullptr;
  return {{"chunks", stats->chunks},
          {"raw_bytes", stats->raw_bytes},
          {"stored_bytes", stats->stored_bytes},
          {"quota_bytes", config.quota_bytes}};
}

}  // namespace

void ReturnFreedHeap() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

SyncRunner::SyncRunner(const SyncParts& parts, const ChildReports* children)
    : p_(parts), children_(children), subscription_(parts.config.subscription) {
  if (auto current = ReadCurrent(p_.env, p_.paths); current.ok()) current_ = *current;
  storage_ = StorageJson(*p_.store, p_.config);
  // A saved state (a one-shot sync, or the node's last run) is where status starts from.
  auto saved = ReadFileToBytes(p_.env, p_.paths.state, 1 << 20);
  if (saved.ok()) {
    json j = json::parse(saved->begin(), saved->end(), nullptr, false);
    if (j.is_object() && j.contains("last_sync") && j["last_sync"].is_object()) {
      last_sync_ = j["last_sync"];
    }
    if (j.is_object() && j.contains("last_check") && j["last_check"].is_object()) {
      last_check_ = j["last_check"];
    }
  }
}

catalogs::RolledUp SyncRunner::Rules() const {
  std::vector<std::string> subtree;
  if (children_ != nullptr) subtree = children_->Subscriptions();
  std::string own;
  {
    MutexLock l(&mu_);
    own = subscription_;
  }
  return catalogs::RollUp(own, subtree);
}

void SyncRunner::SetSubscription(std::string subscription) {
  MutexLock l(&mu_);
  subscription_ = std::move(subscription);
}

void SyncRunner::Rejected(const std::string& what) {
  NodeLog("REJECTED " + what);
  MutexLock l(&mu_);
  rejections_.push_back(what);
  if (rejections_.size() > kRecentRejections) {
    rejections_.erase(rejections_.begin(), rejections_.end() - kRecentRejections);
  }
}

std::optional<ServedRelease> SyncRunner::current() const {
  MutexLock l(&mu_);
  return current_;
}

int SyncRunner::consecutive_failures() const {
  MutexLock l(&mu_);
  return consecutive_failures_;
}

void SyncRunner::Progress(const std::string& phase, uint64_t done, uint64_t total) {
  MutexLock l(&mu_);
  const uint64_t now = p_.env->MonotonicMicros();
  if (!progress_.is_object() || progress_.value("phase", "") != phase) {
    progress_started_us_ = now;
  }
  const uint64_t elapsed = now - progress_started_us_;
  progress_ = {{"phase", phase},
               {"done_bytes", done},
               {"total_bytes", total},
               {"bytes_per_second", elapsed > 0 ? done * 1'000'000 / elapsed : 0}};
}

Result<SyncOutcome> SyncRunner::RunOnce(const SyncProgress& progress, const OnSwitch& on_switch) {
  const catalogs::RolledUp rules = Rules();
  if (rules.dropped > 0) {
    NodeLog("the subtree's subscriptions have " + std::to_string(rules.dropped) +
            " rules over the cap (" + std::to_string(rules.rules) +
            " kept); children fetch what those select from further up");
  }
  SyncOutcome partial;
  const int64_t started = NowSeconds(p_.env);
  const std::vector<replication::SourceHealth> before = p_.sources->Snapshot();
  auto r = NodeSync(p_, rules.text, quiet_mark_ ? &*quiet_mark_ : nullptr)
               .Run(
                   [&](const std::string& phase, uint64_t done, uint64_t total) {
                     Progress(phase, done, total);
                     if (progress) progress(phase, done, total);
                   },
                   &partial);
  if (r.ok() && r->switched && on_switch) on_switch(*r);
  quiet_mark_ = r.ok() ? r->mark : std::nullopt;
  Record(r, partial, started);
  const std::vector<replication::SourceHealth> after = p_.sources->Snapshot();
  for (size_t i = 0; i < after.size() && i < before.size(); ++i) {
    if (after[i].lacked > before[i].lacked) {
      NodeLog(after[i].source.name + " lacked " +
              std::to_string(after[i].lacked - before[i].lacked) +
              " objects it was asked for; fetched them elsewhere or will retry");
    }
  }
  ReturnFreedHeap();  // what the cycle read and planned
  json state = NodeStatusJson(p_.env, p_.config, *this, *p_.sources,
                              children_ ? children_->size() : 0, extra_ ? extra_() : json());
  WriteFileAtomically(p_.env, p_.paths.state,
                      AsBytes(state.dump(2, ' ', false, json::error_handler_t::replace)))
      .IgnoreError();
  return r;
}

void SyncRunner::Record(const Result<SyncOutcome>& r, const SyncOutcome& partial, int64_t started) {
  json s = {{"started_at", started},
            {"finished_at", NowSeconds(p_.env)},
            {"ok", r.ok()},
            {"metadata_source", partial.metadata_source},
            {"catalog_source", partial.catalog_source},
            {"wanted_files", partial.wanted_files},
            {"planned_bytes", partial.planned_bytes},
            {"fetched_bytes", partial.fetched_bytes},
            {"fetched_chunks", partial.fetched_chunks}};
  if (!r.ok()) {
    s["error"] = r.status().ToString();
    s["code"] = std::string(StatusCodeName(r.status().code()));
    s["local"] = r.status().local();
  }
  if (r.ok() && !r->pending.empty()) s["pending"] = r->pending;
  if (r.ok() && !r->quota_exceeded.empty()) {
    s["quota_exceeded"] = r->quota_exceeded;
    NodeLog("QUOTA EXCEEDED: " + r->quota_exceeded +
            "; only the release's priority content was fetched, the rest is deferred");
  }
  for (const auto& rej : partial.rejected) NodeLog("REJECTED " + rej);
  if (!r.ok()) {
    NodeLog("sync failed: " + r.status().ToString());
  } else if (!r->pending.empty()) {
    NodeLog(r->pending);
  } else if (r->switched) {
    NodeLog("now serving " + r->current.release + " (version " +
            std::to_string(r->current.version) + ", " + std::to_string(r->current.files) +
            " files; fetched " + std::to_string(r->fetched_bytes) + " bytes; metadata from " +
            r->metadata_source + ")");
  }
  json storage = StorageJson(*p_.store, p_.config);
  MutexLock l(&mu_);
  // A cycle that found the node up to date does not hide the last one that did something
  // (switched or failed); it is shown as last_check.
  if (!r.ok() || r->switched || !last_sync_.value("ok", false)) last_sync_ = s;
  last_check_ = {{"at", s["finished_at"]}, {"ok", r.ok()}, {"source", partial.metadata_source}};
  // A quiet cycle: the last full cycle's metadata again, nothing else read.
  if (r.ok() && r->quiet) last_check_["quiet"] = true;
  if (!partial.rejected.empty()) last_check_["rejected"] = partial.rejected;  // this cycle's
  if (r.ok() && !r->pending.empty()) last_check_["pending"] = r->pending;
  if (r.ok() && !r->quota_exceeded.empty()) last_check_["quota_exceeded"] = r->quota_exceeded;
  planned_bytes_total_ += partial.planned_bytes;
  for (const auto& [url, bytes] : partial.chunk_bytes_by_source) chunk_bytes_total_[url] += bytes;
  for (const auto& rej : partial.rejected) rejections_.push_back(rej);
  if (rejections_.size() > kRecentRejections) {
    rejections_.erase(rejections_.begin(), rejections_.end() - kRecentRejections);
  }
  consecutive_failures_ = r.ok() ? 0 : consecutive_failures_ + 1;
  if (r.ok() && r->switched) current_ = r->current;
  progress_ = nullptr;
  storage_ = std::move(storage);
}

json SyncRunner::StatusJson() const {
  const catalogs::RolledUp rules = Rules();
  MutexLock l(&mu_);
  json j;
  j["current"] = current_ ? json::parse(EncodeServedRelease(*current_)) : json(nullptr);
  j["last_sync"] = last_sync_;
  j["last_check"] = last_check_;
  j["recent_rejections"] = rejections_;
  j["progress"] = progress_;
  j["storage"] = storage_;
  j["subtree"] = {{"rules", rules.rules}, {"rules_over_cap", rules.dropped}};
  return j;
}

std::map<std::string, uint64_t> SyncRunner::ChunkBytesBySource() const {
  MutexLock l(&mu_);
  return chunk_bytes_total_;
}

uint64_t SyncRunner::PlannedBytesTotal() const {
  MutexLock l(&mu_);
  return planned_bytes_total_;
}

json NodeStatusJson(Env* env, const NodeConfig& config, const SyncRunner& sync,
                    const replication::SourcePolicy& sources, size_t children, const json& extra) {
  json j;
  j["name"] = config.name;
  j["tier"] = std::string(TierName(config.tier));
  j["region"] = config.region;
  if (const catalogs::Region* r = catalogs::RegionTable::Builtin().Find(config.region)) {
    j["region_name"] = r->name;
  }
  j["now"] = NowSeconds(env);
  j.update(sync.StatusJson());
  json list = json::array();
  const int64_t now_ms = static_cast<int64_t>(env->NowMicros() / 1000);
  for (const auto& h : sources.Snapshot()) {
    list.push_back(
        {{"name", h.source.name},
         {"url", h.source.url},
         {"healthy", h.demoted_until_ms <= now_ms},
         {"requests", h.requests},
         {"failures", h.failures},
         {"rejections", h.rejections},
         {"lacked", h.lacked},
         {"bytes", h.bytes},
         {"bytes_per_second", h.bytes_per_second},
         {"last_ok", h.last_ok_ms / 1000},
         {"demoted_for_seconds", std::max<int64_t>(0, (h.demoted_until_ms - now_ms) / 1000)},
         {"last_error", h.last_error}});
  }
  j["sources"] = list;
  j["children_reports"] = children;
  if (extra.is_object()) j.update(extra);
  return j;
}

}  // namespace tiersync::node
