// Subscription roll-up (issue 17 item 1): what a node asks of the tier above it on behalf of
// its whole subtree. A node reports upward the union of its own subscription and every
// subscription its children reported (each of those already the union of the child's
// subtree), so that every ancestor prefetches what anyone below it needs — also when the
// ancestor itself subscribes to nothing (the common case: a province mirrors what its schools
// need).
//
// A subscription is one rule per line and matches a resource if any rule does
// (catalogs/subscription.h), so the union is the set of distinct rule lines. RollUp keeps them
// in first-seen order (own rules first, then children in the order given), drops comments
// and blank lines, collapses to the single rule `all` when any input has it, and caps the
// result so that it is itself a valid subscription: at most kMaxSubscriptionRules rules and
// kMaxSubscriptionBytes of text. Rules over the cap are left out and counted in `dropped`
// (the node says so in its status and log: children fetch what those rules select from
// further up — fallback, not loss).
//
// Pure; no parsing beyond lines (each input was checked by Subscription::Parse where it
// entered the node).
#ifndef TIERSYNC_CATALOGS_SUBSCRIPTION_ROLLUP_H_
#define TIERSYNC_CATALOGS_SUBSCRIPTION_ROLLUP_H_

#include <cstddef>
#include <string>
#include <vector>

namespace tiersync::catalogs {

struct RolledUp {
  std::string text;    // the union, one rule per line ("" if nothing is wanted)
  size_t rules = 0;    // rules in `text`
  size_t dropped = 0;  // distinct rules left out by the cap
};

// The union of `own` and `children` (subscription texts), capped as described above.
RolledUp RollUp(const std::string& own, const std::vector<std::string>& children);

}  // namespace tiersync::catalogs

#endif  // TIERSYNC_CATALOGS_SUBSCRIPTION_ROLLUP_H_
