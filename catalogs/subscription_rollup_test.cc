#include "catalogs/subscription_rollup.h"

#include <gtest/gtest.h>

#include "catalogs/region_table.h"
#include "catalogs/subscription.h"
#include "catalogs/taxonomy.h"

namespace tiersync::catalogs {
namespace {

TEST(SubscriptionRollupTest, UpperTierWithNoSubscriptionAsksForItsChildren) {
  RolledUp r = RollUp(
      "", {"platform = k12 and edition in (人教版) and grade in (1..6)\n", "board = 专题教育"});
  EXPECT_EQ(r.text,
            "platform = k12 and edition in (人教版) and grade in (1..6)\nboard = 专题教育\n");
  EXPECT_EQ(r.rules, 2u);
  EXPECT_EQ(r.dropped, 0u);
}

TEST(SubscriptionRollupTest, OwnRulesFirstDuplicatesCommentsAndBlanksDropped) {
  RolledUp r = RollUp("# ours\nboard = 专题教育\n\n",
                      {"  board = 专题教育  \n# a comment\ngrade = 3\n", "grade = 3\r\n"});
  EXPECT_EQ(r.text, "board = 专题教育\ngrade = 3\n");
  EXPECT_EQ(r.rules, 2u);
}

TEST(SubscriptionRollupTest, NothingWantedIsEmpty) {
  RolledUp r = RollUp("", {"", "# nothing\n"});
  EXPECT_EQ(r.text, "");
  EXPECT_EQ(r.rules, 0u);
}

TEST(SubscriptionRollupTest, AllAnywhereIsAll) {
  EXPECT_EQ(RollUp("grade = 1", {"all"}).text, "all\n");
  EXPECT_EQ(RollUp("all", {"grade = 1"}).rules, 1u);
}

TEST(SubscriptionRollupTest, CappedAtTheRuleLimitAndSaysSo) {
  std::vector<std::string> children;
  for (size_t i = 0; i < kMaxSubscriptionRules + 10; ++i) {
    children.push_back("provider = p" + std::to_string(i));
  }
  RolledUp r = RollUp("", children);
  EXPECT_EQ(r.rules, kMaxSubscriptionRules);
  EXPECT_EQ(r.dropped, 10u);
  // The capped union is itself a valid subscription.
  auto parsed = Subscription::Parse(r.text, Taxonomy::Builtin(), RegionTable::Builtin());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rule_count(), kMaxSubscriptionRules);
}

TEST(SubscriptionRollupTest, CappedAtTheByteLimit) {
  const std::string rule = "provider = " + std::string(1000, 'x');
  std::vector<std::string> children;
  for (int i = 0; i < 100; ++i) children.push_back(rule + std::to_string(i));
  RolledUp r = RollUp("", children);
  EXPECT_LE(r.text.size(), kMaxSubscriptionBytes);
  EXPECT_GT(r.dropped, 0u);
  EXPECT_EQ(r.rules + r.dropped, 100u);
}

}  // namespace
}  // namespace tiersync::catalogs
