#include "hub/publisher.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "base/bytes.h"
#include "base/hex.h"
#include "catalogs/region_table.h"
#include "catalogs/release.h"
#include "catalogs/resource.h"
#include "catalogs/taxonomy.h"
#include "hub/hub_dir.h"
#include "hub/ingest_cache.h"
#include "hub/signed_release.h"
#include "replication/chunk_store.h"
#include "replication/file_ingest.h"

namespace tiersync::hub {
namespace {

using catalogs::Resource;
using catalogs::ResourceFile;
namespace tuf = protocol::tuf;

constexpr size_t kMaxProblemsShown = 100;
// Files below this size are ingested on the calling thread (a pipeline thread per tiny file
// costs more than it saves).
constexpr uint64_t kPipelineMinBytes = 1 << 20;

constexpr char kReadme[] =
    "# tiersync catalog\n"
    "\n"
    "One JSON record per resource of the National Smart Education Platform catalog, at\n"
    "resources/<origin>/<first two hex digits of SHA-256(id)>/<id>.json\n"
    "(format: docs/formats/catalog.md in the tiersync sources).\n"
    "\n"
    "Each release is an annotated tag r<N> whose tagger is the publisher. Do not trust this\n"
    "repository by itself: the signed TUF metadata of the hub carries the SHA-256 of every\n"
    "release's content (target catalog/manifest.txt, in `sha256sum` format), and\n"
    "`tiersync catalog verify` checks a release against it.\n";

// Problems found in the input, reported together.
class Problems {
 public:
  void Add(std::string p) { list_.push_back(std::move(p)); }
  bool empty() const { return list_.empty(); }
  Status ToStatus() const {
    std::string msg = std::to_string(list_.size()) + " problem" + (list_.size() == 1 ? "" : "s") +
                      " in the input; nothing was published:";
    for (size_t i = 0; i < list_.size() && i < kMaxProblemsShown; ++i) msg += "\n  " + list_[i];
    if (list_.size() > kMaxProblemsShown) {
      msg += "\n  ... and " + std::to_string(list_.size() - kMaxProblemsShown) + " more";
    }
    return InvalidArgumentError(msg);
  }

 private:
  std::vector<std::string> list_;
};

std::string FileField(const Resource& r, size_t i) {
  return "resource " + r.id + ".files[" + std::to_string(i) + "]";
}

// Reads and checks every record of the input (step 2).
Result<std::map<std::string, Resource>> ReadInputRecords(
    Env* env, const PublishOptions& opts, const std::map<std::string, Resource>& previous,
    const std::string& previous_name, Problems* problems) {
  const std::string dir = JoinPath(opts.input, "resources");
  Result<std::vector<std::string>> names = env->GetChildren(dir);
  if (!names.ok()) {
    return InvalidArgumentError("input " + opts.input +
                                " has no resources/ directory: " + names.status().message());
  }
  std::sort(names->begin(), names->end());
  std::map<std::string, Resource> records;
  std::map<std::string, std::string> file_of;
  uint64_t done = 0;
  for (const std::string& name : *names) {
    if (opts.progress) opts.progress("read", ++done, names->size());
    if (name.starts_with(".")) continue;
    const std::string shown = "resources/" + name;
    if (!name.ends_with(".json")) {
      problems->Add(shown + ": not a record (records are resources/<id>.json)");
      continue;
    }
    Result<std::vector<uint8_t>> bytes =
        ReadFileToBytes(env, JoinPath(dir, name), catalogs::kMaxResourceBytes + 1);
    if (!bytes.ok()) {
      problems->Add(shown + ": " + bytes.status().message());
      continue;
    }
    Result<Resource> r =
        catalogs::ParseResource(AsChars(*bytes), shown, catalogs::RecordSource::kInput);
    if (!r.ok()) {
      problems->Add(r.status().message());
      continue;
    }
    Status valid = catalogs::ValidateResource(*r, catalogs::Taxonomy::Builtin(),
                                              catalogs::RegionTable::Builtin());
    if (!valid.ok()) {
      problems->Add(valid.message());
      continue;
    }
    if (auto it = file_of.find(r->id); it != file_of.end()) {
      problems->Add("resource " + r->id + ": id used by both " + it->second + " and " + shown);
      continue;
    }
    if (auto it = previous.find(r->id); it != previous.end()) {
      const Resource& old = it->second;
      if (old.origin != r->origin || old.provider != r->provider) {
        problems->Add("resource " + r->id + ": id reused for a different resource (release " +
                      previous_name + " has it from " + old.provider + ", origin " + old.origin +
                      "; the input from " + r->provider + ", origin " + r->origin +
                      "); stable ids are never reused: give the new resource a new id");
        continue;
      }
    }
    file_of[r->id] = shown;
    std::string id = r->id;
    records.emplace(std::move(id), std::move(r).value());
  }
  const std::set<std::string> present(names->begin(), names->end());
  for (const auto& [id, old] : previous) {
    if (!records.contains(id)) {
      // A record file that is there but failed its checks was reported already.
      if (!present.contains(id + ".json")) {
        problems->Add("resource " + id + " (release " + previous_name +
                      ") is missing from the input: retire it (\"retired\": true) instead of "
                      "deleting it");
      }
    }
  }
  return records;
}

struct IngestTotals {
  uint64_t read = 0, unchanged = 0, new_chunks = 0, new_bytes = 0;
};

// Ingests every file of every record (step 3), filling in chunk_index.
Status IngestMedia(Env* env, const HubPaths& paths, const PublishOptions& opts,
                   const std::map<std::string, Resource>& previous,
                   std::map<std::string, Resource>* records, Problems* problems,
                   IngestTotals* totals) {
  replication::ChunkStoreOptions store_options;
  store_options.env = env;
  store_options.writable = true;
  TS_ASSIGN_OR_RETURN(auto store, replication::ChunkStore::Open(paths.store, store_options));
  IngestCache cache = IngestCache::Load(env, paths.ingest_cache);
  std::map<std::string, bool> seen;

  uint64_t total = 0, done = 0;
  for (const auto& [id, r] : *records) {
    for (const ResourceFile& f : r.files) total += f.size;
  }
  for (auto& [id, r] : *records) {
    for (size_t i = 0; i < r.files.size(); ++i) {
      ResourceFile& f = r.files[i];
      if (r.retired) {
        // Retired files are not served: keep what the last release recorded for them.
        auto old = previous.find(id);
        if (old != previous.end()) {
          auto same = std::find_if(
              old->second.files.begin(), old->second.files.end(), [&](const ResourceFile& o) {
                return o.name == f.name && o.sha256 == f.sha256 && o.size == f.size;
              });
          if (same != old->second.files.end()) {
            f.chunk_index = same->chunk_index;
            done += f.size;
            continue;
          }
        }
      }
      const std::string media = JoinPath(JoinPath(JoinPath(opts.input, "media"), id), f.name);
      Result<FileStat> stat = env->Stat(media);
      if (!stat.ok()) {
        problems->Add(FileField(r, i) + ": media file " + media + ": " + stat.status().message());
        continue;
      }
      if (stat->size != f.size) {
        problems->Add(FileField(r, i) + ".size: the record says " + std::to_string(f.size) +
                      " bytes, " + media + " has " + std::to_string(stat->size));
        continue;
      }
      seen[media] = true;
      std::optional<IngestedFile> ingested = cache.Lookup(media, *stat);
      if (ingested && !store->GetIndexBytes(ingested->chunk_index).ok()) ingested.reset();
      if (ingested) {
        ++totals->unchanged;
      } else {
        replication::IngestOptions ingest;
        ingest.threads = f.size >= kPipelineMinBytes ? opts.ingest_threads : 1;
        ingest.commit = false;  // one commit for the whole run, below
        const uint64_t base = done;
        if (opts.progress) {
          ingest.progress = [&](uint64_t d, uint64_t) { opts.progress("ingest", base + d, total); };
        }
        TS_ASSIGN_OR_RETURN(replication::IngestResult result,
                            replication::IngestFile(store.get(), env, media, ingest));
        ++totals->read;
        totals->new_chunks += result.new_chunks;
        totals->new_bytes += result.new_stored_bytes;
        ingested = IngestedFile{*stat, result.file_sha256, result.index_id};
        if (result.file_size != stat->size) {
          problems->Add(FileField(r, i) + ": " + media + " changed while it was read");
          continue;
        }
        cache.Put(media, *ingested);
      }
      done += f.size;
      if (opts.progress) opts.progress("ingest", done, total);
      if (ingested->sha256 != f.sha256) {
        problems->Add(FileField(r, i) + ".sha256: the record says " + ToHex(f.sha256) + ", " +
                      media + " has " + ToHex(ingested->sha256));
        continue;
      }
      if (f.chunk_index && *f.chunk_index != ingested->chunk_index) {
        problems->Add(FileField(r, i) + ".chunk_index: the record says " + ToHex(*f.chunk_index) +
                      ", the file's chunk index is " + ToHex(ingested->chunk_index));
        continue;
      }
      f.chunk_index = ingested->chunk_index;
    }
  }
  TS_RETURN_IF_ERROR(store->Commit());
  cache.Retain(seen);
  // The cache only saves work; failing to write it must not fail the publish.
  cache.Save(env, paths.ingest_cache).IgnoreError();
  return Status::Ok();
}

std::string CommitMessage(uint64_t number, const catalogs::CatalogDiff& d, size_t resources,
                          const std::string& message) {
  std::string out = "Release " + catalogs::ReleaseName(number) + ": " + std::to_string(resources) +
                    " resources (" + std::to_string(d.added.size()) + " added, " +
                    std::to_string(d.changed.size()) + " changed, " +
                    std::to_string(d.moved.size()) + " moved, " + std::to_string(d.retired.size()) +
                    " retired)\n";
  if (!message.empty()) out += "\n" + message + "\n";
  return out;
}

// Brings the signed targets in line with the release (step 5) and publishes.
Status SignRelease(Env* env, const HubPaths& paths, const PublishOptions& opts,
                   const std::map<std::string, Resource>& records,
                   const catalogs::ReleaseInfo& release, const catalogs::ReleaseContent& content,
                   PublishReport* report) {
  TS_ASSIGN_OR_RETURN(auto repo, replication::TufRepository::Open(env, paths.tuf));
  const int digits = BinDigits(repo);
  if (digits == 0) {
    return FailedPreconditionError("the hub's TUF repository has no hash-bin delegation");
  }
  // What the targets should be: role -> path -> entry.
  std::map<std::string, std::map<std::string, tuf::TargetFile>> want;
  for (const auto& [id, r] : records) {
    if (!catalogs::IsServed(r)) continue;
    for (const ResourceFile& f : r.files) {
      std::string path = catalogs::TargetPath(r, f, catalogs::RegionTable::Builtin());
      tuf::TargetFile tf;
      tf.length = f.size;
      tf.hashes["sha256"] = ToHex(f.sha256);
      protocol::Json custom = protocol::Json::Object();
      custom.Set("chunk_index", ToHex(*f.chunk_index));
      custom.Set("resource", r.id);
      tf.custom = std::move(custom);
      want[replication::HashBinRole(path, digits)][path] = std::move(tf);
      ++report->served_files;
    }
  }
  TS_ASSIGN_OR_RETURN(const tuf::Targets* top, repo.targets("targets"));
  std::vector<std::string> bins;
  for (const auto& role : top->delegations->roles) bins.push_back(role.name);
  for (const std::string& bin : bins) {
    TS_ASSIGN_OR_RETURN(const tuf::Targets* have, repo.targets(bin));
    const std::map<std::string, tuf::TargetFile> current = have->targets;  // copy: we edit
    const auto& wanted = want[bin];
    for (const auto& [path, tf] : current) {
      if (!wanted.contains(path)) {
        TS_RETURN_IF_ERROR(repo.RemoveTarget(bin, path));
        ++report->targets_removed;
      }
    }
    for (const auto& [path, tf] : wanted) {
      auto it = current.find(path);
      if (it == current.end() || !(it->second == tf)) {
        TS_RETURN_IF_ERROR(repo.AddTargetEntry(bin, path, tf));
        ++report->targets_added;
      }
    }
  }
  protocol::Json custom = protocol::Json::Object();
  custom.Set("release", release.name);
  custom.Set("commit", release.commit);
  custom.Set("resources", static_cast<int64_t>(records.size()));
  TS_RETURN_IF_ERROR(repo.AddTarget("targets", std::string(kCatalogTarget),
                                    AsBytes(content.manifest), std::move(custom)));
  return repo.Publish(opts.keys, opts.now);
}

}  // namespace

Result<PublishReport> Publish(Env* env, const std::string& hub_dir, const PublishOptions& opts) {
  const HubPaths paths(hub_dir);
  TS_ASSIGN_OR_RETURN(auto lock, LockHub(env, paths));
  TS_ASSIGN_OR_RETURN(auto git, catalogs::GitCatalog::Open(paths.catalog));
  PublishReport report;

  // 0. Metadata nearing expiry is renewed first (unchanged bins expire too; and the check
  // below, a real TUF client, would refuse an expired timestamp).
  {
    TS_ASSIGN_OR_RETURN(auto repo, replication::TufRepository::Open(env, paths.tuf));
    TS_ASSIGN_OR_RETURN(report.renewed, repo.RenewExpiring(opts.keys, opts.now));
  }

  // 1. The last signed release, verified against the repository.
  TS_ASSIGN_OR_RETURN(std::optional<SignedRelease> signed_release, ReadSignedRelease(env, paths));
  std::map<std::string, Resource> previous;
  if (signed_release) {
    TS_ASSIGN_OR_RETURN(catalogs::ReleaseContent content,
                        ReadVerifiedRelease(git.get(), *signed_release));
    TS_ASSIGN_OR_RETURN(previous,
                        catalogs::ParseReleaseRecords(content, catalogs::Taxonomy::Builtin(),
                                                      catalogs::RegionTable::Builtin()));
    report.previous = signed_release->release;
  }

  // 2-3. Records and media; nothing is committed if anything is wrong.
  Problems problems;
  TS_ASSIGN_OR_RETURN(auto records,
                      ReadInputRecords(env, opts, previous, report.previous, &problems));
  if (!problems.empty()) return problems.ToStatus();
  IngestTotals totals;
  TS_RETURN_IF_ERROR(IngestMedia(env, paths, opts, previous, &records, &problems, &totals));
  if (!problems.empty()) return problems.ToStatus();
  report.files_read = totals.read;
  report.files_unchanged = totals.unchanged;
  report.new_chunks = totals.new_chunks;
  report.new_bytes = totals.new_bytes;
  report.resources = records.size();
  report.diff = catalogs::DiffCatalogs(previous, records);

  // 4. The catalog commit: make main's tree exactly the desired one.
  std::map<std::string, std::string> desired;
  desired["README.md"] = kReadme;
  for (const auto& [id, r] : records) desired[catalogs::ResourcePath(r)] = EncodeResource(r);
  TS_ASSIGN_OR_RETURN(auto head, git->MainHead());
  std::map<std::string, std::string> current;
  if (head) {
    TS_ASSIGN_OR_RETURN(current, git->ListFiles(head->tree));
  }
  std::vector<catalogs::FileChange> changes;
  for (const auto& [path, content] : desired) {
    TS_ASSIGN_OR_RETURN(std::string blob, catalogs::GitCatalog::BlobId(content));
    auto it = current.find(path);
    if (it == current.end() || it->second != blob) changes.push_back({path, content});
  }
  for (const auto& [path, blob] : current) {
    if (!desired.contains(path)) changes.push_back({path, std::nullopt});
  }
  TS_ASSIGN_OR_RETURN(auto releases, git->Releases());
  const uint64_t next = releases.empty() ? 1 : releases.back().number + 1;
  std::string commit;
  if (head && changes.empty()) {
    commit = head->commit;
  } else {
    TS_ASSIGN_OR_RETURN(catalogs::GitCatalog::Head made,
                        git->Commit(changes, opts.publisher, opts.now,
                                    CommitMessage(next, report.diff, records.size(), opts.message),
                                    head ? head->commit : ""));
    commit = made.commit;
  }
  catalogs::ReleaseInfo release;
  if (!releases.empty() && releases.back().commit == commit) {
    release = releases.back();  // tagged by an earlier (interrupted or complete) run
  } else {
    TS_ASSIGN_OR_RETURN(
        release, git->TagRelease(commit, next, opts.publisher, opts.now,
                                 CommitMessage(next, report.diff, records.size(), opts.message)));
  }
  report.release = release.name;
  report.commit = release.commit;
  desired.clear();  // the records' bytes are in git now; keep peak memory down
  changes.clear();
  // The manifest is rebuilt from what git stored (not from what was meant to be stored).
  TS_ASSIGN_OR_RETURN(catalogs::ReleaseContent content,
                      catalogs::ReadReleaseContent(git.get(), release.tree, /*keep_files=*/false));
  report.content_digest = ToHex(content.digest);
  if (signed_release && signed_release->release == release.name) {
    return report;  // the input is what is signed already
  }

  // 5. Signed metadata.
  TS_RETURN_IF_ERROR(SignRelease(env, paths, opts, records, release, content, &report));
  report.published = true;
  return report;
}

}  // namespace tiersync::hub
