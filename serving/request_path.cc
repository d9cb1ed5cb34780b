#include "serving/request_path.h"

#include "serving/text.h"

namespace tiersync::serving {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (!NextCodePoint(s, &i)) return false;
  }
  return true;
}

Result<std::string> DecodeComponent(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (s.size() - i < 3) return InvalidArgumentError("a truncated %-escape");
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return InvalidArgumentError("a malformed %-escape");
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgumentError("a control character");
    }
    out.push_back(c);
  }
  if (!ValidUtf8(out)) return InvalidArgumentError("invalid UTF-8");
  return out;
}

Result<std::vector<std::string>> SplitPath(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path.size() > kMaxPathBytes) return InvalidArgumentError("path too long");
  if (path.empty() || path.front() != '/') return InvalidArgumentError("not an absolute path");
  std::vector<std::string> segments;
  path.remove_prefix(1);
  if (path.empty()) return segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view raw = path.substr(start, slash - start);
    start = slash + 1;
    if (raw.find('\\') != std::string_view::npos) return InvalidArgumentError("a backslash");
    TS_ASSIGN_OR_RETURN(std::string seg, DecodeComponent(raw, false));
    if (seg.empty()) return InvalidArgumentError("an empty path segment");
    if (seg == "." || seg == "..") return InvalidArgumentError("a dot segment");
    if (seg.find('/') != std::string::npos || seg.find('\\') != std::string::npos) {
      return InvalidArgumentError("an encoded slash or backslash");
    }
    segments.push_back(std::move(seg));
  }
  return segments;
}

std::map<std::string, std::string> QueryParameters(std::string_view target) {
  std::map<std::string, std::string> out;
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view query = target.substr(q + 1);
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto name = DecodeComponent(pair.substr(0, eq), true);
    auto value = DecodeComponent(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (name.ok() && value.ok() && !name->empty()) out[*name] = *value;
  }
  return out;
}

}  // namespace tiersync::serving
