#include "cli/store_commands.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "cli/progress.h"
#include "cli/units.h"
#include "replication/chunk_store.h"
#include "replication/file_ingest.h"
#include "replication/file_restore.h"

namespace tiersync::cli {
namespace {

using replication::ChunkStore;
using replication::ChunkStoreOptions;

struct StoreArgs {
  std::string dir;
  std::vector<std::string> files;
  std::string id;
  std::string out;
  int threads = 2;
  std::string min = "16K", avg = "64K", max = "256K";
};

double MiB(uint64_t b) { return static_cast<double>(b) / (1024.0 * 1024.0); }

Result<std::unique_ptr<ChunkStore>> OpenStore(const std::string& dir, bool writable) {
  ChunkStoreOptions o;
  o.writable = writable;
  return ChunkStore::Open(dir, o);
}

void RunInit(const StoreArgs& a, CommandContext* ctx) {
  Status s = ChunkStore::Create(a.dir, ChunkStoreOptions{});
  if (!s.ok()) return ctx->Fail("store init " + a.dir, s);
  if (ctx->json) {
    std::cout << nlohmann::json{{"store", a.dir}, {"created", true}}.dump() << "\n";
  } else {
    std::cout << "created chunk store " << a.dir << "\n";
  }
}

Result<protocol::ChunkerParams> ChunkerParamsFrom(const StoreArgs& a) {
  protocol::ChunkerParams p;
  TS_ASSIGN_OR_RETURN(uint64_t min, ParseSize(a.min));
  TS_ASSIGN_OR_RETURN(uint64_t avg, ParseSize(a.avg));
  TS_ASSIGN_OR_RETURN(uint64_t max, ParseSize(a.max));
  if (max > protocol::kMaxChunkBytes) return InvalidArgumentError("--max is too large");
  p.min_size = static_cast<uint32_t>(min);
  p.avg_size = static_cast<uint32_t>(avg);
  p.max_size = static_cast<uint32_t>(max);
  TS_RETURN_IF_ERROR(protocol::ValidateChunkerParams(p));
  return p;
}

void RunAdd(const StoreArgs& a, CommandContext* ctx) {
  auto params = ChunkerParamsFrom(a);
  if (!params.ok()) return ctx->Fail("store add", params.status());
  auto store = OpenStore(a.dir, /*writable=*/true);
  if (!store.ok()) return ctx->Fail("store add", store.status());
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& file : a.files) {
    ProgressBar bar("adding " + file, /*unit_bytes=*/true);
    replication::IngestOptions opts;
    opts.params = *params;
    opts.threads = a.threads;
    opts.progress = [&](uint64_t done, uint64_t total) { bar.Update(done, total); };
    auto r = replication::IngestFile(store->get(), Env::Default(), file, opts);
    bar.Finish();
    if (!r.ok()) return ctx->Fail("store add " + file, r.status());
    if (ctx->json) {
      out.push_back({{"file", file},
                     {"id", ToHex(r->index_id)},
                     {"size", r->file_size},
                     {"sha256", ToHex(r->file_sha256)},
                     {"chunks", r->chunks},
                     {"new_chunks", r->new_chunks},
                     {"new_bytes", r->new_raw_bytes},
                     {"new_stored_bytes", r->new_stored_bytes}});
    } else {
      std::cout << ToHex(r->index_id) << "  " << file << "\n";
      std::fprintf(stderr, "%s: %llu bytes in %llu chunks; %llu new chunks, %.1f MiB stored\n",
                   file.c_str(), static_cast<unsigned long long>(r->file_size),
                   static_cast<unsigned long long>(r->chunks),
                   static_cast<unsigned long long>(r->new_chunks), MiB(r->new_stored_bytes));
    }
  }
  if (ctx->json) std::cout << out.dump() << "\n";
}

// Writes to standard output, or to a file that appears only when complete.
class CatOutput {
 public:
  explicit CatOutput(std::string path) : path_(std::move(path)) {}
  Status Open() {
    if (path_.empty()) return Status::Ok();
    TS_ASSIGN_OR_RETURN(file_, Env::Default()->NewWritableFile(path_ + ".partial"));
    return Status::Ok();
  }
  Status Write(ByteSpan b) {
    if (file_) return file_->Append(b);
    if (std::fwrite(b.data(), 1, b.size(), stdout) != b.size()) {
      return IOError("writing to standard output failed");
    }
    return Status::Ok();
  }
  Status Commit() {
    if (!file_) return std::fflush(stdout) == 0 ? Status::Ok() : IOError("flush of stdout");
    TS_RETURN_IF_ERROR(file_->Sync());
    TS_RETURN_IF_ERROR(file_->Close());
    return Env::Default()->RenameFile(path_ + ".partial", path_);
  }
  void Abandon() {
    if (file_) Env::Default()->RemoveFile(path_ + ".partial").IgnoreError();
  }

 private:
  std::string path_;
  std::unique_ptr<WritableFile> file_;
};

void RunCat(const StoreArgs& a, CommandContext* ctx) {
  auto id = Sha256FromHex(a.id);
  if (!id)
    return ctx->Fail("store cat", InvalidArgumentError("'" + a.id + "' is not a 64-hex-digit id"));
  if (a.out.empty() && ::isatty(STDOUT_FILENO)) {
    return ctx->Fail("store cat",
                     InvalidArgumentError("refusing to write binary data to a terminal; redirect "
                                          "standard output or use -o FILE"));
  }
  auto store = OpenStore(a.dir, /*writable=*/false);
  if (!store.ok()) return ctx->Fail("store cat", store.status());
  CatOutput out(a.out);
  Status s = out.Open();
  if (s.ok()) s = replication::RestoreFile(**store, *id, [&](ByteSpan b) { return out.Write(b); });
  if (s.ok()) s = out.Commit();
  if (!s.ok()) {
    out.Abandon();
    return ctx->Fail("store cat " + a.id, s);
  }
}

void RunVerify(const StoreArgs& a, CommandContext* ctx) {
  auto store = OpenStore(a.dir, /*writable=*/false);
  if (!store.ok()) return ctx->Fail("store verify", store.status());
  ProgressBar bar("verifying", /*unit_bytes=*/false);
  auto report = (*store)->Verify([&](uint64_t done, uint64_t total) { bar.Update(done, total); });
  bar.Finish();
  if (!report.ok()) return ctx->Fail("store verify", report.status());
  if (ctx->json) {
    nlohmann::json problems = nlohmann::json::array();
    for (const auto& p : report->problems) {
      problems.push_back({{"kind", p.kind}, {"id", p.id}, {"error", p.error.ToString()}});
    }
    std::cout << nlohmann::json{{"clean", report->clean()},
                                {"chunks_checked", report->chunks_checked},
                                {"bytes_checked", report->bytes_checked},
                                {"indexes_checked", report->indexes_checked},
                                {"problems", problems}}
                     .dump()
              << "\n";
  } else {
    for (const auto& p : report->problems) {
      std::cout << "DAMAGED " << p.kind << " " << p.id << ": " << p.error.ToString() << "\n";
    }
    std::printf("checked %llu chunks (%.1f MiB) and %llu chunk indexes: %s\n",
                static_cast<unsigned long long>(report->chunks_checked), MiB(report->bytes_checked),
                static_cast<unsigned long long>(report->indexes_checked),
                report->clean() ? "all good" : "PROBLEMS FOUND (see above)");
  }
  if (!report->clean()) ctx->exit_code = kExitDamaged;
}

void RunStats(const StoreArgs& a, CommandContext* ctx) {
  auto store = OpenStore(a.dir, /*writable=*/false);
  if (!store.ok()) return ctx->Fail("store stats", store.status());
  auto st = (*store)->Stats();
  if (!st.ok()) return ctx->Fail("store stats", st.status());
  if (ctx->json) {
    std::cout << nlohmann::json{{"chunks", st->chunks},
                                {"compressed_chunks", st->compressed_chunks},
                                {"raw_bytes", st->raw_bytes},
                                {"stored_bytes", st->stored_bytes},
                                {"chunk_indexes", st->chunk_indexes},
                                {"packs", st->packs},
                                {"pack_bytes", st->pack_bytes}}
                     .dump()
              << "\n";
    return;
  }
  std::printf("chunks:          %llu (%llu compressed)\n",
              static_cast<unsigned long long>(st->chunks),
              static_cast<unsigned long long>(st->compressed_chunks));
  std::printf("content:         %.1f MiB\n", MiB(st->raw_bytes));
  std::printf("stored:          %.1f MiB in %llu pack(s)\n", MiB(st->pack_bytes),
              static_cast<unsigned long long>(st->packs));
  std::printf("files (indexes): %llu\n", static_cast<unsigned long long>(st->chunk_indexes));
}

}  // namespace

void RegisterStoreCommands(CLI::App* app, CommandContext* ctx) {
  auto args = std::make_shared<StoreArgs>();
  CLI::App* store = app->add_subcommand("store", "Local content-addressed chunk store");
  store->require_subcommand(1);
  store->fallthrough();

  CLI::App* init = store->add_subcommand("init", "Create an empty chunk store in DIR");
  init->add_option("dir", args->dir, "Store directory")->required();
  init->callback([=] { RunInit(*args, ctx); });

  auto add_store_opt = [&](CLI::App* cmd) {
    cmd->add_option("-s,--store", args->dir, "Store directory (or $TIERSYNC_STORE)")
        ->envname("TIERSYNC_STORE")
        ->required();
    cmd->fallthrough();
  };

  CLI::App* add = store->add_subcommand("add", "Chunk and store files; prints each file's id");
  add_store_opt(add);
  add->add_option("files", args->files, "Files to add")->required();
  add->add_option("--threads", args->threads, "Pipeline threads (1 or 2)")->check(CLI::Range(1, 2));
  add->add_option("--min", args->min, "Minimum chunk size")->capture_default_str();
  add->add_option("--avg", args->avg, "Average chunk size (power of two)")->capture_default_str();
  add->add_option("--max", args->max, "Maximum chunk size")->capture_default_str();
  add->callback([=] { RunAdd(*args, ctx); });

  CLI::App* cat = store->add_subcommand("cat", "Write the file with chunk-index id ID");
  add_store_opt(cat);
  cat->add_option("id", args->id, "Chunk-index id (64 hex digits)")->required();
  cat->add_option("-o,--output", args->out, "Write to FILE (appears only when complete)");
  cat->callback([=] { RunCat(*args, ctx); });

  CLI::App* verify = store->add_subcommand("verify", "Re-hash every chunk and chunk index");
  add_store_opt(verify);
  verify->callback([=] { RunVerify(*args, ctx); });

  CLI::App* stats = store->add_subcommand("stats", "Counts and sizes");
  add_store_opt(stats);
  stats->callback([=] { RunStats(*args, ctx); });
}

}  // namespace tiersync::cli
