#include "catalogs/git_pkt_line.h"

#include <gtest/gtest.h>

namespace tiersync::catalogs {
namespace {

std::string Pkt(std::string_view payload) {
  std::string out;
  AppendPkt(&out, payload);
  return out;
}

const std::string kA(40, 'a'), kB(40, 'b'), kC(40, 'c');

TEST(GitPktLineTest, FramesAndReadsLines) {
  EXPECT_EQ(Pkt("done\n"), "0009done\n");
  std::string_view in = "0009done\n0000000ahello";
  auto line = NextPkt(&in, "x");
  ASSERT_TRUE(line.ok() && line->has_value());
  EXPECT_EQ(**line, "done");
  line = NextPkt(&in, "x");
  ASSERT_TRUE(line.ok());
  EXPECT_FALSE(line->has_value());  // flush
  line = NextPkt(&in, "what");
  EXPECT_EQ(line.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(line.status().message(), "what: pkt-line of 10 bytes runs past the end");
  EXPECT_EQ(QuoteBytes(std::string("a\0\"", 3)), "\"a\\x00\\x22\"");
}

TEST(GitPktLineTest, RequestRoundTrip) {
  const std::string body = EncodeUploadRequest({kA, kB}, "ofs-delta agent=x", {kC});
  EXPECT_EQ(body, Pkt("want " + kA + " ofs-delta agent=x\n") + Pkt("want " + kB + "\n") + "0000" +
                      Pkt("have " + kC + "\n") + Pkt("done\n"));
  auto r = ParseUploadRequest(body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->wants, (std::vector<std::string>{kA, kB}));
  EXPECT_EQ(r->haves, std::vector<std::string>{kC});
  EXPECT_TRUE(r->done);
  EXPECT_TRUE(r->capabilities.contains("ofs-delta"));
  EXPECT_TRUE(r->capabilities.contains("agent=x"));
  // Upper-case ids are read as lower-case.
  r = ParseUploadRequest(Pkt("want " + std::string(40, 'A')) + "0000" + Pkt("done"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->wants[0], kA);
}

TEST(GitPktLineTest, ParsesTheAdvertisement) {
  const std::string body = Pkt("# service=git-upload-pack\n") + "0000" +
                           Pkt(kC + " HEAD" + std::string(1, '\0') + "ofs-delta symref=x\n") +
                           Pkt(kA + " refs/tags/r1\n") + Pkt(kB + " refs/tags/r1^{}\n") + "0000";
  auto ad = ParseAdvertisement(body);
  ASSERT_TRUE(ad.ok()) << ad.status().ToString();
  EXPECT_EQ(ad->refs, (std::map<std::string, std::string>{
                          {"HEAD", kC}, {"refs/tags/r1", kA}, {"refs/tags/r1^{}", kB}}));
  EXPECT_TRUE(ad->capabilities.contains("ofs-delta"));

  const std::string empty =
      Pkt("# service=git-upload-pack\n") + "0000" +
      Pkt(std::string(40, '0') + " capabilities^{}" + std::string(1, '\0') + "ofs-delta\n") +
      "0000";
  ad = ParseAdvertisement(empty);
  ASSERT_TRUE(ad.ok()) << ad.status().ToString();
  EXPECT_TRUE(ad->refs.empty());
  EXPECT_TRUE(ad->capabilities.contains("ofs-delta"));

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"<html>", "is not 4 hex digits"},
      {Pkt("hello\n") + "0000", "does not start with"},
      {Pkt("# service=git-upload-pack\n") + Pkt(kA + " HEAD\n"), "no flush-pkt after"},
      {Pkt("# service=git-upload-pack\n") + "0000" + Pkt("zz refs/tags/r1\n") + "0000",
       "expected \"<object id> <ref>\""},
      {Pkt("# service=git-upload-pack\n") + "0000" + Pkt(kA + " refs/tags/r1\n") +
           Pkt(kB + " refs/tags/r1\n") + "0000",
       "advertised twice"},
      {Pkt("# service=git-upload-pack\n") + "0000" + Pkt(kA + " refs/tags/r1\n"),
       "ends without a flush-pkt"},
      {Pkt("# service=git-upload-pack\n") + "0000" + Pkt(kA + " refs/tags/r1\n") + "0000x",
       "data after the final flush-pkt"},
  };
  for (const auto& [input, expected] : bad) {
    auto r = ParseAdvertisement(input);
    ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument) << input;
    EXPECT_NE(r.status().message().find(expected), std::string::npos) << r.status().message();
  }
}

TEST(GitPktLineTest, FindsThePackAfterAcksAndNaks) {
  // The answer is a view into the body: the bodies outlive it.
  const std::string acked = Pkt("ACK " + kA + " common\n") + Pkt("ACK " + kA + "\n") + "PACKdata";
  auto pack = PackOfUploadResult(acked);
  ASSERT_TRUE(pack.ok()) << pack.status().ToString();
  EXPECT_EQ(*pack, "PACKdata");
  const std::string naked = Pkt("NAK\n") + "PACK";
  pack = PackOfUploadResult(naked);
  ASSERT_TRUE(pack.ok());
  EXPECT_EQ(*pack, "PACK");
  EXPECT_EQ(PackOfUploadResult(Pkt("NAK\n")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PackOfUploadResult(Pkt("NAK\n") + "0000PACK").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PackOfUploadResult(Pkt("hello\n") + "PACK").status().code(),
            StatusCode::kInvalidArgument);
  auto err = PackOfUploadResult(Pkt("ERR no such thing\n"));
  EXPECT_EQ(err.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(err.status().message().find("no such thing"), std::string::npos);
  std::string many;
  for (size_t i = 0; i <= kMaxResultLines; ++i) many += Pkt("NAK\n");
  EXPECT_NE(PackOfUploadResult(many + "PACK").status().message().find("lines before the pack"),
            std::string::npos);
}

}  // namespace
}  // namespace tiersync::catalogs
