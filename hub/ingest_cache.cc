#include "hub/ingest_cache.h"

#include "base/bytes.h"
#include "base/hex.h"
#include "protocol/json.h"

namespace tiersync::hub {
namespace {

constexpr std::string_view kFormat = "tiersync-ingest-cache 1";
constexpr size_t kMaxCacheBytes = size_t{1} << 30;

}  // namespace

IngestCache IngestCache::Load(Env* env, const std::string& path) {
  IngestCache cache;
  if (!env->FileExists(path)) return cache;
  auto bytes = ReadFileToBytes(env, path, kMaxCacheBytes);
  protocol::JsonLimits limits;
  limits.max_bytes = kMaxCacheBytes;
  limits.max_elements = 100'000'000;
  Result<protocol::Json> doc = bytes.ok() ? protocol::ParseJson(AsChars(*bytes), limits)
                                          : Result<protocol::Json>(bytes.status());
  const protocol::Json* files = doc.ok() ? doc->Find("files") : nullptr;
  const protocol::Json* format = doc.ok() ? doc->Find("format") : nullptr;
  if (files == nullptr || !files->is_object() || format == nullptr || !format->is_string() ||
      format->as_string() != kFormat) {
    cache.warning_ = "ignoring ingest cache " + path + " (" +
                     (doc.ok() ? std::string("unknown format") : doc.status().ToString()) +
                     "); every media file will be read";
    return cache;
  }
  for (const auto& member : files->as_object()) {
    const std::string& media = member.first;
    const protocol::Json& entry = member.second;
    auto num = [&](const char* k) -> std::optional<int64_t> {
      const protocol::Json* v = entry.Find(k);
      if (v == nullptr || !v->is_int()) return std::nullopt;
      return v->as_int();
    };
    auto digest = [&](const char* k) -> std::optional<Sha256Digest> {
      const protocol::Json* v = entry.Find(k);
      if (v == nullptr || !v->is_string()) return std::nullopt;
      return Sha256FromHex(v->as_string());
    };
    auto size = num("size"), mtime = num("mtime_ns"), inode = num("inode");
    auto sha = digest("sha256"), index = digest("chunk_index");
    if (!size || !mtime || !inode || !sha || !index) continue;  // skip what we cannot read
    IngestedFile f;
    f.stat = {static_cast<uint64_t>(*size), *mtime, static_cast<uint64_t>(*inode)};
    f.sha256 = *sha;
    f.chunk_index = *index;
    cache.files_[media] = f;
  }
  return cache;
}

std::optional<IngestedFile> IngestCache::Lookup(const std::string& media_path,
                                                const FileStat& stat) const {
  auto it = files_.find(media_path);
  if (it == files_.end() || !(it->second.stat == stat)) return std::nullopt;
  return it->second;
}

void IngestCache::Put(const std::string& media_path, const IngestedFile& file) {
  files_[media_path] = file;
}

void IngestCache::Retain(const std::map<std::string, bool>& paths) {
  std::erase_if(files_, [&](const auto& kv) { return !paths.contains(kv.first); });
}

Status IngestCache::Save(Env* env, const std::string& path) const {
  protocol::Json files = protocol::Json::Object();
  for (const auto& [media, f] : files_) {
    protocol::Json e = protocol::Json::Object();
    e.Set("size", static_cast<int64_t>(f.stat.size));
    e.Set("mtime_ns", f.stat.mtime_ns);
    e.Set("inode", static_cast<int64_t>(f.stat.inode));
    e.Set("sha256", ToHex(f.sha256));
    e.Set("chunk_index", ToHex(f.chunk_index));
    files.Set(media, std::move(e));
  }
  protocol::Json doc = protocol::Json::Object();
  doc.Set("format", std::string(kFormat));
  doc.Set("files", std::move(files));
  return WriteFileAtomically(env, path, AsBytes(protocol::EncodeCanonical(doc)), false);
}

}  // namespace tiersync::hub
