// Media types of served files. Pure.
#ifndef TIERSYNC_SERVING_MEDIA_TYPE_H_
#define TIERSYNC_SERVING_MEDIA_TYPE_H_

#include <string_view>

namespace tiersync::serving {

// A media type from a file name's extension (mp4, webm, pdf, pptx, ...), for files whose
// catalog record is not at hand; "application/octet-stream" when unknown.
std::string_view MediaTypeForName(std::string_view name);

// What kind of resource a media type is, for the catalog API and the UI: "video", "audio",
// "pdf", "image", "courseware" (slides, documents, archives) or "other".
std::string_view KindOfMediaType(std::string_view media_type);

}  // namespace tiersync::serving

#endif  // TIERSYNC_SERVING_MEDIA_TYPE_H_
