#include "bundle/bundle_fetcher.h"

#include "bundle/bundle_layout.h"
#include "protocol/chunk_batch.h"

namespace tiersync::bundle {
namespace {

// The prefix the inner EnvFetcher mounts the bundle at (never seen outside).
constexpr char kMount[] = "bundle:///";

}  // namespace

BundleFetcher::BundleFetcher(Env* env, std::string base_url, std::string dir)
    : env_(env), base_url_(std::move(base_url)), dir_(std::move(dir)), files_(env) {
  files_.Mount(kMount, dir_);
}

Result<std::string> BundleFetcher::Relative(const std::string& url) const {
  if (url.size() <= base_url_.size() + 1 || url.rfind(base_url_, 0) != 0 ||
      url[base_url_.size()] != '/') {
    return NotFoundError(url + ": not in the bundle " + base_url_).AsRemote();
  }
  return url.substr(base_url_.size() + 1);
}

Result<std::vector<uint8_t>> BundleFetcher::Fetch(const std::string& url, size_t max_bytes) {
  TS_ASSIGN_OR_RETURN(std::string rel, Relative(url));
  bool content_addressed = false;
  Result<std::string> file = FileForGet(rel, &content_addressed);
  if (!file.ok()) return file.status().AsRemote();
  // Indexes and chunks (checked names) are read directly: the EnvFetcher keeps a log of every
  // request, which an import of millions of chunks must not grow.
  Result<std::vector<uint8_t>> bytes = content_addressed
                                           ? ReadFileToBytes(env_, JoinPath(dir_, *file), max_bytes)
                                           : files_.Fetch(kMount + *file, max_bytes);
  // The bundle is the source: its missing or unreadable files are the source's fault (a
  // damaged disk is not this node's), so that the sync judges them as a parent's answers.
  if (!bytes.ok()) return bytes.status().AsRemote();
  return bytes;
}

Result<std::vector<uint8_t>> BundleFetcher::Post(const std::string& url, std::string_view,
                                                 std::span<const uint8_t> body, size_t max_bytes) {
  TS_ASSIGN_OR_RETURN(std::string rel, Relative(url));
  if (rel == std::string(kCatalogDir) + "/git-upload-pack") {
    Result<std::vector<uint8_t>> bytes =
        files_.Fetch(kMount + std::string(kCatalogUploadPack), max_bytes);
    if (!bytes.ok()) return bytes.status().AsRemote();
    return bytes;
  }
  if (rel == std::string(kChunksDir) + "/batch") return ChunkBatch(body, max_bytes);
  return NotFoundError(url + ": a bundle answers no such request").AsRemote();
}

Result<std::vector<uint8_t>> BundleFetcher::ChunkBatch(std::span<const uint8_t> body,
                                                       size_t max_bytes) {
  Result<std::vector<protocol::ChunkId>> ids = protocol::DecodeBatchRequest(body);
  if (!ids.ok()) return ids.status().AsRemote();
  const size_t cap = std::min(max_bytes, protocol::kMaxBatchResponseBytes);
  protocol::BatchResponseWriter out;
  bool full = false;
  for (const protocol::ChunkId& id : *ids) {
    if (full) {
      out.AddMissing(id, protocol::BatchFrameKind::kNotSent);
      continue;
    }
    Result<std::vector<uint8_t>> chunk =
        ReadFileToBytes(env_, JoinPath(dir_, ChunkFile(id)), protocol::kMaxChunkBytes);
    if (!chunk.ok() && chunk.status().code() == StatusCode::kNotFound) {
      out.AddMissing(id, protocol::BatchFrameKind::kAbsent);
      continue;
    }
    if (!chunk.ok()) return chunk.status().AsRemote();
    // The first chunk always goes (a batch of one must make progress); later ones only
    // within the cap.
    if (out.size() > protocol::kBatchHeaderBytes &&
        out.size() + protocol::kBatchFrameHeaderBytes + chunk->size() > cap) {
      full = true;
      out.AddMissing(id, protocol::BatchFrameKind::kNotSent);
      continue;
    }
    out.AddChunk(id, *chunk);
  }
  std::string bytes = std::move(out).Finish();
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

}  // namespace tiersync::bundle
