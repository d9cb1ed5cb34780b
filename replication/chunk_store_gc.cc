// ChunkStore::CollectGarbage: forgetting what no kept chunk index names, and compacting the
// packs that became too empty (docs/formats.md, "Chunk store: garbage collection").
//
// The order is what makes it crash-safe (the same rule as a commit: data durable before the
// index names it, the index forgets before a file goes):
//   1. plan: the kept chunks (read from the kept indexes), each stored chunk kept or dead, the
//      packs to compact — nothing written;
//   2. copy: the kept chunks of those packs appended afresh and committed like any Put (pack
//      fsynced, then the index moved to the copies in one LMDB transaction);
//   3. forget: dead chunks, unkept indexes and the compacted packs leave the index in one
//      transaction;
//   4. remove: the compacted pack files are unlinked (a crash before: a writable open removes
//      packs the index does not know).
#include <algorithm>
#include <set>

#include "base/sha256.h"
#include "replication/chunk_store.h"

namespace tiersync::replication {
namespace {

uint64_t RecordBytes(const ChunkLocation& loc) { return kRecordHeaderBytes + loc.stored_len; }

bool Holds(const std::vector<ChunkId>& sorted, const ChunkId& id) {
  return std::binary_search(sorted.begin(), sorted.end(), id);
}

void SortUnique(std::vector<ChunkId>* ids) {
  std::sort(ids->begin(), ids->end());
  ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
}

}  // namespace

Result<GcReport> ChunkStore::CollectGarbage(const std::vector<ChunkId>& keep,
                                            const GcOptions& options) {
  if (!broken_.ok()) return broken_;
  if (!lock_) return FailedPreconditionError("chunk store was opened read-only");
  TS_RETURN_IF_ERROR(Commit());
  GcReport report;

  // 1. Plan. The kept indexes and the chunks they name (sorted, for lookups).
  std::vector<ChunkId> kept_indexes = keep;
  SortUnique(&kept_indexes);
  std::vector<ChunkId> live;
  for (const ChunkId& id : kept_indexes) {
    auto bytes = index_->GetIndex(id);
    if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) {
      ++report.absent_indexes;
      continue;
    }
    if (!bytes.ok()) return bytes.status();
    auto decoded = Sha256(*bytes) == id
                       ? protocol::DecodeChunkIndex(*bytes)
                       : Result<protocol::ChunkIndex>(CorruptionError("bytes do not match the id"));
    if (!decoded.ok()) {
      return CorruptionError("kept chunk index " + ToHex(id) + " fails its check (" +
                             decoded.status().message() +
                             "): nothing was collected, since what it names cannot be known; "
                             "a scrub (`tiersync node scrub`) repairs it")
          .AsLocal();
    }
    ++report.kept_indexes;
    for (const auto& ref : decoded->chunks) live.push_back(ref.id);
  }
  SortUnique(&live);

  // Every stored chunk: kept (its record counted to its pack) or dead.
  std::map<uint32_t, uint64_t> live_bytes;
  std::vector<std::pair<ChunkId, ChunkLocation>> kept;
  std::vector<ChunkId> dead;
  TS_RETURN_IF_ERROR(index_->ForEachChunk([&](const ChunkId& id, const ChunkLocation& loc) {
    if (Holds(live, id)) {
      kept.emplace_back(id, loc);
      live_bytes[loc.pack] += RecordBytes(loc);
      ++report.kept_chunks;
      report.kept_bytes += RecordBytes(loc);
    } else {
      dead.push_back(id);
      ++report.deleted_chunks;
      report.deleted_bytes += RecordBytes(loc);
    }
  }));
  std::vector<ChunkId> dead_indexes;
  TS_RETURN_IF_ERROR(index_->ForEachIndex([&](const ChunkId& id, std::span<const uint8_t>) {
    if (!Holds(kept_indexes, id)) dead_indexes.push_back(id);
  }));
  report.deleted_indexes = dead_indexes.size();

  // The packs to compact: some of them dead, and less than min_live_fraction of them kept.
  TS_ASSIGN_OR_RETURN(auto lengths, index_->PackLengths());
  std::set<uint32_t> victims;
  uint64_t victim_bytes = 0;
  for (const auto& [pack, len] : lengths) {
    report.pack_bytes_before += len;
    const uint64_t l = live_bytes.count(pack) ? live_bytes[pack] : 0;
    if (l + kPackHeaderBytes >= len) continue;  // nothing dead in it
    if (static_cast<double>(l) < options.min_live_fraction * static_cast<double>(len)) {
      victims.insert(pack);
      victim_bytes += len;
    }
  }
  std::vector<std::pair<ChunkId, ChunkLocation>> to_copy;
  uint64_t to_copy_bytes = 0;
  for (const auto& entry : kept) {
    if (!victims.count(entry.second.pack)) continue;
    to_copy.push_back(entry);
    to_copy_bytes += RecordBytes(entry.second);
  }
  kept.clear();
  kept.shrink_to_fit();
  if (options.dry_run) {
    report.packs_compacted = victims.size();
    report.copied_bytes = to_copy_bytes;
    report.pack_bytes_after = report.pack_bytes_before - victim_bytes + to_copy_bytes +
                              (to_copy.empty() ? 0 : kPackHeaderBytes);
    return report;
  }

  // 2. Copy the kept chunks out of the packs to compact, in pack order (each read front to
  // back). The pack being appended to is finished first if it is one of them.
  if (victims.count(pack_no_)) {
    pack_out_.reset();
    pack_no_ = 0;
  }
  std::sort(to_copy.begin(), to_copy.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second.pack, a.second.offset) < std::tie(b.second.pack, b.second.offset);
  });
  std::set<uint32_t> stay;  // packs holding a kept chunk that could not be copied
  for (const auto& [id, loc] : to_copy) {
    auto stored = ReadStoredAt(id, loc);
    if (!stored.ok()) {
      report.damaged.push_back({id, loc.raw_len});
      stay.insert(loc.pack);
      continue;
    }
    PreparedChunk chunk{id, stored->loc.raw_len, stored->loc.flags, std::move(stored->payload),
                        stored->loc.xxh3};
    TS_RETURN_IF_ERROR(Append(chunk));
    report.copied_bytes += RecordBytes(loc);
  }
  TS_RETURN_IF_ERROR(Commit());

  // 3. Forget, in one transaction.
  IndexBatch forget;
  forget.deleted_chunks = std::move(dead);
  forget.deleted_indexes = std::move(dead_indexes);
  for (uint32_t pack : victims) {
    if (!stay.count(pack)) forget.deleted_packs.push_back(pack);
  }
  report.packs_compacted = forget.deleted_packs.size();
  if (!forget.empty()) TS_RETURN_IF_ERROR(index_->Commit(forget));

  // 4. Remove the compacted packs. Readers that still hold one open keep reading it.
  const std::string packs_dir = JoinPath(dir_, "packs");
  Status removed = Status::Ok();
  for (uint32_t pack : forget.deleted_packs) {
    ClosePack(pack);
    Status s = env_->RemoveFile(PackPath(pack));
    if (!s.ok() && s.code() != StatusCode::kNotFound && removed.ok()) removed = s;
  }
  if (!forget.deleted_packs.empty() && removed.ok()) removed = env_->SyncDir(packs_dir);
  if (!removed.ok()) {
    return removed.WithContext(
        "garbage collection: the compacted packs are forgotten but not all removed (the next "
        "writable open of the store removes them)");
  }
  TS_ASSIGN_OR_RETURN(lengths, index_->PackLengths());
  for (const auto& [pack, len] : lengths) report.pack_bytes_after += len;
  return report;
}

}  // namespace tiersync::replication
