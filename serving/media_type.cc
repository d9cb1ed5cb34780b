#include "serving/media_type.h"

#include <algorithm>
#include <string>

namespace tiersync::serving {

std::string_view MediaTypeForName(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"mp4", "video/mp4"},
      {"m4v", "video/mp4"},
      {"webm", "video/webm"},
      {"ogv", "video/ogg"},
      {"mp3", "audio/mpeg"},
      {"m4a", "audio/mp4"},
      {"ogg", "audio/ogg"},
      {"pdf", "application/pdf"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"svg", "image/svg+xml"},
      {"txt", "text/plain; charset=utf-8"},
      {"json", "application/json"},
      {"zip", "application/zip"},
      {"ppt", "application/vnd.ms-powerpoint"},
      {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
      {"doc", "application/msword"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
  };
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  std::string ext(name.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [e, type] : kTypes) {
    if (e == ext) return type;
  }
  return "application/octet-stream";
}

std::string_view KindOfMediaType(std::string_view t) {
  if (t.starts_with("video/")) return "video";
  if (t.starts_with("audio/")) return "audio";
  if (t.starts_with("image/")) return "image";
  if (t == "application/pdf") return "pdf";
  if (t.find("presentation") != std::string_view::npos ||
      t.find("powerpoint") != std::string_view::npos ||
      t.find("wordprocessing") != std::string_view::npos || t == "application/msword" ||
      t == "application/zip") {
    return "courseware";
  }
  return "other";
}

}  // namespace tiersync::serving
