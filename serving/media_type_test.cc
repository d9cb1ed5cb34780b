#include "serving/media_type.h"

#include <gtest/gtest.h>

namespace tiersync::serving {
namespace {

TEST(MediaTypeTest, ByExtensionAndKind) {
  EXPECT_EQ(MediaTypeForName("lesson.MP4"), "video/mp4");
  EXPECT_EQ(MediaTypeForName("book.pdf"), "application/pdf");
  EXPECT_EQ(MediaTypeForName("noext"), "application/octet-stream");
  EXPECT_EQ(MediaTypeForName("x.unknown"), "application/octet-stream");
  EXPECT_EQ(KindOfMediaType("video/webm"), "video");
  EXPECT_EQ(KindOfMediaType("application/pdf"), "pdf");
  EXPECT_EQ(
      KindOfMediaType("application/vnd.openxmlformats-officedocument.presentationml.presentation"),
      "courseware");
  EXPECT_EQ(KindOfMediaType("application/octet-stream"), "other");
}

}  // namespace
}  // namespace tiersync::serving
