#include "node/push_listener.h"

#include "base/random.h"

namespace tiersync::node {

using nlohmann::json;

PushListener::PushListener(PushListenerOptions options) : o_(std::move(options)) {}

Result<uint64_t> PushListener::PollOnce(const std::string& url, uint64_t after) {
  auto r = o_.fetcher->Fetch(url + "/v1/events?after=" + std::to_string(after) +
                                 "&wait=" + std::to_string(kPushHoldSeconds),
                             4096);
  if (!r.ok() && r.status().code() == StatusCode::kDeadlineExceeded) {
    return uint64_t{0};  // a server that holds longer than we wait: quiet, not failing
  }
  if (!r.ok()) return r.status();
  json j = json::parse(r->begin(), r->end(), nullptr, false);
  if (j.is_object() && j.contains("version") && j["version"].is_number_unsigned()) {
    return j["version"].get<uint64_t>();
  }
  if (r->empty()) return uint64_t{0};  // an old server's 204 at the end of its hold
  return UnavailableError("events answer is not {\"version\": N}").AsRemote();
}

void PushListener::Run() {
  Random rng(o_.env->RandomSeed() ^ 0x9e37);
  uint64_t last_announced = 0;
  uint64_t served_when_announced = 0;
  size_t skip = 0;  // sources passed over after failures, in the policy's order
  while (!o_.stopping()) {
    // Ask only about releases newer than both the served one and the last announced one, so
    // that a release that cannot be synced yet does not turn the long-poll into a busy loop.
    const uint64_t served = o_.served_version();
    if (served != served_when_announced) last_announced = 0;
    const uint64_t have = std::max(served, last_announced);
    std::vector<size_t> order = o_.sources->Order(static_cast<int64_t>(o_.env->NowMicros() / 1000));
    if (order.empty()) return;
    const replication::Source& src = o_.sources->source(order[skip % order.size()]);
    {
      MutexLock l(&mu_);
      source_ = src.name;
      ++polls_;
    }
    auto announced = PollOnce(src.url, have);
    if (!announced.ok()) {
      {
        MutexLock l(&mu_);
        ++failures_;
        last_error_ = announced.status().ToString();
      }
      ++skip;  // the next poll asks the next source
      o_.env->SleepForMicroseconds(2'000'000 + rng.Uniform(2'000'000));
      continue;
    }
    skip = 0;
    if (*announced > have) {
      last_announced = *announced;
      served_when_announced = served;
      {
        MutexLock l(&mu_);
        last_announced_ = *announced;
      }
      o_.wake();
      o_.env->SleepForMicroseconds(200'000);
    } else {
      MutexLock l(&mu_);
      ++quiet_polls_;
    }
  }
}

json PushListener::StatusJson() const {
  MutexLock l(&mu_);
  return {{"source", source_},     {"last_announced", last_announced_},
          {"polls", polls_},       {"quiet_polls", quiet_polls_},
          {"failures", failures_}, {"last_error", last_error_}};
}

}  // namespace tiersync::node
