#include "cli/hub_commands.h"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/key_files.h"
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
  node::HttpServer server(&service);
  if (tls) server.UseTls(tls);  // HTTPS only
  TS_ASSIGN_OR_RETURN(uint16_t port, server.Listen(where.first, where.second));
  server.StopOnSignals();
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

Status RunInit(const HubArgs& a) {
  hub::HubInitOptions options;
  TS_ASSIGN_OR_RETURN(options.root, RootFromKeyFiles(a.root));
  TS_ASSIGN_OR_RETURN(auto keys, ReadPrivateKeys(a.keys));
  options.keys = RingOf(keys);
  options.bin_digits = a.bin_digits;
  for (const auto& f : a.bin_keys.empty() ? a.root.targets : a.bin_keys) {
    TS_ASSIGN_OR_RETURN(auto k, ReadPublicKey(f));
    options.bin_keys.push_back(std::move(k));
  }
  options.now = NowSeconds();
  return hub::InitHub(Env::Default(), a.dir, options);
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

  CLI::App* init = hub->add_subcommand("init", "Create a hub: catalog repository, store, TUF");
  init->add_option("dir", a->dir, "Hub directory")->required();
  init->add_option("-k,--key", a->keys, "Private key file to sign with (repeat)");
  init->add_option("--root-key", a->root.root, "Root public key (repeat)");
  init->add_option("--root-threshold", a->root.root_threshold, "Root signatures required");
  init->add_option("--timestamp-key", a->root.timestamp, "Timestamp public key");
  init->add_option("--snapshot-key", a->root.snapshot, "Snapshot public key");
  init->add_option("--targets-key", a->root.targets, "Targets public key");
  init->add_option("--bins-key", a->bin_keys, "Hash-bin public key (default: the targets key)");
  init->add_option("--bin-digits", a->bin_digits, "Hex digits per hash bin (2: 256 bins)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3));
  init->callback([a, ctx] {
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
