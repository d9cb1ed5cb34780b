#include "catalogs/catalog_manifest.h"

#include <algorithm>

#include "base/hex.h"

namespace tiersync::catalogs {
namespace {

bool ValidPath(std::string_view path) {
  if (path.empty()) return false;
  return std::none_of(path.begin(), path.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

}  // namespace

Result<std::string> EncodeManifest(std::vector<ManifestEntry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; });
  std::string out;
  out.reserve(entries.size() * 110);
  for (size_t i = 0; i < entries.size(); ++i) {
    const ManifestEntry& e = entries[i];
    if (!ValidPath(e.path)) {
      return CorruptionError("catalog manifest: path \"" + e.path +
                             "\" is empty or holds a control character");
    }
    if (i > 0 && entries[i - 1].path == e.path) {
      return CorruptionError("catalog manifest: path " + e.path + " appears twice");
    }
    out += ToHex(e.sha256);
    out += "  ";
    out += e.path;
    out += '\n';
  }
  return out;
}

Result<std::vector<ManifestEntry>> ParseManifest(std::string_view text) {
  if (text.size() > kMaxManifestBytes) {
    return CorruptionError("catalog manifest: larger than " + std::to_string(kMaxManifestBytes) +
                           " bytes");
  }
  std::vector<ManifestEntry> out;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      return CorruptionError("catalog manifest: line " + std::to_string(line_no) +
                             " has no newline");
    }
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    std::optional<Sha256Digest> digest =
        line.size() > 66 ? Sha256FromHex(line.substr(0, 64)) : std::nullopt;
    if (!digest || line.substr(64, 2) != "  " || ToHex(*digest) != line.substr(0, 64) ||
        !ValidPath(line.substr(66))) {
      return CorruptionError("catalog manifest: line " + std::to_string(line_no) +
                             " is not \"<sha256>  <path>\"");
    }
    ManifestEntry e{std::string(line.substr(66)), *digest};
    if (!out.empty() && !(out.back().path < e.path)) {
      return CorruptionError("catalog manifest: line " + std::to_string(line_no) +
                             " is out of order or repeated");
    }
    out.push_back(std::move(e));
  }
  return out;
}

ManifestDifference CompareManifests(const std::vector<ManifestEntry>& expected,
                                    const std::vector<ManifestEntry>& actual) {
  // Both are sorted by path (ParseManifest/EncodeManifest order); merge them.
  ManifestDifference d;
  size_t i = 0, j = 0;
  while (i < expected.size() || j < actual.size()) {
    if (j == actual.size() || (i < expected.size() && expected[i].path < actual[j].path)) {
      d.missing.push_back(expected[i++].path);
    } else if (i == expected.size() || actual[j].path < expected[i].path) {
      d.unexpected.push_back(actual[j++].path);
    } else {
      if (expected[i].sha256 != actual[j].sha256) d.changed.push_back(expected[i].path);
      ++i;
      ++j;
    }
  }
  return d;
}

std::string ManifestDifference::Describe(size_t limit) const {
  std::string out;
  auto list = [&](const char* what, const std::vector<std::string>& paths) {
    if (paths.empty()) return;
    if (!out.empty()) out += "; ";
    out += what;
    for (size_t k = 0; k < paths.size() && k < limit; ++k) out += (k ? ", " : " ") + paths[k];
    if (paths.size() > limit) out += " and " + std::to_string(paths.size() - limit) + " more";
  };
  list("changed", changed);
  list("missing", missing);
  list("unexpected", unexpected);
  return out;
}

}  // namespace tiersync::catalogs
