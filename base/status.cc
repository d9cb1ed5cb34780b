#include "base/status.h"

#include <cerrno>
#include <cstring>

namespace tiersync {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kNotFound:
      return "not found";
    case StatusCode::kCorruption:
      return "corruption";
    case StatusCode::kVerificationFailed:
      return "verification failed";
    case StatusCode::kInvalidArgument:
      return "invalid argument";
    case StatusCode::kIOError:
      return "io error";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kDeadlineExceeded:
      return "deadline exceeded";
    case StatusCode::kResourceExhausted:
      return "resource exhausted";
    case StatusCode::kNotSupported:
      return "not supported";
    case StatusCode::kFailedPrecondition:
      return "failed precondition";
    case StatusCode::kAlreadyExists:
      return "already exists";
    case StatusCode::kNewerFormat:
      return "newer format";
  }
  return "unknown";
}

bool Status::retryable() const {
  return code_ == StatusCode::kUnavailable || code_ == StatusCode::kDeadlineExceeded ||
         code_ == StatusCode::kResourceExhausted;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string s(StatusCodeName(code_));
  if (!message_.empty()) {
    s += ": ";
    s += message_;
  }
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  Status out(code_, std::string(context) + ": " + message_);
  out.origin_ = origin_;
  return out;
}

Status Status::WithOrigin(Origin origin) const {
  if (ok()) return *this;
  Status out = *this;
  out.origin_ = origin;
  return out;
}

namespace {

Status ErrnoCode(int err, std::string msg) {
  switch (err) {
    case ENOENT:
      return NotFoundError(std::move(msg));
    case ENOSPC:
    case EDQUOT:
      return ResourceExhaustedError(std::move(msg));
    case EEXIST:
      return AlreadyExistsError(std::move(msg));
    case EAGAIN:
      return UnavailableError(std::move(msg));
    default:
      return IOError(std::move(msg));
  }
}

}  // namespace

Status ErrnoToStatus(int err, std::string_view context) {
  return ErrnoCode(err, std::string(context) + ": " + std::strerror(err)).AsLocal();
}

}  // namespace tiersync
