#include "cli/tuf_commands.h"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "cli/key_files.h"
#include "node/http_fetcher.h"
#include "replication/env_fetcher.h"
#include "replication/tuf_repository.h"
#include "replication/tuf_updater.h"

namespace tiersync::cli {
namespace {

namespace tuf = protocol::tuf;
using replication::KeyRing;
using replication::TufRepository;

constexpr size_t kMaxTargetFileBytes = size_t{1} << 30;

// ---- keys ----------------------------------------------------------------------------------

struct KeyArgs {
  std::string scheme = "ed25519";
  std::string path;
};

void RunKeysGen(const KeyArgs& a, CommandContext* ctx) {
  auto key = PrivateKey::Generate(a.scheme);
  if (!key.ok()) return ctx->Fail("keys gen", key.status());
  Status s = WriteKeyFiles(a.path, *key);
  if (!s.ok()) return ctx->Fail("keys gen", s);
  std::string id = tuf::KeyId(TufKeyOf(*key));
  if (ctx->json) {
    std::cout << nlohmann::json{{"keyid", id},
                                {"scheme", a.scheme},
                                {"private", a.path},
                                {"public", a.path + ".pub.json"}}
                     .dump()
              << "\n";
  } else {
    std::cout << id << "  " << a.path << " (public half: " << a.path << ".pub.json)\n";
  }
}

void RunKeysShow(const KeyArgs& a, CommandContext* ctx) {
  auto key = ReadPublicKey(a.path);
  if (!key.ok()) return ctx->Fail("keys show", key.status());
  nlohmann::json j{{"keyid", tuf::KeyId(*key)},
                   {"keytype", key->keytype},
                   {"scheme", key->scheme},
                   {"public", key->public_value}};
  std::cout << (ctx->json ? j.dump() : j.dump(2)) << "\n";
}

// ---- repo ----------------------------------------------------------------------------------

struct RepoArgs {
  std::string dir;
  std::vector<std::string> keys;  // private keys to sign with
  std::vector<std::string> root_keys, timestamp_keys, snapshot_keys, targets_keys;  // public
  uint32_t root_threshold = 1, threshold = 1;
  std::optional<uint32_t> offline_grace_days;
  std::vector<std::string> identity_cas;  // PEM files of national identity CAs
  std::string role = "targets";
  std::string prefix;
  std::string custom;  // JSON object for the targets' "custom" field
  std::vector<std::string> files;
  std::string from = "targets", to;
  std::vector<std::string> delegate_keys, paths, hash_prefixes;
  bool terminating = false;
  int bin_digits = 0;  // add-target: file each target into its hash bin (0: use --role)
};

RootKeyFiles RootKeysOf(const RepoArgs& a) {
  return {a.root_keys,    a.root_threshold,     a.timestamp_keys, a.snapshot_keys,
          a.targets_keys, a.offline_grace_days, a.identity_cas};
}

Status RepoInit(const RepoArgs& a) {
  TS_ASSIGN_OR_RETURN(tuf::Root root, RootFromKeyFiles(RootKeysOf(a)));
  TS_ASSIGN_OR_RETURN(auto keys, ReadPrivateKeys(a.keys));
  return TufRepository::Create(Env::Default(), a.dir, std::move(root), RingOf(keys), NowSeconds());
}

// Opens the repository, applies `change`, publishes with the given keys.
Status RepoChange(const RepoArgs& a, const std::function<Status(TufRepository&)>& change) {
  TS_ASSIGN_OR_RETURN(auto repo, TufRepository::Open(Env::Default(), a.dir));
  TS_ASSIGN_OR_RETURN(auto keys, ReadPrivateKeys(a.keys));
  TS_RETURN_IF_ERROR(change(repo));
  return repo.Publish(RingOf(keys), NowSeconds());
}

Status RepoAddTargets(const RepoArgs& a) {
  std::optional<protocol::Json> custom;
  if (!a.custom.empty()) {
    TS_ASSIGN_OR_RETURN(custom, protocol::ParseJson(a.custom));
    if (!custom->is_object()) return InvalidArgumentError("--custom must be a JSON object");
  }
  return RepoChange(a, [&](TufRepository& repo) {
    for (const auto& file : a.files) {
      // Whole files in memory: fine for metadata-sized targets; media go through the chunk
      // store (hub publish).
      TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(Env::Default(), file, kMaxTargetFileBytes));
      std::string name = file.substr(file.rfind('/') + 1);
      const std::string path = a.prefix + name;
      const std::string role =
          a.bin_digits > 0 ? replication::HashBinRole(path, a.bin_digits) : a.role;
      TS_RETURN_IF_ERROR(repo.AddTarget(role, path, bytes, custom));
    }
    return Status::Ok();
  });
}

Status RepoRemoveTargets(const RepoArgs& a) {
  return RepoChange(a, [&](TufRepository& repo) {
    for (const auto& path : a.files) TS_RETURN_IF_ERROR(repo.RemoveTarget(a.role, path));
    return Status::Ok();
  });
}

Status RepoDelegate(const RepoArgs& a) {
  return RepoChange(a, [&](TufRepository& repo) {
    tuf::DelegatedRole d;
    d.name = a.to;
    d.terminating = a.terminating;
    d.role.threshold = a.threshold;
    if (!a.paths.empty()) d.paths = a.paths;
    if (!a.hash_prefixes.empty()) d.path_hash_prefixes = a.hash_prefixes;
    std::vector<tuf::Key> keys;
    for (const auto& f : a.delegate_keys) {
      TS_ASSIGN_OR_RETURN(tuf::Key k, ReadPublicKey(f));
      keys.push_back(std::move(k));
    }
    return repo.Delegate(a.from, std::move(d), keys);
  });
}

Status RepoDelegateBins(const RepoArgs& a) {
  return RepoChange(a, [&](TufRepository& repo) {
    std::vector<tuf::Key> keys;
    for (const auto& f : a.delegate_keys) {
      TS_ASSIGN_OR_RETURN(tuf::Key k, ReadPublicKey(f));
      keys.push_back(std::move(k));
    }
    return repo.DelegateHashBins(a.from, a.bin_digits, keys, a.threshold);
  });
}

Status RepoRotateRoot(const RepoArgs& a) {
  return RepoChange(a, [&](TufRepository& repo) {
    tuf::Root root = repo.root();
    if (!a.root_keys.empty()) {
      TS_RETURN_IF_ERROR(AddRoleKeyFiles(&root, "root", a.root_keys, a.root_threshold));
    }
    for (auto [role, files] :
         {std::pair{"timestamp", &a.timestamp_keys}, std::pair{"snapshot", &a.snapshot_keys},
          std::pair{"targets", &a.targets_keys}}) {
      if (!files->empty()) TS_RETURN_IF_ERROR(AddRoleKeyFiles(&root, role, *files, 1));
    }
    if (a.offline_grace_days) {
      TS_RETURN_IF_ERROR(SetOfflineGrace(&root, *a.offline_grace_days));
    }
    if (!a.identity_cas.empty()) TS_RETURN_IF_ERROR(SetIdentityCas(&root, a.identity_cas));
    // Drop keys no role uses any more.
    std::set<std::string> used;
    for (const auto& [name, role] : root.roles) used.insert(role.keyids.begin(), role.keyids.end());
    std::erase_if(root.keys, [&](const auto& kv) { return !used.count(kv.first); });
    repo.SetRoot(std::move(root));
    return Status::Ok();
  });
}

Status RepoRefreshTimestamp(const RepoArgs& a) {
  TS_ASSIGN_OR_RETURN(auto repo, TufRepository::Open(Env::Default(), a.dir));
  TS_ASSIGN_OR_RETURN(auto keys, ReadPrivateKeys(a.keys));
  return repo.RefreshTimestamp(RingOf(keys), NowSeconds());
}

Status RepoRenew(const RepoArgs& a) {
  TS_ASSIGN_OR_RETURN(auto repo, TufRepository::Open(Env::Default(), a.dir));
  TS_ASSIGN_OR_RETURN(auto keys, ReadPrivateKeys(a.keys));
  TS_ASSIGN_OR_RETURN(bool renewed, repo.RenewExpiring(RingOf(keys), NowSeconds()));
  if (!renewed) std::cerr << "nothing is close to expiry\n";
  return Status::Ok();
}

void Report(CommandContext* ctx, const std::string& what, const Status& s) {
  if (!s.ok()) return ctx->Fail(what, s);
  if (ctx->json) {
    std::cout << nlohmann::json{{"ok", true}, {"command", what}}.dump() << "\n";
  } else {
    std::cout << what << ": done\n";
  }
}

// ---- tuf-client (tuf-conformance CLIENT-CLI.md) ---------------------------------------------

struct ClientArgs {
  std::string metadata_dir, metadata_url, target_name, target_base_url, target_dir, trusted_root;
};

// http:// through HttpFetcher; file:///path through the local file system.
class AnyFetcher : public replication::Fetcher {
 public:
  AnyFetcher() : files_(Env::Default()) { files_.Mount("file:///", "/"); }
  Result<std::vector<uint8_t>> Fetch(const std::string& url, size_t max_bytes) override {
    if (url.rfind("file://", 0) == 0) return files_.Fetch(url, max_bytes);
    return http_.Fetch(url, max_bytes);
  }

 private:
  replication::EnvFetcher files_;
  node::HttpFetcher http_;
};

Status ClientRun(const std::string& command, const ClientArgs& a) {
  Env* env = Env::Default();
  if (command == "init") {
    TS_ASSIGN_OR_RETURN(auto root, ReadFileToBytes(env, a.trusted_root, tuf::kMaxRootBytes));
    return replication::Updater::Init(env, a.metadata_dir, root);
  }
  AnyFetcher fetcher;
  replication::Updater updater(env, &fetcher,
                               {a.metadata_dir, a.metadata_url, a.target_base_url, a.target_dir});
  TS_RETURN_IF_ERROR(updater.Refresh());
  if (command == "refresh") return Status::Ok();
  TS_ASSIGN_OR_RETURN(auto info, updater.GetTargetInfo(a.target_name));
  if (!info) return NotFoundError("no trusted target " + a.target_name);
  TS_ASSIGN_OR_RETURN(std::string path, updater.DownloadTarget(*info));
  std::cerr << "downloaded " << a.target_name << " to " << path << "\n";
  return Status::Ok();
}

}  // namespace

void RegisterKeyCommands(CLI::App* app, CommandContext* ctx) {
  auto a = std::make_shared<KeyArgs>();
  CLI::App* keys = app->add_subcommand("keys", "Signing keys");
  keys->require_subcommand(1);
  keys->fallthrough();
  CLI::App* gen = keys->add_subcommand("gen", "Generate a key pair into FILE and FILE.pub.json");
  gen->fallthrough();
  gen->add_option("file", a->path, "Private key file to create (mode 0600)")->required();
  gen->add_option("--scheme", a->scheme,
                  "ed25519, rsassa-pss-sha256, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, or "
                  "sm2-sm3 (GM/T: SM2 signatures over SM3)")
      ->capture_default_str();
  gen->callback([=] { RunKeysGen(*a, ctx); });
  CLI::App* show = keys->add_subcommand("show", "Show the keyid and public half of a key file");
  show->fallthrough();
  show->add_option("file", a->path, "Private key or .pub.json file")->required();
  show->callback([=] { RunKeysShow(*a, ctx); });
}

void RegisterRepoCommands(CLI::App* app, CommandContext* ctx) {
  auto a = std::make_shared<RepoArgs>();
  CLI::App* repo = app->add_subcommand("repo", "A TUF repository (hub, or a region's namespace)");
  repo->require_subcommand(1);
  repo->fallthrough();
  auto common = [&](CLI::App* c) {
    c->fallthrough();
    c->add_option("dir", a->dir, "Repository directory")->required();
    c->add_option("-k,--key", a->keys, "Private key file to sign with (repeat)");
  };
  auto role_keys = [&](CLI::App* c) {
    c->add_option("--root-key", a->root_keys, "Root public key (.pub.json or private key file)");
    c->add_option("--root-threshold", a->root_threshold, "Root signatures required");
    c->add_option("--timestamp-key", a->timestamp_keys, "Timestamp public key");
    c->add_option("--snapshot-key", a->snapshot_keys, "Snapshot public key");
    c->add_option("--targets-key", a->targets_keys, "Targets public key");
    c->add_option("--offline-grace-days", a->offline_grace_days,
                  "Days past metadata expiry a node that cannot update keeps serving, saying it "
                  "is stale (signed in the root; rotate-root: changes it)");
    c->add_option("--identity-ca", a->identity_cas,
                  "PEM national identity CA for the root's x-tiersync-identity-ca (repeat, up to "
                  "4, e.g. old and new CA during a rollover; rotate-root: replaces the list)");
  };
  CLI::App* init = repo->add_subcommand("init", "Create a repository with root version 1");
  common(init);
  role_keys(init);
  init->callback([=] { Report(ctx, "repo init", RepoInit(*a)); });

  CLI::App* add = repo->add_subcommand("add-target", "Add files as targets and publish");
  common(add);
  add->add_option("--file", a->files, "File to add (repeat)")->required();
  add->add_option("--role", a->role, "Targets role")->capture_default_str();
  add->add_option("--prefix", a->prefix, "Target path prefix, e.g. lessons/math/");
  add->add_option("--custom", a->custom, "JSON object stored as the targets' custom field");
  add->add_option("--hash-bins", a->bin_digits,
                  "File each target into its hash-bin role (digits used by delegate-bins)");
  add->callback([=] { Report(ctx, "repo add-target", RepoAddTargets(*a)); });

  CLI::App* rm = repo->add_subcommand("remove-target", "Remove targets and publish");
  common(rm);
  rm->add_option("--path", a->files, "Target path (repeat)")->required();
  rm->add_option("--role", a->role, "Targets role")->capture_default_str();
  rm->callback([=] { Report(ctx, "repo remove-target", RepoRemoveTargets(*a)); });

  CLI::App* del = repo->add_subcommand("delegate", "Delegate a namespace to a key and publish");
  common(del);
  del->add_option("--from", a->from, "Delegating role")->capture_default_str();
  del->add_option("--to", a->to, "New role name, e.g. the region code 330000")->required();
  del->add_option("--delegate-key", a->delegate_keys, "Public key of the new role (repeat)")
      ->required();
  del->add_option("--threshold", a->threshold, "Signatures required")->capture_default_str();
  del->add_option("--path", a->paths, "Path pattern, e.g. regions/330000/* (repeat)");
  del->add_option("--hash-prefix", a->hash_prefixes, "Hash prefix (hash-bin delegation)");
  del->add_flag("--terminating", a->terminating, "Stop the search at this role");
  del->callback([=] { Report(ctx, "repo delegate", RepoDelegate(*a)); });

  CLI::App* bins = repo->add_subcommand(
      "delegate-bins", "Delegate all target paths to 16^DIGITS hash-bin roles and publish");
  common(bins);
  bins->add_option("--from", a->from, "Delegating role")->capture_default_str();
  bins->add_option("--digits", a->bin_digits, "Hex digits per bin (1: 16 bins, 2: 256, 3: 4096)")
      ->required()
      ->check(CLI::Range(1, 3));
  bins->add_option("--delegate-key", a->delegate_keys, "Public key of the bin roles (repeat)")
      ->required();
  bins->add_option("--threshold", a->threshold, "Signatures required")->capture_default_str();
  bins->callback([=] { Report(ctx, "repo delegate-bins", RepoDelegateBins(*a)); });

  CLI::App* rot = repo->add_subcommand("rotate-root", "Publish root N+1 with new keys");
  common(rot);
  role_keys(rot);
  rot->callback([=] { Report(ctx, "repo rotate-root", RepoRotateRoot(*a)); });

  CLI::App* pub = repo->add_subcommand("publish", "Re-sign changed roles, snapshot, timestamp");
  common(pub);
  pub->callback([=] {
    Report(ctx, "repo publish", RepoChange(*a, [](TufRepository&) { return Status::Ok(); }));
  });

  CLI::App* ts = repo->add_subcommand("refresh-timestamp", "Sign a new timestamp (for cron)");
  common(ts);
  ts->callback([=] { Report(ctx, "repo refresh-timestamp", RepoRefreshTimestamp(*a)); });

  CLI::App* renew = repo->add_subcommand(
      "renew", "Re-sign what expires within half its lifetime and the keys allow (for cron)");
  common(renew);
  renew->callback([=] { Report(ctx, "repo renew", RepoRenew(*a)); });
}

void RegisterTufClientCommand(CLI::App* app, CommandContext* ctx) {
  auto a = std::make_shared<ClientArgs>();
  CLI::App* c = app->add_subcommand(
      "tuf-client", "TUF client (the tuf-conformance client CLI protocol; exit 0 or 1)");
  c->add_option("--metadata-dir", a->metadata_dir, "Trusted metadata directory")->required();
  c->add_option("--metadata-url", a->metadata_url, "Repository metadata URL");
  c->add_option("--target-name", a->target_name, "Target path to download");
  c->add_option("--target-base-url", a->target_base_url, "Repository targets URL");
  c->add_option("--target-dir", a->target_dir, "Where downloaded targets go");
  c->require_subcommand(1);
  auto run = [=](const std::string& command) {
    Status s = ClientRun(command, *a);
    if (!s.ok()) {
      ctx->Fail("tuf-client " + command, s);
      ctx->exit_code = 1;  // the protocol knows only 0 and 1
    }
  };
  CLI::App* init = c->add_subcommand("init", "Trust TRUSTED_ROOT (no network)");
  init->add_option("trusted_root", a->trusted_root, "Initial root.json")->required();
  init->callback([=] { run("init"); });
  c->add_subcommand("refresh", "Update metadata")->callback([=] { run("refresh"); });
  c->add_subcommand("download", "Update metadata and download a target")->callback([=] {
    run("download");
  });
}

}  // namespace tiersync::cli
