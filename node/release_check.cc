#include "node/release_check.h"

#include <functional>

#include "base/mem_env.h"
#include "node/release_dir.h"
#include "protocol/tuf_metadata.h"
#include "protocol/tuf_trusted_set.h"
#include "replication/tuf_updater.h"

namespace tiersync::node {
namespace {

namespace tuf = protocol::tuf;

constexpr std::string_view kMetadataUrl = "release://metadata/";

std::string RootName(uint64_t version) { return std::to_string(version) + ".root.json"; }

replication::VerifyProblem Problem(std::string id, const Status& error) {
  return {"metadata", std::move(id), error};
}

// A directory's files for the updater, `overrides` first; remembers the last name asked for
// (the updater stops at the first file that fails, and fetches one at a time here).
class DirFetcher : public Fetcher {
 public:
  DirFetcher(Env* env, std::string dir, const MetadataOverrides& overrides)
      : env_(env), dir_(std::move(dir)), overrides_(overrides) {}

  Result<std::vector<uint8_t>> Fetch(const std::string& url, size_t max_bytes) override {
    if (!url.starts_with(kMetadataUrl)) return NotFoundError(url).AsRemote();
    last_ = url.substr(kMetadataUrl.size());
    if (auto it = overrides_.find(last_); it != overrides_.end()) {
      if (it->second.size() > max_bytes) {
        return ResourceExhaustedError(last_ + " is larger than " + std::to_string(max_bytes));
      }
      return it->second;
    }
    // Names are the updater's (quoted roles): never a path out of the directory.
    const std::string path = JoinPath(dir_, last_);
    if (last_.empty() || last_.find('/') != std::string::npos || last_[0] == '.' ||
        !env_->FileExists(path)) {
      return NotFoundError(last_ + " is not in " + dir_).AsRemote();
    }
    return ReadFileToBytes(env_, path, max_bytes);
  }

  const std::string& last() const { return last_; }

 private:
  Env* const env_;
  const std::string dir_;
  const MetadataOverrides& overrides_;
  std::string last_;
};

Result<std::vector<uint8_t>> ReadWithOverride(Env* env, const std::string& dir,
                                              const std::string& file,
                                              const MetadataOverrides& overrides,
                                              size_t max_bytes) {
  if (auto it = overrides.find(file); it != overrides.end()) return it->second;
  return ReadFileToBytes(env, JoinPath(dir, file), max_bytes);
}

// The verified root chain of trusted/, from the pinned root: the bytes of its last step.
struct RootChain {
  std::optional<replication::VerifyProblem> problem;
  std::vector<uint8_t> last;
};

RootChain WalkTrustedRoots(Env* env, const NodePaths& paths, const MetadataOverrides& overrides) {
  RootChain chain;
  auto pinned = ReadFileToBytes(env, paths.root, tuf::kMaxRootBytes);
  if (!pinned.ok()) {
    chain.problem = Problem("root.json", pinned.status());
    return chain;
  }
  auto set = tuf::TrustedSet::Create(*pinned, static_cast<int64_t>(env->NowMicros() / 1'000'000));
  if (!set.ok()) {
    chain.problem = Problem("root.json", set.status().WithContext("the pinned root"));
    return chain;
  }
  chain.last = std::move(pinned).value();
  for (uint64_t v = set->root().version + 1;; ++v) {
    const std::string name = RootName(v);
    if (!overrides.count(name) && !env->FileExists(JoinPath(paths.trusted, name))) break;
    auto bytes = ReadWithOverride(env, paths.trusted, name, overrides, tuf::kMaxRootBytes);
    Status s = bytes.ok() ? set->UpdateRoot(*bytes) : bytes.status();
    if (!s.ok()) {
      chain.problem = Problem("trusted/" + name, s);
      return chain;
    }
    chain.last = std::move(bytes).value();
  }
  return chain;
}

}  // namespace

std::optional<replication::VerifyProblem> CheckReleaseMetadata(Env* env, const NodePaths& paths,
                                                               const std::string& name,
                                                               const MetadataOverrides& overrides) {
  const std::string dir = JoinPath(paths.releases, name);
  const std::string meta = JoinPath(dir, "metadata");
  const std::string where = "releases/" + name + "/metadata/";
  auto record = ReadFileToBytes(env, JoinPath(dir, "release.json"), 1 << 20);
  Result<ServedRelease> served =
      record.ok() ? DecodeServedRelease(std::string_view(
                        reinterpret_cast<const char*>(record->data()), record->size()))
                  : Result<ServedRelease>(record.status());
  if (!served.ok()) return Problem("releases/" + name + "/release.json", served.status());
  auto pinned = ReadFileToBytes(env, paths.root, tuf::kMaxRootBytes);
  if (!pinned.ok()) return Problem("root.json", pinned.status());

  // The client's trusted state in memory, its clock at the switch (0: an old record; now).
  MemEnv state;
  state.SetNowMicros(served->switched_at > 0
                         ? static_cast<uint64_t>(served->switched_at) * 1'000'000
                         : env->NowMicros());
  if (Status s = replication::Updater::Init(&state, "/trusted", *pinned); !s.ok()) {
    return Problem("root.json", s);
  }
  DirFetcher fetcher(env, meta, overrides);
  replication::Updater updater(
      &state, &fetcher, {"/trusted", std::string(kMetadataUrl), "release://targets", "/targets"});
  Status s = updater.ListAllTrustedTargets().status();
  if (!s.ok()) return Problem(where + fetcher.last(), s);
  const tuf::TrustedSet& trusted = *updater.trusted();
  if (trusted.timestamp()->version != served->version) {
    return Problem(
        where + "timestamp.json",
        CorruptionError("timestamp version " + std::to_string(trusted.timestamp()->version) +
                        " is not the release's " + std::to_string(served->version)));
  }
  // The walk starts after the pinned version; the chain served to children starts at it.
  auto set = tuf::TrustedSet::Create(*pinned, 0);
  if (set.ok()) {
    const std::string first = RootName(set->root().version);
    if (overrides.count(first) || env->FileExists(JoinPath(meta, first))) {
      auto bytes = ReadWithOverride(env, meta, first, overrides, tuf::kMaxRootBytes);
      if (!bytes.ok()) return Problem(where + first, bytes.status());
      if (*bytes != *pinned) {
        return Problem(where + first, CorruptionError("not the pinned root's bytes"));
      }
    }
  }
  return std::nullopt;
}

std::optional<replication::VerifyProblem> CheckTrustedRoot(Env* env, const NodePaths& paths,
                                                           const MetadataOverrides& overrides) {
  RootChain chain = WalkTrustedRoots(env, paths, overrides);
  if (chain.problem) return chain.problem;
  auto current = ReadWithOverride(env, paths.trusted, "root.json", overrides, tuf::kMaxRootBytes);
  if (!current.ok()) return Problem("trusted/root.json", current.status());
  if (*current != chain.last) {
    // A root that verifies on its own but is not the chain's last is as wrong as rot.
    return Problem("trusted/root.json",
                   CorruptionError("not the last root of the verified chain trusted/N.root.json"));
  }
  return std::nullopt;
}

std::vector<replication::VerifyProblem> CheckNodeMetadata(Env* env, const NodePaths& paths) {
  std::vector<replication::VerifyProblem> problems;
  if (!env->FileExists(paths.releases)) return problems;
  auto kept = KeptReleaseDirs(env, paths);
  if (!kept.ok()) {
    problems.push_back(Problem("releases", kept.status()));
    return problems;
  }
  for (const std::string& name : *kept) {
    auto p = CheckReleaseMetadata(env, paths, name);
    // Gone since the listing (the sync switched and removed it): nothing to judge.
    if (p && env->FileExists(JoinPath(paths.releases, name))) problems.push_back(std::move(*p));
  }
  if (env->FileExists(JoinPath(paths.trusted, "root.json"))) {
    if (auto p = CheckTrustedRoot(env, paths)) problems.push_back(std::move(*p));
  }
  return problems;
}

size_t RepairNodeMetadata(Env* env, const NodePaths& paths, Fetcher* fetcher,
                          const replication::SourcePolicy& sources) {
  const std::vector<size_t> order = sources.Order(static_cast<int64_t>(env->NowMicros() / 1000));
  auto kept = KeptReleaseDirs(env, paths);
  const std::vector<std::string> releases = kept.ok() ? *kept : std::vector<std::string>{};
  // Offers `file` from `local_dirs`, then from each source in order, to `fits` (which checks
  // with the candidate in place) until one fits; puts that one in place of dir/file (a new
  // file: a hard link elsewhere keeps its own bytes). Whether it did.
  auto mend = [&](const std::string& dir, const std::string& file, size_t max_bytes,
                  const std::vector<std::string>& local_dirs,
                  const std::function<bool(const std::vector<uint8_t>&)>& fits) {
    auto take = [&](const std::vector<uint8_t>& bytes) {
      return fits(bytes) && WriteFileAtomically(env, JoinPath(dir, file), bytes).ok();
    };
    for (const std::string& d : local_dirs) {
      if (auto local = ReadFileToBytes(env, JoinPath(d, file), max_bytes); local.ok()) {
        if (take(*local)) return true;
      }
    }
    for (size_t i : order) {
      auto got = fetcher->Fetch(sources.source(i).url + "/v1/metadata/" + file, max_bytes);
      if (got.ok() && take(*got)) return true;
    }
    return false;
  };
  size_t replaced = 0;
  // Each pass mends the first problem of one place; a file nobody mends ends the passes.
  for (const std::string& name : releases) {
    const std::string meta = JoinPath(JoinPath(paths.releases, name), "metadata");
    const std::string prefix = "releases/" + name + "/metadata/";
    for (int pass = 0; pass < 64; ++pass) {
      auto p = CheckReleaseMetadata(env, paths, name);
      if (!p || !p->id.starts_with(prefix)) break;
      const std::string file = p->id.substr(prefix.size());
      const bool mended = mend(meta, file, tuf::kMaxTargetsBytes, {}, [&](const auto& bytes) {
        auto after = CheckReleaseMetadata(env, paths, name, {{file, bytes}});
        return !after || after->id != p->id;  // the check gets past this file now
      });
      if (!mended) break;
      ++replaced;
    }
  }
  if (!env->FileExists(JoinPath(paths.trusted, "root.json"))) return replaced;
  std::vector<std::string> release_meta;
  for (const std::string& name : releases) {
    release_meta.push_back(JoinPath(JoinPath(paths.releases, name), "metadata"));
  }
  for (int pass = 0; pass < 64; ++pass) {
    auto p = CheckTrustedRoot(env, paths);
    if (!p || !p->id.starts_with("trusted/")) break;  // the pinned root is the operator's
    bool mended = false;
    if (p->id == "trusted/root.json") {
      // The verified chain says what it must hold: nobody needs asking.
      RootChain chain = WalkTrustedRoots(env, paths, {});
      mended = !chain.problem &&
               WriteFileAtomically(env, JoinPath(paths.trusted, "root.json"), chain.last).ok();
    } else {
      const std::string file = p->id.substr(8);
      // The release directories' copies first (checked and mended above), then the sources.
      mended = mend(paths.trusted, file, tuf::kMaxRootBytes, release_meta, [&](const auto& bytes) {
        auto after = CheckTrustedRoot(env, paths, {{file, bytes}});
        return !after || after->id != p->id;
      });
    }
    if (!mended) break;
    ++replaced;
  }
  return replaced;
}

}  // namespace tiersync::node
