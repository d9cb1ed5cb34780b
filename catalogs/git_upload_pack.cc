#include "catalogs/git_upload_pack.h"

#include <git2.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "base/bytes.h"
#include "catalogs/git_catalog.h"
#include "catalogs/git_common.h"
#include "catalogs/git_pkt_line.h"

namespace tiersync::catalogs {
namespace {

using git_internal::Hex;
using git_internal::ObjectPtr;
using git_internal::OdbPtr;
using git_internal::OpenRepo;
using git_internal::PackBuilderPtr;
using git_internal::RepoPtr;
using git_internal::WalkPtr;

constexpr char kCapabilities[] =
    "multi_ack_detailed ofs-delta symref=HEAD:refs/heads/main agent=tiersync/0.1";

struct AdvertisedRef {
  std::string name;
  git_oid id;
};

struct TagAndCommit {
  git_oid tag;
  git_oid commit;
};

// The annotated tag refs/tags/<name> and the commit it peels to; nullopt for a lightweight tag
// or a tag of something else (GitCatalog::Releases skips those too).
Result<std::optional<TagAndCommit>> ReleaseTag(git_repository* repo, const std::string& name) {
  using Found = std::optional<TagAndCommit>;
  git_oid tag_id;
  TS_GIT_CALL(git_reference_name_to_id(&tag_id, repo, ("refs/tags/" + name).c_str()),
              "release " + name);
  git_object* tag = nullptr;
  TS_GIT_CALL(git_object_lookup(&tag, repo, &tag_id, GIT_OBJECT_ANY), "release " + name);
  ObjectPtr tag_owner(tag);
  if (git_object_type(tag) != GIT_OBJECT_TAG) return Found();
  git_object* target = nullptr;
  TS_GIT_CALL(git_tag_peel(&target, reinterpret_cast<git_tag*>(tag)), "release " + name);
  ObjectPtr target_owner(target);
  if (git_object_type(target) != GIT_OBJECT_COMMIT) return Found();
  return Found(TagAndCommit{tag_id, *git_object_id(target)});
}

// What the advertisement lists, in order: HEAD, refs/heads/main (both at the commit of the
// highest release), then each release tag up to max_release with its peeled line. Empty when
// there is no such release.
Result<std::vector<AdvertisedRef>> ExposedRefs(git_repository* repo, uint64_t max_release) {
  git_strarray names = {nullptr, 0};
  TS_GIT_CALL(git_tag_list_match(&names, "r*", repo), "list tags");
  std::vector<std::pair<uint64_t, std::string>> found;
  for (size_t i = 0; i < names.count; ++i) {
    std::optional<uint64_t> n = ReleaseNumber(names.strings[i]);
    if (n && *n <= max_release) found.emplace_back(*n, names.strings[i]);
  }
  git_strarray_dispose(&names);
  std::sort(found.begin(), found.end());
  std::vector<AdvertisedRef> tags;
  for (const auto& [number, name] : found) {
    TS_ASSIGN_OR_RETURN(auto tag, ReleaseTag(repo, name));
    if (!tag) continue;
    tags.push_back({"refs/tags/" + name, tag->tag});
    tags.push_back({"refs/tags/" + name + "^{}", tag->commit});
  }
  if (tags.empty()) return tags;
  const git_oid head = tags.back().id;
  std::vector<AdvertisedRef> refs = {{"HEAD", head}, {"refs/heads/main", head}};
  refs.insert(refs.end(), tags.begin(), tags.end());
  return refs;
}

Status BadRequest(const std::string& what) {
  return InvalidArgumentError("upload-pack request: " + what);
}

Status CheckWants(git_repository* repo, const std::vector<std::string>& wants,
                  uint64_t max_release) {
  TS_ASSIGN_OR_RETURN(std::vector<AdvertisedRef> refs, ExposedRefs(repo, max_release));
  std::set<std::string> advertised;
  for (const AdvertisedRef& ref : refs) advertised.insert(Hex(&ref.id));
  for (const std::string& want : wants) {
    if (!advertised.contains(want)) {
      return BadRequest("want " + want + " is not an advertised ref (releases up to " +
                        ReleaseName(max_release) + " are served)");
    }
  }
  return Status::Ok();
}

// The haves that name local objects, each once, in the order given.
Result<std::vector<git_oid>> CommonHaves(git_repository* repo,
                                         const std::vector<std::string>& haves) {
  git_odb* odb_raw = nullptr;
  TS_GIT_CALL(git_repository_odb(&odb_raw, repo), "object database");
  OdbPtr odb(odb_raw);
  std::vector<git_oid> common;
  std::set<std::string> seen;
  for (const std::string& hex : haves) {
    const git_oid have = *git_internal::ParseHexOid(hex);  // checked by the parser
    if (git_odb_exists(odb.get(), &have) && seen.insert(hex).second) common.push_back(have);
  }
  return common;
}

// Fills `packer` with everything reachable from `wants` (wanted tags included) and not from
// the commits among `common`.
Status CollectObjects(git_repository* repo, git_packbuilder* packer,
                      const std::vector<std::string>& wants, const std::vector<git_oid>& common) {
  git_revwalk* walk = nullptr;
  TS_GIT_CALL(git_revwalk_new(&walk, repo), "revision walk");
  WalkPtr walk_owner(walk);
  for (const std::string& hex : wants) {
    const git_oid want = *git_internal::ParseHexOid(hex);
    git_object* obj = nullptr;
    TS_GIT_CALL(git_object_lookup(&obj, repo, &want, GIT_OBJECT_ANY), "read " + hex);
    ObjectPtr owner(obj);
    if (git_object_type(obj) == GIT_OBJECT_TAG) {
      TS_GIT_CALL(git_packbuilder_insert(packer, &want, nullptr), "pack " + hex);
    }
    TS_GIT_CALL(git_revwalk_push(walk, &want), "walk from " + hex);
  }
  for (const git_oid& have : common) {
    git_object* obj = nullptr;
    TS_GIT_CALL(git_object_lookup(&obj, repo, &have, GIT_OBJECT_ANY), "read " + Hex(&have));
    ObjectPtr owner(obj);
    git_object* commit = nullptr;
    if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) continue;  // not a commit-ish
    ObjectPtr commit_owner(commit);
    TS_GIT_CALL(git_revwalk_hide(walk, git_object_id(commit)), "hide " + Hex(&have));
  }
  TS_GIT_CALL(git_packbuilder_insert_walk(packer, walk), "collect objects");
  return Status::Ok();
}

// Writes the pack to `path` as the packer produces it; returns its size.
Result<uint64_t> WritePack(Env* env, git_packbuilder* packer, const std::string& path) {
  TS_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewWritableFile(path));
  struct Sink {
    WritableFile* file;
    uint64_t bytes = 0;
    Status status;
  } sink{file.get(), 0, Status::Ok()};
  const int rc = git_packbuilder_foreach(
      packer,
      [](void* data, size_t size, void* payload) -> int {
        auto* s = static_cast<Sink*>(payload);
        s->status = s->file->Append(ByteSpan(static_cast<const uint8_t*>(data), size));
        s->bytes += size;
        return s->status.ok() ? 0 : -1;
      },
      &sink);
  TS_RETURN_IF_ERROR(sink.status.WithContext("upload-pack: write " + path));
  TS_GIT_CALL(rc, "write pack");
  TS_RETURN_IF_ERROR(file->Close());
  return sink.bytes;
}

}  // namespace

Result<std::string> AdvertiseUploadPack(const std::string& repo_dir, uint64_t max_release) {
  TS_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(repo_dir));
  TS_ASSIGN_OR_RETURN(std::vector<AdvertisedRef> refs, ExposedRefs(repo.get(), max_release));
  std::string out;
  AppendPkt(&out, "# service=git-upload-pack\n");
  out += kFlushPkt;
  const std::string caps = std::string(1, '\0') + kCapabilities;
  if (refs.empty()) {
    AppendPkt(&out, std::string(kObjectIdHex, '0') + " capabilities^{}" + caps + "\n");
  }
  for (size_t i = 0; i < refs.size(); ++i) {
    AppendPkt(&out, Hex(&refs[i].id) + " " + refs[i].name + (i == 0 ? caps : "") + "\n");
  }
  out += kFlushPkt;
  return out;
}

Result<UploadPackAnswer> UploadPack(Env* env, const std::string& repo_dir, std::string_view request,
                                    uint64_t max_release, const std::string& pack_path) {
  TS_ASSIGN_OR_RETURN(UploadRequest req, ParseUploadRequest(request));
  if (!req.capabilities.contains("ofs-delta")) {
    return BadRequest("the client must accept ofs-delta (no other pack form is served)");
  }
  TS_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(repo_dir));
  TS_RETURN_IF_ERROR(CheckWants(repo.get(), req.wants, max_release));
  TS_ASSIGN_OR_RETURN(std::vector<git_oid> common, CommonHaves(repo.get(), req.haves));
  const bool acks = req.capabilities.contains("multi_ack_detailed");
  UploadPackAnswer answer;
  for (size_t i = 0; acks && i < common.size(); ++i) {
    AppendPkt(&answer.head, "ACK " + Hex(&common[i]) + " common\n");
  }
  if (!req.done) {
    AppendPkt(&answer.head, "NAK\n");
    return answer;
  }
  AppendPkt(&answer.head, acks && !common.empty() ? "ACK " + Hex(&common.back()) + "\n" : "NAK\n");
  git_packbuilder* packer = nullptr;
  TS_GIT_CALL(git_packbuilder_new(&packer, repo.get()), "pack builder");
  PackBuilderPtr packer_owner(packer);
  TS_RETURN_IF_ERROR(CollectObjects(repo.get(), packer, req.wants, common));
  TS_ASSIGN_OR_RETURN(answer.pack_bytes, WritePack(env, packer, pack_path));
  return answer;
}

}  // namespace tiersync::catalogs
