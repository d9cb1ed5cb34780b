// IngestCache: what `hub publish` already ingested, keyed by media path and file stat, so that
// a re-run does not read unchanged files again (as git's index and rsync skip them). Only an
// optimisation: a missing or unreadable cache means "read everything"; an entry is used only if
// size, mtime and inode all match and the store still has the chunk index.
#ifndef TIERSYNC_HUB_INGEST_CACHE_H_
#define TIERSYNC_HUB_INGEST_CACHE_H_

#include <map>
#include <optional>
#include <string>

#include "base/env.h"
#include "base/sha256.h"
#include "protocol/chunk_index.h"

namespace tiersync::hub {

struct IngestedFile {
  FileStat stat;
  Sha256Digest sha256{};
  protocol::ChunkId chunk_index{};
};

class IngestCache {
 public:
  // Loads `path`; an absent or damaged file gives an empty cache (with the reason in
  // `warning()`).
  static IngestCache Load(Env* env, const std::string& path);

  // The entry for `media_path` if its stat still matches.
  std::optional<IngestedFile> Lookup(const std::string& media_path, const FileStat& stat) const;
  void Put(const std::string& media_path, const IngestedFile& file);
  // Keeps only the given paths (drops entries of media no longer in the input).
  void Retain(const std::map<std::string, bool>& paths);
  // Writes the cache atomically (durably).
  Status Save(Env* env, const std::string& path) const;

  const std::string& warning() const { return warning_; }
  size_t size() const { return files_.size(); }

 private:
  std::map<std::string, IngestedFile> files_;
  std::string warning_;
};

}  // namespace tiersync::hub

#endif  // TIERSYNC_HUB_INGEST_CACHE_H_
