#include "fleet/node_state.h"

#include <gtest/gtest.h>

namespace tiersync::fleet {
namespace {

using nlohmann::json;

NodeState FullState() {
  NodeState s;
  s.name = "xihu-no1";
  s.tier = "school";
  s.region = "330106";
  s.parent = "xihu";
  s.release = "r12";
  s.version = 42;
  s.switched_at = 1767225600;
  s.deferred = 3;
  s.sync_ok = false;
  s.last_error = "parent: connection refused";
  s.sources = {{"parent", "https://xihu.example/", false, 2, "connection refused"},
               {"national", "https://hub.example/", true, 0, ""}};
  s.rejections = 1;
  s.last_rejection = "parent sent a chunk with a wrong hash";
  s.store_bytes = 1 << 20;
  s.quota_bytes = 4 << 20;
  s.fs_size_bytes = 100 << 20;
  s.fs_avail_bytes = 50 << 20;
  s.software = "0.1.0";
  s.reported_at = 1767225660;
  s.seen_at = 1767225661;
  s.stale_after = 180;
  return s;
}

TEST(NodeStateCodec, RoundTrip) {
  const NodeState s = FullState();
  auto back = DecodeNodeState(EncodeNodeState(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);
  EXPECT_EQ(EncodeNodeState(*back), EncodeNodeState(s));
}

TEST(NodeStateCodec, OnlyIdentityIsRequired) {
  auto s = NodeStateFromJson({{"name", "a"}, {"tier", "county"}, {"region", "330106"}});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->name, "a");
  EXPECT_TRUE(s->sync_ok);
  EXPECT_EQ(s->version, 0u);
}

TEST(NodeStateCodec, UnknownMembersAreIgnored) {
  json j = NodeStateJson(FullState());
  j["said_by_a_newer_version"] = {1, 2};
  auto s = NodeStateFromJson(j);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s, FullState());
}

// Each case breaks one member; the error must name it.
struct BadCase {
  const char* label;
  const char* expect_in_message;
  void (*edit)(json&);
};

TEST(NodeStateCodec, StrictRejectionNamesTheMember) {
  const BadCase cases[] = {
      {"MissingName", "name: missing", [](json& j) { j.erase("name"); }},
      {"EmptyName", "name: empty", [](json& j) { j["name"] = ""; }},
      {"LongName", "name: node name longer", [](json& j) { j["name"] = std::string(129, 'a'); }},
      {"ControlCharName", "name: node name has a control", [](json& j) { j["name"] = "a\nb"; }},
      {"UnknownTier", "tier: not a tier", [](json& j) { j["tier"] = "village"; }},
      {"ShortRegion", "region: not a 6-digit", [](json& j) { j["region"] = "33010"; }},
      {"LetterRegion", "region: not a 6-digit", [](json& j) { j["region"] = "33010x"; }},
      {"BadRelease", "release: not a release", [](json& j) { j["release"] = "12"; }},
      {"NegativeVersion", "version: not a non-negative", [](json& j) { j["version"] = -1; }},
      {"FloatVersion", "version: not a non-negative", [](json& j) { j["version"] = 1.5; }},
      {"StringSeenAt", "seen_at: not a 64-bit", [](json& j) { j["seen_at"] = "now"; }},
      {"HugeSeenAt", "seen_at: not a 64-bit", [](json& j) { j["seen_at"] = uint64_t{1} << 63; }},
      {"NumberSyncOk", "sync_ok: not true or false", [](json& j) { j["sync_ok"] = 1; }},
      {"LongError", "last_error: longer than 4096",
       [](json& j) { j["last_error"] = std::string(4097, 'e'); }},
      {"SourcesNotArray", "sources: not an array", [](json& j) { j["sources"] = json::object(); }},
      {"TooManySources", "sources: more than 16",
       [](json& j) {
         j["sources"] = json::array_t(17, json{{"name", "p"}});
       }},
      {"SourceNotObject", "sources[1]: not an object", [](json& j) { j["sources"][1] = 3; }},
      {"SourceBadFailures", "sources[0].failures: not a non-negative",
       [](json& j) { j["sources"][0]["failures"] = "many"; }},
  };
  for (const BadCase& c : cases) {
    json j = NodeStateJson(FullState());
    c.edit(j);
    auto s = NodeStateFromJson(j);
    ASSERT_FALSE(s.ok()) << c.label;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << c.label;
    EXPECT_NE(s.status().message().find(c.expect_in_message), std::string::npos)
        << c.label << ": " << s.status().message();
  }
}

TEST(NodeStateCodec, NotAnObjectOrNotJson) {
  EXPECT_EQ(NodeStateFromJson(json::array()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeNodeState("{\"name\":").status().code(), StatusCode::kInvalidArgument);
}

// FullState, serving r12 (version 42) with nothing wrong, last seen at 1000.
NodeState Healthy() {
  NodeState s = FullState();
  s.sync_ok = true;
  s.rejections = 0;
  s.last_rejection.clear();
  s.seen_at = 1000;
  return s;
}

TEST(JudgeHealth, Ok) {
  HealthVerdict v = JudgeHealth(Healthy(), 1100, 42);
  EXPECT_EQ(v.health, Health::kOk);
  EXPECT_EQ(v.why, "serves r12");
  EXPECT_EQ(v.why_zh, "提供 r12");
  EXPECT_EQ(HealthName(v.health), "ok");
}

TEST(JudgeHealth, DownAfterStaleAfterWithoutReport) {
  EXPECT_EQ(JudgeHealth(Healthy(), 1180, 42).health, Health::kOk);  // the limit itself: not yet
  HealthVerdict v = JudgeHealth(Healthy(), 1000 + 7 * 60, 42);
  EXPECT_EQ(v.health, Health::kDown);
  EXPECT_EQ(v.why, "no report for 7 min (expected within 3 min)");
  EXPECT_EQ(v.why_zh, "7 分钟未收到报告（应在 3 分钟内）");
  EXPECT_EQ(HealthName(v.health), "down");
  NodeState never = Healthy();
  never.stale_after = 0;
  EXPECT_EQ(JudgeHealth(never, 1'000'000, 42).health, Health::kOk);
}

TEST(JudgeHealth, FailingBeatsRejectingAndLagging) {
  NodeState s = Healthy();
  s.sync_ok = false;
  s.last_error = "disk full";
  s.last_rejection = "forged timestamp";
  s.version = 1;
  HealthVerdict v = JudgeHealth(s, 1100, 42);
  EXPECT_EQ(v.health, Health::kFailing);
  EXPECT_EQ(v.why, "sync failing: disk full");
  EXPECT_EQ(v.why_zh, "同步失败：disk full");
}

TEST(JudgeHealth, RejectingWhileTheLatestCycleRejectedSomething) {
  NodeState s = Healthy();
  s.rejections = 3;
  s.last_rejection = "forged timestamp from parent";
  HealthVerdict v = JudgeHealth(s, 1100, 42);
  EXPECT_EQ(v.health, Health::kRejecting);
  EXPECT_EQ(v.why, "rejected forged or corrupt data (3 in all): forged timestamp from parent");
  EXPECT_EQ(v.why_zh, "拒收伪造或损坏的数据（共 3 次）：forged timestamp from parent");
  s.last_rejection = "";  // a later cycle rejected nothing: the count alone is history
  EXPECT_EQ(JudgeHealth(s, 1100, 42).health, Health::kOk);
}

TEST(JudgeHealth, Lagging) {
  NodeState s = Healthy();
  s.release = "r11";
  s.version = 40;
  HealthVerdict v = JudgeHealth(s, 1100, 42, "r12");
  EXPECT_EQ(v.health, Health::kLagging);
  EXPECT_EQ(v.why, "serves r11, latest is r12");
  EXPECT_EQ(v.why_zh, "提供 r11，最新为 r12");
  EXPECT_EQ(JudgeHealth(s, 1100, 42).why, "serves r11 (version 40), latest version is 42");
  EXPECT_EQ(JudgeHealth(s, 1100, 0).health, Health::kOk);  // latest unknown
  s.release = "";
  s.version = 0;
  EXPECT_EQ(JudgeHealth(s, 1100, 42).why, "has no release yet");
}

}  // namespace
}  // namespace tiersync::fleet
