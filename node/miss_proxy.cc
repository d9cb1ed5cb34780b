#include "node/miss_proxy.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <iostream>
#include <map>
#include <thread>
#include <vector>

#include "base/hex.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "node/node_log.h"
#include "node/task_threads.h"
#include "node/user_replies.h"

namespace tiersync::node {

void MarkUpstream(HttpReply& reply) { reply.upstream = true; }

namespace {

void ProxyLog(const std::string& line) { NodeLog("proxy: " + line); }

const char kNotMirrored[] = "本节点未镜像该资源，上级节点也无法提供";

}  // namespace

// A chunk batch on its way: readers of its other chunks wait for it. Guarded by the mu of
// the MissFile whose in_flight holds it.
struct Fetch {
  bool done = false;
  Status status;
};

// One file being read through the proxy: its index, its partial copy, what is on its way.
// Lives while a reply reads it (the table holds it weakly). Lock order: mu, then the partial
// copy's and the cache's.
struct MissFile {
  Mutex mu;
  CondVar arrived;  // a Fetch finished
  enum class IndexState { kNone, kFetching, kReady } state GUARDED_BY(mu) = IndexState::kNone;
  std::vector<std::function<void(const Status&)>> index_waiters GUARDED_BY(mu);
  // Set once, under mu, before `state` becomes kReady; read-only from then on (and read
  // without mu: only readers that saw kReady read them).
  protocol::ChunkIndex index;
  std::vector<uint64_t> offsets;  // chunk i starts at offsets[i]; offsets.back(): the size
  // URL of the source that gave the index ("" from the cache).
  std::string source GUARDED_BY(mu);
  std::shared_ptr<FileCache::Partial> partial GUARDED_BY(mu);
  std::map<size_t, std::shared_ptr<Fetch>> in_flight GUARDED_BY(mu);  // by chunk number
  // Fetched, not in the partial copy.
  std::map<size_t, std::vector<uint8_t>> held GUARDED_BY(mu);
  std::deque<size_t> held_order GUARDED_BY(mu);  // oldest first
  size_t held_bytes GUARDED_BY(mu) = 0;
  std::deque<uint64_t> recent_ends GUARDED_BY(mu);  // last bytes of recent ranges, newest last

  // Sets the index (and its offsets).
  void SetIndex(protocol::ChunkIndex i) REQUIRES(mu) {
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
    MutexLock l(&mu);
    const bool sequential = first > 0 && std::find(recent_ends.begin(), recent_ends.end(),
                                                   first - 1) != recent_ends.end();
    recent_ends.push_back(last);
    if (recent_ends.size() > kRecentRanges) recent_ends.pop_front();
    return sequential;
  }

  bool Here(size_t j) REQUIRES(mu) {
    return in_flight.count(j) || held.count(j) || (partial && partial->Has(j));
  }
  void Hold(size_t j, std::vector<uint8_t> bytes) REQUIRES(mu) {
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
  Mutex mu;
  std::map<Sha256Digest, std::weak_ptr<MissFile>> files GUARDED_BY(mu);
  std::atomic<uint64_t> index_fetches{0}, batches{0}, chunk_bytes{0}, merged{0};

  // The in-flight entry of the file, made if there is none (with its index when the cache
  // holds a partial copy).
  std::shared_ptr<MissFile> FileFor(const Sha256Digest& sha256) {
    MutexLock l(&mu);
    std::erase_if(files, [](const auto& kv) { return kv.second.expired(); });
    if (auto f = files[sha256].lock()) return f;
    auto f = std::make_shared<MissFile>();
    if (auto partial = cache ? cache->FindPartial(sha256) : nullptr) {
      MutexLock fl(&f->mu);  // nobody else has `f` yet: for the analysis
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
    MutexLock l(&file->mu);
    if (file->state == MissFile::IndexState::kReady) {
      l.Unlock();
      done(Status::Ok());
      return;
    }
    file->index_waiters.push_back(std::move(done));
    if (file->state == MissFile::IndexState::kFetching) return;
    file->state = MissFile::IndexState::kFetching;
    l.Unlock();
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
      ProxyLog(missed.name + ": " + got.status().ToString());
      Indexed(file, got.status());
      return;
    }
    std::shared_ptr<FileCache::Partial> partial =
        cache ? cache->OpenPartial(got->index, std::move(got->bytes)) : nullptr;
    {
      MutexLock l(&file.mu);
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
      MutexLock l(&file.mu);
      file.state = status.ok() ? MissFile::IndexState::kReady : MissFile::IndexState::kNone;
      waiters.swap(file.index_waiters);
    }
    for (auto& w : waiters) w(status);
  }

  Result<std::vector<uint8_t>> ReadChunk(MissFile& file, size_t i, size_t want_last,
                                         bool sequential);
  void Keep(MissFile& file, std::map<size_t, std::vector<uint8_t>>& got) EXCLUDES(file.mu);
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
  MutexLock l(&file.mu);
  for (;;) {
    if (auto it = file.held.find(i); it != file.held.end()) return it->second;
    if (auto it = file.in_flight.find(i); it != file.in_flight.end()) {
      std::shared_ptr<Fetch> fetch = it->second;  // another reader's: wait for it
      ++merged;
      while (!fetch->done) file.arrived.Wait(&file.mu);
      if (!fetch->status.ok()) return fetch->status;
      continue;
    }
    if (file.partial && file.partial->Has(i)) {
      std::shared_ptr<FileCache::Partial> partial = file.partial;
      l.Unlock();
      if (auto bytes = partial->Read(i)) return std::move(*bytes);
      l.Lock();
      continue;  // damaged on disk and forgotten: fetch it
    }
    break;
  }
  const std::vector<size_t> batch = PlanBatch(file.index, i, want_last, sequential, [&](size_t j) {
    file.mu.AssertHeld();  // PlanBatch calls it before it returns, here, under the lock
    return file.Here(j);
  });
  auto fetch = std::make_shared<Fetch>();
  for (size_t j : batch) file.in_flight[j] = fetch;
  l.Unlock();
  ++batches;
  auto got = FetchChunks(up, file.index, batch);
  if (got.ok()) {
    for (const auto& [j, bytes] : *got) chunk_bytes += bytes.size();
  } else {
    ProxyLog("chunk " + std::to_string(i) + " of " + ToHex(file.index.file_sha256) + ": " +
             got.status().ToString());
  }
  std::vector<uint8_t> mine;
  if (got.ok()) {
    mine = (*got)[i];
    Keep(file, *got);
  }
  l.Lock();
  for (size_t j : batch) file.in_flight.erase(j);
  fetch->done = true;
  fetch->status = got.ok() ? Status::Ok() : got.status();
  l.Unlock();
  file.arrived.SignalAll();
  if (!got.ok()) return got.status();
  return mine;
}

// Puts fetched chunks in the partial copy (or the memory window when it cannot keep them) and
// has the copy made a cached file when it is full.
void MissProxy::Core::Keep(MissFile& file, std::map<size_t, std::vector<uint8_t>>& got) {
  std::shared_ptr<FileCache::Partial> partial;
  {
    MutexLock l(&file.mu);
    partial = file.partial;
  }
  std::vector<size_t> not_kept;
  for (auto& [j, bytes] : got) {
    if (!partial || !partial->Put(j, bytes)) not_kept.push_back(j);
  }
  {
    MutexLock l(&file.mu);
    // Also the reader's own chunk: others may be waiting for it.
    for (size_t j : not_kept) file.Hold(j, std::move(got[j]));
  }
  if (!partial || !partial->full()) return;
  if (partial->CompletesInPlace()) {  // sync and rename: before the last byte goes out
    if (Status s = partial->Complete(); !s.ok()) ProxyLog(s.ToString());
    return;
  }
  threads.Submit(
      [partial] {
        if (Status s = partial->Complete(); !s.ok()) ProxyLog(s.ToString());
      },
      /*always=*/true);
}

HttpReply MissProxy::Core::Reply(const HttpRequest& request, const std::shared_ptr<MissFile>& file,
                                 const FileInfo& info) {
  protocol::ChunkIndex index;
  std::string source;
  {
    MutexLock l(&file->mu);
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
    MutexLock l(&entry->mu);
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
  MutexLock l(&core_->mu);
  for (const auto& [sha, f] : core_->files) s.in_flight_files += f.expired() ? 0 : 1;
  return s;
}

}  // namespace tiersync::node
