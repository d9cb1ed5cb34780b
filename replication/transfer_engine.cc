#include "replication/transfer_engine.h"

#include <algorithm>

#include "base/hex.h"

namespace tiersync::replication {
namespace {

constexpr size_t kMaxRejections = 100;

int64_t Ms(int64_t us) { return us / 1000; }

}  // namespace

TransferEngine::TransferEngine(SourcePolicy* policy, TransferOptions options)
    : policy_(policy), options_(options) {
  options_.max_in_flight = std::max<size_t>(1, options_.max_in_flight);
  options_.batch_chunks = std::max<size_t>(1, options_.batch_chunks);
}

void TransferEngine::AddIndexes(const std::vector<PlannedFile>& files) {
  index_queue_.insert(index_queue_.end(), files.begin(), files.end());
}

void TransferEngine::AddChunks(const std::vector<protocol::ChunkRef>& chunks, bool priority) {
  for (const auto& c : chunks) queued_bytes_ += c.size;
  auto& queue = priority ? priority_queue_ : chunk_queue_;
  queue.insert(queue.end(), chunks.begin(), chunks.end());
}

// About kBatchSeconds of the first-choice source's measured throughput.
uint64_t TransferEngine::BatchBudget(int64_t now_ms) const {
  const std::vector<size_t> order = policy_->Order(now_ms);
  const uint64_t rate = order.empty() ? 0 : policy_->Throughput(order.front());
  if (rate == 0) return std::min(options_.batch_bytes, kFirstBatchBytes);
  return std::clamp(rate * kBatchSeconds, kMinBatchBytes,
                    std::max(kMinBatchBytes, options_.batch_bytes));
}

std::vector<protocol::ChunkRef> TransferEngine::TakeBatch(std::deque<protocol::ChunkRef>* queue,
                                                          uint64_t budget) {
  std::vector<protocol::ChunkRef> batch;
  uint64_t bytes = 0;
  while (!queue->empty() && batch.size() < options_.batch_chunks &&
         (batch.empty() || bytes + queue->front().size <= budget)) {
    bytes += queue->front().size;
    batch.push_back(queue->front());
    queue->pop_front();
  }
  return batch;
}

void TransferEngine::Defer() {
  deferred_.insert(deferred_.end(), chunk_queue_.begin(), chunk_queue_.end());
  chunk_queue_.clear();
  for (auto it = retries_.begin(); it != retries_.end();) {
    if (!it->index && !it->priority) {
      deferred_.insert(deferred_.end(), it->chunks.begin(), it->chunks.end());
      it = retries_.erase(it);
    } else {
      ++it;
    }
  }
}

TransferStep TransferEngine::Next(int64_t now_us) {
  if (options_.ordinary_allowed && !options_.ordinary_allowed(now_us)) Defer();
  TransferStep step;
  for (;;) {
    const bool work = stopped_.ok() && (!retries_.empty() || !index_queue_.empty() ||
                                        !priority_queue_.empty() || !chunk_queue_.empty());
    if (!work) {
      step.kind = in_flight_.empty() ? TransferStep::Kind::kDone : TransferStep::Kind::kIdle;
      return step;
    }
    if (in_flight_.size() >= options_.max_in_flight) {
      step.kind = TransferStep::Kind::kIdle;
      return step;
    }
    Pending p;
    if (!retries_.empty()) {
      p = std::move(retries_.front());
      retries_.pop_front();
    } else if (!index_queue_.empty()) {
      p.index = std::move(index_queue_.front());
      index_queue_.pop_front();
    } else if (!priority_queue_.empty()) {
      p.priority = true;
      p.chunks = TakeBatch(&priority_queue_, BatchBudget(Ms(now_us)));
    } else {
      p.chunks = TakeBatch(&chunk_queue_, BatchBudget(Ms(now_us)));
    }
    if (!p.walk) p.walk.emplace(policy_->Order(Ms(now_us)));
    if (p.walk->Exhausted()) {  // no source to ask at all
      GiveUp(p);
      continue;
    }
    step.kind = TransferStep::Kind::kRequest;
    step.request.id = next_id_++;
    step.request.source = p.walk->Current();
    step.request.index = p.index;
    step.request.chunks = p.chunks;
    for (const auto& c : p.chunks) step.request.bytes += c.size;
    in_flight_.emplace(step.request.id, std::move(p));
    return step;
  }
}

void TransferEngine::OnIndex(uint64_t id, const SourceAnswer& answer,
                             std::optional<protocol::ChunkIndex> index, int64_t now_us) {
  auto it = in_flight_.find(id);
  if (it == in_flight_.end() || !it->second.index) return;
  Pending p = std::move(it->second);
  in_flight_.erase(it);
  if (!stopped_.ok()) return;
  switch (p.walk->Answer(policy_, answer, Ms(now_us),
                         [this](const std::string& what) { Reject(what); })) {
    case SourceWalk::Verdict::kStop:
      Stop(answer.status);
      return;
    case SourceWalk::Verdict::kDone:
      if (index) indexes_.emplace(p.index->index_id, std::move(*index));
      return;
    case SourceWalk::Verdict::kNext:
      Retry(std::move(p));
      return;
  }
}

void TransferEngine::OnChunks(uint64_t id, const ChunksAnswer& a, int64_t now_us) {
  auto it = in_flight_.find(id);
  if (it == in_flight_.end() || it->second.index) return;
  Pending p = std::move(it->second);
  in_flight_.erase(it);
  stored_bytes_ += a.answer.bytes;
  if (a.wire_bytes > 0 && !a.answer.status.local()) {
    policy_->Measured(p.walk->Current(), a.wire_bytes, a.micros);
  }
  if (!stopped_.ok()) return;
  switch (p.walk->Answer(policy_, a.answer, Ms(now_us),
                         [this](const std::string& what) { Reject(what); })) {
    case SourceWalk::Verdict::kStop:
      Stop(a.answer.status.WithContext("storing fetched chunks"));
      return;
    case SourceWalk::Verdict::kDone: {
      // A source that sent part of the batch (its size cap) is asked again for the rest,
      // first, with a walk that starts afresh.
      auto& queue = p.priority ? priority_queue_ : chunk_queue_;
      queue.insert(queue.begin(), a.remaining.begin(), a.remaining.end());
      return;
    }
    case SourceWalk::Verdict::kNext:
      p.chunks = a.remaining;
      if (p.chunks.empty()) return;
      Retry(std::move(p));
      return;
  }
}

void TransferEngine::Retry(Pending p) {
  if (p.walk->Exhausted()) {
    GiveUp(p);
    return;
  }
  retries_.push_back(std::move(p));
}

void TransferEngine::GiveUp(const Pending& p) {
  if (p.index) {
    // The files need every index: the index phase ends with this one.
    const Status last = p.walk->Failure();
    if (stopped_.ok()) {
      stopped_ =
          UnavailableError("chunk index " + ToHex(p.index->index_id) + " (for " + p.index->path +
                           ") from no source; last error: " + last.ToString());
    }
    return;
  }
  unfetched_.insert(unfetched_.end(), p.chunks.begin(), p.chunks.end());
}

void TransferEngine::Stop(const Status& local) {
  if (stopped_.ok()) stopped_ = local;
  retries_.clear();
  index_queue_.clear();
  priority_queue_.clear();
  chunk_queue_.clear();
}

void TransferEngine::Reject(const std::string& what) {
  if (rejected_.size() < kMaxRejections) rejected_.push_back(what);
}

Status TransferEngine::Result() const {
  if (!stopped_.ok()) return stopped_;
  if (!unfetched_.empty()) {
    return UnavailableError(std::to_string(unfetched_.size()) +
                            " chunks could not be fetched from any source (first: " +
                            ToHex(unfetched_.front().id) + ")");
  }
  return Status::Ok();
}

}  // namespace tiersync::replication
