// AuditLog::Query: reads the log backwards from its committed end, a block at a time.
#include <algorithm>
#include <optional>

#include "access/audit_log.h"

namespace tiersync::access {
namespace {

constexpr uint64_t kBlockBytes = 64 << 10;

// The lines of bytes [0, end) of a file, last first. REQUIRES: the byte at end - 1 is '\n'
// (or end is 0).
class ReverseLineReader {
 public:
  ReverseLineReader(const RandomAccessFile* file, uint64_t end) : file_(file), start_(end) {}

  // The next line (without its newline), nullopt at the front of the file.
  Result<std::optional<std::string>> Next() {
    while (true) {
      if (buf_.size() >= 1) {
        const size_t nl = buf_.size() >= 2 ? buf_.rfind('\n', buf_.size() - 2) : std::string::npos;
        if (nl != std::string::npos || start_ == 0) {
          const size_t from = nl == std::string::npos ? 0 : nl + 1;
          std::string line = buf_.substr(from, buf_.size() - 1 - from);
          buf_.resize(from);
          return std::optional<std::string>(std::move(line));
        }
        if (buf_.size() > kMaxAuditLineBytes + 1) {
          return CorruptionError("a line longer than " + std::to_string(kMaxAuditLineBytes));
        }
      } else if (start_ == 0) {
        return std::optional<std::string>();
      }
      TS_RETURN_IF_ERROR(ReadBlock());
    }
  }

  uint64_t bytes_read() const { return bytes_read_; }

 private:
  Status ReadBlock() {
    const uint64_t n = std::min(start_, kBlockBytes);
    std::string block(n, '\0');
    MutableByteSpan dst(reinterpret_cast<uint8_t*>(block.data()), block.size());
    TS_ASSIGN_OR_RETURN(size_t got, file_->ReadAt(start_ - n, dst));
    if (got != n) return IOError("short read");
    start_ -= n;
    bytes_read_ += n;
    buf_.insert(0, block);
    return Status::Ok();
  }

  const RandomAccessFile* file_;
  uint64_t start_;   // file offset of buf_'s first byte
  std::string buf_;  // bytes [start_, end of the unread lines)
  uint64_t bytes_read_ = 0;
};

bool Matches(const AuditEntry& e, const AuditQuery& q) {
  return e.time >= q.since && e.time <= q.until &&
         (q.operator_name.empty() || e.operator_name == q.operator_name) &&
         (q.action.empty() || e.action == q.action);
}

}  // namespace

Result<AuditPage> AuditLog::Query(const AuditQuery& q) const {
  uint64_t end = 0;
  {
    MutexLock l(&mu_);
    end = size_;
  }
  const size_t limit = std::clamp<size_t>(q.limit, 1, kMaxAuditPage);
  AuditPage page;
  auto file = env_->NewRandomAccessFile(path_);
  if (!file.ok()) return file.status().WithContext("audit log " + path_);
  ReverseLineReader reader(file->get(), end);
  while (true) {
    auto line = reader.Next();
    if (!line.ok()) return line.status().WithContext("audit log " + path_);
    if (!line->has_value()) return page;  // the whole log read: next_before_seq stays 0
    auto e = DecodeAuditLine(**line);
    if (!e.ok()) return e.status().WithContext("audit log " + path_);
    const uint64_t seq = e->seq;
    if (q.before_seq != 0 && seq >= q.before_seq) continue;
    if (Matches(*e, q)) page.entries.push_back(std::move(e).value());
    // Stop at a full page or at the scan bound; the next page starts below this line.
    if (page.entries.size() == limit || reader.bytes_read() >= kMaxAuditScanBytes) {
      page.next_before_seq = seq > 1 ? seq : 0;
      break;
    }
  }
  return page;
}

}  // namespace tiersync::access
