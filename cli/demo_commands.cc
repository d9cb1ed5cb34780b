#include "cli/demo_commands.h"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/env.h"
#include "base/sha256.h"
#include "cli/progress.h"
#include "cli/units.h"
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
}

}  // namespace tiersync::cli
