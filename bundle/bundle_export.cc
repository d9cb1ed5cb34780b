#include "bundle/bundle_export.h"

#include <memory>
#include <set>
#include <vector>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/sha256.h"
#include "bundle/bundle_fetcher.h"
#include "catalogs/git_catalog.h"
#include "catalogs/git_pkt_line.h"
#include "catalogs/git_upload_pack.h"
#include "catalogs/region_table.h"
#include "catalogs/release.h"
#include "catalogs/subscription.h"
#include "catalogs/taxonomy.h"
#include "hub/hub_dir.h"
#include "node/node_dir.h"
#include "node/node_sync.h"
#include "replication/chunk_store.h"
#include "replication/env_fetcher.h"
#include "replication/release_sync.h"
#include "replication/source_policy.h"

namespace tiersync::bundle {
namespace {

using replication::PlannedFile;

// Scratch space inside the bundle (removed before the manifest is written).
constexpr char kScratch[] = ".export";
// Metadata files (delegated bins included) are far below this; a larger one is not metadata.
constexpr size_t kMaxMetadataFile = 64 << 20;
// As catalogs::FetchLimits::max_pack_bytes: what an importer accepts.
constexpr size_t kMaxUploadPack = 256 << 20;
constexpr char kUploadCaps[] = "ofs-delta agent=tiersync/0.1";

// Writes a file and syncs it (its directory is synced once at the end).
Status WriteSynced(Env* env, const std::string& path, ByteSpan head, ByteSpan rest = {}) {
  TS_ASSIGN_OR_RETURN(auto f, env->NewWritableFile(path));
  TS_RETURN_IF_ERROR(f->Append(head));
  if (!rest.empty()) TS_RETURN_IF_ERROR(f->Append(rest));
  TS_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

// A Fetcher over the source's metadata and targets directories, mounted at the bundle's
// URL layout, that writes each file it delivers into the bundle at the same path: what the
// TUF client verified is exactly what the bundle holds. One thread (RefreshMetadata with
// parallel_fetches 1). The first write failure is kept (status()) and fails every later fetch.
class RecordingFetcher : public Fetcher {
 public:
  RecordingFetcher(Env* env, std::string base_url, std::string out_dir)
      : env_(env),
        base_url_(std::move(base_url) + "/"),
        out_dir_(std::move(out_dir)),
        files_(env) {}

  void Mount(const std::string& rel_dir, const std::string& dir) {
    files_.Mount(base_url_ + rel_dir + "/", dir);
  }

  Result<std::vector<uint8_t>> Fetch(const std::string& url, size_t max_bytes) override {
    if (!status_.ok()) return status_;
    TS_ASSIGN_OR_RETURN(auto bytes, files_.Fetch(url, max_bytes));
    const std::string rel = url.substr(base_url_.size());
    if (rel.find('%') != std::string::npos) {
      status_ = NotSupportedError(url + ": a percent-escaped name cannot go into a bundle");
    } else {
      const std::string path = JoinPath(out_dir_, rel);
      status_ = CreateDirs(env_, DirName(path));
      if (status_.ok()) status_ = WriteSynced(env_, path, bytes);
      if (status_.ok()) dirs_.insert(DirName(path));
    }
    // A failure to write the bundle is this machine's: it stops the refresh at once.
    if (!status_.ok()) status_ = status_.AsLocal();
    if (!status_.ok()) return status_;
    return bytes;
  }

  Status status() const { return status_; }
  // The directories written into (to be synced).
  const std::set<std::string>& dirs() const { return dirs_; }

 private:
  Env* env_;
  std::string base_url_;
  std::string out_dir_;
  replication::EnvFetcher files_;
  Status status_ = Status::Ok();
  std::set<std::string> dirs_;
};

class Exporter {
 public:
  Exporter(Env* env, const ExportOptions& o)
      : env_(env), o_(o), scratch_(JoinPath(o.out_dir, kScratch)) {}

  Result<BundleManifest> Run() {
    TS_RETURN_IF_ERROR(Prepare());
    TS_RETURN_IF_ERROR(CopyRoots());
    TS_RETURN_IF_ERROR(CheckMetadata());
    TS_RETURN_IF_ERROR(WriteCatalog());
    TS_ASSIGN_OR_RETURN(auto files, Plan());
    TS_RETURN_IF_ERROR(WriteFiles(files));
    TS_RETURN_IF_ERROR(Finish());
    return manifest_;
  }

 private:
  std::string Out(std::string_view rel) const { return JoinPath(o_.out_dir, rel); }

  // The source (a node and the release it serves, or a hub and its latest release), an empty
  // bundle directory.
  Status Prepare() {
    if (env_->FileExists(JoinPath(o_.from_dir, "HUB"))) {
      hub::HubPaths hub(o_.from_dir);
      TS_RETURN_IF_ERROR(hub::CheckHubLayout(env_, hub));
      from_ = {"hub " + o_.from_dir,
               JoinPath(hub.tuf, "metadata/1.root.json"),
               JoinPath(hub.tuf, "metadata"),
               JoinPath(hub.tuf, "targets"),
               hub.store,
               hub.catalog};
    } else {
      node::NodePaths paths(o_.from_dir);
      TS_ASSIGN_OR_RETURN(node::NodeConfig config, node::LoadNodeConfig(env_, paths));
      TS_ASSIGN_OR_RETURN(std::string current, node::CurrentReleaseDir(env_, paths));
      if (current.empty()) {
        return FailedPreconditionError("node " + o_.from_dir +
                                       " serves no release yet: nothing to export");
      }
      const std::string release = JoinPath(paths.releases, current);
      from_ = {"node " + config.name,        paths.root,  JoinPath(release, "metadata"),
               JoinPath(release, "targets"), paths.store, paths.catalog};
    }
    if (env_->FileExists(o_.out_dir)) {
      TS_ASSIGN_OR_RETURN(auto children, env_->GetChildren(o_.out_dir));
      if (!children.empty()) {
        return FailedPreconditionError(o_.out_dir + " is not empty: export into a new directory");
      }
    }
    if (!o_.delta_from.empty()) {
      TS_ASSIGN_OR_RETURN(
          auto earlier,
          ReadFileToBytes(env_, JoinPath(o_.delta_from, kManifestFile), kMaxManifestBytes));
      TS_ASSIGN_OR_RETURN(BundleManifest m, DecodeManifest(AsChars(earlier)));
      manifest_.delta_from = m.release;
    }
    replication::ChunkStoreOptions so;
    so.env = env_;
    TS_ASSIGN_OR_RETURN(store_, replication::ChunkStore::Open(from_.store, so));
    for (std::string_view dir : {kMetadataDir, kTargetsDir, kIndexesDir, kChunksDir, kCatalogDir}) {
      TS_RETURN_IF_ERROR(CreateDirs(env_, Out(dir)));
    }
    return CreateDirs(env_, scratch_);
  }

  // 1. The root chain the source holds, so that importers pinned at any of its versions can
  // walk it forward.
  Status CopyRoots() {
    TS_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->GetChildren(from_.metadata_dir));
    for (const std::string& name : names) {
      // "<N>.root.json", N one or more digits.
      if (!name.ends_with(".root.json") || name.find_first_not_of("0123456789") == 0 ||
          name.find_first_not_of("0123456789") != name.find('.')) {
        continue;
      }
      TS_ASSIGN_OR_RETURN(
          auto bytes, ReadFileToBytes(env_, JoinPath(from_.metadata_dir, name), kMaxMetadataFile));
      TS_RETURN_IF_ERROR(WriteSynced(env_, JoinPath(Out(kMetadataDir), name), bytes));
    }
    return Status::Ok();
  }

  // 2. The metadata and the catalog manifest, verified from the pinned root by the TUF client
  // workflow a sync runs, each file recorded into the bundle byte for byte as it verified.
  Status CheckMetadata() {
    TS_ASSIGN_OR_RETURN(auto root, ReadFileToBytes(env_, from_.root_file, kMaxMetadataFile));
    const std::string trusted = JoinPath(scratch_, "trusted");
    TS_RETURN_IF_ERROR(replication::Updater::Init(env_, trusted, root));
    const std::string url = "file://" + o_.out_dir;
    RecordingFetcher fetcher(env_, url, o_.out_dir);
    fetcher.Mount(std::string(kMetadataDir), from_.metadata_dir);
    fetcher.Mount(std::string(kTargetsDir), from_.targets_dir);
    replication::SourcePolicy sources({{from_.name, url}});
    std::vector<std::string> rejected;
    auto meta = replication::RefreshMetadata(
        env_, &fetcher, &sources, {trusted, JoinPath(scratch_, "downloads")},
        [&](replication::VerifiedMetadata& m) -> Status {
          TS_ASSIGN_OR_RETURN(release_, node::SignedCatalogRelease(env_, m));
          return Status::Ok();
        },
        &rejected);
    if (!meta.ok()) {
      return meta.status().WithContext("the metadata that " + from_.name +
                                       " serves would not verify at import");
    }
    if (Status s = fetcher.status(); !s.ok()) return s;
    recorded_dirs_ = fetcher.dirs();
    meta_ = std::move(meta).value();
    auto git = catalogs::GitCatalog::Open(from_.catalog);
    if (!git.ok()) return git.status();
    git_ = std::move(git).value();
    auto content = catalogs::ReadVerifiedRelease(git_.get(), release_, /*keep_files=*/false);
    if (!content.ok())
      return content.status().WithContext(from_.name + "'s catalog " + release_.release);
    content_ = std::move(content).value();
    return Status::Ok();
  }

  // 3. The catalog exchange an importer's git fetch makes, recorded.
  Status WriteCatalog() {
    const uint64_t n = *catalogs::ReleaseNumber(release_.release);
    TS_ASSIGN_OR_RETURN(std::string ad, catalogs::AdvertiseUploadPack(from_.catalog, n));
    TS_ASSIGN_OR_RETURN(catalogs::Advertisement parsed, catalogs::ParseAdvertisement(ad));
    auto tag = parsed.refs.find("refs/tags/" + release_.release);
    if (tag == parsed.refs.end()) {
      return NotFoundError(from_.name + "'s catalog does not offer " + release_.release);
    }
    const std::string pack = JoinPath(scratch_, "catalog.pack");
    TS_ASSIGN_OR_RETURN(
        catalogs::UploadPackAnswer answer,
        catalogs::UploadPack(env_, from_.catalog,
                             catalogs::EncodeUploadRequest({tag->second}, kUploadCaps, {}), n,
                             pack));
    std::vector<uint8_t> pack_bytes;
    if (answer.pack_bytes > 0) {
      TS_ASSIGN_OR_RETURN(pack_bytes, ReadFileToBytes(env_, pack, kMaxUploadPack));
    }
    TS_RETURN_IF_ERROR(WriteSynced(env_, Out(kCatalogAdvertisement), AsBytes(ad)));
    return WriteSynced(env_, Out(kCatalogUploadPack), AsBytes(answer.head), pack_bytes);
  }

  // 4a. The files to carry: the subscription's (required), or every signed one (those held).
  Result<std::vector<PlannedFile>> Plan() {
    std::vector<PlannedFile> files;
    if (o_.subscription.empty()) {
      for (const auto& [path, target] : meta_.targets) {
        if (path == catalogs::kCatalogTarget) continue;
        auto f = replication::PlannedFileFor(path, *target, false);
        if (f.ok()) files.push_back(std::move(f).value());
      }
      return files;
    }
    const auto& taxonomy = catalogs::Taxonomy::Builtin();
    const auto& regions = catalogs::RegionTable::Builtin();
    TS_ASSIGN_OR_RETURN(auto sub,
                        catalogs::Subscription::Parse(o_.subscription, taxonomy, regions));
    std::set<std::string> wanted;
    TS_RETURN_IF_ERROR(catalogs::ForEachReleaseRecord(
        git_.get(), content_, taxonomy, regions, [&](catalogs::Resource&& r) -> Status {
          for (auto& w : catalogs::WantedFilesOf(r, sub, regions)) wanted.insert(w.target_path);
          return Status::Ok();
        }));
    for (const std::string& path : wanted) {
      auto t = meta_.targets.find(path);
      if (t == meta_.targets.end()) {
        return VerificationError("catalog release " + release_.release + " lists " + path +
                                 " but the signed metadata has no such target");
      }
      TS_ASSIGN_OR_RETURN(auto f, replication::PlannedFileFor(path, *t->second, false));
      files.push_back(std::move(f));
    }
    return files;
  }

  // The file's chunk index if the store holds it and every chunk it names; nullopt if not.
  Result<std::optional<protocol::ChunkIndex>> HeldWhole(const PlannedFile& f) {
    using Held = std::optional<protocol::ChunkIndex>;
    auto bytes = store_->GetIndexBytes(f.index_id);
    if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) return Held();
    if (!bytes.ok()) return bytes.status();
    TS_ASSIGN_OR_RETURN(protocol::ChunkIndex index, protocol::DecodeChunkIndex(*bytes));
    for (const protocol::ChunkRef& c : index.chunks) {
      TS_ASSIGN_OR_RETURN(bool held, store_->Contains(c.id));
      if (!held) return Held();
    }
    return Held(std::move(index));
  }

  // 4b. Each file's chunk index and chunks, read checked.
  Status WriteFiles(const std::vector<PlannedFile>& files) {
    uint64_t done = 0;
    for (const PlannedFile& f : files) {
      if (o_.progress) o_.progress(done++, files.size());
      TS_ASSIGN_OR_RETURN(auto index, HeldWhole(f));
      if (!index) {
        if (o_.subscription.empty()) continue;
        return NotFoundError(from_.name + " does not hold all of " + f.path +
                             ", which the subscription selects");
      }
      for (const protocol::ChunkRef& c : index->chunks) {
        // The bundle started empty: a chunk file there was written by this export (files
        // share chunks). A file check rather than a set: a national release has millions.
        if (env_->FileExists(Out(ChunkFile(c.id)))) continue;
        if (!o_.delta_from.empty() && env_->FileExists(JoinPath(o_.delta_from, ChunkFile(c.id)))) {
          continue;  // the importer holds it from the earlier bundle
        }
        auto chunk = store_->Get(c.id, replication::ReadCheck::kFull);
        if (!chunk.ok()) return chunk.status().WithContext(f.path);
        TS_RETURN_IF_ERROR(WriteSynced(env_, Out(ChunkFile(c.id)), *chunk));
        ++manifest_.chunks;
      }
      TS_ASSIGN_OR_RETURN(auto bytes, store_->GetIndexBytes(f.index_id));
      TS_RETURN_IF_ERROR(WriteSynced(env_, Out(IndexFile(f.index_id)), bytes));
      ++manifest_.files;
      manifest_.bytes += f.length;
    }
    if (o_.progress) o_.progress(files.size(), files.size());
    if (manifest_.files == 0) {
      return NotFoundError(from_.name + " holds no file of " + release_.release +
                           (o_.subscription.empty() ? "" : " that the subscription selects"));
    }
    return Status::Ok();
  }

  // 5. Directories synced, the scratch space gone, the manifest last.
  Status Finish() {
    for (std::string_view dir : {kMetadataDir, kTargetsDir, kIndexesDir, kChunksDir, kCatalogDir}) {
      TS_RETURN_IF_ERROR(env_->SyncDir(Out(dir)));
    }
    for (const std::string& dir : recorded_dirs_) TS_RETURN_IF_ERROR(env_->SyncDir(dir));
    TS_RETURN_IF_ERROR(env_->SyncDir(Out("v1")));
    TS_RETURN_IF_ERROR(RemoveTree(env_, scratch_));
    manifest_.release = release_.release;
    manifest_.version = meta_.version;
    manifest_.created_at = static_cast<int64_t>(env_->NowMicros() / 1000000);
    manifest_.exported_from = from_.name;
    manifest_.subscription = o_.subscription;
    return WriteFileAtomically(env_, Out(kManifestFile), AsBytes(EncodeManifest(manifest_)));
  }

  Env* env_;
  const ExportOptions& o_;
  std::string scratch_;
  // Where the release comes from.
  struct From {
    std::string name;          // "node <name>" or "hub <dir>"
    std::string root_file;     // the pinned root the metadata are checked from
    std::string metadata_dir;  // the metadata as served, by consistent-snapshot names
    std::string targets_dir;   // the targets kept whole (catalog/<sha256>.manifest.txt)
    std::string store;
    std::string catalog;
  } from_;
  std::unique_ptr<replication::ChunkStore> store_;
  replication::VerifiedMetadata meta_;
  catalogs::SignedRelease release_;
  std::unique_ptr<catalogs::GitCatalog> git_;
  catalogs::ReleaseContent content_;
  std::set<std::string> recorded_dirs_;
  BundleManifest manifest_;
};

}  // namespace

Result<BundleManifest> ExportBundle(Env* env, const ExportOptions& options) {
  Exporter exporter(env, options);
  return exporter.Run();
}

}  // namespace tiersync::bundle
