// A node's configuration: <node dir>/node.toml (docs/operators/node.md documents every key
// and its default). Parsed strictly: an unknown key, a wrong type or a bad value is
// kInvalidArgument naming the key ("node.toml: [sync] parallel: must be 1..64"), so an
// operator's typo never silently falls back to a default.
//
//   [node]
//   name = "西湖区教育局"           # shown in status and in reports to the parent
//   tier = "county"               # province | city | county | school
//   region = "330106"             # GB/T 2260 code
//   listen = "127.0.0.1:8103"     # HTTP address this node serves on
//
//   [upstream]
//   sources = ["http://127.0.0.1:8102", "http://127.0.0.1:8101"]  # parent first
//   national = "http://127.0.0.1:8100"  # always tried last
//
//   [subscription]
//   rules = """
//   platform = k12 and board = 课程教学 and edition in (人教版)
//   """
//
//   [storage]
//   quota = "50G"                 # refuse to sync a release that would not fit
//
//   [sync]
//   poll_seconds = 300            # backstop to push; jittered by up to a fifth
//   push = true                   # long-poll the parent for new releases
//   parallel = 4                  # batch requests in flight
//   max_bytes_per_second = 0      # the cap on everything the sync fetches, inside the
//                                 # windows (or always, without windows); 0: unlimited
//   windows = ["22:00-06:00"]     # local time; ordinary content is fetched only inside them
//                                 # (priority content, metadata and the catalog at any time);
//                                 # [] or absent: always
//   outside_bytes_per_second = 0  # the cap outside the windows; 0: unlimited
//   min_bytes_per_second = 4096   # a request slower than this (after a 5 s grace) is dropped
//                                 # for the next source: drip protection, not a quality bar —
//                                 # a school on 256 kbit/s with 4 requests in flight gets 8 KB/s
//                                 # each
//   stall_seconds = 30            # no byte for this long: the source is down
//
//   [children]                    # what the tiers below may pull (node/children_throttle.h)
//   max_bytes_per_second = 0      # the cap on metadata, catalog, indexes and chunks served
//                                 # to children, all together, inside the windows (or always,
//                                 # without windows); 0: unlimited. Priority content: never
//   windows = ["22:00-06:00"]     # local time; [] or absent: the cap above always applies
//   outside_bytes_per_second = 0  # the cap outside the windows; 0: unlimited
//
//   [scrub]                       # the node's own check of its store (node/scrubber.h)
//   bytes_per_second = 16777216   # stored bytes read per second while checking; 0: no cap
//   interval_hours = 168          # a check this long after the last; 0: only on start
//                                 # after an unclean shutdown and `tiersync node scrub`
//
//   [retention]                   # what the store keeps (node/garbage_collector.h)
//   pinned = ["r12"]              # releases kept besides the current and the previous one
//   collect = true                # collect garbage after every switch
//   compact_below_percent = 50    # a pack less full than this is compacted
//
//   [serving]                     # what users get (docs/serving.md)
//   miss = "proxy"                # a file not mirrored here: proxy | redirect
//   cache_quota = "2G"            # proxy: whole files kept in <dir>/cache (LRU); "0": none
//
//   [tls]                         # optional; without it the node serves plain HTTP
//   cert = "/etc/tiersync/tls/node.crt"  # PEM chain, leaf first: serve HTTPS only
//   key = "/etc/tiersync/tls/node.key"   # PEM private key, unencrypted; with cert
//   ca = "/etc/tiersync/tls/province-ca.pem"  # CAs trusted for https:// upstreams
//                                 # (instead of the system's store)
//
// The pinned national root is <node dir>/root.json (written by `tiersync node init`).
#ifndef TIERSYNC_NODE_NODE_CONFIG_H_
#define TIERSYNC_NODE_NODE_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace tiersync::node {

// kNational is the hub's own user API (hub/hub_users.h); node.toml names one of the others.
enum class Tier { kProvince, kCity, kCounty, kSchool, kNational };
std::string_view TierName(Tier t);
Result<Tier> ParseTier(std::string_view name);

struct NodeConfig {
  std::string name;
  Tier tier = Tier::kSchool;
  std::string region;
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  std::vector<std::string> sources;  // in order; national is not repeated here
  std::string national;
  std::string subscription;  // the rules' text
  uint64_t quota_bytes = 0;  // 0: no quota
  int poll_seconds = 300;
  bool push = true;
  int parallel = 4;
  uint64_t max_bytes_per_second = 0;  // inside the windows, or always without windows
  std::vector<std::string> windows;   // "HH:MM-HH:MM", local time (base/time_windows.h)
  uint64_t outside_bytes_per_second = 0;
  uint64_t min_bytes_per_second = 4 << 10;
  int stall_seconds = 30;
  // [children]: the pace of what this node serves the tiers below (node/children_throttle.h)
  uint64_t children_max_bytes_per_second = 0;  // inside the windows, or always without windows
  std::vector<std::string> children_windows;   // "HH:MM-HH:MM", local time
  uint64_t children_outside_bytes_per_second = 0;
  // [serving]
  enum class MissPolicy { kProxy, kRedirect } miss = MissPolicy::kProxy;
  uint64_t cache_quota_bytes = 2ull << 30;
  uint64_t scrub_bytes_per_second = 16ull << 20;
  int scrub_interval_hours = 168;
  // [retention]
  std::vector<std::string> pinned_releases;  // "r<N>", kept besides the current and previous
  bool gc = true;                            // collect after every switch
  int compact_below_percent = 50;
  // [tls]: absolute paths of PEM files; empty when not set. cert and key come together.
  std::string tls_cert;  // set: serve HTTPS (only) on the listen address
  std::string tls_key;
  std::string tls_ca;  // trust for https:// upstreams; empty: the system's CA store

  // Every source to try, in order: the configured ones, then national (once).
  std::vector<std::string> AllSources() const;
};

// Parses node.toml text. `where` names the file in messages.
Result<NodeConfig> ParseNodeConfig(std::string_view text, const std::string& where);
// Writes `config` as node.toml text (what `node init` writes; parses back to the same config).
std::string FormatNodeConfig(const NodeConfig& config);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_NODE_CONFIG_H_
