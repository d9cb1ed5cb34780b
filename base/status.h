// The one error vocabulary of tiersync: Status and Result<T>.
//
// Every fallible function returns a Status (no value) or a Result<T> (a value or a Status).
// Codes are fitted to the domain so that callers can tell three things apart:
//   * "try later / try another source"  -> retryable() is true
//   * "the bytes are wrong"              -> kCorruption (local damage) or kVerificationFailed
//                                           (a signature or hash from elsewhere did not match:
//                                           a security event, never retried against the same
//                                           source)
//   * "the caller or the operator must act" -> everything else
// A failure also says where it happened (Origin): on this machine (its disk, its database,
// its own repository: kLocal) or at a peer (a source that was down, slow, or sent bytes that
// failed verification: kRemote). The sync engine blames a source only for remote failures;
// a local one stops the cycle and is reported as this node's own fault. The origin travels
// with the Status (WithContext keeps it), never in the message text.
// Exceptions never cross module boundaries; code that calls throwing libraries converts at
// the edge.
#ifndef TIERSYNC_BASE_STATUS_H_
#define TIERSYNC_BASE_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace tiersync {

enum class StatusCode : int {
  kOk = 0,
  kNotFound,            // the object, file or key does not exist
  kCorruption,          // stored bytes fail their checksum or format (local damage)
  kVerificationFailed,  // a hash or signature from elsewhere does not match (security event)
  kInvalidArgument,     // the caller or the input is wrong; do not retry
  kIOError,             // the operating system refused an I/O operation (EIO, fsync failure)
  kUnavailable,         // a peer, lock or resource is temporarily unavailable; retryable
  kDeadlineExceeded,    // a timeout or minimum-throughput rule fired; retryable
  kResourceExhausted,   // disk full, quota, map full, size cap; retryable after space is freed
  kNotSupported,        // a format version, algorithm or operation this build does not know
  kFailedPrecondition,  // the system is not in the state the operation needs (e.g. locked)
  kAlreadyExists,       // creating something that is already there
  kNewerFormat,         // local data written by a newer tiersync (a layout version above what
                        // this build supports): the operator must upgrade; nothing was changed
};

// Human-readable name of a code ("corruption", "io error", ...).
std::string_view StatusCodeName(StatusCode code);

// Where a failure happened. kUnspecified: the code that failed did not say (pure functions,
// argument checks); callers that must blame someone treat it as the peer's fault only when the
// bytes came from that peer.
enum class Origin : unsigned char { kUnspecified = 0, kLocal, kRemote };

class [[nodiscard]] Status {
 public:
  // An OK status.
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // True when the same operation may succeed later or against another source.
  bool retryable() const;

  // "corruption: pack 3 offset 12: checksum mismatch", or "ok".
  std::string ToString() const;

  // Returns a copy with `context` prepended to the message ("context: message"); the code
  // and origin are kept.
  Status WithContext(std::string_view context) const;

  Origin origin() const { return origin_; }
  // True if the failure happened on this machine (disk, database, local repository).
  bool local() const { return origin_ == Origin::kLocal; }
  // True if a peer failed (down, slow, refused, or sent bytes that failed verification).
  bool remote() const { return origin_ == Origin::kRemote; }
  // Copies marked as failures of this machine / of a peer (no effect on an OK status).
  Status AsLocal() const { return WithOrigin(Origin::kLocal); }
  Status AsRemote() const { return WithOrigin(Origin::kRemote); }
  Status WithOrigin(Origin origin) const;

  // Explicitly ignores a status (for best-effort cleanup on an error path).
  void IgnoreError() const {}

  bool operator==(const Status& other) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  Origin origin_ = Origin::kUnspecified;
  std::string message_;
};

// Convenience constructors.
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status CorruptionError(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
inline Status VerificationError(std::string m) {
  return {StatusCode::kVerificationFailed, std::move(m)};
}
inline Status InvalidArgumentError(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceededError(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status ResourceExhaustedError(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status NotSupportedError(std::string m) { return {StatusCode::kNotSupported, std::move(m)}; }
inline Status FailedPreconditionError(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status AlreadyExistsError(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}

// Maps an errno value from a failed system call to a Status: ENOENT -> kNotFound,
// ENOSPC/EDQUOT -> kResourceExhausted, EEXIST -> kAlreadyExists, EAGAIN/EWOULDBLOCK ->
// kUnavailable, everything else -> kIOError. The message is "<context>: <strerror>"; the
// origin is kLocal (a system call of this machine failed).
Status ErrnoToStatus(int err, std::string_view context);

// A value of type T or a non-OK Status. Shaped like absl::StatusOr.
template <class T>
class [[nodiscard]] Result {
 public:
  // REQUIRES: !status.ok()
  Result(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT
  Result(T value) : value_(std::move(value)) {}                                  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok()
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  void IgnoreError() const {}

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace tiersync

#define TS_CONCAT_INNER_(a, b) a##b
#define TS_CONCAT_(a, b) TS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define TS_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::tiersync::Status ts_status_ = (expr);  \
    if (!ts_status_.ok()) return ts_status_; \
  } while (0)

// TS_ASSIGN_OR_RETURN(auto x, MakeX()); declares x from a Result or returns its Status.
#define TS_ASSIGN_OR_RETURN(lhs, expr) \
  TS_ASSIGN_OR_RETURN_IMPL_(TS_CONCAT_(ts_result_, __LINE__), lhs, expr)
#define TS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#endif  // TIERSYNC_BASE_STATUS_H_
