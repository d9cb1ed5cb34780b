#include "catalogs/catalog_diff.h"

#include <gtest/gtest.h>

namespace tiersync::catalogs {
namespace {

Resource R(const std::string& id) {
  Resource r;
  r.id = id;
  r.title = "title " + id;
  r.provider = "p";
  r.placements = {{"k12", "专题教育", "党史学习"}};
  r.link = ExternalLink{"https://example.edu.cn/" + id, ""};
  return r;
}

TEST(CatalogDiffTest, ClassifiesEachKindOfChange) {
  std::map<std::string, Resource> from, to;
  for (const char* id : {"same", "edit", "move", "both", "retire", "gone"}) from[id] = R(id);
  to = from;
  to.erase("gone");
  to["new"] = R("new");
  to["edit"].title = "新标题";
  to["move"].placements.push_back({"k12", "课后服务", "经典阅读"});
  to["both"].placements[0].category = "品德教育";
  to["both"].facets.tags = {"x"};
  to["retire"].retired = true;
  to["retire"].title = "retired, and edited";
  CatalogDiff d = DiffCatalogs(from, to);
  EXPECT_EQ(d.added, std::vector<std::string>{"new"});
  EXPECT_EQ(d.changed, (std::vector<std::string>{"both", "edit"}));
  EXPECT_EQ(d.moved, (std::vector<std::string>{"both", "move"}));
  EXPECT_EQ(d.retired, std::vector<std::string>{"retire"});
  EXPECT_EQ(d.removed, std::vector<std::string>{"gone"});
  EXPECT_TRUE(DiffCatalogs(to, to).empty());
  // Un-retiring is a change.
  EXPECT_EQ(DiffCatalogs(to, from).changed, (std::vector<std::string>{"both", "edit", "retire"}));
}

}  // namespace
}  // namespace tiersync::catalogs
