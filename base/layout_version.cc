#include "base/layout_version.h"

#include <charconv>

#include "base/bytes.h"

namespace tiersync {

std::string LayoutMarker(std::string_view kind, int version) {
  return std::string(kind) + " " + std::to_string(version) + "\n";
}

Result<int> ReadLayoutVersion(Env* env, const std::string& path, std::string_view kind) {
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, path, kMaxMarkerBytes));
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  int version = 0;
  const std::string_view number = text.substr(std::min(text.size(), kind.size() + 1));
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), version);
  if (!text.starts_with(kind) || text.size() <= kind.size() || text[kind.size()] != ' ' ||
      ec != std::errc() || end != number.data() + number.size() || version < 1) {
    return CorruptionError(path + ": not a \"" + std::string(kind) + " <version>\" marker");
  }
  return version;
}

Status CheckLayoutVersion(int found, int supported, std::string_view what,
                          std::string_view marker_path) {
  if (found <= supported) return Status::Ok();
  return Status(StatusCode::kNewerFormat,
                std::string(what) + " has layout version " + std::to_string(found) + " (" +
                    std::string(marker_path) + "), written by a newer tiersync; this tiersync " +
                    "supports versions up to " + std::to_string(supported) +
                    ": upgrade tiersync (nothing was changed)")
      .AsLocal();
}

Status MigrateLayout(Env* env, const std::string& marker_path, std::string_view kind,
                     std::string_view what, int supported, const std::vector<MigrationStep>& steps,
                     const std::function<void(const std::string&)>& log) {
  TS_ASSIGN_OR_RETURN(int version, ReadLayoutVersion(env, marker_path, kind));
  TS_RETURN_IF_ERROR(CheckLayoutVersion(version, supported, what, marker_path));
  for (; version < supported; ++version) {
    const MigrationStep* step = nullptr;
    for (const MigrationStep& s : steps) {
      if (s.from == version) step = &s;
    }
    if (step == nullptr) {
      return NotSupportedError(std::string(what) + ": no migration from layout version " +
                               std::to_string(version));
    }
    if (log) {
      log("migrating " + std::string(what) + " from layout version " + std::to_string(version) +
          " to " + std::to_string(version + 1) + ": " + step->description);
    }
    Status s = step->run();
    if (!s.ok()) {
      return s.WithContext("migrating " + std::string(what) + " to layout version " +
                           std::to_string(version + 1));
    }
    // The marker last: until it is durable the next open runs the (idempotent) step again.
    TS_RETURN_IF_ERROR(
        WriteFileAtomically(env, marker_path, AsBytes(LayoutMarker(kind, version + 1))));
  }
  return Status::Ok();
}

}  // namespace tiersync
