#include "fleet/fleet_query.h"

#include <gtest/gtest.h>

namespace tiersync::fleet {
namespace {

constexpr int64_t kNow = 10'000;

FleetStore::StoredNode Node(std::string name, std::string region, uint64_t version,
                            uint64_t store_bytes = 0) {
  NodeState s;
  s.name = std::move(name);
  s.tier = "school";
  s.region = std::move(region);
  s.release = "r" + std::to_string(version);
  s.version = version;
  s.seen_at = kNow - 10;
  s.stale_after = 600;
  s.store_bytes = store_bytes;
  return {s, kNow - 10};
}

std::vector<FleetStore::StoredNode> Fleet() {
  std::vector<FleetStore::StoredNode> nodes = {
      Node("zj", "330000", 12, 1),      Node("hz", "330100", 12, 2),
      Node("xihu", "330106", 12, 4),    Node("xihu-a", "330106", 11, 8),
      Node("xihu-b", "330106", 12, 16), Node("gongshu", "330105", 12, 32),
      Node("nb-a", "330212", 12, 64),   Node("bj-a", "110101", 12, 128),
  };
  nodes[4].state.sync_ok = false;            // xihu-b failing
  nodes[5].state.last_rejection = "forged";  // gongshu rejecting
  nodes[6].state.seen_at = kNow - 1000;      // nb-a down
  return nodes;
}

// "region[/name]:nodes/latest/ok/lagging/failing/rejecting/down/store_bytes" per group.
std::vector<std::string> Brief(const std::vector<RegionGroup>& groups) {
  std::vector<std::string> out;
  for (const RegionGroup& g : groups) {
    std::string s = g.region + (g.name.empty() ? "" : "/" + g.name) + ":";
    for (uint64_t v :
         {g.nodes, g.latest, g.ok, g.lagging, g.failing, g.rejecting, g.down, g.store_bytes}) {
      s += std::to_string(v) + "/";
    }
    s.pop_back();
    out.push_back(s);
  }
  return out;
}

using V = std::vector<std::string>;

TEST(Summarize, ProvincesAtTheTop) {
  EXPECT_EQ(Brief(Summarize(Fleet(), "", kNow, 12)),
            (V{"110000:1/1/1/0/0/0/0/128", "330000:7/6/3/1/1/1/1/127"}));
}

TEST(Summarize, CitiesUnderAProvince) {
  EXPECT_EQ(Brief(Summarize(Fleet(), "33", kNow, 12)),
            (V{"330000:1/1/1/0/0/0/0/1", "330100:5/4/2/1/1/1/0/62", "330200:1/1/0/0/0/0/1/64"}));
}

TEST(Summarize, CountiesUnderACity) {
  EXPECT_EQ(Brief(Summarize(Fleet(), "3301", kNow, 12)),
            (V{"330100:1/1/1/0/0/0/0/2", "330105:1/1/0/0/0/1/0/32", "330106:3/2/1/1/1/0/0/28"}));
}

TEST(Summarize, OneGroupPerNodeInACounty) {
  EXPECT_EQ(Brief(Summarize(Fleet(), "330106", kNow, 12)),
            (V{"330106/xihu:1/1/1/0/0/0/0/4", "330106/xihu-a:1/0/0/1/0/0/0/8",
               "330106/xihu-b:1/1/0/0/1/0/0/16"}));
}

TEST(Summarize, LatestUnknownMeansNothingLags) {
  EXPECT_EQ(Brief(Summarize(Fleet(), "330106", kNow, 0))[1], "330106/xihu-a:1/1/1/0/0/0/0/8");
}

FleetStore::Event Ev(int64_t at, std::string name, std::string release, uint64_t version) {
  return {at, std::move(name), "school", "330106", std::move(release), version, true, "ok", ""};
}

TEST(PropagationCounter, CountsEachNodeOnceFromTheFirstEventNamingTheRelease) {
  PropagationCounter c("r12", "", 60);
  c.Add(Ev(0, "a", "r11", 40));
  c.Add(Ev(100, "a", "r12", 42));
  c.Add(Ev(130, "a", "r12", 43));
  c.Add(Ev(170, "b", "r12", 42));
  c.Add(Ev(200, "c", "r11", 41));  // not yet
  c.Add(Ev(290, "c", "r12", 42));
  using P = std::vector<FleetStore::PropagationPoint>;
  EXPECT_EQ(*c.Points(), (P{{100, 1}, {160, 2}, {220, 2}, {280, 3}}));
}

TEST(PropagationCounter, BoundsItsPoints) {
  PropagationCounter c("r12", "", 1);
  c.Add(Ev(0, "a", "r12", 42));
  c.Add(Ev(int64_t{kMaxPropagationPoints}, "b", "r12", 42));
  EXPECT_EQ(c.Points().status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PropagationCounter("r12", "", 0).Points().status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(PropagationCounter("r12", "", 60).Points()->empty());
}

}  // namespace
}  // namespace tiersync::fleet
