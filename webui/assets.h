// The node's web UI (webui/index.html, app.js, app.css) and the federation dashboard
// (webui/federation/, with Apache ECharts vendored in webui/vendor/echarts/), embedded in the
// binary at build time so that a node serves them with no files beside it and nothing from
// the internet (docs/serving.md, "Web UI"; docs/operators/monitoring.md, "The federation
// dashboard"). webui/embed.cmake turns the files into assets_data.cc (generated in the build
// tree) whenever one of them changes.
//
// Paths served (the request path, query string already removed):
//   "/"                          index.html                     text/html; charset=utf-8
//   "/ui/app.js"                 app.js                         text/javascript; charset=utf-8
//   "/ui/app.css"                app.css                        text/css; charset=utf-8
//   "/federation/"               federation/index.html          text/html; charset=utf-8
//   "/federation/app.js"         federation/app.js              text/javascript; charset=utf-8
//   "/federation/app.css"        federation/app.css             text/css; charset=utf-8
//   "/federation/echarts.min.js" vendor/echarts/echarts.min.js  text/javascript; charset=utf-8
// Every other path, "/index.html", "/ui/", "/federation" and "/federation/index.html"
// included, is unknown. The dashboard reads /v1/federation/* (summary, nodes, propagation,
// usage) from the same origin; those are not assets.
//
// The caller serves `body` with `content_type` and `etag` (a quoted SHA-256 of the body, in
// lowercase hex, computed at build time), answers If-None-Match with 304, and sends
// Cache-Control: no-cache: the names are stable across releases of tiersync, the bytes are not.
//
// Thread safety: the assets are constants; FindAsset may be called from any thread, before or
// after main().
#ifndef TIERSYNC_WEBUI_ASSETS_H_
#define TIERSYNC_WEBUI_ASSETS_H_

#include <string_view>

namespace tiersync::webui {

struct Asset {
  std::string_view path;          // as listed above, e.g. "/ui/app.js"
  std::string_view content_type;  // with charset
  std::string_view body;          // the file's bytes, exactly
  std::string_view etag;          // "\"<64 lowercase hex>\"", the SHA-256 of body
};

// The asset served at `path`, or nullptr if there is none. The pointer stays valid for the
// life of the program.
const Asset* FindAsset(std::string_view path);

}  // namespace tiersync::webui

#endif  // TIERSYNC_WEBUI_ASSETS_H_
