#include "cli/bundle_commands.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "bundle/bundle_export.h"
#include "bundle/bundle_import.h"
#include "cli/progress.h"
#include "cli/units.h"

namespace tiersync::cli {
namespace {

using nlohmann::json;

struct BundleArgs {
  std::string node_dir, bundle_dir, subscription, delta_from;
};

// Bundles are named by absolute paths (their file:// URL is the import's source name).
std::string Absolute(const std::string& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
}

Status RunExport(const BundleArgs& a, CommandContext* ctx) {
  ProgressBar bar("files", false);
  bundle::ExportOptions o{a.node_dir, Absolute(a.bundle_dir), a.subscription,
                          a.delta_from.empty() ? "" : Absolute(a.delta_from),
                          [&](uint64_t done, uint64_t total) { bar.Update(done, total); }};
  auto m = bundle::ExportBundle(Env::Default(), o);
  bar.Finish();
  if (!m.ok()) return m.status();
  if (ctx->json) {
    std::cout << json{{"bundle", o.out_dir},        {"release", m->release},
                      {"version", m->version},      {"files", m->files},
                      {"bytes", m->bytes},          {"chunks", m->chunks},
                      {"delta_from", m->delta_from}}
                     .dump(2)
              << std::endl;
  } else {
    std::cout << "wrote " << o.out_dir << ": release " << m->release << " (version " << m->version
              << "), " << m->files << " files, " << FormatBytes(m->bytes) << " in " << m->chunks
              << " chunks; import it with: tiersync bundle import NODE_DIR " << o.out_dir
              << std::endl;
  }
  return Status::Ok();
}

Status RunImport(const BundleArgs& a, CommandContext* ctx) {
  PhaseProgress bar;
  auto progress = [&](const std::string& p, uint64_t done, uint64_t total) {
    bar.Update(p, done, total);
  };
  auto r = bundle::ImportBundle(Env::Default(), {a.node_dir, Absolute(a.bundle_dir), progress});
  bar.Finish();
  if (!r.ok()) return r.status();
  if (!r->gc.ok()) std::cerr << "tiersync: garbage collection: " << r->gc.ToString() << std::endl;
  const node::SyncOutcome& o = r->outcome;
  if (ctx->json) {
    std::cout << json{{"release", o.current.release},
                      {"version", o.current.version},
                      {"switched", o.switched},
                      {"files", o.current.files},
                      {"fetched_bytes", o.fetched_bytes}}
                     .dump(2)
              << std::endl;
  } else {
    std::cout << (o.switched ? "imported and switched to " : "up to date: the node serves ")
              << o.current.release << " (version " << o.current.version << ", " << o.current.files
              << " files, " << FormatBytes(o.current.bytes) << "); took "
              << FormatBytes(o.fetched_bytes) << " from the bundle; start the node to serve it"
              << std::endl;
  }
  return Status::Ok();
}

}  // namespace

void RegisterBundleCommands(CLI::App* app, CommandContext* ctx) {
  CLI::App* bundle = app->add_subcommand("bundle", "Offline bundles: a release on a USB disk");
  bundle->require_subcommand(1);
  auto a = std::make_shared<BundleArgs>();

  CLI::App* ex = bundle->add_subcommand("export",
                                        "Write the release a node serves or a hub's latest (or a "
                                        "subscription's part) to a directory");
  ex->add_option("from", a->node_dir,
                 "A node's directory (its served release; it may be serving) or a hub's (its "
                 "latest release)")
      ->required();
  ex->add_option("bundle", a->bundle_dir, "Bundle directory (new or empty)")->required();
  ex->add_option("--subscription", a->subscription,
                 "Only the files these rules select (docs/formats/subscription.md); default: "
                 "every file the node holds");
  ex->add_option("--delta-from", a->delta_from,
                 "An earlier bundle the target node imported: its chunks are left out");
  ex->callback([a, ctx] {
    if (Status s = RunExport(*a, ctx); !s.ok()) ctx->Fail("bundle export", s);
  });

  CLI::App* im = bundle->add_subcommand(
      "import",
      "Verify a bundle against the node's pinned root, as a sync would, and switch to it");
  im->add_option("node", a->node_dir, "Node directory (stopped)")->required();
  im->add_option("bundle", a->bundle_dir, "Bundle directory")->required();
  im->callback([a, ctx] {
    if (Status s = RunImport(*a, ctx); !s.ok()) ctx->Fail("bundle import", s);
  });
}

}  // namespace tiersync::cli
