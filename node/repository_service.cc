#include "node/repository_service.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "base/bytes.h"
#include "base/hex.h"
#include "node/chunk_sources.h"
#include "node/file_reply.h"
#include "node/release_dir.h"
#include "protocol/chunk_batch.h"
#include "protocol/tuf_time.h"
#include "replication/file_restore.h"
#include "replication/tuf_repository.h"
#include "serving/conditional.h"
#include "serving/media_type.h"

namespace tiersync::node {
namespace {

namespace tuf = protocol::tuf;

constexpr char kImmutable[] = "public, max-age=31536000, immutable";
constexpr size_t kMaxDiskTargetBytes = 256 << 20;

bool SafeName(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// A relative path of safe segments: no empty, "." or ".." segment, no escapes.
bool SafePath(std::string_view path) {
  if (path.empty() || path.size() > 1024) return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (!std::all_of(seg.begin(), seg.end(), SafeName)) return false;
    start = end + 1;
  }
  return true;
}

// "<dir>/<sha256>.<name>" for target `path`.
std::string ConsistentName(const std::string& path, const std::string& sha256) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return sha256 + "." + path;
  return path.substr(0, slash + 1) + sha256 + "." + path.substr(slash + 1);
}

HttpReply Bytes(std::vector<uint8_t> bytes, std::string content_type, bool immutable) {
  HttpReply r;
  r.content_type = std::move(content_type);
  r.body.assign(bytes.begin(), bytes.end());
  r.headers.emplace_back("Cache-Control", immutable ? kImmutable : "no-cache");
  return r;
}

HttpReply FromStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      return HttpReply::Text(404, "not found");
    case StatusCode::kCorruption:
      return HttpReply::Text(503, "stored copy is damaged; try another source");
    default:
      return HttpReply::Text(500, "internal error");
  }
}

}  // namespace

RepositoryService::RepositoryService(Env* env, std::string tuf_dir,
                                     const replication::ChunkStore* store)
    : env_(env), store_(store), tuf_dir_(std::move(tuf_dir)) {}

HttpReply RepositoryService::Handle(const HttpRequest& request) {
  std::string_view target = request.target;
  if (size_t q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  auto after = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (!target.starts_with(prefix)) return std::nullopt;
    return target.substr(prefix.size());
  };
  if (auto name = after("/v1/metadata/")) return Count("metadata", Metadata(*name));
  if (auto path = after("/v1/targets/")) return Count("targets", Target(request, *path));
  if (target == "/v1/chunks/batch") {
    if (request.method != "POST") return Count("batch", HttpReply::Text(405, "POST the ids"));
    return Count("batch", Batch(request));
  }
  if (request.method == "POST") return Count("other", HttpReply::Text(405, "not here"));
  if (auto hex = after("/v1/chunks/")) return Count("chunks", Chunk(*hex));
  if (auto hex = after("/v1/indexes/")) return Count("indexes", Index(*hex));
  if (target == "/v1/status") return Count("status", Status());
  if (target == "/metrics") return MetricsReply(Metrics());
  return Count("other", HttpReply::Text(404, "not found"));
}

HttpReply RepositoryService::Count(std::string endpoint, HttpReply reply) {
  std::shared_ptr<Counters> counters = counters_;
  MutexLock lock(&counters->mu);
  ++counters->requests[{endpoint, reply.status}];
  if (!reply.stream) {
    counters->bytes[endpoint] += reply.body.size();
    return reply;
  }
  reply.stream = [counters, endpoint, next = std::move(reply.stream)]() -> Result<std::string> {
    Result<std::string> piece = next();
    if (piece.ok()) {
      MutexLock lock(&counters->mu);
      counters->bytes[endpoint] += piece->size();
    }
    return piece;
  };
  return reply;
}

void RepositoryService::SetTufDir(std::string tuf_dir) {
  MutexLock lock(&mu_);
  tuf_dir_ = std::move(tuf_dir);
  timestamp_stat_ = FileStat{};
  chunked_.clear();
}

std::string RepositoryService::TufDir() {
  MutexLock lock(&mu_);
  return tuf_dir_;
}

MetricsText RepositoryService::Metrics() {
  using Sample = MetricsText::Sample;
  std::vector<Sample> requests, bytes;
  {
    MutexLock lock(&counters_->mu);
    for (const auto& [key, n] : counters_->requests) {
      requests.push_back(
          {{{"endpoint", key.first}, {"code", std::to_string(key.second)}}, double(n)});
    }
    for (const auto& [endpoint, n] : counters_->bytes) {
      bytes.push_back({{{"endpoint", endpoint}}, double(n)});
    }
  }
  MetricsText m;
  m.Counter("tiersync_http_requests_total", "HTTP requests answered, by endpoint and status.",
            std::move(requests));
  m.Counter("tiersync_http_response_bytes_total", "Response body bytes produced, by endpoint.",
            std::move(bytes));
  if (auto stats = CachedStoreStats()) {
    m.Gauge("tiersync_store_chunks", "Chunks in the node's chunk store.",
            {{{}, double(stats->chunks)}});
    m.Gauge("tiersync_store_stored_bytes", "Bytes the chunk store's payloads take.",
            {{{}, double(stats->stored_bytes)}});
  }
  return m;
}

std::optional<replication::StoreStats> RepositoryService::CachedStoreStats() {
  MutexLock lock(&mu_);
  const uint64_t now = env_->MonotonicMicros();
  if (!store_stats_ || now - store_stats_at_us_ > kStoreStatsSeconds * 1'000'000) {
    if (auto fresh = store_->Stats(); fresh.ok()) store_stats_ = *fresh;
    store_stats_at_us_ = now;
  }
  return store_stats_;
}

HttpReply MetricsReply(const MetricsText& metrics) {
  HttpReply r;
  r.content_type = MetricsText::kContentType;
  r.body = metrics.Serialize();
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

HttpReply RepositoryService::Metadata(std::string_view name) {
  if (!SafePath(name) || name.find('/') != std::string_view::npos || !name.ends_with(".json")) {
    return HttpReply::Text(404, "not found");
  }
  auto bytes = ReadFileToBytes(env_, JoinPath(JoinPath(TufDir(), "metadata"), std::string(name)),
                               kMaxReleaseMetadataBytes);
  if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) {
    if (auto reply = RootBeforeChain(name)) return *reply;
  }
  if (!bytes.ok()) return FromStatus(bytes.status());
  // Versioned names (N.root.json, V.snapshot.json, ...) never change; timestamp.json does.
  const bool versioned = !name.empty() && name[0] >= '0' && name[0] <= '9';
  return Bytes(std::move(bytes).value(), "application/json", versioned);
}

// A relayed root chain may start above 1 (a node set up with a later root). A 404 for a root
// version before it would tell a client walking the chain that there is no newer root (spec
// 5.3.3), and the client would then refuse metadata signed by rotated keys and blame this
// node; 503 says "not here, ask another source" instead (docs/security.md).
std::optional<HttpReply> RepositoryService::RootBeforeChain(std::string_view name) {
  constexpr std::string_view kSuffix = ".root.json";
  if (!name.ends_with(kSuffix)) return std::nullopt;
  std::string_view digits = name.substr(0, name.size() - kSuffix.size());
  if (digits.empty() || digits.size() > 18 ||
      digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  const uint64_t version = std::stoull(std::string(digits));
  Refresh();
  uint64_t first = 0;
  {
    MutexLock lock(&mu_);
    first = first_root_version_;
  }
  if (version == 0 || version >= first) return std::nullopt;
  HttpReply r = HttpReply::Text(503, "this node relays the root chain from version " +
                                         std::to_string(first) + "; fetch root version " +
                                         std::to_string(version) + " from another source");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpReply RepositoryService::Target(const HttpRequest& request, std::string_view path) {
  if (!SafePath(path)) return HttpReply::Text(404, "not found");
  const std::string on_disk = JoinPath(JoinPath(TufDir(), "targets"), std::string(path));
  if (env_->FileExists(on_disk)) {
    auto bytes = ReadFileToBytes(env_, on_disk, kMaxDiskTargetBytes);
    if (!bytes.ok()) return FromStatus(bytes.status());
    return Bytes(std::move(bytes).value(), "application/octet-stream", true);
  }
  Refresh();
  protocol::ChunkId index_id;
  {
    MutexLock lock(&mu_);
    if (auto w = withdrawn_.find(std::string(path)); w != withdrawn_.end()) {
      HttpReply r = HttpReply::Text(410, "withdrawn by role " + w->second.role + " since " +
                                             protocol::FormatTufTime(w->second.since) + ": " +
                                             w->second.reason);
      r.headers.emplace_back("Cache-Control", "no-store");
      return r;
    }
    auto it = chunked_.find(std::string(path));
    if (it == chunked_.end()) return HttpReply::Text(404, "not found");
    index_id = it->second;
  }
  auto index = replication::LoadChunkIndex(*store_, index_id);
  if (!index.ok()) return FromStatus(index.status());
  // The consistent-snapshot name carries the file's SHA-256; the index must be that file's.
  size_t slash = path.rfind('/');
  std::string_view file = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (file.substr(0, 64) != ToHex(index->file_sha256)) {
    return HttpReply::Text(503, "stored copy does not match its name; try another source");
  }
  // A file is served only when every chunk is here: a node mid-sync (index stored, chunks
  // still coming) answers 404, so whoever asks looks elsewhere instead of getting a cut body.
  if (!AllChunksPresent(*store_, *index)) return HttpReply::Text(404, "not held here");
  FileInfo info{std::string(serving::MediaTypeForName(file.size() > 65 ? file.substr(65) : "")),
                serving::StrongEtag(ToHex(index->file_sha256)), kImmutable};
  // Each chunk's stored bytes are checked against their XXH3 as they are read (bit rot is never
  // sent), as for users' downloads; the SHA-256 of every chunk was checked when it was stored
  // and is again by `store verify` and by every client. A full re-hash here would make SHA-256
  // the limit of a node's serving rate (docs/performance.md, serve).
  auto source = std::make_shared<StoreChunks>(store_, *index, replication::ReadCheck::kChecksum);
  return FileReply(request, std::move(index).value(), std::move(source), info);
}

HttpReply RepositoryService::Chunk(std::string_view hex) {
  std::optional<Sha256Digest> id = Sha256FromHex(hex);
  if (!id || ToHex(*id) != hex) return HttpReply::Text(404, "not found");
  auto bytes = store_->Get(*id, replication::ReadCheck::kFull);
  if (!bytes.ok()) return FromStatus(bytes.status());
  return Bytes(std::move(bytes).value(), "application/octet-stream", true);
}

HttpReply RepositoryService::Index(std::string_view hex) {
  std::optional<Sha256Digest> id = Sha256FromHex(hex);
  if (!id || ToHex(*id) != hex) return HttpReply::Text(404, "not found");
  auto bytes = store_->GetIndexBytes(*id);
  if (!bytes.ok()) return FromStatus(bytes.status());
  return Bytes(std::move(bytes).value(), "application/octet-stream", true);
}

// Chunks the store lacks are marked absent, so the client asks its next source for them;
// a damaged stored chunk is absent too (never sent). Past kMaxBatchResponseBytes the rest are
// marked not sent. To a client that takes zstd frames, a chunk stored compressed is sent as
// stored (no decompression here, fewer bytes on the wire); the others as their bytes.
HttpReply RepositoryService::Batch(const HttpRequest& request) {
  auto ids = protocol::DecodeBatchRequest(AsBytes(request.body));
  if (!ids.ok()) return HttpReply::Text(400, ids.status().message());
  const std::string* type = request.Header("content-type");
  const bool zstd_frames = type != nullptr && *type == protocol::kBatchRequestTypeZstd;
  // What each frame will be, and the response's size, from the index before any chunk is
  // read: the response is built in one allocation of that size (a growing buffer cost copies
  // and page faults, most of a hub's CPU per byte sent).
  using Kind = protocol::BatchFrameKind;
  std::vector<Kind> kinds(ids->size(), Kind::kNotSent);
  size_t chunk_bytes = 0;
  for (size_t i = 0; i < ids->size(); ++i) {
    if (chunk_bytes >= protocol::kMaxBatchResponseBytes) break;  // the rest: not sent
    auto loc = store_->Locate((*ids)[i]);
    if (!loc.ok()) {
      kinds[i] = Kind::kAbsent;
    } else if (zstd_frames && (loc->flags & replication::kFlagZstd)) {
      kinds[i] = Kind::kChunkZstd;
      chunk_bytes += loc->stored_len;
    } else {
      kinds[i] = Kind::kChunk;
      chunk_bytes += loc->raw_len;
    }
  }
  protocol::BatchResponseWriter w;
  w.Reserve(protocol::kBatchHeaderBytes + protocol::kBatchFrameHeaderBytes * ids->size() +
            chunk_bytes);
  for (size_t i = 0; i < ids->size(); ++i) {
    const protocol::ChunkId& id = (*ids)[i];
    // The stored checksum catches local damage (the chunk is then absent: never sent);
    // SHA-256 is the receiver's check.
    if (kinds[i] == Kind::kChunkZstd) {
      auto stored = store_->GetStored(id);
      if (!stored.ok()) {
        w.AddMissing(id, Kind::kAbsent);
      } else {
        w.AddFrame(id,
                   (stored->loc.flags & replication::kFlagZstd) ? Kind::kChunkZstd : Kind::kChunk,
                   stored->payload);
      }
      continue;
    }
    if (kinds[i] != Kind::kChunk) {
      w.AddMissing(id, kinds[i]);
      continue;
    }
    auto bytes = store_->Get(id, replication::ReadCheck::kChecksum);
    if (bytes.ok()) {
      w.AddChunk(id, *bytes);
    } else {
      w.AddMissing(id, Kind::kAbsent);
    }
  }
  HttpReply r;
  r.content_type = "application/x-tiersync-chunk-batch";
  r.body = std::move(w).Finish();
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpReply RepositoryService::Status() {
  Refresh();
  nlohmann::json j;
  {
    // What the release fixes was read once, when its timestamp changed (Refresh).
    MutexLock lock(&mu_);
    j["served_from_chunks"] = chunked_.size();
    if (!refresh_error_.empty()) j["metadata_error"] = refresh_error_;
    if (root_version_ > 0) j["root_version"] = root_version_;
    if (targets_version_ > 0) j["targets_version"] = targets_version_;
  }
  if (auto stats = CachedStoreStats()) {
    j["store"] = {{"chunks", stats->chunks},
                  {"chunk_indexes", stats->chunk_indexes},
                  {"raw_bytes", stats->raw_bytes},
                  {"stored_bytes", stats->stored_bytes}};
  }
  HttpReply r = HttpReply::Json(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

void RepositoryService::Refresh() {
  const std::string dir = TufDir();
  Result<FileStat> stat = env_->Stat(JoinPath(JoinPath(dir, "metadata"), "timestamp.json"));
  MutexLock lock(&mu_);
  if (!stat.ok() || *stat == timestamp_stat_ || dir != tuf_dir_) return;
  auto repo = replication::TufRepository::Open(env_, dir);
  if (!repo.ok()) {
    refresh_error_ = repo.status().ToString();
    return;
  }
  std::map<std::string, protocol::ChunkId> chunked;
  std::map<std::string, Withdrawal> withdrawn;
  // A node's release directory lists what signed retractions withdrew (node/takedown.h).
  auto takedowns = ReadTakedowns(env_, dir);
  if (!takedowns.ok()) {
    refresh_error_ = takedowns.status().ToString();
    return;
  }
  std::vector<std::string> roles = {"targets"};
  std::set<std::string> seen;
  while (!roles.empty()) {
    std::string role = roles.back();
    roles.pop_back();
    if (!seen.insert(role).second) continue;
    auto t = repo->targets(role);
    if (!t.ok()) continue;
    for (const auto& [path, file] : (*t)->targets) {
      const protocol::Json* index = file.custom ? file.custom->Find("chunk_index") : nullptr;
      auto sha = file.hashes.find("sha256");
      if (index == nullptr || !index->is_string() || sha == file.hashes.end()) continue;
      if (auto w = takedowns->files.find(path); w != takedowns->files.end()) {
        withdrawn.emplace(ConsistentName(path, sha->second), w->second);
        continue;
      }
      if (auto id = Sha256FromHex(index->as_string())) {
        chunked[ConsistentName(path, sha->second)] = *id;
      }
    }
    if ((*t)->delegations) {
      for (const auto& d : (*t)->delegations->roles) roles.push_back(d.name);
    }
  }
  chunked_ = std::move(chunked);
  withdrawn_ = std::move(withdrawn);
  first_root_version_ = repo->first_root_version();
  root_version_ = repo->root().version;
  auto top = repo->targets("targets");
  targets_version_ = top.ok() ? (*top)->version : 0;
  timestamp_stat_ = *stat;
  refresh_error_.clear();
}

}  // namespace tiersync::node
