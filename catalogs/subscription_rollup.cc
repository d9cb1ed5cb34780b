#include "catalogs/subscription_rollup.h"

#include <set>
#include <string_view>

#include "catalogs/subscription.h"

namespace tiersync::catalogs {
namespace {

std::string_view Trim(std::string_view s) {
  const char* kSpace = " \t\r";
  const size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

// Calls `fn` with each rule line of `text` (trimmed; no blanks, no comments).
template <class Fn>
void ForEachRule(std::string_view text, Fn fn) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.front() != '#') fn(line);
  }
}

}  // namespace

RolledUp RollUp(const std::string& own, const std::vector<std::string>& children) {
  RolledUp out;
  std::set<std::string_view> seen;
  bool all = false;
  auto add = [&](std::string_view rule) {
    if (all || !seen.insert(rule).second) return;
    if (rule == "all") {
      all = true;
      return;
    }
    if (out.rules + 1 > kMaxSubscriptionRules ||
        out.text.size() + rule.size() + 1 > kMaxSubscriptionBytes) {
      ++out.dropped;
      return;
    }
    out.text.append(rule);
    out.text.push_back('\n');
    ++out.rules;
  };
  ForEachRule(own, add);
  for (const std::string& child : children) ForEachRule(child, add);
  if (all) return RolledUp{"all\n", 1, 0};
  return out;
}

}  // namespace tiersync::catalogs
