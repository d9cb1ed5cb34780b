#include "cli/hub_commands.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/key_files.h"
#include "cli/package_layout.h"
#include "cli/progress.h"
#include "cli/service_notify.h"
#include "hub/hub_dir.h"
#include "hub/hub_service.h"
#include "hub/publisher.h"
#include "node/http_server.h"
#include "node/http_url.h"
#include "node/tls_context.h"
#include "replication/chunk_store.h"

namespace tiersync::cli {
namespace {

struct HubArgs {
  std::string dir;
  std::vector<std::string> keys;
  RootKeyFiles root;
  std::vector<std::string> bin_keys;
  int bin_digits = 2;
  std::string input, publisher, message;
  std::string listen = "127.0.0.1:8080";
  std::string tls_cert, tls_key;  // hub serve: HTTPS when set
  // hub init --system: the package layout (cli/package_layout.h).
  bool system = false;
  std::string config_base = kDefaultConfigBase, state_base = kDefaultStateBase;
};

// "host:port" -> (host, port).
Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& s) {
  auto address = node::ParseListenAddress(s);
  if (!address.ok()) return address.status().WithContext("--listen");
  return address;
}

Status RunServe(const HubArgs& a) {
  hub::HubPaths paths(a.dir);
  TS_RETURN_IF_ERROR(hub::CheckHubLayout(Env::Default(), paths));
  TS_ASSIGN_OR_RETURN(auto where, ParseListen(a.listen));
  if (a.tls_cert.empty() != a.tls_key.empty()) {
    return InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  std::shared_ptr<node::TlsServerContext> tls;
  if (!a.tls_cert.empty()) {
    TS_ASSIGN_OR_RETURN(tls, node::TlsServerContext::Load(Env::Default(), a.tls_cert, a.tls_key));
  }
  replication::ChunkStoreOptions store_options;  // read-only: publishing may run alongside
  TS_ASSIGN_OR_RETURN(auto store, replication::ChunkStore::Open(paths.store, store_options));
  hub::HubService service(Env::Default(), paths, store.get());
  TS_RETURN_IF_ERROR(service.Open());
  node::HttpServer server(&service);
  if (tls) server.UseTls(tls);  // HTTPS only
  TS_ASSIGN_OR_RETURN(uint16_t port, server.Listen(where.first, where.second));
  server.StopOnSignals();
  // SIGHUP (systemctl reload tiersync-hub): a renewed certificate and key are read again;
  // broken files leave the running ones in place (node/tls_context.h).
  server.OnReloadSignal([tls] {
    if (!tls) return;
    auto changed = tls->Reload(Env::Default());
    std::cerr << "tiersync hub: reload: "
              << (!changed.ok() ? "TLS files not applied, the running certificate is kept: " +
                                      changed.status().ToString()
                  : *changed ? "TLS certificate and key reloaded (new connections use them)"
                             : "TLS files unchanged")
              << std::endl;
  });
  std::cout << "serving hub " << a.dir << " on " << (tls ? "https://" : "http://") << where.first
            << ":" << port
            << "/v1/ (metadata/, targets/, chunks/, catalog.git, events, status); Ctrl-C stops"
            << std::endl;
  NotifyReady("serving hub " + a.dir + " on port " + std::to_string(port));  // systemd
  server.Run();
  return Status::Ok();
}

// "Name <email>" -> Identity.
Result<catalogs::Identity> ParseIdentity(const std::string& s) {
  size_t lt = s.rfind('<');
  if (lt == std::string::npos || s.back() != '>' || lt == 0) {
    return InvalidArgumentError("--publisher must be \"Name <email>\", got \"" + s + "\"");
  }
  std::string name = s.substr(0, lt);
  while (!name.empty() && name.back() == ' ') name.pop_back();
  std::string email = s.substr(lt + 1, s.size() - lt - 2);
  if (name.empty() || email.empty()) {
    return InvalidArgumentError("--publisher must be \"Name <email>\", got \"" + s + "\"");
  }
  return catalogs::Identity{name, email};
}

// The options of InitHub from the command line; their key ring points into *keys, which
// must outlive them.
Result<hub::HubInitOptions> InitOptions(const HubArgs& a, std::vector<PrivateKey>* keys) {
  hub::HubInitOptions options;
  TS_ASSIGN_OR_RETURN(options.root, RootFromKeyFiles(a.root));
  TS_ASSIGN_OR_RETURN(*keys, ReadPrivateKeys(a.keys));
  options.keys = RingOf(*keys);
  options.bin_digits = a.bin_digits;
  for (const auto& f : a.bin_keys.empty() ? a.root.targets : a.bin_keys) {
    TS_ASSIGN_OR_RETURN(auto k, ReadPublicKey(f));
    options.bin_keys.push_back(std::move(k));
  }
  options.now = NowSeconds();
  return options;
}

Status RunInit(const HubArgs& a) {
  std::vector<PrivateKey> keys;
  TS_ASSIGN_OR_RETURN(hub::HubInitOptions options, InitOptions(a, &keys));
  return hub::InitHub(Env::Default(), a.dir, options);
}

// The online roles whose keys the hub's timers sign with (tiersync-hub-*.service name
// CONFIG_BASE/hub/keys/<role>.key).
constexpr const char* kOnlineRoles[] = {"timestamp", "snapshot", "targets"};

// Copies each -k key of an online role to <keys_dir>/<role>.key (0640, root:tiersync): what
// the timers need. A root key is never copied (a root-key ceremony keeps it offline), nor a
// key file already there. Returns lines for the operator.
Result<std::vector<std::string>> InstallOnlineKeys(const HubArgs& a,
                                                   const protocol::tuf::Root& root,
                                                   const std::string& keys_dir,
                                                   const std::optional<ServiceAccount>& account) {
  std::vector<std::string> said;
  auto signs = [&](const std::string& role, const std::string& keyid) {
    const auto& ids = root.roles.at(role).keyids;
    return std::find(ids.begin(), ids.end(), keyid) != ids.end();
  };
  for (const std::string& file : a.keys) {
    TS_ASSIGN_OR_RETURN(PrivateKey key, ReadPrivateKey(file));
    const std::string id = protocol::tuf::KeyId(TufKeyOf(key));
    for (const char* role : kOnlineRoles) {
      if (!signs(role, id)) continue;
      const std::string to = JoinPath(keys_dir, std::string(role) + ".key");
      if (signs("root", id)) {
        said.push_back(std::string(role) + " key " + file +
                       " also signs root: not copied (keep root keys offline; give the " + role +
                       " role a key of its own)");
      } else if (Env::Default()->FileExists(to)) {
        said.push_back(to + " exists: kept");
      } else {
        TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(Env::Default(), file, 64 << 10));
        TS_RETURN_IF_ERROR(InstallConfigFile(to, bytes, account, /*replace=*/false));
        said.push_back(std::string(role) + " key copied to " + to);
      }
    }
  }
  return said;
}

// hub.env for the hub's units (deploy/package/hub.env documents every setting).
std::string HubEnv(const HubArgs& a) {
  return "# Settings of tiersync-hub.service and its timers' services (written by `tiersync hub\n"
         "# init --system`; /usr/share/doc/tiersync/examples/hub.env explains each). Edit, then\n"
         "# systemctl restart tiersync-hub.\n"
         "TIERSYNC_HUB_LISTEN=" +
         a.listen + "\nTIERSYNC_HUB_SERVE_OPTIONS=\n";
}

// `hub init --system`: the hub in STATE_BASE/hub, its online keys in CONFIG_BASE/hub/keys/,
// CONFIG_BASE/hub.env (kept if there).
Status RunInitSystem(const HubArgs& a) {
  const std::string dir = JoinPath(a.state_base, kHubInstance);
  const std::string config_dir = JoinPath(a.config_base, kHubInstance);
  const std::string keys_dir = JoinPath(config_dir, "keys");
  const std::string env_file = JoinPath(a.config_base, "hub.env");
  std::vector<PrivateKey> keys;
  TS_ASSIGN_OR_RETURN(hub::HubInitOptions options, InitOptions(a, &keys));
  if (Env::Default()->FileExists(hub::HubPaths(dir).marker)) {
    return AlreadyExistsError(dir + " holds a hub already");
  }
  std::string warning;
  const auto account = ServiceAccountIfRoot(&warning);
  if (!warning.empty()) std::cerr << warning << std::endl;
  TS_RETURN_IF_ERROR(MakeConfigDir(config_dir, account));
  TS_RETURN_IF_ERROR(MakeConfigDir(keys_dir, account));
  TS_ASSIGN_OR_RETURN(auto said, InstallOnlineKeys(a, options.root, keys_dir, account));
  if (!Env::Default()->FileExists(env_file)) {
    TS_RETURN_IF_ERROR(InstallConfigFile(env_file, AsBytes(HubEnv(a)), account, false));
    said.push_back("settings written to " + env_file);
  } else {
    said.push_back(env_file + " exists: kept");
  }
  TS_RETURN_IF_ERROR(hub::InitHub(Env::Default(), dir, options));
  TS_RETURN_IF_ERROR(GiveToService(dir, account));
  std::cout << "hub created in " << dir << "\n";
  for (const auto& line : said) std::cout << "  " << line << "\n";
  std::cout << "start it with: systemctl enable --now tiersync-hub tiersync-hub-timestamp.timer "
               "tiersync-hub-renew.timer"
            << std::endl;
  return Status::Ok();
}

void PrintReport(const hub::PublishReport& r, bool json) {
  const catalogs::CatalogDiff& d = r.diff;
  if (json) {
    nlohmann::json j{{"release", r.release},
                     {"published", r.published},
                     {"previous", r.previous},
                     {"commit", r.commit},
                     {"content_sha256", r.content_digest},
                     {"resources", r.resources},
                     {"served_files", r.served_files},
                     {"files_read", r.files_read},
                     {"files_unchanged", r.files_unchanged},
                     {"new_chunks", r.new_chunks},
                     {"new_bytes", r.new_bytes},
                     {"targets_added", r.targets_added},
                     {"targets_removed", r.targets_removed},
                     {"added", d.added},
                     {"changed", d.changed},
                     {"moved", d.moved},
                     {"retired", d.retired}};
    std::cout << j.dump() << "\n";
    return;
  }
  if (!r.published) {
    std::cout << "nothing to publish: the input is release " << r.release
              << ", which is signed already\n";
    return;
  }
  std::cout << "published release " << r.release << " (commit " << r.commit << ")\n"
            << "  resources:  " << r.resources << " (" << d.added.size() << " added, "
            << d.changed.size() << " changed, " << d.moved.size() << " moved, " << d.retired.size()
            << " retired" << (r.previous.empty() ? "" : " since ") << r.previous << ")\n"
            << "  media:      " << r.files_read << " files read, " << r.files_unchanged
            << " unchanged; " << r.new_chunks << " new chunks, " << r.new_bytes << " bytes stored\n"
            << "  targets:    " << r.served_files << " served; " << r.targets_added
            << " added or changed, " << r.targets_removed << " removed\n"
            << "  content:    sha256 " << r.content_digest << "\n";
}

void RunPublish(const HubArgs& a, CommandContext* ctx) {
  auto keys = ReadPrivateKeys(a.keys);
  if (!keys.ok()) return ctx->Fail("hub publish", keys.status());
  auto who = ParseIdentity(a.publisher);
  if (!who.ok()) return ctx->Fail("hub publish", who.status());
  hub::PublishOptions options;
  options.input = a.input;
  options.publisher = *who;
  options.message = a.message;
  options.keys = RingOf(*keys);
  options.now = NowSeconds();
  std::unique_ptr<ProgressBar> bar;
  std::string stage;
  options.progress = [&](std::string_view s, uint64_t done, uint64_t total) {
    if (s != stage) {
      if (bar) bar->Finish();
      stage = s;
      bar = std::make_unique<ProgressBar>(stage == "ingest" ? "ingest media" : "read records",
                                          stage == "ingest");
    }
    bar->Update(done, total);
  };
  auto report = hub::Publish(Env::Default(), a.dir, options);
  if (bar) bar->Finish();
  if (!report.ok()) return ctx->Fail("hub publish", report.status());
  PrintReport(*report, ctx->json);
}

}  // namespace

void RegisterHubCommands(CLI::App* app, CommandContext* ctx) {
  auto a = std::make_shared<HubArgs>();
  CLI::App* hub = app->add_subcommand("hub", "The national hub: catalog releases and signing");
  hub->require_subcommand(1);

  CLI::App* init = hub->add_subcommand(
      "init",
      "Create a hub: catalog repository, store, TUF (--system: as the package lays it out)");
  CLI::Option* dir = init->add_option("dir", a->dir, "Hub directory (or --system)");
  CLI::Option* system_flag =
      init->add_flag("--system", a->system,
                     "Package layout: the hub in STATE_BASE/hub (owned by tiersync), the -k keys "
                     "of the timestamp, snapshot and targets roles copied to "
                     "CONFIG_BASE/hub/keys/<role>.key (never a root key), CONFIG_BASE/hub.env "
                     "written (unless there) with --listen");
  dir->excludes(system_flag);
  AddLayoutBaseOptions(init, "--system", &a->config_base, &a->state_base);
  init->add_option("--listen", a->listen, "With --system: HOST:PORT for hub.env")
      ->capture_default_str();
  init->add_option("-k,--key", a->keys, "Private key file to sign with (repeat)");
  init->add_option("--root-key", a->root.root, "Root public key (repeat)");
  init->add_option("--root-threshold", a->root.root_threshold, "Root signatures required");
  init->add_option("--offline-grace-days", a->root.offline_grace_days,
                   "Days past metadata expiry a node that cannot update keeps serving, saying "
                   "it is stale (signed in the root; default: none)");
  init->add_option("--identity-ca", a->root.identity_cas,
                   "PEM national identity CA (tiersync identity ca-init) that the root carries "
                   "as x-tiersync-identity-ca (repeat, up to 4)");
  init->add_option("--timestamp-key", a->root.timestamp, "Timestamp public key");
  init->add_option("--snapshot-key", a->root.snapshot, "Snapshot public key");
  init->add_option("--targets-key", a->root.targets, "Targets public key");
  init->add_option("--bins-key", a->bin_keys, "Hash-bin public key (default: the targets key)");
  init->add_option("--bin-digits", a->bin_digits, "Hex digits per hash bin (2: 256 bins)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3));
  init->callback([a, ctx] {
    if (a->dir.empty() && !a->system) {
      return ctx->Fail("hub init", InvalidArgumentError("give a hub directory or --system"));
    }
    if (a->system) {
      if (Status s = RunInitSystem(*a); !s.ok()) ctx->Fail("hub init", s);
      return;
    }
    Status s = RunInit(*a);
    if (!s.ok()) return ctx->Fail("hub init", s);
    if (ctx->json) {
      std::cout << nlohmann::json{{"ok", true}, {"hub", a->dir}}.dump() << "\n";
    } else {
      std::cout << "hub created in " << a->dir << "\n";
    }
  });

  CLI::App* pub = hub->add_subcommand(
      "publish", "Publish a catalog release: ingest media, commit, tag, sign (idempotent)");
  pub->add_option("dir", a->dir, "Hub directory")->required();
  pub->add_option("--input", a->input, "Directory with resources/*.json and media/<id>/<name>")
      ->required();
  pub->add_option("-k,--key", a->keys, "Private key file (targets/bins, snapshot, timestamp)")
      ->required();
  pub->add_option("--publisher", a->publisher, "Who publishes: \"Name <email>\"")->required();
  pub->add_option("-m,--message", a->message, "Release notes for the tag");
  pub->callback([a, ctx] { RunPublish(*a, ctx); });

  CLI::App* serve = hub->add_subcommand(
      "serve",
      "Serve the hub's signed metadata, targets (from chunks) and chunks over HTTP or HTTPS");
  serve->add_option("dir", a->dir, "Hub directory")->required();
  serve->add_option("--listen", a->listen, "HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  serve->add_option("--tls-cert", a->tls_cert,
                    "PEM certificate chain, leaf first: serve HTTPS only (with --tls-key)");
  serve->add_option("--tls-key", a->tls_key, "PEM private key of --tls-cert (unencrypted)");
  serve->callback([a, ctx] {
    Status s = RunServe(*a);
    if (!s.ok()) ctx->Fail("hub serve", s);
  });
}

}  // namespace tiersync::cli
