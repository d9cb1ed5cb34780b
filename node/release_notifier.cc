#include "node/release_notifier.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace tiersync::node {
namespace {

// The decimal number `digits` (no sign, at most 19 digits); nullopt otherwise.
std::optional<uint64_t> Number(std::string_view digits) {
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// The value of `name` in the query of `target` ("" when absent).
std::string_view QueryValue(std::string_view target, std::string_view name) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
  }
  return {};
}

HttpReply VersionReply(uint64_t version) {
  HttpReply reply = HttpReply::Json(nlohmann::json{{"version", version}}.dump());
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

}  // namespace

EventsQuery ParseEventsQuery(std::string_view target) {
  EventsQuery q;
  q.after = Number(QueryValue(target, "after")).value_or(0);
  if (auto wait = Number(QueryValue(target, "wait"))) {
    q.wait = std::chrono::seconds(std::min<uint64_t>(*wait, ReleaseNotifier::kMaxWait.count()));
  }
  return q;
}

uint64_t AfterParameter(std::string_view target) { return ParseEventsQuery(target).after; }

void ReleaseNotifier::Publish(uint64_t version) {
  std::map<uint64_t, HttpReply::Resume> waiters;
  {
    MutexLock lock(&mu_);
    if (version <= version_) return;
    version_ = version;
    waiters.swap(waiters_);
  }
  const HttpReply reply = VersionReply(version);
  for (auto& [id, resume] : waiters) resume(reply);
}

uint64_t ReleaseNotifier::version() const {
  MutexLock lock(&mu_);
  return version_;
}

size_t ReleaseNotifier::waiting() const {
  MutexLock lock(&mu_);
  return waiters_.size();
}

HttpReply ReleaseNotifier::Wait(const EventsQuery& query) {
  MutexLock lock(&mu_);
  HttpReply now = VersionReply(version_);
  if (version_ > query.after) return now;
  if (waiters_.size() >= kMaxWaiters) return HttpReply::Text(503, "too many waiting clients");
  now.hold = std::clamp(query.wait, kMinWait, kMaxWait);
  const uint64_t id = next_id_++;
  const uint64_t after = query.after;
  now.wait = [this, id, after](HttpReply::Resume resume) {
    MutexLock lock(&mu_);
    if (version_ > after) {  // published between Wait and now: answer at once
      const uint64_t v = version_;
      lock.Unlock();
      resume(VersionReply(v));
      return;
    }
    waiters_.emplace(id, std::move(resume));
  };
  now.abandon = [this, id] {
    MutexLock lock(&mu_);
    waiters_.erase(id);
  };
  return now;
}

}  // namespace tiersync::node
