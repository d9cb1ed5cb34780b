// TransferEngine: the execute step of a sync (overview.md section 4, step 3) as a state
// machine without I/O. It owns what to ask for next and of whom: the queue of chunk indexes
// and chunks (in the plan's order: priority files first), each request's walk over the
// sources (SourceWalk in SourcePolicy order, health recorded in the policy), batch sizes from
// the measured throughput of the first-choice source, the window gate (outside the node's sync
// windows only priority chunks are sent; ordinary ones are deferred to a later cycle), and the
// outcome (complete, what no source supplied, or a local failure that stops everything). The
// byte-rate cap is not here but where the bytes flow: the node's fetcher reads every response
// under one shared cap (node/rate_limiter.h), which paces requests of every kind alike.
//
// It is fed events — Next(now) asks for work, OnIndex/OnChunks deliver what a request
// brought — and emits requests ("fetch index X from source 2", "fetch these chunks from
// source 0"). Time comes in as an argument; there are no threads, sockets or
// files inside. The driver does the I/O: it sends each request, verifies what comes back
// against the ids (a chunk's SHA-256 and size, an index's SHA-256 and its signed file), stores
// verified chunks, and reports per request what was stored and what was not
// (replication/chunk_sync.h is the driver a node and the simulation run).
//
// Not thread-safe: a driver with several workers serialises its calls (one mutex).
#ifndef TIERSYNC_REPLICATION_TRANSFER_ENGINE_H_
#define TIERSYNC_REPLICATION_TRANSFER_ENGINE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "protocol/chunk_index.h"
#include "replication/source_policy.h"
#include "replication/source_walk.h"
#include "replication/sync_plan.h"

namespace tiersync::replication {

// Batches are sized to the link (issue 17: a school on 1 Mbit/s must converge): each asks for
// about kBatchSeconds of the first-choice source's measured per-request throughput, at least
// kMinBatchBytes and at most TransferOptions::batch_bytes; kFirstBatchBytes before anything
// was measured. A slow link thus gets small batches that each finish well within the
// transfer timeouts, and a fast one the largest.
inline constexpr uint64_t kBatchSeconds = 10;
inline constexpr uint64_t kMinBatchBytes = 64u << 10;
inline constexpr uint64_t kFirstBatchBytes = 1u << 20;

struct TransferOptions {
  uint64_t batch_bytes = 8ull << 20;  // the largest batch
  size_t batch_chunks = 512;
  size_t max_in_flight = 4;  // requests handed out and not yet answered
  // Whether ordinary (not priority) chunks may be sent at `now_us` (the node: a sync window is
  // open, node/rate_limiter.h); empty: always. Checked at every Next().
  std::function<bool(int64_t now_us)> ordinary_allowed = nullptr;
};

// One request for the driver to send.
struct TransferRequest {
  uint64_t id = 0;
  size_t source = 0;                       // index in the SourcePolicy
  std::optional<PlannedFile> index;        // set: fetch this file's chunk index
  std::vector<protocol::ChunkRef> chunks;  // otherwise: fetch these chunks in one batch
  uint64_t bytes = 0;                      // the chunks' bytes (0 for an index)
};

// What the engine wants the driver to do now.
struct TransferStep {
  enum class Kind {
    kRequest,  // send `request`, then report it with OnIndex / OnChunks
    kIdle,     // requests are in flight and nothing else can start: wait for an answer
    kDone,     // nothing left to do: Result() says how it went
  };
  Kind kind = Kind::kDone;
  TransferRequest request;
};

// What a chunk request brought, as the driver found it after verifying and storing.
struct ChunksAnswer {
  SourceAnswer answer;  // status: OK, kNotFound (some absent), kVerificationFailed (a lie),
                        // a remote failure, or a local one (the store failed: stop)
  // The chunks of the request not stored (absent, failing verification, or past the end of
  // a size-capped answer), in the request's order.
  std::vector<protocol::ChunkRef> remaining;
  uint64_t wire_bytes = 0;  // bytes of the answer as received (for the throughput)
  uint64_t micros = 0;      // the request's duration
};

class TransferEngine {
 public:
  // `policy` outlives the engine (shared with the node's other requests).
  TransferEngine(SourcePolicy* policy, TransferOptions options);

  // Work to do. Indexes are asked one file at a time; chunks in batches, in the given order,
  // priority chunks before all ordinary ones.
  void AddIndexes(const std::vector<PlannedFile>& files);
  void AddChunks(const std::vector<protocol::ChunkRef>& chunks, bool priority = false);

  TransferStep Next(int64_t now_us);

  // The answer to index request `id`: `index` is set when the source's copy verified (then
  // `answer.status` is OK). A failure that no other source can make good stops the index
  // phase: the files need every index.
  void OnIndex(uint64_t id, const SourceAnswer& answer, std::optional<protocol::ChunkIndex> index,
               int64_t now_us);
  void OnChunks(uint64_t id, const ChunksAnswer& answer, int64_t now_us);

  // After kDone: OK when every index and chunk arrived or was deferred; the local failure that
  // stopped the run; the first index no source supplied (kUnavailable, or kNotFound if every
  // source lacked it); or kUnavailable counting the chunks no source supplied.
  Status Result() const;
  // Ordinary chunks not sent because no window was open (not a failure: a later cycle's).
  const std::vector<protocol::ChunkRef>& deferred() const { return deferred_; }
  // The decoded indexes that arrived, by index id.
  std::map<protocol::ChunkId, protocol::ChunkIndex> TakeIndexes() { return std::move(indexes_); }
  // "<source name>: <reason>" for each answer that failed verification (at most 100).
  const std::vector<std::string>& rejected() const { return rejected_; }
  uint64_t stored_bytes() const { return stored_bytes_; }
  uint64_t queued_bytes() const { return queued_bytes_; }

 private:
  struct Pending {  // one unit of work and its walk over the sources
    std::optional<PlannedFile> index;
    std::vector<protocol::ChunkRef> chunks;
    bool priority = false;
    std::optional<SourceWalk> walk;  // set once it was first sent
  };

  uint64_t BatchBudget(int64_t now_ms) const;
  std::vector<protocol::ChunkRef> TakeBatch(std::deque<protocol::ChunkRef>* queue, uint64_t budget);
  // The window closed: ordinary work not yet sent is deferred.
  void Defer();
  TransferStep Send(Pending p, int64_t now_us);
  // A request that failed at its source: the next source is asked, or the work is given up.
  void Retry(Pending p);
  void GiveUp(const Pending& p);
  void Stop(const Status& local);
  void Reject(const std::string& what);

  SourcePolicy* policy_;
  TransferOptions options_;
  uint64_t next_id_ = 1;
  std::deque<Pending> retries_;  // requests to send again to their next source, first
  std::deque<PlannedFile> index_queue_;
  std::deque<protocol::ChunkRef> priority_queue_;
  std::deque<protocol::ChunkRef> chunk_queue_;  // ordinary
  std::map<uint64_t, Pending> in_flight_;
  Status stopped_;  // a local failure, or the index that no source supplied
  std::vector<protocol::ChunkRef> unfetched_;
  std::vector<protocol::ChunkRef> deferred_;
  std::map<protocol::ChunkId, protocol::ChunkIndex> indexes_;
  std::vector<std::string> rejected_;
  uint64_t stored_bytes_ = 0, queued_bytes_ = 0;
};

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_TRANSFER_ENGINE_H_
