#include "catalogs/git_pkt_line.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace tiersync::catalogs {
namespace {

constexpr std::string_view kRequest = "upload-pack request";
constexpr std::string_view kAdvertisement = "upload-pack advertisement";
constexpr std::string_view kResult = "upload-pack result";

Status Bad(std::string_view what, const std::string& message) {
  return InvalidArgumentError(std::string(what) + ": " + message);
}

std::string Lower(std::string_view hex) {
  std::string out(hex);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "<keyword> <id>", then nothing or, when `rest` is given, optionally " <rest>".
Result<std::string> ParseIdLine(std::string_view line, std::string_view keyword,
                                std::string_view* rest) {
  const size_t id_at = keyword.size() + 1;
  if (!line.starts_with(keyword) || line.size() < id_at + kObjectIdHex || line[id_at - 1] != ' ' ||
      !IsObjectIdHex(line.substr(id_at, kObjectIdHex))) {
    return Bad(kRequest,
               "expected \"" + std::string(keyword) + " <object id>\", got " + QuoteBytes(line));
  }
  std::string_view tail = line.substr(id_at + kObjectIdHex);
  if (rest != nullptr && tail.starts_with(' ')) {
    *rest = tail.substr(1);
  } else if (!tail.empty()) {
    return Bad(kRequest, "unexpected text after the object id in " + QuoteBytes(line));
  }
  return Lower(line.substr(id_at, kObjectIdHex));
}

// Space-separated words into `out`.
void AddWords(std::string_view words, std::set<std::string, std::less<>>* out) {
  while (!words.empty()) {
    const size_t space = std::min(words.find(' '), words.size());
    if (space > 0) out->emplace(words.substr(0, space));
    words.remove_prefix(std::min(space + 1, words.size()));
  }
}

}  // namespace

void AppendPkt(std::string* out, std::string_view payload) {
  assert(payload.size() <= kMaxPktLine - 4);
  char length[5];
  std::snprintf(length, sizeof length, "%04zx", payload.size() + 4);
  out->append(length, 4);
  out->append(payload);
}

std::string QuoteBytes(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s.substr(0, 60)) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char esc[5];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
    }
  }
  return out + (s.size() > 60 ? "\"..." : "\"");
}

Result<std::optional<std::string_view>> NextPkt(std::string_view* in, std::string_view what) {
  if (in->empty()) return Bad(what, "ends without a flush-pkt");
  if (in->size() < 4) return Bad(what, "truncated pkt-line length " + QuoteBytes(*in));
  size_t length = 0;
  auto [end, ec] = std::from_chars(in->data(), in->data() + 4, length, 16);
  if (ec != std::errc() || end != in->data() + 4) {
    return Bad(what, "pkt-line length " + QuoteBytes(in->substr(0, 4)) + " is not 4 hex digits");
  }
  if (length == 0) {
    in->remove_prefix(4);
    return std::optional<std::string_view>();
  }
  if (length < 4) return Bad(what, "pkt-line length " + std::to_string(length) + " is reserved");
  if (length > kMaxPktLine) {
    return Bad(what, "pkt-line length " + std::to_string(length) + " is over 65520");
  }
  if (length > in->size()) {
    return Bad(what, "pkt-line of " + std::to_string(length) + " bytes runs past the end");
  }
  std::string_view payload = in->substr(4, length - 4);
  in->remove_prefix(length);
  if (payload.ends_with('\n')) payload.remove_suffix(1);
  return std::optional<std::string_view>(payload);
}

bool IsObjectIdHex(std::string_view hex) {
  return hex.size() == kObjectIdHex && std::all_of(hex.begin(), hex.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
}

Result<UploadRequest> ParseUploadRequest(std::string_view in) {
  UploadRequest r;
  for (;;) {
    TS_ASSIGN_OR_RETURN(std::optional<std::string_view> line, NextPkt(&in, kRequest));
    if (!line) break;
    if (r.wants.size() == kMaxUploadPackWants) return Bad(kRequest, "more than 1000 wants");
    std::string_view caps;
    TS_ASSIGN_OR_RETURN(std::string id,
                        ParseIdLine(*line, "want", r.wants.empty() ? &caps : nullptr));
    r.wants.push_back(std::move(id));
    AddWords(caps, &r.capabilities);
  }
  if (r.wants.empty()) return Bad(kRequest, "no \"want\" lines");
  for (;;) {
    if (in.empty()) return Bad(kRequest, "ends without a flush-pkt or \"done\"");
    TS_ASSIGN_OR_RETURN(std::optional<std::string_view> line, NextPkt(&in, kRequest));
    if (!line) break;
    if (*line == "done") {
      r.done = true;
      break;
    }
    if (r.haves.size() == kMaxUploadPackHaves) return Bad(kRequest, "more than 10000 haves");
    TS_ASSIGN_OR_RETURN(std::string id, ParseIdLine(*line, "have", nullptr));
    r.haves.push_back(std::move(id));
  }
  if (!in.empty()) {
    return Bad(kRequest,
               std::string("data after the ") + (r.done ? "\"done\"" : "haves' flush-pkt"));
  }
  return r;
}

std::string EncodeUploadRequest(const std::vector<std::string>& wants,
                                std::string_view capabilities,
                                const std::vector<std::string>& haves) {
  assert(!wants.empty());
  std::string out;
  for (size_t i = 0; i < wants.size(); ++i) {
    std::string line = "want " + wants[i];
    if (i == 0 && !capabilities.empty()) line += " " + std::string(capabilities);
    AppendPkt(&out, line + "\n");
  }
  out += kFlushPkt;
  for (const std::string& have : haves) AppendPkt(&out, "have " + have + "\n");
  AppendPkt(&out, "done\n");
  return out;
}

Result<Advertisement> ParseAdvertisement(std::string_view in) {
  TS_ASSIGN_OR_RETURN(std::optional<std::string_view> service, NextPkt(&in, kAdvertisement));
  if (!service || *service != "# service=git-upload-pack") {
    return Bad(kAdvertisement,
               "does not start with \"# service=git-upload-pack\" (is it a git "
               "smart HTTP server?)");
  }
  TS_ASSIGN_OR_RETURN(std::optional<std::string_view> flush, NextPkt(&in, kAdvertisement));
  if (flush) return Bad(kAdvertisement, "no flush-pkt after the service line");
  Advertisement ad;
  for (bool first = true;; first = false) {
    TS_ASSIGN_OR_RETURN(std::optional<std::string_view> line, NextPkt(&in, kAdvertisement));
    if (!line) break;
    std::string_view text = *line;
    if (first) {
      const size_t nul = text.find('\0');
      if (nul != std::string_view::npos) {
        AddWords(text.substr(nul + 1), &ad.capabilities);
        text = text.substr(0, nul);
      }
    }
    if (text.size() < kObjectIdHex + 2 || !IsObjectIdHex(text.substr(0, kObjectIdHex)) ||
        text[kObjectIdHex] != ' ') {
      return Bad(kAdvertisement, "expected \"<object id> <ref>\", got " + QuoteBytes(*line));
    }
    std::string name(text.substr(kObjectIdHex + 1));
    if (first && name == "capabilities^{}") continue;  // the empty repository
    if (!ad.refs.emplace(name, Lower(text.substr(0, kObjectIdHex))).second) {
      return Bad(kAdvertisement, "ref " + QuoteBytes(name) + " is advertised twice");
    }
  }
  if (!in.empty()) return Bad(kAdvertisement, "data after the final flush-pkt");
  return ad;
}

Result<std::string_view> PackOfUploadResult(std::string_view in) {
  for (size_t lines = 0; !in.starts_with("PACK"); ++lines) {
    if (lines == kMaxResultLines) {
      return Bad(kResult,
                 "more than " + std::to_string(kMaxResultLines) + " lines before the pack");
    }
    if (in.empty()) return Bad(kResult, "ends without a pack");
    TS_ASSIGN_OR_RETURN(std::optional<std::string_view> line, NextPkt(&in, kResult));
    if (!line) return Bad(kResult, "unexpected flush-pkt before the pack");
    if (line->starts_with("ERR ")) {
      return UnavailableError("upload-pack: the server says " + QuoteBytes(line->substr(4)));
    }
    const bool ack = line->starts_with("ACK ") && line->size() >= 4 + kObjectIdHex &&
                     IsObjectIdHex(line->substr(4, kObjectIdHex));
    if (*line != "NAK" && !ack) {
      return Bad(kResult, "expected NAK or ACK before the pack, got " + QuoteBytes(*line));
    }
  }
  return in;
}

}  // namespace tiersync::catalogs
