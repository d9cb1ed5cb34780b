#include "node/user_replies.h"

#include <nlohmann/json.hpp>

#include "node/takedown.h"
#include "protocol/tuf_time.h"

namespace tiersync::node {

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

HttpReply UserError(const HttpRequest& request, int status, const std::string& message,
                    const std::string& chinese) {
  HttpReply r;
  r.status = status;
  const std::string* accept = request.Header("accept");
  if (accept != nullptr && accept->find("text/html") != std::string::npos) {
    r.content_type = "text/html; charset=utf-8";
    r.body =
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width\"><title>" +
        std::to_string(status) +
        "</title><body style=\"font-family:sans-serif;margin:2em\">"
        "<h1>" +
        HtmlEscape(chinese.empty() ? "无法提供该资源" : chinese) + "</h1><p>" +
        HtmlEscape(message) + "</p><p><a href=\"/\">返回首页 / Home</a></p></body></html>\n";
  } else {
    r.content_type = "application/json";
    r.body = nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                     nlohmann::json::error_handler_t::replace) +
             "\n";
  }
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpReply UserWithdrawn(const HttpRequest& request, const std::string& what, const Withdrawal& w) {
  const std::string since = protocol::FormatTufTime(w.since);
  HttpReply r = UserError(request, 410, what + " was withdrawn on " + since + " (" + w.reason + ")",
                          "该资源已于 " + since + " 下架：" + w.reason);
  if (r.content_type == "application/json") {
    nlohmann::json j = WithdrawalJson(w);
    j["error"] = what + " was withdrawn on " + since + " (" + w.reason + ")";
    r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  return r;
}

std::string JsonText(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpReply UserJson(std::string json) {
  HttpReply r = HttpReply::Json(std::move(json));
  r.content_type = "application/json; charset=utf-8";
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

HttpReply UserRedirect(std::string location) {
  HttpReply r = HttpReply::Text(302, "see " + location + "\n");
  r.headers.emplace_back("Location", std::move(location));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace tiersync::node
