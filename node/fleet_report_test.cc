#include "node/fleet_report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tiersync::node {
namespace {

fleet::NodeState State(const std::string& name, const std::string& region) {
  fleet::NodeState s;
  s.name = name;
  s.tier = "school";
  s.region = region;
  s.release = "r3";
  s.version = 7;
  s.sources.push_back({"parent", "http://county:8080", false, 2, "connection refused"});
  return s;
}

FleetReport Sample() {
  FleetReport r;
  r.rollup.name = "西湖区教育局";
  r.rollup.tier = "county";
  r.rollup.region = "330106";
  r.rollup.subscription = "platform = k12\n";
  r.rollup.rolled_up = "platform = k12\n";
  r.rollup.release = "r3";
  r.rollup.version = 7;
  r.seq = 1'765'000'000'000'001;
  r.sent_at = 1'765'000'000;
  r.report_every = 60;
  r.state = State("西湖区教育局", "330106");
  r.state.tier = "county";
  r.subtree = {State("学军小学", "330106"), State("求是小学", "330106")};
  r.subtree_full = true;
  r.usage = {{"2026-12-07", {{"k12-1", {3, 1}}, {"k12-2", {0, 2}}}}};
  return r;
}

TEST(FleetReportTest, AFormat2ReportRoundTripsInsideASignatureEnvelope) {
  const FleetReport r = Sample();
  const std::string body = EncodeFleetReport(r);
  auto j = nlohmann::json::parse(body);
  ASSERT_TRUE(j["signatures"].is_array());  // the slot the node keys of issue 19 fill
  EXPECT_EQ(j["signed"]["_type"], "tiersync-report");
  auto back = DecodeFleetReport(body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->format, 2);
  EXPECT_EQ(back->seq, r.seq);
  EXPECT_EQ(back->rollup.name, r.rollup.name);
  EXPECT_EQ(back->rollup.rolled_up, r.rollup.rolled_up);
  EXPECT_EQ(back->state, r.state);
  EXPECT_EQ(back->subtree, r.subtree);
  EXPECT_TRUE(back->subtree_full);
  EXPECT_EQ(back->usage, r.usage);
}

TEST(FleetReportTest, AFormat1ReportIsTheRollUpPartOnly) {
  ChildReport old;
  old.name = "school";
  old.subscription = "platform = k12\n";
  auto back = DecodeFleetReport(EncodeChildReport(old));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->format, 1);
  EXPECT_EQ(back->rollup.name, "school");
  EXPECT_TRUE(back->subtree.empty());
}

TEST(FleetReportTest, MalformedAndOversizedReportsAreRefusedNamingWhy) {
  auto refused = [](const std::string& body) {
    auto r = DecodeFleetReport(body);
    return r.ok() ? std::string("accepted") : r.status().message();
  };
  auto edit = [](auto change) {
    auto j = nlohmann::json::parse(EncodeFleetReport(Sample()));
    change(j["signed"]);
    return j.dump();
  };
  EXPECT_NE(refused("[1]").find("JSON object"), std::string::npos);
  EXPECT_NE(refused(edit([](auto& s) { s.erase("seq"); })).find("seq"), std::string::npos);
  EXPECT_NE(refused(edit([](auto& s) { s["state"]["name"] = "somebody else"; })).find("state"),
            std::string::npos);
  EXPECT_NE(refused(edit([](auto& s) { s["usage"][0]["date"] = "yesterday"; })).find("date"),
            std::string::npos);
  EXPECT_NE(refused(edit([](auto& s) {
              s["usage"][0]["resources"]["k12-1"]["views"] = -1;
            })).find("views"),
            std::string::npos);
  EXPECT_NE(refused(edit([](auto& s) {
              s["subtree"] = nlohmann::json::array();
              for (size_t i = 0; i <= kMaxReportSubtree; ++i) s["subtree"].push_back(s["state"]);
            })).find("subtree"),
            std::string::npos);
  EXPECT_EQ(DecodeFleetReport(edit([](auto& s) { s["format"] = 3; })).status().code(),
            StatusCode::kNotSupported);
  EXPECT_NE(refused(std::string(kMaxReportBodyBytes + 1, ' ')).find("at most"), std::string::npos);
}

}  // namespace
}  // namespace tiersync::node
