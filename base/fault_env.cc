#include "base/fault_env.h"

#include <cerrno>
#include <string>
#include <utility>

#include "base/mutex.h"
#include "base/random.h"
#include "base/thread_annotations.h"

namespace tiersync {
namespace fault_env_internal {

enum class OpKind { kOther, kAppend, kSync };

// What to do with one counted operation.
struct Verdict {
  enum class Action {
    kForward,  // Forward it unchanged.
    kFail,     // Return `status` without forwarding.
    kSkip,     // Return OK without forwarding (a lying Sync).
    kPartial,  // Forward the first `prefix` bytes of an Append, then return `status`.
  };
  Action action = Action::kForward;
  Status status;
  size_t prefix = 0;
};

// The configurable faults (see fault_env.h).
struct FaultSettings {
  uint64_t crash_at = 0;
  uint64_t fail_sync_at = 0;
  int fail_sync_err = EIO;
  bool fail_all_syncs = false;
  uint64_t no_space_at = 0;
  bool no_space = false;
  bool sync_disabled = false;
  uint64_t flip_one_in = 0;
};

// The shared, mutex-guarded fault state and seeded Random.
class Injector {
 public:
  explicit Injector(uint64_t seed) : rng_(seed) {}

  // Counts one operation and decides its fate. `append_size` is the Append's length.
  Verdict Admit(OpKind kind, size_t append_size = 0) {
    MutexLock lock(&mu_);
    const uint64_t op = ++ops_;
    if (crashed_ || (settings_.crash_at != 0 && op >= settings_.crash_at)) return Crash(op);
    const bool fail_this_sync = (op == settings_.fail_sync_at);
    const bool no_space_here = (op == settings_.no_space_at);
    if (fail_this_sync) settings_.fail_sync_at = 0;
    if (no_space_here) settings_.no_space_at = 0;
    if (kind == OpKind::kSync) return AdmitSync(op, fail_this_sync);
    if (kind == OpKind::kAppend) return AdmitAppend(op, no_space_here, append_size);
    return Verdict();
  }

  // Counts one plain operation; non-OK means do not forward.
  Status AdmitPlain() { return Admit(OpKind::kOther).status; }

  // Maybe flips one bit of a read result.
  void MaybeFlip(MutableByteSpan bytes) {
    MutexLock lock(&mu_);
    if (settings_.flip_one_in == 0 || bytes.empty() || !rng_.OneIn(settings_.flip_one_in)) return;
    const uint64_t bit = rng_.Uniform(static_cast<uint64_t>(bytes.size()) * 8);
    bytes[static_cast<size_t>(bit / 8)] ^= static_cast<uint8_t>(1u << (bit % 8));
  }

  bool crashed() const {
    MutexLock lock(&mu_);
    return crashed_;
  }
  uint64_t operation_count() const {
    MutexLock lock(&mu_);
    return ops_;
  }
  void ResetCounters() {
    MutexLock lock(&mu_);
    ops_ = 0;
    settings_.crash_at = 0;
    crashed_ = false;
    crash_op_ = 0;
  }

  // Runs `fn` on the settings under the mutex.
  template <class Fn>
  void Configure(Fn fn) {
    MutexLock lock(&mu_);
    fn(settings_);
  }

 private:
  static Verdict Fail(Status status) {
    Verdict v;
    v.action = Verdict::Action::kFail;
    v.status = std::move(status);
    return v;
  }

  Verdict Crash(uint64_t op) REQUIRES(mu_) {
    if (!crashed_) {
      crashed_ = true;
      crash_op_ = op;
    }
    return Fail(IOError("injected crash at operation " + std::to_string(crash_op_)).AsLocal());
  }

  Verdict AdmitSync(uint64_t op, bool fail_this_sync) REQUIRES(mu_) {
    const std::string where = "injected sync failure at operation " + std::to_string(op);
    if (fail_this_sync) return Fail(ErrnoToStatus(settings_.fail_sync_err, where));
    if (settings_.fail_all_syncs) return Fail(ErrnoToStatus(EIO, where));
    if (!settings_.sync_disabled) return Verdict();
    Verdict v;
    v.action = Verdict::Action::kSkip;
    return v;
  }

  Verdict AdmitAppend(uint64_t op, bool no_space_here, size_t size) REQUIRES(mu_) {
    if (!no_space_here && !settings_.no_space) return Verdict();
    Verdict v = Fail(ErrnoToStatus(ENOSPC, "injected no space at operation " + std::to_string(op)));
    if (no_space_here && size > 0) {
      v.action = Verdict::Action::kPartial;
      v.prefix = static_cast<size_t>(rng_.Uniform(size));
    }
    return v;
  }

  mutable Mutex mu_;
  FaultSettings settings_ GUARDED_BY(mu_);
  Random rng_ GUARDED_BY(mu_);
  uint64_t ops_ GUARDED_BY(mu_) = 0;
  bool crashed_ GUARDED_BY(mu_) = false;
  uint64_t crash_op_ GUARDED_BY(mu_) = 0;
};

}  // namespace fault_env_internal

namespace {

using fault_env_internal::FaultSettings;
using fault_env_internal::Injector;
using fault_env_internal::OpKind;
using fault_env_internal::Verdict;
using Action = Verdict::Action;

class FaultSequentialFile final : public SequentialFile {
 public:
  FaultSequentialFile(std::shared_ptr<Injector> injector, std::unique_ptr<SequentialFile> target)
      : injector_(std::move(injector)), target_(std::move(target)) {}

  Result<size_t> Read(MutableByteSpan dst) override {
    TS_RETURN_IF_ERROR(injector_->AdmitPlain());
    TS_ASSIGN_OR_RETURN(size_t n, target_->Read(dst));
    injector_->MaybeFlip(dst.first(n));
    return n;
  }

 private:
  std::shared_ptr<Injector> injector_;
  std::unique_ptr<SequentialFile> target_;
};

class FaultRandomAccessFile final : public RandomAccessFile {
 public:
  FaultRandomAccessFile(std::shared_ptr<Injector> injector,
                        std::unique_ptr<RandomAccessFile> target)
      : injector_(std::move(injector)), target_(std::move(target)) {}

  Result<size_t> ReadAt(uint64_t offset, MutableByteSpan dst) const override {
    TS_RETURN_IF_ERROR(injector_->AdmitPlain());
    TS_ASSIGN_OR_RETURN(size_t n, target_->ReadAt(offset, dst));
    injector_->MaybeFlip(dst.first(n));
    return n;
  }

 private:
  std::shared_ptr<Injector> injector_;
  std::unique_ptr<RandomAccessFile> target_;
};

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(std::shared_ptr<Injector> injector, std::unique_ptr<WritableFile> target)
      : injector_(std::move(injector)), target_(std::move(target)) {}

  Status Append(ByteSpan data) override {
    Verdict v = injector_->Admit(OpKind::kAppend, data.size());
    if (v.action == Action::kPartial && v.prefix > 0) {
      target_->Append(data.first(v.prefix)).IgnoreError();
    }
    if (v.action != Action::kForward) return v.status;
    return target_->Append(data);
  }

  Status Sync() override {
    Verdict v = injector_->Admit(OpKind::kSync);
    if (v.action != Action::kForward) return v.status;
    return target_->Sync();
  }

  Status Close() override {
    TS_RETURN_IF_ERROR(injector_->AdmitPlain());
    return target_->Close();
  }

 private:
  std::shared_ptr<Injector> injector_;
  std::unique_ptr<WritableFile> target_;
};

// Wraps a successfully opened target file in `Wrapper`.
template <class Wrapper, class Base>
Result<std::unique_ptr<Base>> Wrap(const std::shared_ptr<Injector>& injector,
                                   Result<std::unique_ptr<Base>> opened) {
  if (!opened.ok()) return opened.status();
  std::unique_ptr<Base> wrapped = std::make_unique<Wrapper>(injector, std::move(opened).value());
  return wrapped;
}

}  // namespace

FaultEnv::FaultEnv(Env* target, uint64_t seed)
    : EnvWrapper(target), seed_(seed), injector_(std::make_shared<Injector>(seed)) {}

FaultEnv::~FaultEnv() = default;

void FaultEnv::CrashAtOperation(uint64_t n) {
  injector_->Configure([n](FaultSettings& s) { s.crash_at = n; });
}

bool FaultEnv::crashed() const { return injector_->crashed(); }

uint64_t FaultEnv::operation_count() const { return injector_->operation_count(); }

void FaultEnv::ResetCounters() { injector_->ResetCounters(); }

void FaultEnv::FailSyncAt(uint64_t n, int err) {
  injector_->Configure([n, err](FaultSettings& s) {
    s.fail_sync_at = n;
    s.fail_sync_err = err;
  });
}

void FaultEnv::FailAllSyncs(bool fail) {
  injector_->Configure([fail](FaultSettings& s) { s.fail_all_syncs = fail; });
}

void FaultEnv::NoSpaceAt(uint64_t n) {
  injector_->Configure([n](FaultSettings& s) { s.no_space_at = n; });
}

void FaultEnv::SetNoSpace(bool no_space) {
  injector_->Configure([no_space](FaultSettings& s) { s.no_space = no_space; });
}

void FaultEnv::SetSyncDisabled(bool disabled) {
  injector_->Configure([disabled](FaultSettings& s) { s.sync_disabled = disabled; });
}

void FaultEnv::SetReadBitFlipOneIn(uint64_t n) {
  injector_->Configure([n](FaultSettings& s) { s.flip_one_in = n; });
}

Result<std::unique_ptr<SequentialFile>> FaultEnv::NewSequentialFile(const std::string& path) {
  TS_RETURN_IF_ERROR(injector_->AdmitPlain());
  return Wrap<FaultSequentialFile>(injector_, target()->NewSequentialFile(path));
}

Result<std::unique_ptr<RandomAccessFile>> FaultEnv::NewRandomAccessFile(const std::string& path) {
  TS_RETURN_IF_ERROR(injector_->AdmitPlain());
  return Wrap<FaultRandomAccessFile>(injector_, target()->NewRandomAccessFile(path));
}

Result<std::unique_ptr<WritableFile>> FaultEnv::NewWritableFile(const std::string& path) {
  TS_RETURN_IF_ERROR(injector_->AdmitPlain());
  return Wrap<FaultWritableFile>(injector_, target()->NewWritableFile(path));
}

Result<std::unique_ptr<WritableFile>> FaultEnv::NewAppendableFile(const std::string& path) {
  TS_RETURN_IF_ERROR(injector_->AdmitPlain());
  return Wrap<FaultWritableFile>(injector_, target()->NewAppendableFile(path));
}

Result<std::unique_ptr<WritableFile>> FaultEnv::NewPrivateFile(const std::string& path) {
  TS_RETURN_IF_ERROR(injector_->AdmitPlain());
  return Wrap<FaultWritableFile>(injector_, target()->NewPrivateFile(path));
}

bool FaultEnv::FileExists(const std::string& path) {
  return !injector_->crashed() && target()->FileExists(path);
}

Result<uint64_t> FaultEnv::GetFileSize(const std::string& path) {
  TS_RETURN_IF_ERROR(injector_->AdmitPlain());
  return target()->GetFileSize(path);
}

Result<FileStat> FaultEnv::Stat(const std::string& path) {
  TS_RETURN_IF_ERROR(injector_->AdmitPlain());
  return target()->Stat(path);
}

Result<std::vector<std::string>> FaultEnv::GetChildren(const std::string& dir) {
  TS_RETURN_IF_ERROR(injector_->AdmitPlain());
  return target()->GetChildren(dir);
}

Status FaultEnv::CreateDir(const std::string& dir) {
  TS_RETURN_IF_ERROR(injector_->AdmitPlain());
  return target()->CreateDir(dir);
}

Status FaultEnv::RemoveFile(const std::string& path) {
  TS_RETURN_IF_ERROR(injector_->AdmitPlain());
  return target()->RemoveFile(path);
}

Status FaultEnv::RemoveDir(const std::string& dir) {
  TS_RETURN_IF_ERROR(injector_->AdmitPlain());
  return target()->RemoveDir(dir);
}

Status FaultEnv::RenameFile(const std::string& from, const std::string& to) {
  TS_RETURN_IF_ERROR(injector_->AdmitPlain());
  return target()->RenameFile(from, to);
}

Status FaultEnv::TruncateFile(const std::string& path, uint64_t size) {
  TS_RETURN_IF_ERROR(injector_->AdmitPlain());
  return target()->TruncateFile(path, size);
}

Status FaultEnv::SyncDir(const std::string& dir) {
  Verdict v = injector_->Admit(OpKind::kSync);
  if (v.action != Action::kForward) return v.status;
  return target()->SyncDir(dir);
}

Result<std::unique_ptr<FileLock>> FaultEnv::LockFile(const std::string& path) {
  TS_RETURN_IF_ERROR(injector_->AdmitPlain());
  return target()->LockFile(path);
}

}  // namespace tiersync
