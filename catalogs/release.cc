#include "catalogs/release.h"

#include "base/bytes.h"
#include "base/hex.h"

namespace tiersync::catalogs {

Result<ReleaseContent> ReadReleaseContent(GitCatalog* git, const std::string& tree, bool keep_files,
                                          const ReleaseLimits& limits) {
  TS_ASSIGN_OR_RETURN(auto blobs, git->ListFiles(tree, limits));
  ReleaseContent content;
  content.tree = tree;
  content.entries.reserve(blobs.size());
  uint64_t total = 0;
  for (const auto& [path, blob] : blobs) {
    TS_ASSIGN_OR_RETURN(std::string bytes, git->ReadBlob(blob, limits.max_file_bytes));
    total += bytes.size();
    if (total > limits.max_total_bytes) {
      return VerificationError("catalog tree " + tree + ": its files hold more than " +
                               std::to_string(limits.max_total_bytes) + " bytes");
    }
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

Result<Resource> ParseReleaseRecord(const std::string& path, std::string_view bytes,
                                    const Taxonomy& taxonomy, const RegionTable& regions) {
  Result<Resource> r = ParseResource(bytes, path, RecordSource::kCatalog);
  if (!r.ok()) return CorruptionError("catalog file " + path + ": " + r.status().message());
  if (Status s = ValidateResource(*r, taxonomy, regions); !s.ok()) {
    return CorruptionError("catalog file " + path + ": " + s.message());
  }
  if (ResourcePath(*r) != path) {
    return CorruptionError("catalog file " + path + ": resource " + r->id + " belongs at " +
                           ResourcePath(*r));
  }
  return r;
}

Result<std::map<std::string, Resource>> ParseReleaseRecords(const ReleaseContent& content,
                                                            const Taxonomy& taxonomy,
                                                            const RegionTable& regions) {
  std::map<std::string, Resource> out;
  for (const auto& [path, bytes] : content.files) {
    if (!path.starts_with("resources/")) continue;
    TS_ASSIGN_OR_RETURN(Resource r, ParseReleaseRecord(path, bytes, taxonomy, regions));
    std::string id = r.id;
    out.emplace(std::move(id), std::move(r));
  }
  return out;
}

Status ForEachReleaseRecord(GitCatalog* git, const ReleaseContent& content,
                            const Taxonomy& taxonomy, const RegionTable& regions,
                            const RecordVisitor& visit) {
  std::map<std::string, std::string> blobs;
  if (content.files.empty()) {
    TS_ASSIGN_OR_RETURN(blobs, git->ListFiles(content.tree));
  }
  for (const ManifestEntry& entry : content.entries) {
    if (!entry.path.starts_with("resources/")) continue;
    std::string read;
    const std::string* bytes = nullptr;
    if (auto kept = content.files.find(entry.path); kept != content.files.end()) {
      bytes = &kept->second;
    } else {
      auto blob = blobs.find(entry.path);
      if (blob == blobs.end()) {
        return VerificationError("catalog file " + entry.path + " is no longer in tree " +
                                 content.tree);
      }
      TS_ASSIGN_OR_RETURN(read, git->ReadBlob(blob->second));
      bytes = &read;
    }
    // The trust rests on the manifest's SHA-256, not on git's ids: check every byte again.
    if (Sha256(AsBytes(*bytes)) != entry.sha256) {
      return VerificationError("catalog file " + entry.path +
                               " does not match the verified manifest");
    }
    TS_ASSIGN_OR_RETURN(Resource r, ParseReleaseRecord(entry.path, *bytes, taxonomy, regions));
    read = std::string();
    TS_RETURN_IF_ERROR(visit(std::move(r)));
  }
  return Status::Ok();
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

Result<ReleaseContent> ReadVerifiedRelease(GitCatalog* git, const SignedRelease& signed_release,
                                           bool keep_files) {
  ReleaseReadOptions options;
  options.keep_files = keep_files;
  return ReadVerifiedRelease(git, signed_release, options);
}

Result<ReleaseContent> ReadVerifiedRelease(GitCatalog* git, const SignedRelease& signed_release,
                                           const ReleaseReadOptions& options) {
  Result<ReleaseInfo> info = options.tag.empty()
                                 ? git->FindRelease(signed_release.release)
                                 : git->ReadReleaseTag(options.tag, signed_release.release);
  if (!info.ok()) {
    return Status(info.status().code(), "signed catalog release " + signed_release.release +
                                            " is not in the catalog repository" +
                                            (options.tag.empty() ? "" : " at " + options.tag) +
                                            ": " + info.status().message())
        .WithOrigin(info.status().origin());
  }
  TS_ASSIGN_OR_RETURN(ReleaseContent content,
                      ReadReleaseContent(git, info->tree, options.keep_files, options.limits));
  TS_RETURN_IF_ERROR(CheckReleaseContent(content, signed_release.digest, &signed_release.manifest,
                                         signed_release.release));
  return content;
}

}  // namespace tiersync::catalogs
