#include "node/node_config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "base/time_windows.h"
#include "catalogs/git_catalog.h"
#include "catalogs/region_table.h"
#include "catalogs/subscription.h"
#include "catalogs/taxonomy.h"
#include "fleet/node_state.h"
#include "node/http_url.h"

namespace tiersync::node {
namespace {

// Reads the keys of one table, refusing keys it was not asked about.
class TableReader {
 public:
  TableReader(const toml::table* table, std::string where)
      : table_(table), where_(std::move(where)) {}

  template <class T>
  Status Get(const std::string& key, T* out) {
    seen_.insert(key);
    if (table_ == nullptr) return Status::Ok();
    const toml::node* n = table_->get(key);
    if (n == nullptr) return Status::Ok();
    if constexpr (std::is_same_v<T, std::string>) {
      if (!n->is_string()) return Error(key, "must be a string");
      *out = n->as_string()->get();
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!n->is_boolean()) return Error(key, "must be true or false");
      *out = n->as_boolean()->get();
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      const toml::array* a = n->as_array();
      if (a == nullptr) return Error(key, "must be a list of strings");
      out->clear();
      for (const auto& e : *a) {
        if (!e.is_string()) return Error(key, "must be a list of strings");
        out->push_back(e.as_string()->get());
      }
    } else {
      if (!n->is_integer()) return Error(key, "must be a whole number");
      int64_t v = n->as_integer()->get();
      if (v < 0) return Error(key, "must not be negative");
      *out = static_cast<T>(v);
    }
    return Status::Ok();
  }

  Status Error(const std::string& key, const std::string& what) const {
    return InvalidArgumentError(where_ + ": " + key + ": " + what);
  }

  Status CheckNoOtherKeys() const {
    if (table_ == nullptr) return Status::Ok();
    for (const auto& [k, v] : *table_) {
      if (!seen_.count(std::string(k.str()))) {
        return InvalidArgumentError(where_ + ": unknown key " + std::string(k.str()));
      }
    }
    return Status::Ok();
  }

 private:
  const toml::table* table_;
  std::string where_;
  std::set<std::string> seen_;
};

Result<uint64_t> ParseSize(const std::string& text, const std::string& where) {
  if (text.empty()) return uint64_t{0};
  size_t pos = 0;
  uint64_t n = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (n > (UINT64_MAX - 9) / 10) return InvalidArgumentError(where + ": too large");
    n = n * 10 + static_cast<uint64_t>(text[pos++] - '0');
  }
  std::string unit = text.substr(pos);
  int shift = unit == "" || unit == "B" ? 0
              : unit == "K"             ? 10
              : unit == "M"             ? 20
              : unit == "G"             ? 30
              : unit == "T"             ? 40
                                        : -1;
  if (pos == 0 || shift < 0) {
    return InvalidArgumentError(where + ": \"" + text + "\" is not a size like 500M or 50G");
  }
  if (shift > 0 && n > (UINT64_MAX >> shift)) return InvalidArgumentError(where + ": too large");
  return n << shift;
}

Status CheckUrl(const std::string& url, const std::string& where) {
  auto u = ParseHttpUrl(url);
  if (!u.ok()) return InvalidArgumentError(where + ": " + u.status().message());
  if (u->target != "/" && !u->target.empty()) {
    return InvalidArgumentError(where + ": give the node's base URL without a path: " + url);
  }
  return Status::Ok();
}

std::string Strip(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// [tls]: paths only; the files are read when the node starts (node/tls_context.h).
Status ParseTls(const toml::table* table, const std::string& where, NodeConfig* c) {
  TableReader tls(table, where + ": [tls]");
  TS_RETURN_IF_ERROR(tls.Get("cert", &c->tls_cert));
  TS_RETURN_IF_ERROR(tls.Get("key", &c->tls_key));
  TS_RETURN_IF_ERROR(tls.Get("ca", &c->tls_ca));
  TS_RETURN_IF_ERROR(tls.CheckNoOtherKeys());
  auto absolute = [&](const char* key, const std::string& path) {
    if (path.empty() || path.front() == '/') return Status::Ok();
    return tls.Error(key, "\"" + path + "\" must be an absolute path");
  };
  TS_RETURN_IF_ERROR(absolute("cert", c->tls_cert));
  TS_RETURN_IF_ERROR(absolute("key", c->tls_key));
  TS_RETURN_IF_ERROR(absolute("ca", c->tls_ca));
  if (!c->tls_cert.empty() && c->tls_key.empty()) {
    return tls.Error("key", "is required with cert (the certificate's private key)");
  }
  if (c->tls_cert.empty() && !c->tls_key.empty()) {
    return tls.Error("cert", "is required with key (the certificate to serve)");
  }
  return Status::Ok();
}

}  // namespace

std::string_view TierName(Tier t) {
  switch (t) {
    case Tier::kProvince:
      return "province";
    case Tier::kCity:
      return "city";
    case Tier::kCounty:
      return "county";
    case Tier::kSchool:
      return "school";
    case Tier::kNational:
      return "national";
  }
  return "school";
}

Result<Tier> ParseTier(std::string_view name) {
  for (Tier t : {Tier::kProvince, Tier::kCity, Tier::kCounty, Tier::kSchool}) {
    if (TierName(t) == name) return t;
  }
  return InvalidArgumentError("tier \"" + std::string(name) +
                              "\": must be province, city, county or school");
}

std::vector<std::string> NodeConfig::AllSources() const {
  std::vector<std::string> out = sources;
  if (!national.empty() && std::find(out.begin(), out.end(), national) == out.end()) {
    out.push_back(national);
  }
  return out;
}

Result<NodeConfig> ParseNodeConfig(std::string_view text, const std::string& where) {
  toml::table root;
  try {  // toml++ reports syntax errors by exception; they stop here
    root = toml::parse(text, where);
  } catch (const toml::parse_error& e) {
    return InvalidArgumentError(where + " line " + std::to_string(e.source().begin.line) + ": " +
                                std::string(e.description()));
  }
  for (const auto& [k, v] : root) {
    static const std::set<std::string> kTables = {
        "node",  "upstream", "subscription", "storage",   "sync",
        "scrub", "tls",      "serving",      "retention", "children"};
    if (!kTables.count(std::string(k.str())) || !v.is_table()) {
      return InvalidArgumentError(where + ": unknown section [" + std::string(k.str()) + "]");
    }
  }
  NodeConfig c;
  auto table = [&](const char* name) { return root.get_as<toml::table>(name); };

  TableReader node(table("node"), where + ": [node]");
  std::string tier = "school", listen = "127.0.0.1:8080";
  TS_RETURN_IF_ERROR(node.Get("name", &c.name));
  TS_RETURN_IF_ERROR(node.Get("tier", &tier));
  TS_RETURN_IF_ERROR(node.Get("region", &c.region));
  TS_RETURN_IF_ERROR(node.Get("listen", &listen));
  TS_RETURN_IF_ERROR(node.CheckNoOtherKeys());
  if (c.name.empty()) return node.Error("name", "is required");
  // Reported upward and shown at every tier above (fleet/node_state.h).
  if (Status s = fleet::CheckNodeName(c.name); !s.ok()) return node.Error("name", s.message());
  auto t = ParseTier(tier);
  if (!t.ok()) return node.Error("tier", t.status().message());
  c.tier = *t;
  if (!catalogs::RegionTable::Builtin().Find(c.region)) {
    return node.Error("region", "\"" + c.region + "\" is not a GB/T 2260 region code");
  }
  auto address = ParseListenAddress(listen);
  if (!address.ok()) return node.Error("listen", address.status().message());
  std::tie(c.listen_host, c.listen_port) = *address;

  TableReader up(table("upstream"), where + ": [upstream]");
  TS_RETURN_IF_ERROR(up.Get("sources", &c.sources));
  TS_RETURN_IF_ERROR(up.Get("national", &c.national));
  TS_RETURN_IF_ERROR(up.CheckNoOtherKeys());
  if (c.national.empty()) return up.Error("national", "is required (the national platform's URL)");
  TS_RETURN_IF_ERROR(CheckUrl(c.national, where + ": [upstream] national"));
  c.national = Strip(c.national);
  for (auto& s : c.sources) {
    TS_RETURN_IF_ERROR(CheckUrl(s, where + ": [upstream] sources"));
    s = Strip(s);
  }

  TableReader sub(table("subscription"), where + ": [subscription]");
  TS_RETURN_IF_ERROR(sub.Get("rules", &c.subscription));
  TS_RETURN_IF_ERROR(sub.CheckNoOtherKeys());
  // The rules are checked here, not at the first sync: a node (or a reload) with a mistyped
  // board refuses the file and says where, instead of failing every cycle.
  if (auto parsed = catalogs::Subscription::Parse(c.subscription, catalogs::Taxonomy::Builtin(),
                                                  catalogs::RegionTable::Builtin());
      !parsed.ok()) {
    return InvalidArgumentError(where + ": [subscription] rules: " + parsed.status().message());
  }

  TableReader storage(table("storage"), where + ": [storage]");
  std::string quota;
  TS_RETURN_IF_ERROR(storage.Get("quota", &quota));
  TS_RETURN_IF_ERROR(storage.CheckNoOtherKeys());
  TS_ASSIGN_OR_RETURN(c.quota_bytes, ParseSize(quota, where + ": [storage] quota"));

  TableReader sync(table("sync"), where + ": [sync]");
  TS_RETURN_IF_ERROR(sync.Get("poll_seconds", &c.poll_seconds));
  TS_RETURN_IF_ERROR(sync.Get("push", &c.push));
  TS_RETURN_IF_ERROR(sync.Get("parallel", &c.parallel));
  TS_RETURN_IF_ERROR(sync.Get("max_bytes_per_second", &c.max_bytes_per_second));
  TS_RETURN_IF_ERROR(sync.Get("windows", &c.windows));
  TS_RETURN_IF_ERROR(sync.Get("outside_bytes_per_second", &c.outside_bytes_per_second));
  TS_RETURN_IF_ERROR(sync.Get("min_bytes_per_second", &c.min_bytes_per_second));
  TS_RETURN_IF_ERROR(sync.Get("stall_seconds", &c.stall_seconds));
  TS_RETURN_IF_ERROR(sync.CheckNoOtherKeys());
  if (c.poll_seconds < 1 || c.poll_seconds > 86400)
    return sync.Error("poll_seconds", "must be 1..86400");
  if (c.parallel < 1 || c.parallel > 64) return sync.Error("parallel", "must be 1..64");
  if (auto w = TimeWindows::Parse(c.windows); !w.ok()) {
    return sync.Error("windows", w.status().message());
  } else {
    c.windows = w->Specs();
  }
  if (c.stall_seconds < 1 || c.stall_seconds > 3600)
    return sync.Error("stall_seconds", "must be 1..3600");
  TableReader children(table("children"), where + ": [children]");
  TS_RETURN_IF_ERROR(children.Get("max_bytes_per_second", &c.children_max_bytes_per_second));
  TS_RETURN_IF_ERROR(children.Get("windows", &c.children_windows));
  TS_RETURN_IF_ERROR(
      children.Get("outside_bytes_per_second", &c.children_outside_bytes_per_second));
  TS_RETURN_IF_ERROR(children.CheckNoOtherKeys());
  if (auto w = TimeWindows::Parse(c.children_windows); !w.ok()) {
    return children.Error("windows", w.status().message());
  } else {
    c.children_windows = w->Specs();
  }
  TableReader scrub(table("scrub"), where + ": [scrub]");
  TS_RETURN_IF_ERROR(scrub.Get("bytes_per_second", &c.scrub_bytes_per_second));
  TS_RETURN_IF_ERROR(scrub.Get("interval_hours", &c.scrub_interval_hours));
  TS_RETURN_IF_ERROR(scrub.CheckNoOtherKeys());
  if (c.scrub_interval_hours < 0 || c.scrub_interval_hours > 24 * 366)
    return scrub.Error("interval_hours", "must be 0..8784");
  TableReader retention(table("retention"), where + ": [retention]");
  TS_RETURN_IF_ERROR(retention.Get("pinned", &c.pinned_releases));
  TS_RETURN_IF_ERROR(retention.Get("collect", &c.gc));
  TS_RETURN_IF_ERROR(retention.Get("compact_below_percent", &c.compact_below_percent));
  TS_RETURN_IF_ERROR(retention.CheckNoOtherKeys());
  for (const std::string& r : c.pinned_releases) {
    if (!catalogs::ReleaseNumber(r)) {
      return retention.Error("pinned", "\"" + r + "\" is not a release name (r<N>, e.g. \"r12\")");
    }
  }
  if (c.compact_below_percent < 1 || c.compact_below_percent > 99) {
    return retention.Error("compact_below_percent", "must be 1..99");
  }
  TableReader serving(table("serving"), where + ": [serving]");
  std::string miss = "proxy", cache_quota;
  TS_RETURN_IF_ERROR(serving.Get("miss", &miss));
  TS_RETURN_IF_ERROR(serving.Get("cache_quota", &cache_quota));
  TS_RETURN_IF_ERROR(serving.CheckNoOtherKeys());
  if (miss == "proxy") {
    c.miss = NodeConfig::MissPolicy::kProxy;
  } else if (miss == "redirect") {
    c.miss = NodeConfig::MissPolicy::kRedirect;
  } else {
    return serving.Error("miss", "must be proxy or redirect");
  }
  if (!cache_quota.empty()) {
    TS_ASSIGN_OR_RETURN(c.cache_quota_bytes,
                        ParseSize(cache_quota, where + ": [serving] cache_quota"));
  }
  TS_RETURN_IF_ERROR(ParseTls(table("tls"), where, &c));
  return c;
}

std::string FormatNodeConfig(const NodeConfig& c) {
  auto q = [](const std::string& s) {
    std::ostringstream o;
    o << toml::value<std::string>(s);
    return o.str();
  };
  std::string out;
  out += "# tiersync node configuration (docs/operators/node.md)\n[node]\n";
  out += "name = " + q(c.name) + "\n";
  out += "tier = " + q(std::string(TierName(c.tier))) + "\n";
  out += "region = " + q(c.region) + "\n";
  out += "listen = " + q(c.listen_host + ":" + std::to_string(c.listen_port)) + "\n\n[upstream]\n";
  out += "# Parent first, then further ancestors; national is always tried last.\nsources = [";
  for (size_t i = 0; i < c.sources.size(); ++i) out += (i ? ", " : "") + q(c.sources[i]);
  out += "]\nnational = " + q(c.national) + "\n\n[subscription]\n";
  out += "# docs/formats/subscription.md\nrules = " + q(c.subscription) + "\n\n[storage]\n";
  // In MiB when it is a whole number of them, else in bytes: never rounded (a quota under
  // 1 MiB used to come back as none; found by tests/fuzz/node_config_fuzz.cc).
  const std::string quota = c.quota_bytes == 0 ? ""
                            : c.quota_bytes % (1u << 20) == 0
                                ? std::to_string(c.quota_bytes >> 20) + "M"
                                : std::to_string(c.quota_bytes);
  out += "quota = " + q(quota) + "\n\n[sync]\n";
  out += "poll_seconds = " + std::to_string(c.poll_seconds) + "\n";
  out += std::string("push = ") + (c.push ? "true" : "false") + "\n";
  out += "parallel = " + std::to_string(c.parallel) + "\n";
  out += "max_bytes_per_second = " + std::to_string(c.max_bytes_per_second) + "\n";
  out += "# Ordinary content only inside these (local time; [] always); priority at any time.\n";
  out += "windows = [";
  for (size_t i = 0; i < c.windows.size(); ++i) out += (i ? ", " : "") + q(c.windows[i]);
  out += "]\noutside_bytes_per_second = " + std::to_string(c.outside_bytes_per_second) + "\n";
  out += "min_bytes_per_second = " + std::to_string(c.min_bytes_per_second) + "\n";
  out += "stall_seconds = " + std::to_string(c.stall_seconds) + "\n";
  out += "\n[children]\n# What the tiers below may pull: the cap (bytes/s; 0 none) inside the\n";
  out += "# windows (local time; [] always) and outside them. Priority content is never held.\n";
  out += "max_bytes_per_second = " + std::to_string(c.children_max_bytes_per_second) + "\n";
  out += "windows = [";
  for (size_t i = 0; i < c.children_windows.size(); ++i) {
    out += (i ? ", " : "") + q(c.children_windows[i]);
  }
  out +=
      "]\noutside_bytes_per_second = " + std::to_string(c.children_outside_bytes_per_second) + "\n";
  out += "\n[scrub]\n# The node's own check of what it stores: the read rate, the interval.\n";
  out += "bytes_per_second = " + std::to_string(c.scrub_bytes_per_second) + "\n";
  out += "interval_hours = " + std::to_string(c.scrub_interval_hours) + "\n";
  out += "\n[retention]\n# Kept besides the current and previous release; garbage collection.\n";
  out += "pinned = [";
  for (size_t i = 0; i < c.pinned_releases.size(); ++i) {
    out += (i ? ", " : "") + q(c.pinned_releases[i]);
  }
  out += std::string("]\ncollect = ") + (c.gc ? "true" : "false") + "\n";
  out += "compact_below_percent = " + std::to_string(c.compact_below_percent) + "\n";
  out +=
      "\n[serving]\n# docs/serving.md: a file not mirrored here is fetched (proxy) or redirected\n";
  out += std::string("miss = ") +
         (c.miss == NodeConfig::MissPolicy::kProxy ? "\"proxy\"" : "\"redirect\"") + "\n";
  out += "cache_quota = " + q(std::to_string(c.cache_quota_bytes)) + "  # bytes\n";
  if (!c.tls_cert.empty() || !c.tls_ca.empty()) {
    out += "\n[tls]\n# docs/operators/node.md, TLS\n";
    if (!c.tls_cert.empty()) out += "cert = " + q(c.tls_cert) + "\nkey = " + q(c.tls_key) + "\n";
    if (!c.tls_ca.empty()) out += "ca = " + q(c.tls_ca) + "\n";
  }
  return out;
}

}  // namespace tiersync::node
