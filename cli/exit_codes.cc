#include "cli/exit_codes.h"

namespace tiersync::cli {

ExitCode ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kCorruption:
    case StatusCode::kVerificationFailed:
      return kExitDamaged;
    case StatusCode::kIOError:
      return kExitIOError;
    case StatusCode::kResourceExhausted:
      return kExitNoSpace;
    case StatusCode::kFailedPrecondition:
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    case StatusCode::kNotFound:
      return kExitNotFound;
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotSupported:
      return kExitUsage;
    case StatusCode::kAlreadyExists:
      return kExitFailure;
    case StatusCode::kNewerFormat:
      return kExitNewerFormat;
  }
  return kExitFailure;
}

}  // namespace tiersync::cli
