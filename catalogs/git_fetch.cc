#include "catalogs/git_fetch.h"

#include <git2.h>

#include <algorithm>
#include <vector>

#include "base/bytes.h"
#include "base/env.h"
#include "catalogs/git_common.h"
#include "catalogs/git_pkt_line.h"

namespace tiersync::catalogs {
namespace {

using git_internal::Hex;
using git_internal::OdbPtr;
using git_internal::OpenRepo;
using git_internal::RefPtr;
using git_internal::RepoPtr;

constexpr char kQuarantine[] = "tiersync-quarantine";
constexpr char kAgent[] = "agent=tiersync/0.1";
constexpr char kRequestType[] = "application/x-git-upload-pack-request";

std::string QuarantineRoot(const std::string& repo_dir) { return repo_dir + "/" + kQuarantine; }

Result<OdbPtr> Odb(git_repository* repo) {
  git_odb* odb = nullptr;
  TS_GIT_CALL(git_repository_odb(&odb, repo), "object database");
  return OdbPtr(odb);
}

// A libgit2 failure while handling a source's bytes: this machine's when the OS refused
// something, else the bytes' (the source lied).
Status IndexError(const std::string& what) {
  const git_error* e = git_error_last();
  const std::string message =
      "git: " + what + ": " + (e != nullptr && e->message != nullptr ? e->message : "error");
  if (e != nullptr && (e->klass == GIT_ERROR_OS || e->klass == GIT_ERROR_FILESYSTEM ||
                       e->klass == GIT_ERROR_NOMEMORY)) {
    return IOError(message).AsLocal();
  }
  return VerificationError(message).AsRemote();
}

// The commits of the newest `max` release tags here (all of them verified before they were
// made), newest first.
Result<std::vector<std::string>> LocalReleaseCommits(const std::string& repo_dir, size_t max) {
  TS_ASSIGN_OR_RETURN(auto git, GitCatalog::Open(repo_dir));
  TS_ASSIGN_OR_RETURN(std::vector<ReleaseInfo> releases, git->Releases());
  std::vector<std::string> commits;
  for (auto it = releases.rbegin(); it != releases.rend() && commits.size() < max; ++it) {
    commits.push_back(it->commit);
  }
  return commits;
}

// Indexes `pack` into `pack_dir`, resolving thin-pack bases from `odb`.
Status IndexPack(git_odb* odb, const std::string& pack_dir, std::span<const uint8_t> pack) {
  git_indexer_options opts;
  TS_GIT_CALL(git_indexer_options_init(&opts, GIT_INDEXER_OPTIONS_VERSION), "indexer options");
  opts.verify = 1;  // connectivity: every object the pack's objects name is in it or here
  git_indexer* indexer = nullptr;
  if (git_indexer_new(&indexer, pack_dir.c_str(), 0, odb, &opts) < 0) {
    return IndexError("index the pack").AsLocal();
  }
  std::unique_ptr<git_indexer, void (*)(git_indexer*)> owner(indexer, git_indexer_free);
  git_indexer_progress progress{};
  if (git_indexer_append(indexer, pack.data(), pack.size(), &progress) < 0 ||
      git_indexer_commit(indexer, &progress) < 0) {
    return IndexError("index the pack");
  }
  return Status::Ok();
}

// Moves every pack, then every index, from `from` to `to`, then syncs `to`.
Status MovePacks(Env* env, const std::string& from, const std::string& to) {
  TS_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(from));
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return std::make_pair(!a.ends_with(".pack"), a) < std::make_pair(!b.ends_with(".pack"), b);
  });
  TS_RETURN_IF_ERROR(CreateDirs(env, to));
  for (const std::string& name : names) {
    if (!name.ends_with(".pack") && !name.ends_with(".idx")) continue;
    TS_RETURN_IF_ERROR(env->RenameFile(from + "/" + name, to + "/" + name));
  }
  return env->SyncDir(to);
}

// Points refs/heads/main at the commit of the highest release, if it is not there.
Status UpdateMain(const std::string& repo_dir, git_repository* repo) {
  TS_ASSIGN_OR_RETURN(auto git, GitCatalog::Open(repo_dir));
  TS_ASSIGN_OR_RETURN(std::vector<ReleaseInfo> releases, git->Releases());
  if (releases.empty()) return Status::Ok();
  const git_oid commit = *git_internal::ParseHexOid(releases.back().commit);
  git_oid main;
  if (git_reference_name_to_id(&main, repo, "refs/heads/main") == 0 &&
      git_oid_equal(&main, &commit)) {
    return Status::Ok();
  }
  git_reference* ref = nullptr;
  TS_GIT_CALL(git_reference_create(&ref, repo, "refs/heads/main", &commit, /*force=*/1,
                                   ("tiersync: " + releases.back().name).c_str()),
              "move main");
  git_reference_free(ref);
  return Status::Ok();
}

// Creates refs/tags/<release> at q.tag, unless a tag of that name verifies already.
Status PromoteTag(const std::string& repo_dir, git_repository* repo, const QuarantinedRelease& q,
                  const SignedRelease& signed_release) {
  const std::string name = "refs/tags/" + q.release;
  const git_oid tag = *git_internal::ParseHexOid(q.tag);
  const std::string log = "tiersync: verified release " + q.release;
  git_oid existing;
  const int rc = git_reference_name_to_id(&existing, repo, name.c_str());
  git_reference* ref = nullptr;
  if (rc == GIT_ENOTFOUND) {
    TS_GIT_CALL(git_reference_create(&ref, repo, name.c_str(), &tag, 0, log.c_str()),
                "create " + name);
    git_reference_free(ref);
    return Status::Ok();
  }
  TS_GIT_CALL(rc, "read " + name);
  if (git_oid_equal(&existing, &tag)) return Status::Ok();
  TS_ASSIGN_OR_RETURN(auto git, GitCatalog::Open(repo_dir));
  Result<ReleaseContent> held = ReadVerifiedRelease(git.get(), signed_release, false);
  if (held.ok()) return Status::Ok();  // the verified tag stays
  if (held.status().code() != StatusCode::kVerificationFailed &&
      held.status().code() != StatusCode::kNotFound) {
    return held.status();
  }
  TS_GIT_CALL(git_reference_create_matching(&ref, repo, name.c_str(), &tag, 1, &existing,
                                            (log + ", replacing one that does not verify").c_str()),
              "replace " + name);
  git_reference_free(ref);
  return Status::Ok();
}

Result<RepoPtr> OpenOrInit(const std::string& dir) {
  Result<RepoPtr> repo = OpenRepo(dir);
  if (repo.ok() || repo.status().code() != StatusCode::kNotFound) return repo;
  TS_RETURN_IF_ERROR(GitCatalog::Init(dir));
  return OpenRepo(dir);
}

// The pack for `tag_hex` from `url`, into a new quarantine; fills q's objects_dir and stats.
Status FetchPack(const std::string& repo_dir, git_repository* repo, const std::string& url,
                 const std::string& caps, Fetcher* fetcher, const FetchLimits& limits,
                 QuarantinedRelease* q) {
  TS_ASSIGN_OR_RETURN(std::vector<std::string> haves,
                      LocalReleaseCommits(repo_dir, limits.max_haves));
  const std::string request = EncodeUploadRequest({q->tag}, caps, haves);
  TS_ASSIGN_OR_RETURN(std::vector<uint8_t> result,
                      fetcher->Post(url + "/git-upload-pack", kRequestType, AsBytes(request),
                                    limits.max_pack_bytes));
  q->stats.received_bytes += result.size();
  Result<std::string_view> pack = PackOfUploadResult(AsChars(result));
  if (!pack.ok()) return UnavailableError(pack.status().message()).AsRemote();
  Result<PackSummary> summary = ScanPack(AsBytes(*pack), limits.pack);
  if (!summary.ok()) return summary.status().AsRemote();
  q->stats.received_objects = summary->objects;
  Env* env = Env::Default();
  const std::string dir = QuarantineRoot(repo_dir) + "/" + q->release;
  TS_RETURN_IF_ERROR(CreateDirs(env, dir + "/pack"));
  q->objects_dir = dir;
  TS_ASSIGN_OR_RETURN(OdbPtr odb, Odb(repo));
  TS_RETURN_IF_ERROR(IndexPack(odb.get(), dir + "/pack", AsBytes(*pack)));
  TS_GIT_CALL(git_odb_add_disk_alternate(odb.get(), dir.c_str()), "read " + dir);
  const git_oid tag = *git_internal::ParseHexOid(q->tag);
  if (!git_odb_exists(odb.get(), &tag)) {
    return VerificationError("git: the pack lacks the tag it was asked for, " + q->tag).AsRemote();
  }
  return Status::Ok();
}

}  // namespace

Result<QuarantinedRelease> FetchRelease(const std::string& repo_dir, const std::string& url,
                                        const std::string& release, Fetcher* fetcher,
                                        const FetchLimits& limits) {
  if (!ReleaseNumber(release)) {
    return InvalidArgumentError("git: fetch: \"" + release + "\" is not a release name");
  }
  Result<RepoPtr> opened = OpenOrInit(repo_dir);
  if (!opened.ok()) return opened.status().AsLocal();
  RepoPtr repo = std::move(opened).value();
  // Leftovers of an earlier fetch that crashed or was not promoted.
  TS_RETURN_IF_ERROR(RemoveTree(Env::Default(), QuarantineRoot(repo_dir)));

  QuarantinedRelease q;
  q.release = release;
  TS_ASSIGN_OR_RETURN(
      std::vector<uint8_t> body,
      fetcher->Fetch(url + "/info/refs?service=git-upload-pack", limits.max_advertisement_bytes));
  q.stats.received_bytes = body.size();
  Result<Advertisement> ad = ParseAdvertisement(AsChars(body));
  if (!ad.ok()) return UnavailableError(ad.status().message()).AsRemote();
  auto tag = ad->refs.find("refs/tags/" + release);
  if (tag == ad->refs.end()) {
    return NotFoundError("git: " + url + " does not offer release " + release).AsRemote();
  }
  q.tag = tag->second;
  TS_ASSIGN_OR_RETURN(OdbPtr odb, Odb(repo.get()));
  const git_oid tag_id = *git_internal::ParseHexOid(q.tag);
  if (git_odb_exists(odb.get(), &tag_id)) return q;  // every object is here already
  std::string caps = kAgent;
  if (ad->capabilities.contains("ofs-delta")) caps = "ofs-delta " + caps;
  Status fetched = FetchPack(repo_dir, repo.get(), url, caps, fetcher, limits, &q);
  if (!fetched.ok()) {
    if (!q.objects_dir.empty()) DiscardQuarantine(q).IgnoreError();
    return fetched;
  }
  return q;
}

Result<ReleaseContent> VerifyQuarantinedRelease(const std::string& repo_dir,
                                                const QuarantinedRelease& q,
                                                const SignedRelease& signed_release,
                                                const ReleaseLimits& limits) {
  if (signed_release.release != q.release) {
    return InvalidArgumentError("git: quarantined " + q.release + " checked against " +
                                signed_release.release);
  }
  Result<std::unique_ptr<GitCatalog>> git = GitCatalog::Open(repo_dir);
  if (!git.ok()) return git.status().AsLocal();
  if (!q.objects_dir.empty()) {
    if (Status s = (*git)->AddObjectDir(q.objects_dir); !s.ok()) return s.AsLocal();
  }
  ReleaseReadOptions options;
  options.tag = q.tag;
  options.keep_files = false;
  options.limits = limits;
  Result<ReleaseContent> content = ReadVerifiedRelease(git->get(), signed_release, options);
  if (content.ok()) return content;
  const Status& s = content.status();
  if (s.code() == StatusCode::kVerificationFailed) return s.AsRemote();
  // Objects the release needs are missing: the source's pack lacked them.
  if (s.code() == StatusCode::kNotFound) return VerificationError(s.message()).AsRemote();
  return s.AsLocal();
}

Status PromoteRelease(const std::string& repo_dir, const QuarantinedRelease& q,
                      const SignedRelease& signed_release) {
  Env* env = Env::Default();
  if (!q.objects_dir.empty()) {
    Status moved = MovePacks(env, q.objects_dir + "/pack", repo_dir + "/objects/pack");
    if (!moved.ok()) return moved.AsLocal();
  }
  Result<RepoPtr> repo = OpenRepo(repo_dir);
  if (!repo.ok()) return repo.status().AsLocal();
  Status s = PromoteTag(repo_dir, repo->get(), q, signed_release);
  if (s.ok()) s = UpdateMain(repo_dir, repo->get());
  if (!s.ok()) return s.AsLocal();
  return DiscardQuarantine(q);
}

Status DiscardQuarantine(const QuarantinedRelease& q) {
  if (q.objects_dir.empty()) return Status::Ok();
  Status s = RemoveTree(Env::Default(), q.objects_dir);
  return s.ok() ? s : s.AsLocal();
}

Result<FetchedRelease> FetchVerifiedRelease(const std::string& repo_dir, const std::string& url,
                                            const SignedRelease& signed_release, Fetcher* fetcher,
                                            const FetchLimits& limits) {
  Result<QuarantinedRelease> q =
      FetchRelease(repo_dir, url, signed_release.release, fetcher, limits);
  if (!q.ok()) return q.status().WithContext(url);
  Result<ReleaseContent> content =
      VerifyQuarantinedRelease(repo_dir, *q, signed_release, limits.release);
  Status s = content.status();
  if (s.ok()) s = PromoteRelease(repo_dir, *q, signed_release);
  if (!s.ok()) {
    DiscardQuarantine(*q).IgnoreError();
    return s.WithContext(url);
  }
  FetchedRelease fetched;
  static_cast<FetchStats&>(fetched) = q->stats;
  fetched.content = std::move(content).value();
  return fetched;
}

}  // namespace tiersync::catalogs
