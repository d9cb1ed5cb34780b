// Conditional requests (RFC 9110 section 13) against a representation whose validator is one
// strong entity tag (a node's files: "<sha256>"). Pure.
//
// There are no Last-Modified dates: a content-addressed file has no meaningful one, so
// If-Modified-Since is not evaluated (the answer is the full one, which is always correct) and
// an If-Range carrying a date never matches.
#ifndef TIERSYNC_SERVING_CONDITIONAL_H_
#define TIERSYNC_SERVING_CONDITIONAL_H_

#include <string>
#include <string_view>

namespace tiersync::serving {

// "\"<opaque>\"": the strong entity tag for `opaque` (which must not contain '"').
std::string StrongEtag(std::string_view opaque);

// If-None-Match: true if `header` ("*", or a list of entity tags, weak or strong) matches
// `etag` by the weak comparison (a GET/HEAD is then answered 304 Not Modified).
bool NoneMatchHits(std::string_view header, std::string_view etag);

// If-Range: true if the Range header may be honoured — `header` is a strong entity tag equal
// to `etag`. Anything else (a weak tag, a date, garbage) means: send the whole representation.
bool IfRangeAllows(std::string_view header, std::string_view etag);

}  // namespace tiersync::serving

#endif  // TIERSYNC_SERVING_CONDITIONAL_H_
