// RegionTable: China's administrative divisions (GB/T 2260) — provinces, prefectures and
// counties — by their 6-digit codes, with parents, for node identity (a node's region and
// tier), regional namespaces and the national topology.
//
// The tables ship with tiersync (catalogs/data/regions/, compiled in); Parse() reads them
// strictly: exact headers, digit codes of the right length, unique codes, parents that exist,
// and a code that extends its parent's (3301 under 33); a county row that repeats its own
// prefecture's code marks that prefecture `also_county`. Errors are kCorruption naming the
// file, line and problem. Immutable after construction; safe to share between threads.
#ifndef TIERSYNC_CATALOGS_REGION_TABLE_H_
#define TIERSYNC_CATALOGS_REGION_TABLE_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tiersync::catalogs {

enum class RegionLevel { kProvince, kPrefecture, kCounty };

struct Region {
  std::string code;  // 6 digits: "330000", "330100", "330106"
  std::string name;  // "浙江省", "杭州市", "西湖区"
  RegionLevel level = RegionLevel::kProvince;
  std::string parent;  // 6-digit code of the parent; empty for a province
  // A "市辖区" prefecture of a municipality (北京, 天津, 上海, 重庆): a grouping, not a city.
  bool placeholder = false;
  // A prefecture-level city without counties (东莞, 中山, 儋州): the tables list it again at
  // county level under the same code; it is one region that serves both tiers.
  bool also_county = false;
};

class RegionTable {
 public:
  // Parses the three CSV files' contents.
  static Result<RegionTable> Parse(std::string_view provinces_csv, std::string_view cities_csv,
                                   std::string_view areas_csv);
  // The tables compiled into this build.
  static const RegionTable& Builtin();

  // The region with 6-digit `code`, or null.
  const Region* Find(std::string_view code) const;
  // Direct children, in code order.
  std::vector<const Region*> Children(std::string_view code) const;
  // From the province down to `code` (empty if unknown).
  std::vector<const Region*> Chain(std::string_view code) const;
  // True if `code` is `ancestor` or lies under it.
  bool IsWithin(std::string_view code, std::string_view ancestor) const;

  std::vector<const Region*> AtLevel(RegionLevel level) const;
  size_t size() const { return regions_.size(); }

 private:
  Status Add(Region r, const std::string& where);
  std::map<std::string, Region, std::less<>> regions_;
};

}  // namespace tiersync::catalogs

#endif  // TIERSYNC_CATALOGS_REGION_TABLE_H_
