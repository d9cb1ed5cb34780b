// NodeIdentity: who a node is in the federation — its tier, its GB/T 2260 region and its name —
// and the scope rules that say which identities a node may vouch for. Pure: no I/O, no clock,
// no OpenSSL. docs/formats/node-identity.md is the normative description.
//
// Tiers, from the top: national > province > city > county > school. A node may issue (enroll,
// renew, revoke) only identities strictly below its own tier whose region lies inside its own:
//
//   issuer region   covers (RegionPrefix, as fleet/node_state.h)
//   000000          everything (national only)
//   330000          33xxxx
//   330100          3301xx
//   330106          330106
//
// Well-formed identities (CheckIdentity):
//   national   region "000000"
//   province   region "xx0000", not "000000"
//   city       region "xxxx00", not ending "0000"
//   county     any region but "000000"
//   school     any region but "000000"
//   name       1..64 characters (RFC 5280's bound on a commonName), UTF-8, no control
//              characters (fleet's CheckNodeName rules, narrowed to what a certificate holds)
//
// Thread safety: plain values and pure functions; safe from any thread.
#ifndef TIERSYNC_IDENTITY_NODE_IDENTITY_H_
#define TIERSYNC_IDENTITY_NODE_IDENTITY_H_

#include <optional>
#include <string>
#include <string_view>

#include "base/region_code.h"
#include "base/status.h"

namespace tiersync::identity {

// A commonName holds at most 64 characters (RFC 5280, ub-common-name).
inline constexpr size_t kMaxNameChars = 64;

struct NodeIdentity {
  std::string tier;    // "national" | "province" | "city" | "county" | "school"
  std::string region;  // 6-digit GB/T 2260 code; "000000" for national
  std::string name;    // the node's name (node.toml [node] name)
  bool operator==(const NodeIdentity&) const = default;
};

// 0 for national .. 4 for school; nullopt for anything that is not a tier name.
std::optional<int> TierRank(std::string_view tier);

// True for national, province, city and county: the tiers that enroll the tier below, whose
// certificates are CA certificates.
bool IsIssuingTier(std::string_view tier);

// OK, or kInvalidArgument naming what is wrong ("tier: not a tier: \"town\"", "region: a
// province's region ends in 0000", "name: longer than 64 characters").
Status CheckIdentity(const NodeIdentity& id);

// kNationalRegion, RegionCovers (whether a region lies inside an issuer's): base/region_code.h.

// The rule every issuer->subject pair obeys: both identities well-formed, the subject's tier
// strictly below the issuer's, the subject's region inside the issuer's. OK or
// kInvalidArgument, e.g. "county 'x' (330106) is not inside its issuer province 'y'
// (320000)" or "province 'p' (330000) is not below its issuer province 'q' (320000)".
// Used by an issuer before it issues, and by VerifyNodeChain on every pair of a chain.
Status CheckScope(const NodeIdentity& issuer, const NodeIdentity& subject);

// "county 'xihu' (330106)": how messages name a node.
std::string Describe(const NodeIdentity& id);

}  // namespace tiersync::identity

#endif  // TIERSYNC_IDENTITY_NODE_IDENTITY_H_
