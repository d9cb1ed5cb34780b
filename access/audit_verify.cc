// VerifyAuditLog: walks the hash chain of an audit log from its first line.
#include <optional>

#include "access/audit_log.h"

namespace tiersync::access {
namespace {

constexpr size_t kReadBytes = 64 << 10;

// The lines of a file, first first. A last segment without a newline is returned with
// `torn` set.
class ForwardLineReader {
 public:
  explicit ForwardLineReader(SequentialFile* file) : file_(file) {}

  struct Line {
    std::string text;
    bool torn = false;
  };
  Result<std::optional<Line>> Next() {
    while (true) {
      const size_t nl = buf_.find('\n', pos_);
      if (nl != std::string::npos) {
        Line line{buf_.substr(pos_, nl - pos_), false};
        pos_ = nl + 1;
        return std::optional<Line>(std::move(line));
      }
      if (buf_.size() - pos_ > kMaxAuditLineBytes) {
        Line line{buf_.substr(pos_, kMaxAuditLineBytes + 1), true};
        buf_.clear();
        pos_ = 0;
        eof_ = true;
        return std::optional<Line>(std::move(line));
      }
      if (eof_) {
        if (pos_ == buf_.size()) return std::optional<Line>();
        Line line{buf_.substr(pos_), true};
        pos_ = buf_.size();
        return std::optional<Line>(std::move(line));
      }
      buf_.erase(0, pos_);
      pos_ = 0;
      std::string block(kReadBytes, '\0');
      MutableByteSpan dst(reinterpret_cast<uint8_t*>(block.data()), block.size());
      TS_ASSIGN_OR_RETURN(size_t got, file_->Read(dst));
      if (got == 0) eof_ = true;
      buf_.append(block.data(), got);
    }
  }

 private:
  SequentialFile* file_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
};

// The chain's state after line n: what line n+1 must carry.
struct Walk {
  AuditVerification v;
  // A prev mismatch at line `pending` (> 0) waits for the next line to tell which of
  // lines pending - 1 and pending was changed.
  uint64_t pending = 0;
  std::string pending_hash;  // hash of line `pending`

  void Break(uint64_t line, std::string problem) {
    v.intact = false;
    v.broken_line = line;
    v.lines = line - 1;
    v.problem = std::move(problem);
  }
  void BreakChanged(uint64_t line, std::string_view why) {
    Break(line, "line " + std::to_string(line) + " was changed: " + std::string(why));
  }
};

std::string N(uint64_t n) { return std::to_string(n); }

// Feeds line n (1-based). Returns false once the verdict is in.
bool Feed(Walk& w, uint64_t n, const ForwardLineReader::Line& line,
          const std::optional<AuditAnchor>& anchor) {
  const std::string hash = AuditLineHash(line.text);
  if (w.pending > 0) {
    // The link (pending - 1, pending) broke. If line `pending` still links to this one, it is
    // intact and the line before it was changed; else line `pending` itself was.
    auto e = DecodeAuditLine(line.text);
    if (e.ok() && e->prev == w.pending_hash) {
      w.BreakChanged(w.pending - 1, "it does not hash to line " + N(w.pending) + "'s prev");
    } else {
      w.BreakChanged(w.pending, "its prev is not the hash of line " + N(w.pending - 1));
    }
    return false;
  }
  if (line.torn) {
    w.Break(n, "line " + N(n) + " is torn (no line end) or too long");
    return false;
  }
  auto e = DecodeAuditLine(line.text);
  if (!e.ok()) {
    w.Break(n, "line " + N(n) + " is not an audit line: " + e.status().message());
    return false;
  }
  if (n > 1 && e->seq != w.v.last_seq + 1) {
    w.Break(n, "line " + N(n) + " has seq " + N(e->seq) + " after seq " + N(w.v.last_seq) +
                   ": lines deleted or reordered here");
    return false;
  }
  if (n == 1 && e->prev != kZeroHash) {
    w.Break(1, "line 1's prev is not all zeros: lines deleted at the front");
    return false;
  }
  if (n > 1 && e->prev != w.v.head) {
    w.pending = n;
    w.pending_hash = hash;
    return true;
  }
  if (anchor && anchor->seq == e->seq && anchor->hash != hash) {
    w.BreakChanged(n, "it does not hash to the anchor noted for seq " + N(anchor->seq));
    return false;
  }
  w.v.lines = n;
  w.v.last_seq = e->seq;
  w.v.head = hash;
  return true;
}

}  // namespace

Result<AuditVerification> VerifyAuditLog(Env* env, const std::string& path,
                                         const std::optional<AuditAnchor>& anchor) {
  auto file = env->NewSequentialFile(path);
  if (!file.ok()) return file.status().WithContext("audit log " + path);
  ForwardLineReader reader(file->get());
  Walk w;
  for (uint64_t n = 1;; ++n) {
    auto line = reader.Next();
    if (!line.ok()) return line.status().WithContext("audit log " + path);
    if (!line->has_value()) break;
    if (!Feed(w, n, **line, anchor)) return w.v;
  }
  if (w.pending > 0) {
    // The break is at the last line: its predecessor was changed, or its own prev.
    w.BreakChanged(w.pending - 1, "it does not hash to the prev of line " + N(w.pending) +
                                      " (the last line; or that line's prev was changed)");
    return w.v;
  }
  if (anchor && anchor->seq > w.v.last_seq) {
    w.Break(w.v.lines + 1, "the log ends at seq " + N(w.v.last_seq) +
                               ", before the anchor at seq " + N(anchor->seq) +
                               ": lines deleted at the end");
  }
  return w.v;
}

}  // namespace tiersync::access
