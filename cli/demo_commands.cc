#include "cli/demo_commands.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/env.h"
#include "base/sha256.h"
#include "cli/progress.h"
#include "cli/units.h"
#include "hub/sample_catalog.h"
#include "hub/sample_media.h"

namespace tiersync::cli {
namespace {

struct MediaArgs {
  std::string out;
  std::string kind = "media";
  std::string size = "64M";
  uint64_t seed = 1;
};

Status WriteMedia(const MediaArgs& a, hub::SampleKind kind, uint64_t size, Sha256Digest* sha) {
  Env* env = Env::Default();
  TS_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(a.out + ".partial"));
  Sha256Hasher hasher;
  ProgressBar bar("generating " + a.out, /*unit_bytes=*/true);
  uint64_t done = 0;
  TS_RETURN_IF_ERROR(hub::GenerateSample(kind, size, a.seed, [&](ByteSpan b) {
    hasher.Update(b);
    done += b.size();
    bar.Update(done, size);
    return file->Append(b);
  }));
  bar.Finish();
  TS_RETURN_IF_ERROR(file->Close());
  TS_RETURN_IF_ERROR(env->RenameFile(a.out + ".partial", a.out));
  *sha = hasher.Finish();
  return Status::Ok();
}

void RunMedia(const MediaArgs& a, CommandContext* ctx) {
  auto kind = hub::ParseSampleKind(a.kind);
  if (!kind) return ctx->Fail("demo media", InvalidArgumentError("--kind must be media or text"));
  auto size = ParseSize(a.size);
  if (!size.ok()) return ctx->Fail("demo media", size.status());
  Sha256Digest sha{};
  Status s = WriteMedia(a, *kind, *size, &sha);
  if (!s.ok()) return ctx->Fail("demo media " + a.out, s);
  if (ctx->json) {
    std::cout << nlohmann::json{{"file", a.out}, {"size", *size}, {"sha256", ToHex(sha)}}.dump()
              << "\n";
  } else {
    std::cout << ToHex(sha) << "  " << a.out << "\n";
  }
}

struct GenerateArgs {
  std::string out;
  uint64_t resources = 1000;
  uint64_t seed = 1;
  double size_scale = 1e-4;
  bool next_release = false;
};

void PrintChanges(const GenerateArgs& a, const hub::CatalogChanges& c, double secs,
                  CommandContext* ctx) {
  const std::string changes = JoinPath(a.out, "changes.json");
  if (ctx->json) {
    std::cout << nlohmann::json{{"dir", a.out},
                                {"revision", c.revision},
                                {"resources", c.resources},
                                {"added", c.added.size()},
                                {"changed", c.changed.size()},
                                {"edited", c.edited.size()},
                                {"inserted", c.inserted.size()},
                                {"appended", c.appended.size()},
                                {"moved", c.moved.size()},
                                {"retired", c.retired.size()},
                                {"bytes_written", c.bytes_written},
                                {"changes", changes}}
                     .dump()
              << "\n";
    return;
  }
  char line[256];
  std::snprintf(line, sizeof(line),
                "%zu added, %zu changed (%zu edited, %zu inserted, %zu appended), %zu moved, "
                "%zu retired",
                c.added.size(), c.changed.size(), c.edited.size(), c.inserted.size(),
                c.appended.size(), c.moved.size(), c.retired.size());
  char tail[128];
  std::snprintf(tail, sizeof(tail), "%.1f MiB of media written in %.1f s",
                static_cast<double>(c.bytes_written) / (1 << 20), secs);
  std::cout << a.out << ": revision " << c.revision << ", " << c.resources << " resources\n"
            << "  " << line << "\n  " << tail << "\n  ids: " << changes << "\n";
}

void RunGenerate(const GenerateArgs& a, CommandContext* ctx) {
  Env* env = Env::Default();
  ProgressBar bar((a.next_release ? "revising " : "generating ") + a.out, /*unit_bytes=*/false);
  auto progress = [&](uint64_t done, uint64_t total) { bar.Update(done, total); };
  auto start = std::chrono::steady_clock::now();
  Result<hub::CatalogChanges> changes = [&] {
    if (a.next_release) return hub::GenerateNextRelease(env, a.out, progress);
    hub::CatalogGenOptions options;
    options.resources = a.resources;
    options.seed = a.seed;
    options.size_scale = a.size_scale;
    options.progress = progress;
    return hub::GenerateCatalog(env, a.out, options);
  }();
  bar.Finish();
  if (!changes.ok()) return ctx->Fail("demo generate " + a.out, changes.status());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PrintChanges(a, *changes, secs, ctx);
}

}  // namespace

void RegisterDemoCommands(CLI::App* app, CommandContext* ctx) {
  CLI::App* demo = app->add_subcommand("demo", "Sample content for demos and benchmarks");
  demo->require_subcommand(1);
  demo->fallthrough();
  auto args = std::make_shared<MediaArgs>();
  CLI::App* media = demo->add_subcommand(
      "media", "Write deterministic sample media (video-like or text-like) to OUT");
  media->fallthrough();
  media->add_option("out", args->out, "Output file")->required();
  media->add_option("--kind", args->kind, "media (incompressible) or text")->capture_default_str();
  media->add_option("--size", args->size, "Size, e.g. 64M or 1G")->capture_default_str();
  media->add_option("--seed", args->seed, "Seed; the same seed gives the same bytes")
      ->capture_default_str();
  media->callback([=] { RunMedia(*args, ctx); });

  auto gen = std::make_shared<GenerateArgs>();
  CLI::App* generate = demo->add_subcommand(
      "generate",
      "Write a deterministic sample national catalog (records and media) to OUT, or its next "
      "revision (docs/demo-catalog.md)");
  generate->fallthrough();
  generate->add_option("out", gen->out, "Catalog directory")->required();
  CLI::Option* next = generate->add_flag(
      "--next-release", gen->next_release,
      "Revise the catalog in OUT as a real release does (edits, insertions, appends, moves, "
      "retirements, new resources), from the seed in OUT/generator.json");
  generate->add_option("--resources", gen->resources, "Number of resources (revision 1)")
      ->capture_default_str()
      ->excludes(next);
  generate->add_option("--seed", gen->seed, "Seed; the same seed gives the same catalog")
      ->capture_default_str()
      ->excludes(next);
  generate
      ->add_option("--size-scale", gen->size_scale,
                   "Media sizes relative to real ones (video 50-500 MB), in (0, 1]")
      ->capture_default_str()
      ->excludes(next);
  generate->callback([=] { RunGenerate(*gen, ctx); });
}

}  // namespace tiersync::cli
