#include "identity/node_identity.h"

#include <array>

namespace tiersync::identity {
namespace {

constexpr std::array<std::string_view, 5> kTiers = {"national", "province", "city", "county",
                                                    "school"};

// Counts UTF-8 characters (lead bytes); refuses control characters (C0 and DEL).
std::optional<size_t> CountNameChars(std::string_view name) {
  size_t chars = 0;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return std::nullopt;
    if ((c & 0xc0) != 0x80) ++chars;
  }
  return chars;
}

Status CheckRegionForTier(std::string_view tier, std::string_view region) {
  TS_RETURN_IF_ERROR(CheckRegionCode(region).WithContext("region"));
  const bool national_code = region == kNationalRegion;
  if (tier == "national") {
    return national_code ? Status::Ok()
                         : InvalidArgumentError("region: the national tier's region is 000000");
  }
  if (national_code) return InvalidArgumentError("region: 000000 is the national tier's");
  if (tier == "province" && !region.ends_with("0000")) {
    return InvalidArgumentError("region: a province's region ends in 0000");
  }
  if (tier == "city" && (!region.ends_with("00") || region.ends_with("0000"))) {
    return InvalidArgumentError("region: a city's region ends in 00 (not 0000)");
  }
  return Status::Ok();
}

}  // namespace

std::optional<int> TierRank(std::string_view tier) {
  for (size_t i = 0; i < kTiers.size(); ++i) {
    if (kTiers[i] == tier) return static_cast<int>(i);
  }
  return std::nullopt;
}

bool IsIssuingTier(std::string_view tier) {
  std::optional<int> rank = TierRank(tier);
  return rank && *rank < static_cast<int>(kTiers.size()) - 1;
}

Status CheckIdentity(const NodeIdentity& id) {
  if (!TierRank(id.tier)) return InvalidArgumentError("tier: not a tier: \"" + id.tier + "\"");
  TS_RETURN_IF_ERROR(CheckRegionForTier(id.tier, id.region));
  if (id.name.empty()) return InvalidArgumentError("name: empty");
  std::optional<size_t> chars = CountNameChars(id.name);
  if (!chars) return InvalidArgumentError("name: has a control character");
  if (*chars > kMaxNameChars) {
    return InvalidArgumentError("name: longer than " + std::to_string(kMaxNameChars) +
                                " characters");
  }
  return Status::Ok();
}

Status CheckScope(const NodeIdentity& issuer, const NodeIdentity& subject) {
  if (Status s = CheckIdentity(issuer); !s.ok()) return s.WithContext("issuer");
  if (Status s = CheckIdentity(subject); !s.ok()) return s.WithContext("subject");
  if (*TierRank(subject.tier) <= *TierRank(issuer.tier)) {
    return InvalidArgumentError(Describe(subject) + " is not below its issuer " + Describe(issuer));
  }
  if (!RegionCovers(issuer.region, subject.region)) {
    return InvalidArgumentError(Describe(subject) + " is not inside its issuer " +
                                Describe(issuer));
  }
  return Status::Ok();
}

std::string Describe(const NodeIdentity& id) {
  return id.tier + " '" + id.name + "' (" + id.region + ")";
}

}  // namespace tiersync::identity
