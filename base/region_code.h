// GB/T 2260 region codes as the federation uses them: which code a node, an operator or a
// certificate names, and which part of the country a code stands for. Pure.
//
// A code is six digits: province (2), city (2), county (2). Trailing "00" pairs mean "all of
// it": 330000 is 浙江 and everything in it, 330100 杭州 and its counties, 330106 西湖区 alone.
// "000000" is the national tier's code and stands for the whole country.
#ifndef TIERSYNC_BASE_REGION_CODE_H_
#define TIERSYNC_BASE_REGION_CODE_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace tiersync {

inline constexpr std::string_view kNationalRegion = "000000";

// OK if `code` is six ASCII digits, else kInvalidArgument ("not a 6-digit region code").
Status CheckRegionCode(std::string_view code);

// The prefix every code inside `code` starts with: "000000" -> "" (the country),
// "330000" -> "33", "330100" -> "3301", "330106" -> "330106" ("110100", 北京's 市辖区 ->
// "1101"). Anything that is not 6 digits is returned unchanged.
std::string RegionPrefix(std::string_view code);

// True if the node's 6-digit `region` lies under `prefix` (it starts with it; "" matches all).
inline bool RegionMatches(std::string_view region, std::string_view prefix) {
  return region.starts_with(prefix);
}

// True if both are region codes and `region` lies inside what `scope` stands for.
bool RegionCovers(std::string_view scope, std::string_view region);

}  // namespace tiersync

#endif  // TIERSYNC_BASE_REGION_CODE_H_
