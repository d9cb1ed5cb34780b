#include "node/children_throttle.h"

#include <algorithm>

#include "base/bytes.h"
#include "base/hex.h"
#include "protocol/chunk_batch.h"
#include "replication/file_restore.h"

namespace tiersync::node {
namespace {

std::string_view PathOf(const HttpRequest& request) {
  std::string_view t = request.target;
  return t.substr(0, t.find('?'));
}

// The body of `reply`, whole or streamed, given out in pieces of at most `piece` bytes, each
// after `limiter` lets it go.
class PacedBody {
 public:
  PacedBody(Env* env, std::shared_ptr<RateLimiter> limiter, HttpReply& reply)
      : env_(env),
        limiter_(std::move(limiter)),
        whole_(std::move(reply.body)),
        inner_(std::move(reply.stream)) {}

  Result<std::string> Next() {
    if (pending_.size() == offset_) {
      pending_.clear();
      offset_ = 0;
      if (inner_) {
        TS_ASSIGN_OR_RETURN(pending_, inner_());
      } else {
        pending_ = std::move(whole_);
        whole_.clear();
      }
      if (pending_.empty()) return std::string();
    }
    const size_t n = std::min(ChildrenThrottle::kPieceBytes, pending_.size() - offset_);
    for (int64_t wait = limiter_->WaitMicros(); wait > 0; wait = limiter_->WaitMicros()) {
      env_->SleepForMicroseconds(static_cast<uint64_t>(std::min<int64_t>(wait, 200'000)));
    }
    limiter_->Charge(n);
    std::string piece = pending_.substr(offset_, n);
    offset_ += n;
    return piece;
  }

 private:
  Env* const env_;
  const std::shared_ptr<RateLimiter> limiter_;
  std::string whole_;
  std::function<Result<std::string>()> inner_;
  std::string pending_;
  size_t offset_ = 0;
};

}  // namespace

std::shared_ptr<const PriorityContent> PriorityContentOf(
    const replication::ChunkStore& store, const std::vector<catalogs::ResourceFile>& files) {
  auto p = std::make_shared<PriorityContent>();
  for (const auto& f : files) {
    if (!f.chunk_index) continue;
    auto index = replication::LoadChunkIndex(store, *f.chunk_index);
    if (!index.ok()) continue;  // not held here: a child gets it elsewhere
    p->indexes.insert(ToHex(*f.chunk_index));
    for (const auto& c : index->chunks) p->chunks.insert(ToHex(c.id));
  }
  return p;
}

RatePolicy ChildrenRatePolicyOf(const NodeConfig& config) {
  return RatePolicyFrom(config.children_windows, config.children_max_bytes_per_second,
                        config.children_outside_bytes_per_second);
}

ChildrenThrottle::ChildrenThrottle(Env* env, RatePolicy policy)
    : env_(env), limiter_(std::make_shared<RateLimiter>(env, std::move(policy))) {}

void ChildrenThrottle::SetPolicy(RatePolicy policy) { limiter_->SetPolicy(std::move(policy)); }

void ChildrenThrottle::SetPriority(std::shared_ptr<const PriorityContent> priority) {
  MutexLock l(&mu_);
  priority_ = std::move(priority);
}

bool ChildrenThrottle::Paced(const HttpRequest& request) {
  const std::string_view path = PathOf(request);
  return path.starts_with("/v1/metadata/") || path.starts_with("/v1/catalog.git/") ||
         path.starts_with("/v1/indexes/") || path.starts_with("/v1/chunks/");
}

bool ChildrenThrottle::PriorityOnly(const HttpRequest& request) {
  std::shared_ptr<const PriorityContent> p;
  {
    MutexLock l(&mu_);
    p = priority_;
  }
  if (!p || (p->chunks.empty() && p->indexes.empty())) return false;
  const std::string_view path = PathOf(request);
  if (path == "/v1/chunks/batch") {
    auto ids = protocol::DecodeBatchRequest(AsBytes(request.body));
    return ids.ok() && std::all_of(ids->begin(), ids->end(), [&](const protocol::ChunkId& id) {
             return p->chunks.count(ToHex(id)) > 0;
           });
  }
  if (path.starts_with("/v1/chunks/")) {
    return p->chunks.count(std::string(path.substr(std::string_view("/v1/chunks/").size()))) > 0;
  }
  if (path.starts_with("/v1/indexes/")) {
    return p->indexes.count(std::string(path.substr(std::string_view("/v1/indexes/").size()))) > 0;
  }
  return false;
}

HttpReply ChildrenThrottle::Pace(const HttpRequest& request, HttpReply reply) {
  const bool has_body = reply.stream ? reply.length > 0 : !reply.body.empty();
  if (request.method == "HEAD" || (reply.status != 200 && reply.status != 206) || !has_body ||
      reply.wait) {
    return reply;
  }
  if (PriorityOnly(request)) {
    priority_bytes_ += reply.stream ? reply.length : reply.body.size();
    return reply;
  }
  if (!limiter_->Capped()) return reply;
  if (!reply.stream) reply.length = reply.body.size();
  auto body = std::make_shared<PacedBody>(env_, limiter_, reply);
  reply.body.clear();
  reply.stream = [body] { return body->Next(); };
  reply.upstream = true;  // waits at the cap: off the workers
  return reply;
}

nlohmann::json ChildrenThrottle::StatusJson() {
  nlohmann::json j = limiter_->StatusJson();
  j["paced_bytes"] = j["received_bytes"];
  j.erase("received_bytes");
  j["priority_bytes"] = priority_bytes_.load();
  return j;
}

}  // namespace tiersync::node
