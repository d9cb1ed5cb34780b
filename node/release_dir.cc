#include "node/release_dir.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/layout_version.h"
#include "replication/tuf_updater.h"

namespace tiersync::node {
namespace {

namespace tuf = protocol::tuf;

// Puts the trusted metadata file `from` (durable: the updater wrote it atomically) into a
// release directory as a hard link — no copy, no fsync per file (the directory is synced
// once). The trusted file may be replaced later; the link keeps this release's bytes. Copies
// when the file system refuses links.
Status LinkOrCopy(Env* env, const std::string& from, const std::string& to) {
  if (env->LinkFile(from, to).ok()) return Status::Ok();
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, from, 256 << 20));
  return WriteFileAtomically(env, to, bytes);
}

}  // namespace

Status WriteReleaseDir(Env* env, const NodePaths& paths, const tuf::TrustedSet& t,
                       const std::string& name, const ServedRelease& served,
                       const std::vector<ReleaseTarget>& targets,
                       const std::vector<replication::PlannedFile>& files,
                       const std::map<std::string, std::string>& side_files) {
  const std::string dir = JoinPath(paths.releases, name);
  const std::string tmp = dir + ".tmp";
  TS_RETURN_IF_ERROR(RemoveTree(env, tmp));
  const std::string meta = JoinPath(tmp, "metadata");
  TS_RETURN_IF_ERROR(CreateDirs(env, meta));
  // The root chain this node holds: from the version it was set up with (any, not only 1) to
  // the trusted one. A child pinned before that version walks the missing steps elsewhere
  // (RepositoryService answers 503 for them, docs/security.md "Root rotation and new nodes").
  TS_ASSIGN_OR_RETURN(uint64_t first,
                      replication::Updater::FirstKeptRoot(env, paths.trusted, t.root().version));
  for (uint64_t v = first; v <= t.root().version; ++v) {
    const std::string file = std::to_string(v) + ".root.json";
    TS_RETURN_IF_ERROR(LinkOrCopy(env, JoinPath(paths.trusted, file), JoinPath(meta, file)));
  }
  TS_RETURN_IF_ERROR(
      LinkOrCopy(env, JoinPath(paths.trusted, "timestamp.json"), JoinPath(meta, "timestamp.json")));
  TS_RETURN_IF_ERROR(LinkOrCopy(
      env, JoinPath(paths.trusted, "snapshot.json"),
      JoinPath(meta, std::to_string(t.timestamp()->snapshot_meta.version) + ".snapshot.json")));
  for (const auto& [file, m] : t.snapshot()->meta) {
    std::string role = tuf::QuoteForFileName(file.substr(0, file.size() - 5));  // no ".json"
    TS_RETURN_IF_ERROR(
        LinkOrCopy(env, JoinPath(paths.trusted, role + ".json"),
                   JoinPath(meta, std::to_string(m.version) + "." + role + ".json")));
  }
  for (const ReleaseTarget& target : targets) {
    const std::string path = JoinPath(JoinPath(tmp, "targets"), target.path);
    TS_RETURN_IF_ERROR(CreateDirs(env, DirName(path)));
    TS_RETURN_IF_ERROR(WriteFileAtomically(env, path, AsBytes(target.bytes)));
    // The directories on the way (targets/catalog/ in targets/, ...), each in its parent.
    for (std::string d = DirName(path); d != tmp; d = DirName(d)) {
      TS_RETURN_IF_ERROR(env->SyncDir(DirName(d)));
    }
  }
  TS_RETURN_IF_ERROR(WriteFileAtomically(env, JoinPath(tmp, kReleaseFilesName),
                                         AsBytes(EncodeReleaseFiles(files))));
  for (const auto& [file, bytes] : side_files) {
    TS_RETURN_IF_ERROR(WriteFileAtomically(env, JoinPath(tmp, file), AsBytes(bytes)));
  }
  TS_RETURN_IF_ERROR(WriteFileAtomically(env, JoinPath(tmp, "release.json"),
                                         AsBytes(EncodeServedRelease(served))));
  TS_RETURN_IF_ERROR(env->SyncDir(meta));
  TS_RETURN_IF_ERROR(env->SyncDir(tmp));
  TS_RETURN_IF_ERROR(CreateDirs(env, paths.releases));
  TS_RETURN_IF_ERROR(RemoveTree(env, dir));
  TS_RETURN_IF_ERROR(env->RenameFile(tmp, dir));
  return env->SyncDir(paths.releases);
}

Status SwitchCurrent(Env* env, const NodePaths& paths, const std::string& name,
                     const std::string& keep, const std::vector<std::string>& pinned) {
  TS_RETURN_IF_ERROR(WriteFileAtomically(env, paths.current, AsBytes(name + "\n")));
  auto entries = env->GetChildren(paths.releases);
  if (!entries.ok()) return Status::Ok();  // collecting old releases is best effort
  for (const std::string& e : *entries) {
    if (e == name || e == keep) continue;
    if (!pinned.empty() && !e.ends_with(".tmp")) {
      auto json =
          ReadFileToBytes(env, JoinPath(JoinPath(paths.releases, e), "release.json"), 1 << 20);
      auto served =
          json.ok() ? DecodeServedRelease(AsChars(*json)) : Result<ServedRelease>(json.status());
      if (served.ok() && std::find(pinned.begin(), pinned.end(), served->release) != pinned.end()) {
        continue;
      }
    }
    (void)RemoveTree(env, JoinPath(paths.releases, e));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> KeptReleaseDirs(Env* env, const NodePaths& paths) {
  std::vector<std::string> out;
  if (!env->FileExists(paths.releases)) return out;
  TS_ASSIGN_OR_RETURN(auto entries, env->GetChildren(paths.releases));
  for (std::string& e : entries) {
    if (!e.ends_with(".tmp")) out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

constexpr std::string_view kFilesKind = "tiersync-files";
constexpr int kFilesVersion = 1;

std::optional<std::array<uint8_t, 32>> Digest(std::string_view hex) {
  auto bytes = HexDecode(hex);
  if (!bytes || bytes->size() != 32) return std::nullopt;
  std::array<uint8_t, 32> out;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

}  // namespace

std::string EncodeReleaseFiles(const std::vector<replication::PlannedFile>& files) {
  std::string out = LayoutMarker(kFilesKind, kFilesVersion);
  for (const auto& f : files) {
    out += ToHex(f.index_id) + "\t" + ToHex(f.sha256) + "\t" + std::to_string(f.length) + "\t" +
           f.path + "\n";
  }
  return out;
}

Result<std::vector<replication::PlannedFile>> DecodeReleaseFiles(std::string_view text) {
  const size_t first_end = text.find('\n');
  if (first_end == std::string_view::npos) return CorruptionError("files.tsv: no header line");
  const std::string_view header = text.substr(0, first_end);
  int version = 0;
  const std::string_view number = header.substr(std::min(header.size(), kFilesKind.size() + 1));
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), version);
  if (!header.starts_with(std::string(kFilesKind) + " ") || ec != std::errc() ||
      end != number.data() + number.size() || version < 1) {
    return CorruptionError("files.tsv does not start with \"" + std::string(kFilesKind) + " N\"");
  }
  TS_RETURN_IF_ERROR(CheckLayoutVersion(version, kFilesVersion, "files.tsv", "files.tsv"));
  std::vector<replication::PlannedFile> out;
  size_t line_no = 1;
  for (size_t pos = first_end + 1; pos < text.size();) {
    ++line_no;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    auto bad = [&] {
      return CorruptionError("files.tsv line " + std::to_string(line_no) +
                             " is not <index>\\t<sha256>\\t<length>\\t<path>");
    };
    std::string_view fields[4];
    for (int i = 0; i < 3; ++i) {
      const size_t tab = line.find('\t');
      if (tab == std::string_view::npos) return bad();
      fields[i] = line.substr(0, tab);
      line.remove_prefix(tab + 1);
    }
    fields[3] = line;
    replication::PlannedFile f;
    auto index = Digest(fields[0]);
    auto sha = Digest(fields[1]);
    auto [p, ec] = std::from_chars(fields[2].data(), fields[2].data() + fields[2].size(), f.length);
    if (!index || !sha || ec != std::errc() || p != fields[2].data() + fields[2].size() ||
        fields[3].empty()) {
      return bad();
    }
    f.index_id = *index;
    f.sha256 = *sha;
    f.path = std::string(fields[3]);
    out.push_back(std::move(f));
  }
  return out;
}

Result<std::vector<replication::PlannedFile>> ReadReleaseFiles(Env* env, const NodePaths& paths,
                                                               const std::string& name) {
  const std::string path = JoinPath(JoinPath(paths.releases, name), kReleaseFilesName);
  if (!env->FileExists(path)) {
    return NotFoundError("release " + name + " has no " + kReleaseFilesName +
                         " (written by an older tiersync)");
  }
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, path, size_t{1} << 30));
  auto files = DecodeReleaseFiles(AsChars(bytes));
  if (!files.ok()) return files.status().WithContext(path);
  return files;
}

}  // namespace tiersync::node
