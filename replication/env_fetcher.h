// EnvFetcher: a Fetcher over files reachable through an Env. URLs that start with a mounted
// prefix map to a directory ("file:///media/usb/tiersync/" -> "/media/usb/tiersync/", or in
// tests "mem://hub/" -> a MemEnv directory). Used for repositories on local disks and USB
// bundles, and as the test double of HTTP. Records every URL requested, in order.
#ifndef TIERSYNC_REPLICATION_ENV_FETCHER_H_
#define TIERSYNC_REPLICATION_ENV_FETCHER_H_

#include <map>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "replication/fetcher.h"

namespace tiersync::replication {

class EnvFetcher : public Fetcher {
 public:
  explicit EnvFetcher(Env* env) : env_(env) {}

  // Serves URLs starting with `url_prefix` from `dir`.
  void Mount(std::string url_prefix, std::string dir);

  // kNotFound for unmounted URLs, missing files and paths with "." or ".." segments or
  // percent-escapes that decode to '/' (nothing outside the mounted directory is read).
  Result<std::vector<uint8_t>> Fetch(const std::string& url, size_t max_bytes) override;

  std::vector<std::string> requests() const;
  void ClearRequests();

 private:
  Env* env_;
  std::map<std::string, std::string> mounts_;
  mutable Mutex mu_;
  std::vector<std::string> requests_ GUARDED_BY(mu_);
};

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_ENV_FETCHER_H_
