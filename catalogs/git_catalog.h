// GitCatalog: the catalog's git repository, through libgit2 (the only libgit2 user in the
// project is catalogs/git_*.cc).
//
// The repository is bare: releases are read straight from git objects, never from a working
// tree. History is one branch, refs/heads/main; each release is an annotated tag r<N>
// (r1, r2, ...) on a commit of main, whose tagger is the publisher. Other tags are ignored.
// Stock git can clone the repository and show its log.
//
// Durability: Commit() writes the new objects (only those) into one pack file (libgit2's
// in-memory backend, a revision walk, the packer and the indexer), with libgit2's fsync option
// on, before it moves the branch; refs are written with lock files and renamed. A crash leaves the
// branch at the old or the new commit, never at a commit whose objects are missing.
//
// Trust: git's SHA-1 names objects here but is never what tiersync trusts — the signed
// metadata carries the SHA-256 of each release's content (catalogs/catalog_manifest.h).
//
// One GitCatalog per thread; a process may open the same repository several times.
#ifndef TIERSYNC_CATALOGS_GIT_CATALOG_H_
#define TIERSYNC_CATALOGS_GIT_CATALOG_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tiersync::catalogs {

// Who did something: a publisher (commit author and tagger).
struct Identity {
  std::string name;   // e.g. 教育部教育技术与资源发展中心
  std::string email;  // e.g. publisher@hub.example.edu.cn
};

struct ReleaseInfo {
  std::string name;     // r<N>
  uint64_t number = 0;  // N
  std::string commit;   // hex object id of the tagged commit
  std::string tree;     // hex object id of its tree
  Identity tagger;
  int64_t time = 0;     // tagger time, seconds since the epoch
  std::string message;  // the tag message
};

// One change to the tree: content set for an upsert, nullopt to remove the path.
struct FileChange {
  std::string path;
  std::optional<std::string> content;
};

// Caps on reading a tree and its files (a repository fetched from a source may be a git bomb:
// nested trees, huge trees, huge blobs). Exceeding one is kVerificationFailed naming it.
struct ReleaseLimits {
  size_t max_depth = 16;                  // nested trees (a catalog has 3: resources/<origin>/<xx>)
  size_t max_tree_entries = 100'000;      // in one tree
  uint64_t max_tree_bytes = 16 << 20;     // one tree object
  size_t max_files = 1'000'000;           // in all (the manifest cap allows about 600,000)
  uint64_t max_file_bytes = 1 << 20;      // one file (a record is at most 64 KiB)
  uint64_t max_total_bytes = 2ull << 30;  // all files of a release together
};

// Returns "r<number>".
std::string ReleaseName(uint64_t number);
// The N of "r<N>" (N a positive decimal without leading zeros); nullopt for any other name.
std::optional<uint64_t> ReleaseNumber(std::string_view name);

class GitCatalog {
 public:
  ~GitCatalog();
  GitCatalog(const GitCatalog&) = delete;
  GitCatalog& operator=(const GitCatalog&) = delete;

  // Creates an empty bare repository in `dir` (HEAD -> refs/heads/main).
  // kAlreadyExists if `dir` already holds a repository.
  static Status Init(const std::string& dir);
  // kNotFound if `dir` is not a git repository.
  static Result<std::unique_ptr<GitCatalog>> Open(const std::string& dir);

  // The releases (annotated tags r<N>), by number. Lightweight or other tags are skipped.
  Result<std::vector<ReleaseInfo>> Releases();
  // kNotFound if there is no release `name`.
  Result<ReleaseInfo> FindRelease(const std::string& name);

  // The commit and tree main points at; nullopt for an empty repository.
  struct Head {
    std::string commit;
    std::string tree;
  };
  Result<std::optional<Head>> MainHead();

  // The annotated release tag `ref_or_id` (a ref name such as "refs/tags/r3", or a tag
  // object's hex id) read as release `name`. kNotFound if it is missing or not an annotated
  // tag of a commit; kVerificationFailed if the tag object names another release.
  Result<ReleaseInfo> ReadReleaseTag(const std::string& ref_or_id, const std::string& name);

  // Also reads objects from `objects_dir` (an objects directory outside the repository, e.g.
  // a fetch's quarantine; git_odb_add_disk_alternate) for as long as this object lives.
  Status AddObjectDir(const std::string& objects_dir);

  // Every file (blob) of a tree, path -> hex blob id, without reading the blobs. Walks the
  // trees iteratively within `limits` (depth, entries per tree and in all, tree size: checked
  // from the object's header before a tree is read); kVerificationFailed naming the cap.
  Result<std::map<std::string, std::string>> ListFiles(const std::string& tree,
                                                       const ReleaseLimits& limits = {});
  // A blob's bytes. kNotFound if absent; kVerificationFailed if it is over `max_bytes`
  // (checked from the object's header before it is read).
  Result<std::string> ReadBlob(const std::string& blob,
                               uint64_t max_bytes = ReleaseLimits().max_file_bytes);
  // The hex id git gives `content` as a blob (whether or not it is stored).
  static Result<std::string> BlobId(const std::string& content);

  // Commits `changes` on top of main (or as the first commit) with `who` as author and
  // committer at `time` (seconds since the epoch), and moves main to it. Returns the new
  // commit and tree. kFailedPrecondition if main moved since `expected_parent` (pass the
  // commit MainHead() returned; empty for a first commit).
  Result<Head> Commit(const std::vector<FileChange>& changes, const Identity& who, int64_t time,
                      const std::string& message, const std::string& expected_parent);

  // Tags `commit` as release `number` (annotated tag r<number> by `who`). kAlreadyExists if
  // that release exists.
  Result<ReleaseInfo> TagRelease(const std::string& commit, uint64_t number, const Identity& who,
                                 int64_t time, const std::string& message);

 private:
  struct Impl;
  explicit GitCatalog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tiersync::catalogs

#endif  // TIERSYNC_CATALOGS_GIT_CATALOG_H_
