// The sync plan (overview.md section 4, step 2): a pure function from "what this node wants"
// and "what it has" to "what it must fetch". No I/O: the caller supplies the decoded chunk
// indexes and a membership test for the local store, so the planner is the same in a node,
// a test and the simulation.
#ifndef TIERSYNC_REPLICATION_SYNC_PLAN_H_
#define TIERSYNC_REPLICATION_SYNC_PLAN_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "protocol/chunk_index.h"

namespace tiersync::replication {

// One file a node must hold: a signed target and its chunk index.
struct PlannedFile {
  std::string path;  // the TUF target path
  uint64_t length = 0;
  Sha256Digest sha256{};
  protocol::ChunkId index_id{};
  bool priority = false;  // an emergency package: its chunks go first
};

struct ChunkPlan {
  // Chunks to fetch, each once: those of priority files first, then in file order.
  std::vector<protocol::ChunkRef> missing;
  size_t priority_missing = 0;  // how many of `missing`, from the front, priority files need
  uint64_t missing_bytes = 0;
  uint64_t wanted_chunks = 0;  // distinct chunks of all wanted files
  uint64_t wanted_bytes = 0;
};

// `indexes` must hold the decoded index of every file (by index id); `have` says whether the
// local store holds a chunk. REQUIRES: every file's index_id is in `indexes`.
ChunkPlan PlanChunks(const std::vector<PlannedFile>& files,
                     const std::map<protocol::ChunkId, protocol::ChunkIndex>& indexes,
                     const std::function<bool(const protocol::ChunkId&)>& have);

// Splits `chunks` into batches of at most `max_chunks` chunks and, unless a single chunk is
// larger, `max_bytes` bytes, keeping the order.
std::vector<std::vector<protocol::ChunkRef>> SplitIntoBatches(
    const std::vector<protocol::ChunkRef>& chunks, uint64_t max_bytes, size_t max_chunks);

// kVerificationFailed unless `index` describes the file `file` names (same length and SHA-256):
// a signed target and the index it names must agree before any chunk is fetched.
Status CheckIndexMatchesFile(const PlannedFile& file, const protocol::ChunkIndex& index);

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_SYNC_PLAN_H_
