#include "cli/exit_codes.h"

#include <gtest/gtest.h>

namespace tiersync::cli {
namespace {

TEST(ExitCodesTest, DamageAndDiskFullAreDistinct) {
  EXPECT_EQ(ExitCodeFor(Status::Ok()), kExitOk);
  EXPECT_EQ(ExitCodeFor(CorruptionError("x")), kExitDamaged);
  EXPECT_EQ(ExitCodeFor(VerificationError("x")), kExitDamaged);
  EXPECT_EQ(ExitCodeFor(ResourceExhaustedError("x")), kExitNoSpace);
  EXPECT_EQ(ExitCodeFor(IOError("x")), kExitIOError);
  EXPECT_EQ(ExitCodeFor(FailedPreconditionError("locked")), kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(NotFoundError("x")), kExitNotFound);
}

TEST(ExitCodesTest, ANewerLayoutHasItsOwnCode) {
  EXPECT_EQ(ExitCodeFor(Status(StatusCode::kNewerFormat, "x")), kExitNewerFormat);
  EXPECT_NE(ExitCodeFor(NotSupportedError("x")), kExitNewerFormat);
}

}  // namespace
}  // namespace tiersync::cli
