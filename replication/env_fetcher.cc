#include "replication/env_fetcher.h"

#include "base/hex.h"

namespace tiersync::replication {
namespace {

// Percent-decodes one URL path; false for bad escapes or an escaped '/' or NUL.
bool Unescape(std::string_view in, std::string* out) {
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexDigitValue(in[i + 1]), lo = HexDigitValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    char c = static_cast<char>(hi << 4 | lo);
    if (c == '/' || c == '\0') return false;
    out->push_back(c);
    i += 2;
  }
  return true;
}

bool SafeRelative(const std::string& path) {
  if (path.empty() || path.front() == '/') return false;
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string_view seg(path.data() + start,
                         (slash == std::string::npos ? path.size() : slash) - start);
    if (seg.empty() || seg == "." || seg == ".." || seg.find('\\') != std::string_view::npos) {
      return false;
    }
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

}  // namespace

void EnvFetcher::Mount(std::string url_prefix, std::string dir) {
  mounts_[std::move(url_prefix)] = std::move(dir);
}

Result<std::vector<uint8_t>> EnvFetcher::Fetch(const std::string& url, size_t max_bytes) {
  {
    MutexLock l(&mu_);
    requests_.push_back(url);
  }
  for (const auto& [prefix, dir] : mounts_) {
    if (url.rfind(prefix, 0) != 0) continue;
    std::string rel;
    if (!Unescape(std::string_view(url).substr(prefix.size()), &rel) || !SafeRelative(rel)) {
      return NotFoundError(url + ": not a servable path");
    }
    return ReadFileToBytes(env_, JoinPath(dir, rel), max_bytes);
  }
  return NotFoundError(url + ": no repository mounted there");
}

std::vector<std::string> EnvFetcher::requests() const {
  MutexLock l(&mu_);
  return requests_;
}

void EnvFetcher::ClearRequests() {
  MutexLock l(&mu_);
  requests_.clear();
}

}  // namespace tiersync::replication
