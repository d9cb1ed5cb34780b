#include "catalogs/release.h"

#include "base/bytes.h"
#include "base/hex.h"

namespace tiersync::catalogs {

Result<ReleaseContent> ReadReleaseContent(GitCatalog* git, const std::string& tree,
                                          bool keep_files) {
  TS_ASSIGN_OR_RETURN(auto blobs, git->ListFiles(tree));
  ReleaseContent content;
  content.entries.reserve(blobs.size());
  for (const auto& [path, blob] : blobs) {
    TS_ASSIGN_OR_RETURN(std::string bytes, git->ReadBlob(blob));
    content.entries.push_back({path, Sha256(AsBytes(bytes))});
    if (keep_files) content.files.emplace(path, std::move(bytes));
  }
  TS_ASSIGN_OR_RETURN(content.manifest, EncodeManifest(content.entries));
  content.digest = Sha256(AsBytes(content.manifest));
  return content;
}

Status CheckReleaseContent(const ReleaseContent& content, const Sha256Digest& signed_digest,
                           const std::string* signed_manifest, const std::string& release) {
  if (content.digest == signed_digest) return Status::Ok();
  std::string message = "catalog release " + release +
                        ": content does not match the signed metadata (signed digest " +
                        ToHex(signed_digest) + ", repository has " + ToHex(content.digest) + ")";
  if (signed_manifest != nullptr) {
    Result<std::vector<ManifestEntry>> expected = ParseManifest(*signed_manifest);
    if (expected.ok()) {
      ManifestDifference d = CompareManifests(*expected, content.entries);
      if (!d.empty()) message += ": " + d.Describe();
    }
  }
  return VerificationError(message);
}

Result<std::map<std::string, Resource>> ParseReleaseRecords(const ReleaseContent& content,
                                                            const Taxonomy& taxonomy,
                                                            const RegionTable& regions) {
  std::map<std::string, Resource> out;
  for (const auto& [path, bytes] : content.files) {
    if (!path.starts_with("resources/")) continue;
    Result<Resource> r = ParseResource(bytes, path, RecordSource::kCatalog);
    if (!r.ok()) return CorruptionError("catalog file " + path + ": " + r.status().message());
    if (Status s = ValidateResource(*r, taxonomy, regions); !s.ok()) {
      return CorruptionError("catalog file " + path + ": " + s.message());
    }
    if (ResourcePath(*r) != path) {
      return CorruptionError("catalog file " + path + ": resource " + r->id + " belongs at " +
                             ResourcePath(*r));
    }
    std::string id = r->id;
    out.emplace(std::move(id), std::move(r).value());
  }
  return out;
}

Result<SignedRelease> ParseCatalogTarget(const protocol::Json* custom) {
  const protocol::Json* release = custom ? custom->Find("release") : nullptr;
  const protocol::Json* commit = custom ? custom->Find("commit") : nullptr;
  const protocol::Json* resources = custom ? custom->Find("resources") : nullptr;
  if (release == nullptr || !release->is_string() || !ReleaseNumber(release->as_string()) ||
      commit == nullptr || !commit->is_string() || resources == nullptr || !resources->is_int() ||
      resources->as_int() < 0) {
    return VerificationError("signed target " + std::string(kCatalogTarget) +
                             " lacks its custom fields release, commit, resources");
  }
  SignedRelease out;
  out.release = release->as_string();
  out.commit = commit->as_string();
  out.resources = static_cast<uint64_t>(resources->as_int());
  return out;
}

Result<ReleaseContent> ReadVerifiedRelease(GitCatalog* git, const SignedRelease& signed_release) {
  Result<ReleaseInfo> info = git->FindRelease(signed_release.release);
  if (!info.ok()) {
    return Status(info.status().code(),
                  "signed catalog release " + signed_release.release +
                      " is not in the catalog repository: " + info.status().message());
  }
  TS_ASSIGN_OR_RETURN(ReleaseContent content, ReadReleaseContent(git, info->tree));
  TS_RETURN_IF_ERROR(CheckReleaseContent(content, signed_release.digest, &signed_release.manifest,
                                         signed_release.release));
  return content;
}

}  // namespace tiersync::catalogs
