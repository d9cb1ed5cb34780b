#include "node/miss_proxy.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "base/hex.h"
#include "node/task_threads.h"
#include "node/user_replies.h"

namespace tiersync::node {

void MarkUpstream(HttpReply& reply) { reply.upstream = true; }

namespace {

void Log(const std::string& line) { std::cerr << "tiersync node: proxy: " << line << std::endl; }

const char kNotMirrored[] = "本节点未镜像该资源，上级节点也无法提供";

}  // namespace

// A chunk batch on its way: readers of its other chunks wait for it.
struct Fetch {
  bool done = false;
  Status status;
};

// One file being read through the proxy: its index, its partial copy, what is on its way.
// Lives while a reply reads it (the table holds it weakly). Lock order: mu, then the partial
// copy's and the cache's.
struct MissFile {
  std::mutex mu;
  std::condition_variable arrived;  // a Fetch finished
  enum class IndexState { kNone, kFetching, kReady } state = IndexState::kNone;
  std::vector<std::function<void(const Status&)>> index_waiters;
  protocol::ChunkIndex index;
  std::vector<uint64_t> offsets;  // chunk i starts at offsets[i]; offsets.back(): the size
  std::string source;             // URL of the source that gave the index ("" from the cache)
  std::shared_ptr<FileCache::Partial> partial;
  std::map<size_t, std::shared_ptr<Fetch>> in_flight;  // by chunk number
  std::map<size_t, std::vector<uint8_t>> held;         // fetched, not in the partial copy
  std::deque<size_t> held_order;                       // oldest first
  size_t held_bytes = 0;
  std::deque<uint64_t> recent_ends;  // last bytes of recent ranges, newest last

  // REQUIRES: mu held. Sets the index (and its offsets).
  void SetIndex(protocol::ChunkIndex i) {
    index = std::move(i);
    offsets.assign(1, 0);
    for (const auto& c : index.chunks) offsets.push_back(offsets.back() + c.size);
  }
  // The chunk that holds byte `at`. REQUIRES: the index is set (it never changes then).
  size_t ChunkAt(uint64_t at) const {
    return static_cast<size_t>(std::upper_bound(offsets.begin(), offsets.end(), at) -
                               offsets.begin() - 1);
  }
  // Records a range of bytes first..last; true if it starts where a recent one ended.
  bool NoteRange(uint64_t first, uint64_t last) {
    std::lock_guard<std::mutex> l(mu);
    const bool sequential = first > 0 && std::find(recent_ends.begin(), recent_ends.end(),
                                                   first - 1) != recent_ends.end();
    recent_ends.push_back(last);
    if (recent_ends.size() > kRecentRanges) recent_ends.pop_front();
    return sequential;
  }

  // REQUIRES: mu held.
  bool Here(size_t j) {
    return in_flight.count(j) || held.count(j) || (partial && partial->Has(j));
  }
  void Hold(size_t j, std::vector<uint8_t> bytes) {
    held_bytes += bytes.size();
    held_order.push_back(j);
    held[j] = std::move(bytes);
    while (held_bytes > kMissHeldBytes && !held_order.empty()) {
      auto it = held.find(held_order.front());
      held_order.pop_front();
      if (it == held.end()) continue;
      held_bytes -= it->second.size();
      held.erase(it);
    }
  }
};

struct MissProxy::Core : std::enable_shared_from_this<MissProxy::Core> {
  Upstream up;
  std::shared_ptr<FileCache> cache;
  TaskThreads threads{kMissThreads, kMaxPendingMisses};
  std::mutex mu;  // guards files
  std::map<Sha256Digest, std::weak_ptr<MissFile>> files;
  std::atomic<uint64_t> index_fetches{0}, batches{0}, chunk_bytes{0}, merged{0};

  // The in-flight entry of the file, made if there is none (with its index when the cache
  // holds a partial copy).
  std::shared_ptr<MissFile> FileFor(const Sha256Digest& sha256) {
    std::lock_guard<std::mutex> l(mu);
    std::erase_if(files, [](const auto& kv) { return kv.second.expired(); });
    if (auto f = files[sha256].lock()) return f;
    auto f = std::make_shared<MissFile>();
    if (auto partial = cache ? cache->FindPartial(sha256) : nullptr) {
      f->SetIndex(partial->index());
      f->partial = std::move(partial);
      f->state = MissFile::IndexState::kReady;
    }
    files[sha256] = f;
    return f;
  }

  // Calls `done` once `file`'s index is here (at once if it is), fetching it on the proxy's
  // threads if nobody is; `done` may run on those threads.
  void WhenIndexed(const std::shared_ptr<MissFile>& file, const MissedFile& missed,
                   std::function<void(const Status&)> done) {
    std::unique_lock<std::mutex> l(file->mu);
    if (file->state == MissFile::IndexState::kReady) {
      l.unlock();
      done(Status::Ok());
      return;
    }
    file->index_waiters.push_back(std::move(done));
    if (file->state == MissFile::IndexState::kFetching) return;
    file->state = MissFile::IndexState::kFetching;
    l.unlock();
    std::weak_ptr<Core> weak = weak_from_this();
    const bool queued = threads.Submit([weak, file, missed] {
      if (auto core = weak.lock()) core->FetchIndexOf(*file, missed);
    });
    if (!queued) {
      // This node is busy (not the sources' fault): a local kResourceExhausted, answered 503.
      Indexed(
          *file,
          ResourceExhaustedError("too many misses are being fetched; try again soon").AsLocal());
    }
  }

  void FetchIndexOf(MissFile& file, const MissedFile& missed) {
    ++index_fetches;
    auto got = FetchIndex(up, missed.index_id, missed.size, missed.sha256);
    if (!got.ok()) {
      Log(missed.name + ": " + got.status().ToString());
      Indexed(file, got.status());
      return;
    }
    std::shared_ptr<FileCache::Partial> partial =
        cache ? cache->OpenPartial(got->index, std::move(got->bytes)) : nullptr;
    {
      std::lock_guard<std::mutex> l(file.mu);
      file.SetIndex(std::move(got->index));
      file.source = got->source;
      file.partial = std::move(partial);
    }
    Indexed(file, Status::Ok());
  }

  // Ends an index fetch: the state and every waiter learn `status`.
  void Indexed(MissFile& file, const Status& status) {
    std::vector<std::function<void(const Status&)>> waiters;
    {
      std::lock_guard<std::mutex> l(file.mu);
      file.state = status.ok() ? MissFile::IndexState::kReady : MissFile::IndexState::kNone;
      waiters.swap(file.index_waiters);
    }
    for (auto& w : waiters) w(status);
  }

  Result<std::vector<uint8_t>> ReadChunk(MissFile& file, size_t i, size_t want_last,
                                         bool sequential);
  void Keep(MissFile& file, std::map<size_t, std::vector<uint8_t>>& got);
  HttpReply Reply(const HttpRequest& request, const std::shared_ptr<MissFile>& file,
                  const FileInfo& info);
};

namespace {

// The chunks of one reply: asks the file's in-flight entry, which fetches what nobody has.
class ProxiedChunks : public ChunkSource {
 public:
  ProxiedChunks(std::shared_ptr<MissProxy::Core> core, std::shared_ptr<MissFile> file)
      : core_(std::move(core)), file_(std::move(file)) {}
  void Want(uint64_t first, uint64_t last) override {
    want_last_ = file_->ChunkAt(last);
    sequential_ = file_->NoteRange(first, last);
  }
  Result<std::vector<uint8_t>> Read(size_t i) override {
    return core_->ReadChunk(*file_, i, std::max(i, want_last_), sequential_);
  }

 private:
  std::shared_ptr<MissProxy::Core> core_;
  std::shared_ptr<MissFile> file_;
  size_t want_last_ = 0;
  bool sequential_ = false;
};

}  // namespace

Result<std::vector<uint8_t>> MissProxy::Core::ReadChunk(MissFile& file, size_t i, size_t want_last,
                                                        bool sequential) {
  if (i >= file.index.chunks.size()) return InvalidArgumentError("no such chunk");
  std::unique_lock<std::mutex> l(file.mu);
  for (;;) {
    if (auto it = file.held.find(i); it != file.held.end()) return it->second;
    if (auto it = file.in_flight.find(i); it != file.in_flight.end()) {
      std::shared_ptr<Fetch> fetch = it->second;  // another reader's: wait for it
      ++merged;
      file.arrived.wait(l, [&] { return fetch->done; });
      if (!fetch->status.ok()) return fetch->status;
      continue;
    }
    if (file.partial && file.partial->Has(i)) {
      std::shared_ptr<FileCache::Partial> partial = file.partial;
      l.unlock();
      if (auto bytes = partial->Read(i)) return std::move(*bytes);
      l.lock();
      continue;  // damaged on disk and forgotten: fetch it
    }
    break;
  }
  const std::vector<size_t> batch =
      PlanBatch(file.index, i, want_last, sequential, [&](size_t j) { return file.Here(j); });
  auto fetch = std::make_shared<Fetch>();
  for (size_t j : batch) file.in_flight[j] = fetch;
  l.unlock();
  ++batches;
  auto got = FetchChunks(up, file.index, batch);
  if (got.ok()) {
    for (const auto& [j, bytes] : *got) chunk_bytes += bytes.size();
  } else {
    Log("chunk " + std::to_string(i) + " of " + ToHex(file.index.file_sha256) + ": " +
        got.status().ToString());
  }
  std::vector<uint8_t> mine;
  if (got.ok()) {
    mine = (*got)[i];
    Keep(file, *got);
  }
  l.lock();
  for (size_t j : batch) file.in_flight.erase(j);
  fetch->done = true;
  fetch->status = got.ok() ? Status::Ok() : got.status();
  l.unlock();
  file.arrived.notify_all();
  if (!got.ok()) return got.status();
  return mine;
}

// Puts fetched chunks in the partial copy (or the memory window when it cannot keep them) and
// has the copy made a cached file when it is full. REQUIRES: file.mu not held.
void MissProxy::Core::Keep(MissFile& file, std::map<size_t, std::vector<uint8_t>>& got) {
  std::shared_ptr<FileCache::Partial> partial;
  {
    std::lock_guard<std::mutex> l(file.mu);
    partial = file.partial;
  }
  std::vector<size_t> not_kept;
  for (auto& [j, bytes] : got) {
    if (!partial || !partial->Put(j, bytes)) not_kept.push_back(j);
  }
  {
    std::lock_guard<std::mutex> l(file.mu);
    // Also the reader's own chunk: others may be waiting for it.
    for (size_t j : not_kept) file.Hold(j, std::move(got[j]));
  }
  if (!partial || !partial->full()) return;
  if (partial->CompletesInPlace()) {  // sync and rename: before the last byte goes out
    if (Status s = partial->Complete(); !s.ok()) Log(s.ToString());
    return;
  }
  threads.Submit(
      [partial] {
        if (Status s = partial->Complete(); !s.ok()) Log(s.ToString());
      },
      /*always=*/true);
}

HttpReply MissProxy::Core::Reply(const HttpRequest& request, const std::shared_ptr<MissFile>& file,
                                 const FileInfo& info) {
  protocol::ChunkIndex index;
  std::string source;
  {
    std::lock_guard<std::mutex> l(file->mu);
    index = file->index;
    source = file->source;
  }
  auto chunks = std::make_shared<ProxiedChunks>(shared_from_this(), file);
  HttpReply reply = FileReply(request, std::move(index), std::move(chunks), info);
  if (!source.empty()) reply.headers.emplace_back("X-Tiersync-Source", source);
  MarkUpstream(reply);
  return reply;
}

MissProxy::MissProxy(Upstream up, std::shared_ptr<FileCache> cache)
    : core_(std::make_shared<Core>()) {
  core_->up = std::move(up);
  core_->cache = std::move(cache);
}

MissProxy::~MissProxy() { core_->threads.Stop(); }

HttpReply MissProxy::Serve(const HttpRequest& request, const MissedFile& file,
                           const FileInfo& info) {
  std::shared_ptr<MissFile> entry = core_->FileFor(file.sha256);
  bool indexed;
  {
    std::lock_guard<std::mutex> l(entry->mu);
    indexed = entry->state == MissFile::IndexState::kReady;
  }
  if (indexed) return core_->Reply(request, entry, info);
  // Until resumed (at most ServerLimits::max_hold), this is what the client would get.
  HttpReply deferred =
      UserError(request, 504, file.name + ": the tiers above did not answer in time", kNotMirrored);
  std::weak_ptr<Core> weak = core_;
  deferred.wait = [weak, entry, file, request, info](HttpReply::Resume resume) {
    auto core = weak.lock();
    if (!core) return;
    core->WhenIndexed(
        entry, file,
        [weak, entry, file, request, info, resume = std::move(resume)](const Status& s) {
          auto core = weak.lock();
          if (!core) return;
          if (s.code() == StatusCode::kResourceExhausted && s.local()) {
            HttpReply busy = UserError(request, 503, s.message(), "本节点正忙，请稍后再试");
            busy.headers.emplace_back("Retry-After", "5");
            resume(std::move(busy));
          } else if (!s.ok()) {
            resume(UserError(
                request, 502,
                file.name +
                    " is not mirrored here and the tiers above cannot give it: " + s.ToString(),
                kNotMirrored));
          } else {
            resume(core->Reply(request, entry, info));
          }
        });
  };
  return deferred;
}

MissProxy::Stats MissProxy::stats() {
  Stats s;
  s.index_fetches = core_->index_fetches;
  s.batches = core_->batches;
  s.chunk_bytes = core_->chunk_bytes;
  s.merged = core_->merged;
  std::lock_guard<std::mutex> l(core_->mu);
  for (const auto& [sha, f] : core_->files) s.in_flight_files += f.expired() ? 0 : 1;
  return s;
}

}  // namespace tiersync::node
