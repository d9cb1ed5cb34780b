// ChunkStore::Verify: the full re-check behind `tiersync store verify` and the node's scrub.
#include <algorithm>

#include "base/sha256.h"
#include "replication/chunk_store.h"

namespace tiersync::replication {

Result<VerifyReport> ChunkStore::Verify(
    const std::function<void(uint64_t, uint64_t)>& progress) const {
  return Verify(VerifyOptions{progress, nullptr, nullptr});
}

Result<VerifyReport> ChunkStore::Verify(const VerifyOptions& options) const {
  const auto& progress = options.progress;
  std::vector<std::pair<ChunkId, ChunkLocation>> all;
  TS_RETURN_IF_ERROR(index_->ForEachChunk(
      [&](const ChunkId& id, const ChunkLocation& loc) { all.emplace_back(id, loc); }));
  // Pack order reads each pack front to back.
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second.pack, a.second.offset) < std::tie(b.second.pack, b.second.offset);
  });
  VerifyReport report;
  TS_ASSIGN_OR_RETURN(auto lengths, index_->PackLengths());
  for (const auto& [pack, committed] : lengths) {
    auto size = env_->GetFileSize(PackPath(pack));
    if (!size.ok() || *size < committed) {
      report.problems.push_back(
          {"pack", PackFileName(pack),
           CorruptionError(PackFileName(pack) + (size.ok() ? " is shorter than its committed "
                                                             "length (truncated)"
                                                           : " is missing"))});
    }
  }
  std::unordered_set<ChunkId, ChunkIdHash> good;
  for (size_t i = 0; i < all.size(); ++i) {
    if (options.stop && options.stop()) {
      report.stopped = true;
      return report;  // the indexes are not judged against a partial set of good chunks
    }
    const auto& [id, loc] = all[i];
    auto data = ReadChunkAt(id, loc, ReadCheck::kFull);
    // Moved or forgotten by a collection since the listing: checked at its new place, or
    // not at all (it is no longer stored).
    if (!data.ok() && Moved(id, loc)) {
      if (auto held = Contains(id); held.ok() && !*held) continue;
      data = ReadChunk(id, loc, ReadCheck::kFull);
    }
    ++report.chunks_checked;
    if (data.ok()) {
      report.bytes_checked += data->size();
      good.insert(id);
    } else {
      report.problems.push_back({"chunk", ToHex(id), data.status()});
      report.damaged.push_back({id, loc.raw_len});
    }
    if (options.pace) options.pace(kRecordHeaderBytes + loc.stored_len);
    if (progress && (i % 256 == 0 || i + 1 == all.size())) progress(i + 1, all.size());
  }
  VerifyIndexes(good, &report);
  return report;
}

// Every chunk index must match its id, decode, and name only chunks that verified.
void ChunkStore::VerifyIndexes(const std::unordered_set<ChunkId, ChunkIdHash>& good,
                               VerifyReport* report) const {
  std::unordered_set<ChunkId, ChunkIdHash> damaged;
  for (const auto& ref : report->damaged) damaged.insert(ref.id);
  Status iter = index_->ForEachIndex([&](const ChunkId& id, std::span<const uint8_t> bytes) {
    ++report->indexes_checked;
    auto problem = [&](Status s, bool from_damaged_chunk = false) {
      report->problems.push_back({"chunk-index", ToHex(id), s, from_damaged_chunk});
    };
    if (Sha256(bytes) != id) {
      report->damaged_indexes.push_back(id);
      return problem(CorruptionError("stored bytes do not match the id"));
    }
    auto index = protocol::DecodeChunkIndex(bytes);
    if (!index.ok()) {
      report->damaged_indexes.push_back(id);
      return problem(index.status());
    }
    for (size_t i = 0; i < index->chunks.size(); ++i) {
      if (!good.count(index->chunks[i].id)) {
        const bool stored_damaged = damaged.count(index->chunks[i].id) > 0;
        // Stored after the chunks were listed (a sync beside the check): not judged here.
        auto held = Contains(index->chunks[i].id);
        if (!stored_damaged && held.ok() && *held) continue;
        return problem(
            CorruptionError("chunk " + std::to_string(i) + " (" + ToHex(index->chunks[i].id) +
                            ") is " + (stored_damaged ? "damaged" : "missing") +
                            "; the file cannot be restored"),
            stored_damaged);
      }
    }
  });
  if (!iter.ok()) report->problems.push_back({"chunk-index", "", iter});
}

}  // namespace tiersync::replication
