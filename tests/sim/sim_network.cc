#include "tests/sim/sim_network.h"

#include <algorithm>

namespace tiersync::sim {
namespace {

// "sim://host/target" -> (host, "/target").
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  constexpr std::string_view kScheme = "sim://";
  if (!url.starts_with(kScheme)) return {"", ""};
  size_t slash = url.find('/', kScheme.size());
  if (slash == std::string::npos) return {url.substr(kScheme.size()), "/"};
  return {url.substr(kScheme.size(), slash - kScheme.size()), url.substr(slash)};
}

// Drains a reply's body, whole or streamed; a stream error is a cut connection.
Result<std::string> BodyOf(node::HttpReply& reply, size_t max_bytes) {
  if (!reply.stream) return std::move(reply.body);
  std::string out;
  while (true) {
    TS_ASSIGN_OR_RETURN(std::string piece, reply.stream());
    if (piece.empty()) return out;
    out += piece;
    if (out.size() > max_bytes) return out;  // the caller's cap cuts it below
  }
}

}  // namespace

void SimNetwork::Attach(const std::string& host, node::HttpHandler* handler) {
  hosts_[host] = handler;
  up_[host] = true;
}

void SimNetwork::SetUp(const std::string& host, bool up) { up_[host] = up; }

bool SimNetwork::IsUp(const std::string& host) const {
  auto it = up_.find(host);
  return it != up_.end() && it->second && hosts_.count(host) && hosts_.at(host) != nullptr;
}

void SimNetwork::SetPartitioned(const std::string& a, const std::string& b, bool cut) {
  cut_[{a, b}] = cut;
  cut_[{b, a}] = cut;
}

void SimNetwork::SetLinkFaults(const std::string& from, const std::string& to,
                               const LinkFaults& faults) {
  link_faults_[{from, to}] = faults;
}

void SimNetwork::ClearFaults() {
  default_faults_ = LinkFaults();
  link_faults_.clear();
  cut_.clear();
}

const LinkFaults& SimNetwork::FaultsFor(const std::string& from, const std::string& to) const {
  auto it = link_faults_.find({from, to});
  return it == link_faults_.end() ? default_faults_ : it->second;
}

Result<std::vector<uint8_t>> SimNetwork::Request(const std::string& from, MemEnv* clock,
                                                 const std::string& url, const std::string* post,
                                                 size_t max_bytes, std::string_view content_type) {
  ++counters_.requests;
  ++cycle_requests_;
  if (before_request_) before_request_(from, cycle_requests_);
  auto [host, target] = SplitUrl(url);
  const auto link = std::make_pair(from, host);
  auto cut = cut_.find(link);
  if (!IsUp(host) || (cut != cut_.end() && cut->second)) {
    ++counters_.down;
    clock->AdvanceMicros(1'000'000);  // a connect timeout
    return UnavailableError("connect " + host + ": connection refused");
  }
  const LinkFaults& f = FaultsFor(from, host);
  if (Chance(f.drop_ppm)) {
    ++counters_.dropped;
    return UnavailableError("read " + url + ": connection reset by peer");
  }
  if (Chance(f.stall_ppm)) {
    ++counters_.stalled;
    clock->AdvanceMicros(f.stall_timeout_micros);
    return DeadlineExceededError("read " + url + ": no byte for the stall timeout");
  }
  if (Chance(f.delay_ppm)) {
    ++counters_.delayed;
    clock->AdvanceMicros(1 + random_.Uniform(std::max<uint64_t>(1, f.max_delay_micros)));
  }
  clock->AdvanceMicros(200);  // a round trip on a good link

  node::HttpRequest request;
  request.method = post ? "POST" : "GET";
  request.target = target;
  if (post) {
    request.body = *post;
    request.headers["content-type"] = std::string(content_type);
  }
  node::HttpReply reply = hosts_.at(host)->Handle(request);
  TS_ASSIGN_OR_RETURN(std::string body, BodyOf(reply, max_bytes));
  if (reply.status == 404 || reply.status == 403) {
    return NotFoundError("GET " + url + ": HTTP " + std::to_string(reply.status));
  }
  if (reply.status < 200 || reply.status >= 300) {
    return UnavailableError("GET " + url + ": HTTP " + std::to_string(reply.status));
  }
  std::vector<uint8_t> bytes(body.begin(), body.end());
  if (Chance(f.stale_ppm)) {
    auto last = last_reply_.find(link);
    if (last != last_reply_.end()) {
      ++counters_.stale;
      std::swap(bytes, last->second);
    }
  } else {
    last_reply_[link] = bytes;
  }
  if (!bytes.empty() && Chance(f.truncate_ppm)) {
    ++counters_.truncated;
    bytes.resize(random_.Uniform(bytes.size()));
  }
  if (!bytes.empty() && Chance(f.bitflip_ppm)) {
    ++counters_.flipped;
    bytes[random_.Uniform(bytes.size())] ^= static_cast<uint8_t>(1u << random_.Uniform(8));
  }
  if (bytes.size() > max_bytes) {
    return ResourceExhaustedError("GET " + url + ": more than " + std::to_string(max_bytes) +
                                  " bytes");
  }
  counters_.body_bytes += bytes.size();
  counters_.bytes_out_of[host] += bytes.size();
  return bytes;
}

Result<std::vector<uint8_t>> SimFetcher::Fetch(const std::string& url, size_t max_bytes) {
  return net_->Request(host_, clock_, url, nullptr, max_bytes);
}

Result<std::vector<uint8_t>> SimFetcher::Post(const std::string& url, std::string_view content_type,
                                              std::span<const uint8_t> body, size_t max_bytes) {
  std::string b(body.begin(), body.end());
  return net_->Request(host_, clock_, url, &b, max_bytes, content_type);
}

}  // namespace tiersync::sim
