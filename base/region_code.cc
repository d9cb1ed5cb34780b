#include "base/region_code.h"

namespace tiersync {

Status CheckRegionCode(std::string_view code) {
  bool digits = code.size() == 6;
  for (char c : code) digits = digits && c >= '0' && c <= '9';
  if (!digits) return InvalidArgumentError("not a 6-digit region code");
  return Status::Ok();
}

std::string RegionPrefix(std::string_view code) {
  if (CheckRegionCode(code).ok()) {
    if (code == kNationalRegion) return "";
    if (code.ends_with("0000")) return std::string(code.substr(0, 2));
    if (code.ends_with("00")) return std::string(code.substr(0, 4));
  }
  return std::string(code);
}

bool RegionCovers(std::string_view scope, std::string_view region) {
  return CheckRegionCode(scope).ok() && CheckRegionCode(region).ok() &&
         RegionMatches(region, RegionPrefix(scope));
}

}  // namespace tiersync
