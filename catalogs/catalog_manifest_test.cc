#include "catalogs/catalog_manifest.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/hex.h"

namespace tiersync::catalogs {
namespace {

ManifestEntry E(std::string path, std::string_view content) {
  return {std::move(path), Sha256(AsBytes(content))};
}

TEST(CatalogManifestTest, EncodesSortedSha256sumLinesAndParsesBack) {
  auto text = EncodeManifest({E("b/2.json", "two"), E("a/1.json", "one")});
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, ToHex(Sha256(AsBytes("one"))) + "  a/1.json\n" + ToHex(Sha256(AsBytes("two"))) +
                       "  b/2.json\n");
  auto back = ParseManifest(*text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (std::vector<ManifestEntry>{E("a/1.json", "one"), E("b/2.json", "two")}));
  EXPECT_EQ(*EncodeManifest({}), "");
}

TEST(CatalogManifestTest, RefusesWhatEncodeWouldNotWrite) {
  EXPECT_FALSE(EncodeManifest({E("a\nb", "x")}).ok());
  EXPECT_FALSE(EncodeManifest({E("a", "x"), E("a", "y")}).ok());
  std::string line = ToHex(Sha256(AsBytes("x"))) + "  a\n";
  EXPECT_FALSE(ParseManifest(line + line).ok());  // repeated
  std::string upper = std::string(64, 'A') + "  a\n";
  EXPECT_FALSE(ParseManifest(upper).ok());
  EXPECT_TRUE(ParseManifest(std::string(64, 'a') + "  a\n").ok());
  EXPECT_FALSE(ParseManifest(line.substr(0, line.size() - 1)).ok());  // no newline
  EXPECT_FALSE(ParseManifest(std::string(64, '0') + " a\n").ok());    // one space
}

TEST(CatalogManifestTest, ComparisonNamesChangedMissingAndUnexpectedPaths) {
  std::vector<ManifestEntry> expected = {E("a", "1"), E("b", "2"), E("c", "3")};
  std::vector<ManifestEntry> actual = {E("a", "1"), E("b", "tampered"), E("d", "4")};
  ManifestDifference d = CompareManifests(expected, actual);
  EXPECT_EQ(d.changed, std::vector<std::string>{"b"});
  EXPECT_EQ(d.missing, std::vector<std::string>{"c"});
  EXPECT_EQ(d.unexpected, std::vector<std::string>{"d"});
  EXPECT_EQ(d.Describe(), "changed b; missing c; unexpected d");
  EXPECT_TRUE(CompareManifests(expected, expected).empty());
}

}  // namespace
}  // namespace tiersync::catalogs
