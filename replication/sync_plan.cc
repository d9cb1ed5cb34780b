#include "replication/sync_plan.h"

#include <algorithm>
#include <set>

#include "base/hex.h"

namespace tiersync::replication {

ChunkPlan PlanChunks(const std::vector<PlannedFile>& files,
                     const std::map<protocol::ChunkId, protocol::ChunkIndex>& indexes,
                     const std::function<bool(const protocol::ChunkId&)>& have) {
  ChunkPlan plan;
  std::set<protocol::ChunkId> seen;
  for (bool priority : {true, false}) {
    for (const PlannedFile& f : files) {
      if (f.priority != priority) continue;
      for (const protocol::ChunkRef& ref : indexes.at(f.index_id).chunks) {
        if (!seen.insert(ref.id).second) continue;
        ++plan.wanted_chunks;
        plan.wanted_bytes += ref.size;
        if (have(ref.id)) continue;
        plan.missing.push_back(ref);
        plan.missing_bytes += ref.size;
      }
    }
    if (priority) plan.priority_missing = plan.missing.size();
  }
  return plan;
}

std::vector<std::vector<protocol::ChunkRef>> SplitIntoBatches(
    const std::vector<protocol::ChunkRef>& chunks, uint64_t max_bytes, size_t max_chunks) {
  std::vector<std::vector<protocol::ChunkRef>> batches;
  uint64_t bytes = 0;
  for (const protocol::ChunkRef& ref : chunks) {
    if (batches.empty() || batches.back().size() >= max_chunks ||
        (bytes + ref.size > max_bytes && !batches.back().empty())) {
      batches.emplace_back();
      bytes = 0;
    }
    batches.back().push_back(ref);
    bytes += ref.size;
  }
  return batches;
}

Status CheckIndexMatchesFile(const PlannedFile& file, const protocol::ChunkIndex& index) {
  if (index.file_size != file.length || index.file_sha256 != file.sha256) {
    return VerificationError("chunk index " + ToHex(file.index_id) + " describes a file of " +
                             std::to_string(index.file_size) + " bytes with SHA-256 " +
                             ToHex(index.file_sha256) + ", but target " + file.path +
                             " is signed as " + std::to_string(file.length) + " bytes with " +
                             ToHex(file.sha256));
  }
  return Status::Ok();
}

}  // namespace tiersync::replication
