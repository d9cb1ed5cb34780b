#include "access/audit_log.h"

#include <algorithm>
#include <utility>

#include "base/bytes.h"

namespace tiersync::access {
namespace {

// The last `n` bytes before `end` of `path`.
Result<std::string> ReadTail(Env* env, const std::string& path, uint64_t end, uint64_t n) {
  TS_ASSIGN_OR_RETURN(auto file, env->NewRandomAccessFile(path));
  std::string buf(n, '\0');
  MutableByteSpan dst(reinterpret_cast<uint8_t*>(buf.data()), buf.size());
  TS_ASSIGN_OR_RETURN(size_t got, file->ReadAt(end - n, dst));
  if (got != n) return IOError("short read of " + path);
  return buf;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(Env* env, std::string path) {
  std::unique_ptr<AuditLog> log(new AuditLog(env, std::move(path)));
  const std::string& p = log->path_;
  auto lock = env->LockFile(p + ".lock");
  if (!lock.ok()) return lock.status().WithContext("audit log " + p);
  log->lock_ = std::move(lock).value();
  if (Status s = log->Recover(); !s.ok()) return s.WithContext("audit log " + p);
  return log;
}

Status AuditLog::Recover() {
  const bool existed = env_->FileExists(path_);
  TS_ASSIGN_OR_RETURN(auto file, env_->NewAppendableFile(path_));
  if (!existed) TS_RETURN_IF_ERROR(env_->SyncDir(DirName(path_)));
  TS_ASSIGN_OR_RETURN(uint64_t size, env_->GetFileSize(path_));
  // The tail holds the last complete line and whatever follows it.
  const uint64_t n = std::min<uint64_t>(size, 2 * kMaxAuditLineBytes + 2);
  TS_ASSIGN_OR_RETURN(std::string tail, ReadTail(env_, path_, size, n));
  const uint64_t tail_start = size - n;
  uint64_t torn = 0;
  if (!tail.empty() && tail.back() != '\n') {
    const size_t nl = tail.rfind('\n');
    if (nl == std::string::npos && tail_start > 0) {
      return CorruptionError("last line longer than " + std::to_string(kMaxAuditLineBytes));
    }
    const size_t keep = nl == std::string::npos ? 0 : nl + 1;
    torn = tail.size() - keep;
    tail.resize(keep);
    // Cut before anything is appended; durable with the file's next Sync.
    TS_RETURN_IF_ERROR(env_->TruncateFile(path_, tail_start + keep));
    TS_RETURN_IF_ERROR(file->Sync());
  }
  MutexLock l(&mu_);
  file_ = std::move(file);
  size_ = tail_start + tail.size();
  if (!tail.empty()) {
    // The newline before the last line; npos: the last line starts the tail.
    const size_t start = tail.size() >= 2 ? tail.rfind('\n', tail.size() - 2) : std::string::npos;
    if (start == std::string::npos && tail_start > 0) {
      return CorruptionError("last line longer than " + std::to_string(kMaxAuditLineBytes));
    }
    const size_t from = start == std::string::npos ? 0 : start + 1;
    const std::string_view last(tail.data() + from, tail.size() - 1 - from);
    auto e = DecodeAuditLine(last);
    if (!e.ok()) return e.status().WithContext("last line");
    last_seq_ = e->seq;
    head_ = AuditLineHash(last);
  }
  if (torn > 0) {
    AuditEntry event;
    event.operator_name = "tiersync";
    event.role = std::string(kRoleSystem);
    event.action = "audit_repair";
    event.target = "cut a torn last line of " + std::to_string(torn) +
                   " bytes at open (an append a crash interrupted; never reported written)";
    event.from = "local";
    event.outcome = "ok";
    TS_RETURN_IF_ERROR(AppendLocked(std::move(event)).status());
  }
  return Status::Ok();
}

Result<uint64_t> AuditLog::Append(AuditEntry entry) {
  MutexLock l(&mu_);
  return AppendLocked(std::move(entry));
}

Result<uint64_t> AuditLog::AppendLocked(AuditEntry entry) {
  if (!failed_.ok()) return failed_;
  entry.seq = last_seq_ + 1;
  entry.time = static_cast<int64_t>(env_->NowMicros() / 1'000'000);
  entry.prev = head_;
  const std::string line = EncodeAuditLine(entry);
  const std::string with_newline = line + "\n";
  Status s = file_->Append(AsBytes(with_newline));
  if (s.ok()) s = file_->Sync();
  if (!s.ok()) {
    failed_ = s.WithContext("audit log " + path_ + " failed");
    return failed_;
  }
  size_ += with_newline.size();
  last_seq_ = entry.seq;
  head_ = AuditLineHash(line);
  return entry.seq;
}

uint64_t AuditLog::last_seq() const {
  MutexLock l(&mu_);
  return last_seq_;
}

std::string AuditLog::head() const {
  MutexLock l(&mu_);
  return head_;
}

}  // namespace tiersync::access
