// fault_proxy: an HTTP proxy in front of one honest tiersync node or hub that lies on request,
// for the integration tests of lying parents (tests/integration/lying_parent.sh) and the
// reliability harness. See faults.h for the faults.
//
//   fault_proxy --listen 127.0.0.1:PORT --upstream http://127.0.0.1:UP [--mode pass]
//
// Control (on the same port): GET /_fault/set?mode=NAME switches the fault;
// GET /_fault/stats answers {"mode", "forwarded", "tampered"} (tampered: answers and frames
// the proxy changed, so a test can tell that the attack really happened).
//
// Each request is forwarded on its own thread with node::HttpFetcher (one fresh connection,
// no redirects). Not forwarded: request headers other than Content-Type, response headers
// other than a Content-Type chosen by path (what git's smart HTTP clients check). An upstream
// 404/403 is answered 404; any other upstream failure 502.
#include <CLI/CLI.hpp>
#include <atomic>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/bytes.h"
#include "node/http_fetcher.h"
#include "node/http_server.h"
#include "tests/fault_proxy/faults.h"
#include "tests/fault_proxy/git_lies.h"

namespace tiersync::fault_proxy {
namespace {

using node::HttpReply;
using node::HttpRequest;

constexpr size_t kMaxUpstreamBytes = 256u << 20;

std::string ContentTypeFor(std::string_view path) {
  if (path.ends_with("/info/refs")) return "application/x-git-upload-pack-advertisement";
  if (path.ends_with("/git-upload-pack")) return "application/x-git-upload-pack-result";
  if (path.ends_with(".json") || path == "/v1/events" || path == "/v1/status") {
    return "application/json";
  }
  if (path == "/metrics") return "text/plain; version=0.0.4";
  return "application/octet-stream";
}

class Proxy : public node::HttpHandler {
 public:
  Proxy(std::string upstream, Fault fault) : upstream_(std::move(upstream)), fault_(fault) {}

  HttpReply Handle(const HttpRequest& request) override {
    const std::string path = request.target.substr(0, request.target.find('?'));
    if (path.starts_with("/_fault/")) return Control(path, request.target);
    if (fault_.load() == Fault::kDown) return HttpReply::Text(503, "fault_proxy: down");
    HttpReply reply = HttpReply::Text(504, "fault_proxy: the upstream did not answer in time");
    reply.wait = [this, request, path](HttpReply::Resume resume) {
      std::thread([this, request, path, resume] { resume(Forward(request, path)); }).detach();
    };
    return reply;
  }

 private:
  HttpReply Control(const std::string& path, const std::string& target) {
    if (path == "/_fault/stats") {
      nlohmann::json j = {{"mode", std::string(FaultName(fault_.load()))},
                          {"forwarded", forwarded_.load()},
                          {"tampered", tampered_.load()}};
      return HttpReply::Json(j.dump());
    }
    size_t at = target.find("?mode=");
    if (path == "/_fault/set" && at != std::string::npos) {
      auto fault = ParseFault(target.substr(at + 6));
      if (!fault.ok()) return HttpReply::Text(400, fault.status().message());
      if (*fault == Fault::kFreeze) timestamps_.Freeze();
      fault_ = *fault;
      std::cerr << "fault_proxy: mode " << FaultName(*fault) << std::endl;
      return HttpReply::Text(200, "mode " + std::string(FaultName(*fault)) + "\n");
    }
    return HttpReply::Text(404, "GET /_fault/set?mode=NAME or /_fault/stats");
  }

  HttpReply Forward(const HttpRequest& request, const std::string& path) {
    node::HttpFetcher fetcher(std::chrono::seconds(60));
    const std::string url = upstream_ + request.target;
    const std::string* type = request.Header("content-type");
    auto body = request.method == "POST"
                    ? fetcher.Post(url, type ? *type : "application/octet-stream",
                                   AsBytes(request.body), kMaxUpstreamBytes)
                    : fetcher.Fetch(url, kMaxUpstreamBytes);
    if (!body.ok()) {
      return HttpReply::Text(body.status().code() == StatusCode::kNotFound ? 404 : 502,
                             "fault_proxy: " + body.status().ToString());
    }
    ++forwarded_;
    std::vector<uint8_t> bytes = std::move(body).value();
    const Fault fault = fault_.load();
    if (path == "/v1/metadata/timestamp.json") {
      timestamps_.Relayed(bytes);
      if (auto replacement = timestamps_.Replacement(fault)) {
        if (*replacement != bytes) ++tampered_;
        bytes = std::move(*replacement);
      }
    } else if (path == "/v1/chunks/batch") {
      uint64_t changed = 0;
      auto tampered = TamperBatch(fault, AsBytes(request.body), bytes, &changed);
      if (tampered.ok()) bytes = std::move(tampered).value();
      tampered_ += changed;
    } else if (path.starts_with("/v1/targets/") && fault == Fault::kFlipTargets) {
      bytes = FlipOneByte(std::move(bytes));
      ++tampered_;
    } else if (path.ends_with("/info/refs") && fault == Fault::kGitTagLie) {
      bool rotated = false;
      auto lie = RotateReleaseTags(AsChars(bytes), &rotated);
      if (lie.ok()) bytes.assign(lie->begin(), lie->end());
      tampered_ += rotated ? 1 : 0;
    } else if (path.ends_with("/git-upload-pack") && fault == Fault::kGitBomb) {
      auto bomb = ReplacePackWithBomb(AsChars(bytes), kGitBombBytes);
      if (bomb.ok()) bytes.assign(bomb->begin(), bomb->end());
      tampered_ += bomb.ok() ? 1 : 0;
    }
    HttpReply reply;
    reply.content_type = ContentTypeFor(path);
    reply.body.assign(bytes.begin(), bytes.end());
    return reply;
  }

  const std::string upstream_;
  std::atomic<Fault> fault_;
  TimestampMemory timestamps_;
  std::atomic<uint64_t> forwarded_{0}, tampered_{0};
};

int Main(int argc, char** argv) {
  CLI::App app{"fault_proxy: a lying parent for tests", "fault_proxy"};
  std::string listen = "127.0.0.1:0", upstream, mode = "pass";
  app.add_option("--listen", listen, "HOST:PORT to listen on");
  app.add_option("--upstream", upstream, "Base URL of the honest node or hub")->required();
  app.add_option("--mode", mode, "Initial fault");
  CLI11_PARSE(app, argc, argv);
  auto fault = ParseFault(mode);
  size_t colon = listen.rfind(':');
  if (!fault.ok() || colon == std::string::npos) {
    std::cerr << "fault_proxy: "
              << (fault.ok() ? "--listen wants HOST:PORT" : fault.status().message()) << "\n";
    return 2;
  }
  Proxy proxy(upstream, *fault);
  node::ServerLimits limits;
  limits.max_hold = std::chrono::seconds(120);  // forwarded long-polls hold 25 s upstream
  node::HttpServer server(&proxy, limits);
  auto port = server.Listen(listen.substr(0, colon),
                            static_cast<uint16_t>(std::stoul(listen.substr(colon + 1))));
  if (!port.ok()) {
    std::cerr << "fault_proxy: " << port.status().ToString() << "\n";
    return 1;
  }
  std::cout << "fault_proxy listening on " << listen.substr(0, colon) << ":" << *port << " → "
            << upstream << " (mode " << mode << ")" << std::endl;
  server.StopOnSignals();
  server.Run();
  return 0;
}

}  // namespace
}  // namespace tiersync::fault_proxy

int main(int argc, char** argv) { return tiersync::fault_proxy::Main(argc, argv); }
