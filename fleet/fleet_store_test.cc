#include "fleet/fleet_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "base/layout_version.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::fleet {
namespace {

NodeState St(std::string name, std::string tier, std::string region, std::string release,
             uint64_t version, int64_t at) {
  NodeState s;
  s.name = std::move(name);
  s.tier = std::move(tier);
  s.region = std::move(region);
  s.release = std::move(release);
  s.version = version;
  s.reported_at = at;
  s.seen_at = at;
  s.stale_after = 600;
  return s;
}

// A node query; positional because GCC warns about designated initializers that leave
// members out.
FleetStore::NodeQuery Q(std::string prefix, std::string tier = "", std::string release = "",
                        int64_t stored_since = 0, std::string after = "", size_t limit = 1000) {
  return {std::move(prefix), std::move(tier),  std::move(release),
          stored_since,      std::move(after), limit};
}
FleetStore::UsageQuery U(std::string from, std::string to = "", std::string prefix = "",
                         std::string resource = "") {
  return {std::move(from), std::move(to), std::move(prefix), std::move(resource)};
}
FleetOptions Options(int64_t forget_days, size_t map_bytes = 64 << 20) {
  FleetOptions o;
  o.forget_days = forget_days;
  o.initial_map_bytes = map_bytes;
  return o;
}

class FleetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen(FleetOptions o = {}) {
    store_.reset();
    auto s = FleetStore::Open(dir_.Sub("fleet"), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void Put(std::vector<NodeState> states, int64_t now) {
    Status s = store_->PutStates(states, now);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::vector<std::string> Names(const FleetStore::NodeQuery& q) {
    auto nodes = store_->Nodes(q);
    EXPECT_TRUE(nodes.ok()) << nodes.status().ToString();
    std::vector<std::string> out;
    if (nodes.ok()) {
      for (const auto& n : *nodes) out.push_back(n.state.name);
    }
    return out;
  }
  std::vector<FleetStore::Event> AllEvents(const std::string& prefix = "") {
    auto h = store_->History(INT64_MIN, INT64_MAX, prefix, 1000);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? *h : std::vector<FleetStore::Event>{};
  }

  testing::TempDir dir_;
  std::unique_ptr<FleetStore> store_;
};

TEST_F(FleetStoreTest, LateRetryNeverOverwritesNewerNews) {
  Put({St("xihu", "county", "330106", "r12", 42, 1000)}, 1001);
  Put({St("xihu", "county", "330106", "r11", 40, 900)}, 1002);  // an old report, retried late
  auto n = store_->Node("xihu");
  ASSERT_TRUE(n.ok() && n->has_value());
  EXPECT_EQ((*n)->release, "r12");

  NodeState same_report_seen_later = St("xihu", "county", "330106", "r13", 43, 1000);
  same_report_seen_later.seen_at = 1005;
  Put({same_report_seen_later}, 1006);
  EXPECT_EQ((*store_->Node("xihu"))->release, "r13");

  // An exact repeat changes nothing, not even stored_at (deltas upward are not re-sent).
  Put({same_report_seen_later}, 2000);
  EXPECT_TRUE(Names(Q("", "", "", 1007)).empty());
  EXPECT_FALSE(store_->Node("nobody")->has_value());
}

TEST_F(FleetStoreTest, ABadStateRefusesTheWholeBatch) {
  NodeState bad = St("b", "village", "330106", "", 0, 1);
  Status s = store_->PutStates({St("a", "school", "330106", "", 0, 1), bad}, 2);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("\"b\""), std::string::npos) << s.message();
  EXPECT_EQ(store_->node_count(), 0u);
}

class FleetNodesTest : public FleetStoreTest {
 protected:
  void SetUp() override {
    Reopen();
    Put({St("zj", "province", "330000", "r12", 42, 100), St("hz", "city", "330100", "r12", 42, 100),
         St("xihu", "county", "330106", "r12", 42, 100),
         St("xihu-a", "school", "330106", "r11", 40, 100)},
        100);
    Put({St("xihu-b", "school", "330106", "r12", 42, 200),
         St("sc-a", "school", "330206", "r12", 42, 200),
         St("bj-a", "school", "110101", "r11", 40, 200)},
        200);
  }
};

TEST_F(FleetNodesTest, FiltersByRegionPrefix) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Names(Q("")), (V{"bj-a", "hz", "sc-a", "xihu", "xihu-a", "xihu-b", "zj"}));
  EXPECT_EQ(Names(Q("33")), (V{"hz", "sc-a", "xihu", "xihu-a", "xihu-b", "zj"}));
  EXPECT_EQ(Names(Q("3301")), (V{"hz", "xihu", "xihu-a", "xihu-b"}));
  EXPECT_EQ(Names(Q("330106")), (V{"xihu", "xihu-a", "xihu-b"}));
  EXPECT_EQ(Names(Q("44")), V{});
}

TEST_F(FleetNodesTest, FiltersByTierReleaseAndStoredSince) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Names(Q("", "school")), (V{"bj-a", "sc-a", "xihu-a", "xihu-b"}));
  EXPECT_EQ(Names(Q("", "", "r11")), (V{"bj-a", "xihu-a"}));
  EXPECT_EQ(Names(Q("33", "school", "r11")), V{"xihu-a"});
  EXPECT_EQ(Names(Q("", "", "", 150)), (V{"bj-a", "sc-a", "xihu-b"}));
  EXPECT_EQ(Names(Q("33", "", "", 150)), (V{"sc-a", "xihu-b"}));
  auto nodes = store_->Nodes(Q("", "", "", 200));
  ASSERT_TRUE(nodes.ok());
  EXPECT_EQ(nodes->front().stored_at, 200);
}

TEST_F(FleetNodesTest, PaginatesByName) {
  for (std::string prefix : {"", "33"}) {
    std::vector<std::string> all, page;
    std::string after;
    do {
      page = Names(Q(prefix, "", "", 0, after, 2));
      EXPECT_LE(page.size(), 2u);
      all.insert(all.end(), page.begin(), page.end());
      if (!page.empty()) after = page.back();
    } while (!page.empty());
    EXPECT_EQ(all, Names(Q(prefix))) << prefix;
  }
  EXPECT_TRUE(Names(Q("", "", "", 0, "", 0)).empty());
}

TEST_F(FleetStoreTest, HistoryEventsOnlyOnChange) {
  NodeState s = St("xihu", "county", "330106", "r11", 40, 1000);
  Put({s}, 1000);  // new: an event
  s.reported_at = s.seen_at = 1060;
  s.deferred = 5;
  s.store_bytes = 1234;
  Put({s}, 1060);  // nothing that counts changed
  EXPECT_EQ(AllEvents().size(), 1u);

  s.reported_at = s.seen_at = 1120;
  s.release = "r12";
  s.version = 42;
  Put({s}, 1120);  // release and version
  s.reported_at = s.seen_at = 1180;
  s.sync_ok = false;
  s.last_error = "disk full";
  Put({s}, 1180);  // sync_ok
  s.reported_at = s.seen_at = 1240;
  s.sync_ok = true;
  s.rejections = 1;
  s.last_rejection = "forged timestamp";
  Put({s}, 1240);  // sync_ok and rejections

  auto events = AllEvents();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].at, 1000);
  EXPECT_EQ(events[0].release, "r11");
  EXPECT_EQ(events[1].release, "r12");
  EXPECT_EQ(events[1].version, 42u);
  EXPECT_EQ(events[1].health, "ok");
  EXPECT_EQ(events[2].health, "failing");
  EXPECT_EQ(events[2].why, "sync failing: disk full");
  EXPECT_FALSE(events[2].sync_ok);
  EXPECT_EQ(events[3].health, "rejecting");
}

TEST_F(FleetStoreTest, ComingBackFromDownRecordsWhenItWentDown) {
  NodeState s = St("xihu", "county", "330106", "r12", 42, 1000);  // stale_after 600
  Put({s}, 1000);
  s.reported_at = s.seen_at = 5000;
  Put({s}, 5000);  // nothing changed but it had been down since 1601
  auto events = AllEvents();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].at, 1601);
  EXPECT_EQ(events[1].health, "down");
  EXPECT_EQ(events[2].at, 5000);
  EXPECT_EQ(events[2].health, "ok");
}

TEST_F(FleetStoreTest, HistoryByTimeRegionAndLimit) {
  Put({St("a", "school", "330106", "r12", 42, 100)}, 100);
  Put({St("b", "school", "330206", "r12", 42, 200)}, 200);
  Put({St("c", "school", "110101", "r12", 42, 300)}, 300);
  auto names = [](const Result<std::vector<FleetStore::Event>>& r) {
    std::string out;
    for (const auto& e : *r) out += e.name;
    return out;
  };
  EXPECT_EQ(names(store_->History(150, 300, "", 10)), "bc");
  EXPECT_EQ(names(store_->History(100, 299, "", 10)), "ab");
  EXPECT_EQ(names(store_->History(0, 1000, "33", 10)), "ab");
  EXPECT_EQ(names(store_->History(0, 1000, "", 2)), "ab");
}

TEST_F(FleetStoreTest, PropagationIsCumulative) {
  Put({St("a", "school", "330106", "r11", 40, 900), St("b", "school", "330106", "r11", 40, 900),
       St("c", "school", "330206", "r11", 40, 900), St("d", "school", "110101", "r11", 40, 900)},
      900);
  Put({St("a", "school", "330106", "r12", 42, 1000)}, 1000);  // the first event naming r12
  Put({St("b", "school", "330106", "r12", 42, 1100)}, 1100);
  Put({St("d", "school", "110101", "r12", 42, 1200)}, 1200);
  Put({St("b", "school", "330106", "r12", 43, 1250)}, 1250);  // counted once
  Put({St("c", "school", "330206", "r13", 50, 1500)}, 1500);  // skipped r12: later is enough

  using P = std::vector<FleetStore::PropagationPoint>;
  auto all = store_->Propagation("r12", "", 300);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, (P{{1000, 3}, {1300, 4}}));
  auto zj = store_->Propagation("r12", "33", 300);
  ASSERT_TRUE(zj.ok());
  EXPECT_EQ(*zj, (P{{1000, 2}, {1300, 3}}));
  auto fine = store_->Propagation("r12", "330106", 100);
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(*fine, (P{{1000, 1}, {1100, 2}}));
  EXPECT_TRUE(store_->Propagation("r99", "", 300)->empty());
  EXPECT_EQ(store_->Propagation("r12", "", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Propagation("r12", "", 1)->size(), 501u);
}

serving::UsageDay Day(std::string date, std::map<std::string, serving::UsageCounts> r) {
  return {std::move(date), std::move(r)};
}

TEST_F(FleetStoreTest, UsageReplacesPerReporterAndDay) {
  const auto day1 = Day("2026-03-01", {{"k12-a", {3, 1}}, {"k12-b", {1, 0}}});
  ASSERT_TRUE(store_->PutUsage("xihu", "330106", {day1}, 100).ok());
  ASSERT_TRUE(store_->PutUsage("xihu", "330106", {day1}, 200).ok());  // a retry
  auto by_day = store_->UsageByDay({});
  ASSERT_TRUE(by_day.ok());
  EXPECT_EQ(*by_day, std::vector{day1});  // counted once

  // More counts later that day, and k12-b no longer listed: replaced, not added.
  const auto day1b = Day("2026-03-01", {{"k12-a", {5, 2}}});
  ASSERT_TRUE(store_->PutUsage("xihu", "330106", {day1b}, 300).ok());
  EXPECT_EQ(*store_->UsageByDay({}), std::vector{day1b});

  // Another reporter adds up.
  ASSERT_TRUE(
      store_->PutUsage("gongshu", "330105", {Day("2026-03-01", {{"k12-a", {1, 1}}})}, 400).ok());
  EXPECT_EQ(*store_->UsageByDay({}), std::vector{Day("2026-03-01", {{"k12-a", {6, 3}}})});
  using R = std::vector<FleetStore::UsageRow>;
  EXPECT_EQ(*store_->Usage(U("", "", "330106")),
            (R{{"2026-03-01", "k12-a", "xihu", "330106", {5, 2}}}));
  EXPECT_EQ(store_->Usage({})->size(), 2u);
}

TEST_F(FleetStoreTest, UsageQueriesByDateRangeAndResource) {
  ASSERT_TRUE(
      store_
          ->PutUsage("xihu", "330106",
                     {Day("2026-03-01", {{"a", {1, 0}}}), Day("2026-03-02", {{"a", {2, 0}}}),
                      Day("2026-03-03", {{"a", {4, 0}}, {"b", {8, 0}}})},
                     100)
          .ok());
  auto total = [&](const FleetStore::UsageQuery& q) {
    uint64_t views = 0;
    auto rows = store_->Usage(q);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    for (const auto& r : rows.value()) views += r.counts.views;
    return views;
  };
  EXPECT_EQ(total({}), 15u);
  EXPECT_EQ(total(U("2026-03-02")), 14u);
  EXPECT_EQ(total(U("", "2026-03-02")), 3u);
  EXPECT_EQ(total(U("2026-03-02", "2026-03-02")), 2u);
  EXPECT_EQ(total(U("", "", "", "b")), 8u);
  EXPECT_EQ(total(U("", "", "44")), 0u);
}

TEST_F(FleetStoreTest, UsageRefusesMalformedInput) {
  auto code = [&](std::string reporter, std::string region, serving::UsageDay d) {
    return store_->PutUsage(reporter, region, {d}, 1).code();
  };
  const auto good = Day("2026-03-01", {{"a", {1, 0}}});
  EXPECT_EQ(code("", "330106", good), StatusCode::kInvalidArgument);
  EXPECT_EQ(code("x", "33", good), StatusCode::kInvalidArgument);
  EXPECT_EQ(code("x", "330106", Day("2026-3-1", {{"a", {1, 0}}})), StatusCode::kInvalidArgument);
  EXPECT_EQ(code("x", "330106", Day("2026-03-01", {{std::string("a\0b", 3), {1, 0}}})),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code("x", "330106", Day("2026-03-01", {{std::string(257, 'a'), {1, 0}}})),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->Usage({})->empty());
}

TEST_F(FleetStoreTest, UsageChangedSinceIsWholeDaysOverAllReporters) {
  ASSERT_TRUE(
      store_
          ->PutUsage("xihu", "330106",
                     {Day("2026-03-01", {{"a", {1, 0}}}), Day("2026-03-02", {{"a", {2, 0}}})}, 100)
          .ok());
  ASSERT_TRUE(
      store_->PutUsage("gongshu", "330105", {Day("2026-03-02", {{"a", {5, 0}}})}, 100).ok());
  ASSERT_TRUE(store_->PutUsage("xihu", "330106", {Day("2026-03-02", {{"a", {3, 0}}})}, 200).ok());
  // A retry of unchanged counts later does not make its day changed.
  ASSERT_TRUE(store_->PutUsage("xihu", "330106", {Day("2026-03-01", {{"a", {1, 0}}})}, 300).ok());

  auto delta = store_->UsageChangedSince(150);
  ASSERT_TRUE(delta.ok());
  EXPECT_EQ(*delta, std::vector{Day("2026-03-02", {{"a", {8, 0}}})});
  EXPECT_EQ(store_->UsageChangedSince(0)->size(), 2u);
  EXPECT_TRUE(store_->UsageChangedSince(201)->empty());
}

TEST_F(FleetStoreTest, ExpireDropsWhatIsOldAndKeepsWhatIsNot) {
  constexpr int64_t kDay = 86400;
  const int64_t now = 1'780'000'000;  // 2026-05-28
  Reopen(Options(10));
  Put({St("old", "school", "330106", "r11", 40, now - 40 * kDay)}, now - 40 * kDay);
  Put({St("new", "school", "330106", "r12", 42, now - 5 * kDay)}, now - 5 * kDay);
  ASSERT_TRUE(store_
                  ->PutUsage("xihu", "330106",
                             {Day(serving::UtcDate(now - 401 * kDay), {{"a", {1, 0}}}),
                              Day(serving::UtcDate(now - 402 * kDay), {{"a", {1, 0}}}),
                              Day(serving::UtcDate(now - 399 * kDay), {{"a", {1, 0}}})},
                             now)
                  .ok());
  auto expired = store_->Expire(now);
  ASSERT_TRUE(expired.ok()) << expired.status().ToString();
  EXPECT_EQ(expired->events, 1u);
  EXPECT_EQ(expired->usage_days, 2u);
  EXPECT_EQ(expired->nodes, 1u);
  EXPECT_FALSE(store_->Node("old")->has_value());
  EXPECT_TRUE(store_->Node("new")->has_value());
  EXPECT_EQ(AllEvents().size(), 1u);
  EXPECT_EQ(Names(Q("33")), std::vector<std::string>{"new"});
  EXPECT_EQ(Names(Q("", "", "", 1)), std::vector<std::string>{"new"});
  EXPECT_EQ(*store_->UsageByDay({}),
            std::vector{Day(serving::UtcDate(now - 399 * kDay), {{"a", {1, 0}}})});
  auto again = store_->Expire(now);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->events + again->usage_days + again->nodes, 0u);
}

TEST_F(FleetStoreTest, ReopenKeepsEverything) {
  NodeState s = St("xihu", "county", "330106", "r12", 42, 100);
  s.sources = {{"parent", "https://hz.example/", true, 0, ""}};
  Put({s}, 100);
  ASSERT_TRUE(store_->PutUsage("xihu", "330106", {Day("2026-03-01", {{"a", {1, 2}}})}, 100).ok());
  Reopen();
  EXPECT_EQ(**store_->Node("xihu"), s);
  EXPECT_EQ(AllEvents().size(), 1u);
  EXPECT_EQ(*store_->UsageByDay({}), std::vector{Day("2026-03-01", {{"a", {1, 2}}})});
  EXPECT_EQ(store_->node_count(), 1u);
}

TEST_F(FleetStoreTest, OneStorePerDirectory) {
  auto second = FleetStore::Open(dir_.Sub("fleet"));
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  store_.reset();
  EXPECT_TRUE(FleetStore::Open(dir_.Sub("fleet")).ok());
}

TEST_F(FleetStoreTest, RefusesANewerLayout) {
  store_.reset();
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), dir_.Sub("fleet/FLEET"),
                                  AsBytes(LayoutMarker("tiersync-fleet", kFleetStoreVersion + 1)))
                  .ok());
  EXPECT_EQ(FleetStore::Open(dir_.Sub("fleet")).status().code(), StatusCode::kNewerFormat);
}

TEST_F(FleetStoreTest, MapGrowsFromATinyMap) {
  const FleetOptions tiny = Options(30, 256 << 10);
  Reopen(tiny);
  std::vector<NodeState> batch;
  for (int i = 0; i < 20'000; ++i) {
    batch.push_back(St("school-" + std::to_string(i), "school", "330106", "r12", 42, 100));
  }
  Put({batch.begin(), batch.begin() + 1000}, 100);  // grows a little
  Put(batch, 101);                                  // one batch needing many doublings
  EXPECT_EQ(store_->node_count(), 20'000u);
  Reopen(tiny);  // the grown map is kept
  EXPECT_EQ(store_->node_count(), 20'000u);
  EXPECT_TRUE(store_->Node("school-19999")->has_value());
  Put({St("school-20000", "school", "330106", "r12", 42, 102)}, 102);
  EXPECT_EQ(Names(Q("330106", "", "", 0, "school-9998", 3)),
            (std::vector<std::string>{"school-9999"}));
}

// Growing the map waits for open transactions; readers on other threads keep working.
TEST_F(FleetStoreTest, ReadersRunWhileTheMapGrows) {
  Reopen(Options(30, 256 << 10));
  Put({St("first", "school", "330106", "r12", 42, 100)}, 100);
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        auto n = store_->Node("first");
        auto page = store_->Nodes(Q("33", "", "", 0, "", 50));
        if (!n.ok() || !n->has_value() || !page.ok() || page->empty()) ++failures;
        ++reads;
      }
    });
  }
  for (int b = 0; b < 10; ++b) {
    std::vector<NodeState> batch;
    for (int i = 0; i < 1000; ++i) {
      batch.push_back(St("s" + std::to_string(b * 1000 + i), "school", "330106", "r12", 42, 200));
    }
    Put(batch, 200);
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_GT(reads, 0);
  EXPECT_EQ(store_->node_count(), 10'001u);
}

}  // namespace
}  // namespace tiersync::fleet
