#include "base/status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace tiersync {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, ToStringNamesCodeAndMessage) {
  EXPECT_EQ(CorruptionError("pack 3: bad checksum").ToString(), "corruption: pack 3: bad checksum");
}

TEST(StatusTest, RetryableOnlyForTransientCodes) {
  EXPECT_TRUE(UnavailableError("x").retryable());
  EXPECT_TRUE(DeadlineExceededError("x").retryable());
  EXPECT_TRUE(ResourceExhaustedError("x").retryable());
  EXPECT_FALSE(CorruptionError("x").retryable());
  EXPECT_FALSE(VerificationError("x").retryable());
  EXPECT_FALSE(IOError("fsync failed").retryable());
  EXPECT_FALSE(InvalidArgumentError("x").retryable());
}

TEST(StatusTest, ErrnoMapping) {
  EXPECT_EQ(ErrnoToStatus(ENOENT, "open a").code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToStatus(ENOSPC, "write a").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToStatus(EIO, "fsync a").code(), StatusCode::kIOError);
  EXPECT_NE(ErrnoToStatus(EIO, "fsync a").message().find("fsync a"), std::string::npos);
}

TEST(StatusTest, WithContextPrefixes) {
  Status s = NotFoundError("chunk ab").WithContext("cat file x");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "cat file x: chunk ab");
}

TEST(StatusTest, OriginTravelsWithContextNotText) {
  Status remote = UnavailableError("no route").AsRemote();
  EXPECT_TRUE(remote.remote());
  EXPECT_FALSE(remote.local());
  Status wrapped = remote.WithContext("parent");
  EXPECT_TRUE(wrapped.remote());
  EXPECT_EQ(wrapped.message(), "parent: no route");
  EXPECT_EQ(Status::Ok().AsLocal().origin(), Origin::kUnspecified);
  EXPECT_EQ(InvalidArgumentError("x").origin(), Origin::kUnspecified);
  // A system call of this machine failing is local whatever its errno.
  EXPECT_TRUE(ErrnoToStatus(ENOSPC, "write").local());
  EXPECT_TRUE(ErrnoToStatus(EIO, "fsync").local());
  EXPECT_NE(ErrnoToStatus(EIO, "fsync"), IOError("fsync: Input/output error"));
}

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  TS_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(ResultTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Quarter(3).status().message(), "odd");
}

}  // namespace
}  // namespace tiersync
