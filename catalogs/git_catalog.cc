#include "catalogs/git_catalog.h"

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include <algorithm>
#include <charconv>
#include <mutex>

#include "catalogs/git_common.h"

namespace tiersync::catalogs {
namespace {

constexpr char kMainRef[] = "refs/heads/main";

using namespace git_internal;  // NOLINT: this file is one of the libgit2 users

Result<git_oid> ParseOid(const std::string& hex) {
  std::optional<git_oid> oid = ParseHexOid(hex);
  if (!oid) return InvalidArgumentError("git: \"" + hex + "\" is not an object id");
  return *oid;
}

Result<SigPtr> Signature(const Identity& who, int64_t time) {
  git_signature* sig = nullptr;
  TS_GIT_CALL(git_signature_new(&sig, who.name.c_str(), who.email.c_str(), time, 0), "signature");
  return SigPtr(sig);
}

}  // namespace

std::string ReleaseName(uint64_t number) { return "r" + std::to_string(number); }

std::optional<uint64_t> ReleaseNumber(std::string_view name) {
  if (name.size() < 2 || name[0] != 'r' || name[1] == '0') return std::nullopt;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(name.data() + 1, name.data() + name.size(), n);
  if (ec != std::errc() || end != name.data() + name.size()) return std::nullopt;
  return n;
}

struct GitCatalog::Impl {
  std::string dir;
  RepoPtr repo;

  Result<ReleaseInfo> ReadTag(const std::string& name, uint64_t number) {
    git_reference* ref = nullptr;
    std::string refname = "refs/tags/" + name;
    TS_GIT_CALL(git_reference_lookup(&ref, repo.get(), refname.c_str()), "release " + name);
    RefPtr ref_owner(ref);
    const git_oid* target_id = git_reference_target(ref);
    if (target_id == nullptr) return NotFoundError("release " + name + " is a symbolic ref");
    return ReadTagObject(*target_id, name, number, /*check_name=*/false);
  }

  // The annotated tag `id` as release `name`; with check_name, the tag object must say so.
  Result<ReleaseInfo> ReadTagObject(const git_oid& id, const std::string& name, uint64_t number,
                                    bool check_name) {
    git_object* obj = nullptr;
    TS_GIT_CALL(git_object_lookup(&obj, repo.get(), &id, GIT_OBJECT_ANY), "release " + name);
    ObjectPtr obj_owner(obj);
    if (git_object_type(obj) != GIT_OBJECT_TAG) {
      return NotFoundError("release " + name + " is a lightweight tag, not a release");
    }
    auto* tag = reinterpret_cast<git_tag*>(obj);
    if (check_name && name != git_tag_name(tag)) {
      return VerificationError("git: tag object " + Hex(&id) + " is release \"" +
                               git_tag_name(tag) + "\", not " + name);
    }
    ReleaseInfo info;
    info.name = name;
    info.number = number;
    if (const git_signature* t = git_tag_tagger(tag)) {
      info.tagger = {t->name, t->email};
      info.time = t->when.time;
    }
    info.message = git_tag_message(tag) != nullptr ? git_tag_message(tag) : "";
    git_object* target = nullptr;
    TS_GIT_CALL(git_tag_peel(&target, tag), "release " + name + " target");
    ObjectPtr target_owner(target);
    if (git_object_type(target) != GIT_OBJECT_COMMIT) {
      return NotFoundError("release " + name + " does not tag a commit");
    }
    auto* commit = reinterpret_cast<git_commit*>(target);
    info.commit = Hex(git_commit_id(commit));
    info.tree = Hex(git_commit_tree_id(commit));
    return info;
  }

  // kVerificationFailed if object `id` (of `type`) is over `max_bytes`, read from its header.
  Status CheckSize(const git_oid& id, git_object_t type, uint64_t max_bytes,
                   const std::string& what) {
    git_odb* odb_raw = nullptr;
    TS_GIT_CALL(git_repository_odb(&odb_raw, repo.get()), "object database");
    OdbPtr odb(odb_raw);
    size_t size = 0;
    git_object_t found = GIT_OBJECT_INVALID;
    TS_GIT_CALL(git_odb_read_header(&size, &found, odb.get(), &id), "read " + what);
    if (found != type) {
      return VerificationError("git: " + what + " is a " + git_object_type2string(found) +
                               ", not a " + git_object_type2string(type));
    }
    if (size > max_bytes) {
      return VerificationError("git: " + what + " has " + std::to_string(size) +
                               " bytes, over the cap of " + std::to_string(max_bytes));
    }
    return Status::Ok();
  }
};

GitCatalog::GitCatalog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GitCatalog::~GitCatalog() = default;

Status GitCatalog::Init(const std::string& dir) {
  EnsureLibgit2();
  git_repository* existing = nullptr;
  if (git_repository_open_bare(&existing, dir.c_str()) == 0) {
    git_repository_free(existing);
    return AlreadyExistsError("git: " + dir + " already holds a repository");
  }
  git_repository_init_options opts;
  TS_GIT_CALL(git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION), "init");
  opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
  opts.initial_head = "main";
  opts.description = "tiersync catalog: one JSON record per resource; releases are tags r<N>";
  git_repository* repo = nullptr;
  TS_GIT_CALL(git_repository_init_ext(&repo, dir.c_str(), &opts), "init " + dir);
  git_repository_free(repo);
  return Status::Ok();
}

Result<std::unique_ptr<GitCatalog>> GitCatalog::Open(const std::string& dir) {
  EnsureLibgit2();
  git_repository* repo = nullptr;
  TS_GIT_CALL(git_repository_open_bare(&repo, dir.c_str()), "open " + dir);
  auto impl = std::make_unique<Impl>();
  impl->repo.reset(repo);
  impl->dir = dir;
  return std::unique_ptr<GitCatalog>(new GitCatalog(std::move(impl)));
}

Result<std::vector<ReleaseInfo>> GitCatalog::Releases() {
  git_strarray names = {nullptr, 0};
  TS_GIT_CALL(git_tag_list_match(&names, "r*", impl_->repo.get()), "list tags");
  std::vector<std::pair<uint64_t, std::string>> found;
  for (size_t i = 0; i < names.count; ++i) {
    if (auto n = ReleaseNumber(names.strings[i])) found.emplace_back(*n, names.strings[i]);
  }
  git_strarray_dispose(&names);
  std::sort(found.begin(), found.end());
  std::vector<ReleaseInfo> out;
  for (const auto& [number, name] : found) {
    Result<ReleaseInfo> info = impl_->ReadTag(name, number);
    if (!info.ok() && info.status().code() == StatusCode::kNotFound) continue;  // lightweight
    TS_RETURN_IF_ERROR(info.status());
    out.push_back(std::move(info).value());
  }
  return out;
}

Result<ReleaseInfo> GitCatalog::FindRelease(const std::string& name) {
  std::optional<uint64_t> n = ReleaseNumber(name);
  if (!n) return NotFoundError("\"" + name + "\" is not a release name (r1, r2, ...)");
  return impl_->ReadTag(name, *n);
}

Result<std::optional<GitCatalog::Head>> GitCatalog::MainHead() {
  git_oid oid;
  int rc = git_reference_name_to_id(&oid, impl_->repo.get(), kMainRef);
  if (rc == GIT_ENOTFOUND) return std::optional<Head>();
  TS_GIT_CALL(rc, "resolve main");
  git_commit* commit = nullptr;
  TS_GIT_CALL(git_commit_lookup(&commit, impl_->repo.get(), &oid), "read main");
  CommitPtr owner(commit);
  return std::optional<Head>(Head{Hex(&oid), Hex(git_commit_tree_id(commit))});
}

Result<ReleaseInfo> GitCatalog::ReadReleaseTag(const std::string& ref_or_id,
                                               const std::string& name) {
  std::optional<uint64_t> n = ReleaseNumber(name);
  if (!n) return NotFoundError("\"" + name + "\" is not a release name (r1, r2, ...)");
  std::optional<git_oid> id = ParseHexOid(ref_or_id);
  if (!id) {
    git_oid resolved;
    TS_GIT_CALL(git_reference_name_to_id(&resolved, impl_->repo.get(), ref_or_id.c_str()),
                "release " + name + " at " + ref_or_id);
    id = resolved;
  }
  return impl_->ReadTagObject(*id, name, *n, /*check_name=*/true);
}

Status GitCatalog::AddObjectDir(const std::string& objects_dir) {
  git_odb* odb_raw = nullptr;
  TS_GIT_CALL(git_repository_odb(&odb_raw, impl_->repo.get()), "object database");
  OdbPtr odb(odb_raw);
  TS_GIT_CALL(git_odb_add_disk_alternate(odb.get(), objects_dir.c_str()),
              "add objects " + objects_dir);
  return Status::Ok();
}

Result<std::map<std::string, std::string>> GitCatalog::ListFiles(const std::string& tree_hex,
                                                                 const ReleaseLimits& limits) {
  TS_ASSIGN_OR_RETURN(git_oid root, ParseOid(tree_hex));
  struct Pending {
    git_oid id;
    std::string prefix;  // "" or "dir/sub/"
    size_t depth;        // 0 for the root
  };
  std::vector<Pending> pending = {{root, "", 0}};
  std::map<std::string, std::string> files;
  while (!pending.empty()) {
    Pending p = std::move(pending.back());
    pending.pop_back();
    const std::string what = "tree " + tree_hex + (p.prefix.empty() ? "" : " at " + p.prefix);
    if (p.depth > limits.max_depth) {
      return VerificationError("git: " + what + ": trees nested deeper than " +
                               std::to_string(limits.max_depth));
    }
    TS_RETURN_IF_ERROR(impl_->CheckSize(p.id, GIT_OBJECT_TREE, limits.max_tree_bytes, what));
    git_tree* tree = nullptr;
    TS_GIT_CALL(git_tree_lookup(&tree, impl_->repo.get(), &p.id), "read " + what);
    TreePtr owner(tree);
    const size_t count = git_tree_entrycount(tree);
    if (count > limits.max_tree_entries) {
      return VerificationError("git: " + what + " has " + std::to_string(count) +
                               " entries, over the cap of " +
                               std::to_string(limits.max_tree_entries));
    }
    for (size_t i = 0; i < count; ++i) {
      const git_tree_entry* entry = git_tree_entry_byindex(tree, i);
      const std::string path = p.prefix + git_tree_entry_name(entry);
      if (git_tree_entry_type(entry) == GIT_OBJECT_TREE) {
        pending.push_back({*git_tree_entry_id(entry), path + "/", p.depth + 1});
      } else if (git_tree_entry_type(entry) == GIT_OBJECT_BLOB) {
        files[path] = Hex(git_tree_entry_id(entry));
        if (files.size() > limits.max_files) {
          return VerificationError("git: tree " + tree_hex + " has more than " +
                                   std::to_string(limits.max_files) + " files");
        }
      }
    }
  }
  return files;
}

Result<std::string> GitCatalog::ReadBlob(const std::string& blob_hex, uint64_t max_bytes) {
  TS_ASSIGN_OR_RETURN(git_oid oid, ParseOid(blob_hex));
  TS_RETURN_IF_ERROR(impl_->CheckSize(oid, GIT_OBJECT_BLOB, max_bytes, "blob " + blob_hex));
  git_blob* blob = nullptr;
  TS_GIT_CALL(git_blob_lookup(&blob, impl_->repo.get(), &oid), "read blob " + blob_hex);
  BlobPtr owner(blob);
  const char* data = static_cast<const char*>(git_blob_rawcontent(blob));
  return std::string(data, static_cast<size_t>(git_blob_rawsize(blob)));
}

Result<std::string> GitCatalog::BlobId(const std::string& content) {
  EnsureLibgit2();
  git_oid oid;
  TS_GIT_CALL(git_odb_hash(&oid, content.data(), content.size(), GIT_OBJECT_BLOB), "hash blob");
  return Hex(&oid);
}

Result<GitCatalog::Head> GitCatalog::Commit(const std::vector<FileChange>& changes,
                                            const Identity& who, int64_t time,
                                            const std::string& message,
                                            const std::string& expected_parent) {
  TS_ASSIGN_OR_RETURN(std::optional<Head> head, MainHead());
  std::string parent_hex = head ? head->commit : "";
  if (parent_hex != expected_parent) {
    return FailedPreconditionError("git: main moved to " + parent_hex + " (expected " +
                                   expected_parent + "); another publish ran");
  }

  // A repository handle of its own: the in-memory backend below must not outlive this commit
  // in the object database the other methods read through.
  git_repository* repo_raw = nullptr;
  TS_GIT_CALL(git_repository_open_bare(&repo_raw, impl_->dir.c_str()), "open " + impl_->dir);
  RepoPtr repo_owner(repo_raw);
  git_repository* repo = repo_raw;
  git_odb* odb_raw = nullptr;
  TS_GIT_CALL(git_repository_odb(&odb_raw, repo), "open object database");
  OdbPtr odb(odb_raw);
  // New objects collect in memory and reach disk as one pack (one fsync instead of one per
  // loose object). The odb owns the backend once added.
  git_odb_backend* mempack = nullptr;
  TS_GIT_CALL(git_mempack_new(&mempack), "mempack");
  if (int rc = git_odb_add_backend(odb.get(), mempack, 1000); rc < 0) {
    mempack->free(mempack);
    return GitError("add mempack", rc);
  }
  // Whatever happens below, the in-memory objects are dropped at the end (after the pack is
  // written they are on disk; after a failure they are discarded, which undoes the attempt).
  struct Reset {
    git_odb_backend* b;
    ~Reset() { git_mempack_reset(b); }
  } reset{mempack};

  CommitPtr parent;
  TreePtr baseline;
  if (head) {
    TS_ASSIGN_OR_RETURN(git_oid parent_oid, ParseOid(head->commit));
    git_commit* c = nullptr;
    TS_GIT_CALL(git_commit_lookup(&c, repo, &parent_oid), "read main");
    parent.reset(c);
    git_tree* t = nullptr;
    TS_GIT_CALL(git_commit_tree(&t, c), "read main's tree");
    baseline.reset(t);
  } else {
    git_treebuilder* b = nullptr;
    TS_GIT_CALL(git_treebuilder_new(&b, repo, nullptr), "tree builder");
    BuilderPtr builder(b);
    git_oid empty;
    TS_GIT_CALL(git_treebuilder_write(&empty, b), "empty tree");
    git_tree* t = nullptr;
    TS_GIT_CALL(git_tree_lookup(&t, repo, &empty), "empty tree");
    baseline.reset(t);
  }

  std::vector<git_tree_update> updates;
  updates.reserve(changes.size());
  for (const FileChange& change : changes) {
    git_tree_update u{};
    u.path = change.path.c_str();
    if (change.content) {
      u.action = GIT_TREE_UPDATE_UPSERT;
      u.filemode = GIT_FILEMODE_BLOB;
      // Straight into the in-memory backend: the object database's write path would first
      // look for the blob on disk (re-reading the pack directory on every miss).
      TS_GIT_CALL(
          git_odb_hash(&u.id, change.content->data(), change.content->size(), GIT_OBJECT_BLOB),
          "hash " + change.path);
      TS_GIT_CALL(mempack->write(mempack, &u.id, change.content->data(), change.content->size(),
                                 GIT_OBJECT_BLOB),
                  "write " + change.path);
    } else {
      u.action = GIT_TREE_UPDATE_REMOVE;
    }
    updates.push_back(u);
  }
  git_oid tree_oid;
  TS_GIT_CALL(
      git_tree_create_updated(&tree_oid, repo, baseline.get(), updates.size(), updates.data()),
      "build tree");
  git_tree* tree = nullptr;
  TS_GIT_CALL(git_tree_lookup(&tree, repo, &tree_oid), "read new tree");
  TreePtr tree_owner(tree);
  TS_ASSIGN_OR_RETURN(SigPtr sig, Signature(who, time));
  git_oid commit_oid;
  const git_commit* parents[1] = {parent.get()};
  TS_GIT_CALL(git_commit_create(&commit_oid, repo, nullptr, sig.get(), sig.get(), "UTF-8",
                                message.c_str(), tree, parent ? 1 : 0, parents),
              "create commit");

  // Objects to disk: one pack of exactly the objects main did not have (a revision walk from
  // the new commit hiding the old one, as git push computes it), indexed and fsynced by
  // libgit2, before any ref moves.
  git_revwalk* walk_raw = nullptr;
  TS_GIT_CALL(git_revwalk_new(&walk_raw, repo), "revision walk");
  WalkPtr walk(walk_raw);
  TS_GIT_CALL(git_revwalk_push(walk.get(), &commit_oid), "revision walk");
  if (parent)
    TS_GIT_CALL(git_revwalk_hide(walk.get(), git_commit_id(parent.get())), "revision walk");
  git_packbuilder* builder_raw = nullptr;
  TS_GIT_CALL(git_packbuilder_new(&builder_raw, repo), "pack builder");
  PackBuilderPtr packer(builder_raw);
  TS_GIT_CALL(git_packbuilder_insert_walk(packer.get(), walk.get()), "collect new objects");
  git_buf pack = GIT_BUF_INIT;
  TS_GIT_CALL(git_packbuilder_write_buf(&pack, packer.get()), "pack new objects");
  struct BufFree {
    git_buf* b;
    ~BufFree() { git_buf_dispose(b); }
  } pack_free{&pack};
  git_odb_writepack* writer = nullptr;
  TS_GIT_CALL(git_odb_write_pack(&writer, odb.get(), nullptr, nullptr), "open pack writer");
  struct WriterFree {
    git_odb_writepack* w;
    ~WriterFree() { w->free(w); }
  } writer_free{writer};
  git_indexer_progress stats{};
  TS_GIT_CALL(writer->append(writer, pack.ptr, pack.size, &stats), "write pack");
  TS_GIT_CALL(writer->commit(writer, &stats), "index pack");

  git_reference* ref = nullptr;
  std::string log = "tiersync: " + message.substr(0, message.find('\n'));
  if (parent) {
    git_oid old = *git_commit_id(parent.get());
    TS_GIT_CALL(
        git_reference_create_matching(&ref, repo, kMainRef, &commit_oid, 1, &old, log.c_str()),
        "move main");
  } else {
    TS_GIT_CALL(git_reference_create(&ref, repo, kMainRef, &commit_oid, 0, log.c_str()),
                "create main");
  }
  git_reference_free(ref);
  return Head{Hex(&commit_oid), Hex(&tree_oid)};
}

Result<ReleaseInfo> GitCatalog::TagRelease(const std::string& commit_hex, uint64_t number,
                                           const Identity& who, int64_t time,
                                           const std::string& message) {
  git_repository* repo = impl_->repo.get();
  TS_ASSIGN_OR_RETURN(git_oid oid, ParseOid(commit_hex));
  git_object* target = nullptr;
  TS_GIT_CALL(git_object_lookup(&target, repo, &oid, GIT_OBJECT_COMMIT), "read " + commit_hex);
  ObjectPtr target_owner(target);
  TS_ASSIGN_OR_RETURN(SigPtr sig, Signature(who, time));
  std::string name = ReleaseName(number);
  git_oid tag_oid;
  TS_GIT_CALL(git_tag_create(&tag_oid, repo, name.c_str(), target, sig.get(), message.c_str(), 0),
              "tag " + name);
  return impl_->ReadTag(name, number);
}

}  // namespace tiersync::catalogs
