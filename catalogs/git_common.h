// Internal helpers shared by the libgit2 users (catalogs/git_*.cc only; never include this
// header elsewhere): one-time libgit2 set-up, libgit2 errors as Status, owning pointers for
// libgit2 objects, opening a bare repository, object ids as hex.
//
// EnsureLibgit2() must run before any other libgit2 call; it is idempotent and thread-safe and
// sets the process-wide options every user relies on (fsync of everything libgit2 writes, strict
// hash verification of objects read).
#ifndef TIERSYNC_CATALOGS_GIT_COMMON_H_
#define TIERSYNC_CATALOGS_GIT_COMMON_H_

#include <git2.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tiersync::catalogs::git_internal {

inline void EnsureLibgit2() {
  static std::once_flag once;
  std::call_once(once, [] {
    git_libgit2_init();
    git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
  });
}

// "git: <what>: <libgit2's message>", with the code mapped as GitCatalog maps it.
inline Status GitError(const std::string& what, int rc) {
  const git_error* e = git_error_last();
  std::string detail = e != nullptr && e->message != nullptr ? e->message : "error";
  std::string message = "git: " + what + ": " + detail;
  if (rc == GIT_ENOTFOUND) return NotFoundError(message);
  if (rc == GIT_EEXISTS) return AlreadyExistsError(message);
  if (rc == GIT_ELOCKED || rc == GIT_EMODIFIED) return FailedPreconditionError(message);
  return IOError(message);
}

template <typename T, void (*Free)(T*)>
struct GitFree {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using GitPtr = std::unique_ptr<T, GitFree<T, Free>>;

using RepoPtr = GitPtr<git_repository, git_repository_free>;
using OdbPtr = GitPtr<git_odb, git_odb_free>;
using ObjectPtr = GitPtr<git_object, git_object_free>;
using RefPtr = GitPtr<git_reference, git_reference_free>;
using RemotePtr = GitPtr<git_remote, git_remote_free>;
using WalkPtr = GitPtr<git_revwalk, git_revwalk_free>;
using PackBuilderPtr = GitPtr<git_packbuilder, git_packbuilder_free>;
using TreePtr = GitPtr<git_tree, git_tree_free>;
using CommitPtr = GitPtr<git_commit, git_commit_free>;
using TagPtr = GitPtr<git_tag, git_tag_free>;
using BlobPtr = GitPtr<git_blob, git_blob_free>;
using SigPtr = GitPtr<git_signature, git_signature_free>;
using BuilderPtr = GitPtr<git_treebuilder, git_treebuilder_free>;

inline std::string Hex(const git_oid* oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, oid);
  return buf;
}

// The bare repository at `dir`.
inline Result<RepoPtr> OpenRepo(const std::string& dir) {
  EnsureLibgit2();
  git_repository* repo = nullptr;
  int rc = git_repository_open_bare(&repo, dir.c_str());
  if (rc < 0) return GitError("open " + dir, rc);
  return RepoPtr(repo);
}

// Exactly 40 hex digits.
inline std::optional<git_oid> ParseHexOid(std::string_view hex) {
  git_oid oid;
  if (hex.size() != GIT_OID_HEXSZ || git_oid_fromstrn(&oid, hex.data(), hex.size()) < 0) {
    return std::nullopt;
  }
  return oid;
}

}  // namespace tiersync::catalogs::git_internal

// Returns GitError(what, rc) from the enclosing function if `expr` (a libgit2 call) failed.
#define TS_GIT_CALL(expr, what)                                                                \
  do {                                                                                         \
    int ts_git_rc_ = (expr);                                                                   \
    if (ts_git_rc_ < 0) return ::tiersync::catalogs::git_internal::GitError(what, ts_git_rc_); \
  } while (0)

#endif  // TIERSYNC_CATALOGS_GIT_COMMON_H_
