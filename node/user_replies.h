// The small replies every part of the user API gives (docs/serving.md): errors as a page for
// browsers and JSON for everyone else, JSON answers and redirects. Pure.
#ifndef TIERSYNC_NODE_USER_REPLIES_H_
#define TIERSYNC_NODE_USER_REPLIES_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "node/http_server.h"

namespace tiersync::node {

// An error: a small Chinese page (with `message` below `chinese`) when the request accepts
// text/html, else {"error": message}. Never cached.
HttpReply UserError(const HttpRequest& request, int status, const std::string& message,
                    const std::string& chinese = "");

// 410 Gone for `what` (a resource or file) withdrawn by a signed retraction (node/takedown.h):
// the reason, since when and which role, as a page or as {"error", "withdrawn": {...}}.
struct Withdrawal;
HttpReply UserWithdrawn(const HttpRequest& request, const std::string& what, const Withdrawal& w);

// `json` (already encoded) as a revalidated JSON answer.
HttpReply UserJson(std::string json);

// `j` encoded compactly for an answer (invalid UTF-8 replaced, never thrown).
std::string JsonText(const nlohmann::json& j);

// 302 to `location`, never cached.
HttpReply UserRedirect(std::string location);

std::string HtmlEscape(std::string_view s);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_USER_REPLIES_H_
