#include "cli/units.h"

#include <cstdio>
#include <string>

namespace tiersync::cli {

Result<uint64_t> ParseSize(std::string_view text) {
  auto bad = [&] { return InvalidArgumentError("'" + std::string(text) + "' is not a size"); };
  size_t i = 0;
  uint64_t v = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (v > (UINT64_MAX - 9) / 10) return bad();
    v = v * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (i == 0) return bad();
  std::string_view suffix = text.substr(i);
  int shift = 0;
  if (!suffix.empty()) {
    switch (suffix[0]) {
      case 'K':
      case 'k':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      case 'T':
        shift = 40;
        break;
      case 'B':
        shift = 0;
        break;
      default:
        return bad();
    }
    std::string_view rest = suffix.substr(1);
    if (!(rest.empty() || rest == "B" || rest == "iB") || (suffix[0] == 'B' && !rest.empty())) {
      return bad();
    }
  }
  if (shift > 0 && v > (UINT64_MAX >> shift)) return bad();
  return v << shift;
}

std::string FormatBytes(uint64_t bytes) {
  char buf[32];
  if (bytes < 1024) return std::to_string(bytes) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024;
  int u = 0;
  while (v >= 1024 && u < 3) v /= 1024, ++u;
  std::snprintf(buf, sizeof buf, v < 10 ? "%.2f %s" : "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace tiersync::cli
