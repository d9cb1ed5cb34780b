#include "catalogs/resource.h"

#include <algorithm>
#include <set>

#include "base/bytes.h"
#include "base/hex.h"
#include "protocol/json_fields.h"

namespace tiersync::catalogs {
namespace {

using protocol::Json;
using protocol::JsonFields;

constexpr size_t kMaxTextBytes = 512;  // title, provider, volume, lesson, tag, site
constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxFileNameBytes = 128;

JsonFields Fields(const Json& obj, std::string where) {
  return JsonFields(obj, std::move(where), StatusCode::kInvalidArgument, "");
}

std::string Indexed(const std::string& field, size_t i) {
  return field + "[" + std::to_string(i) + "]";
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

bool ValidId(std::string_view id) {
  if (id.size() < 3 || id.size() > 64 || !IsLowerAlnum(id[0])) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; });
}

bool ValidFileName(std::string_view name) {
  if (name.empty() || name.size() > kMaxFileNameBytes || !IsAlnum(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsAlnum(c) || c == '.' || c == '_' || c == '-'; });
}

// type "/" subtype, each an RFC 6838 restricted name.
bool ValidMediaType(std::string_view t) {
  size_t slash = t.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == t.size() || t.size() > 127) {
    return false;
  }
  auto token_char = [](char c) {
    return IsAlnum(c) || c == '!' || c == '#' || c == '$' || c == '&' || c == '-' || c == '^' ||
           c == '_' || c == '.' || c == '+';
  };
  std::string_view type = t.substr(0, slash), sub = t.substr(slash + 1);
  return std::all_of(type.begin(), type.end(), token_char) &&
         std::all_of(sub.begin(), sub.end(), token_char);
}

// BCP 47 shape: 2-3 letter language, then subtags of 2-8 letters or digits.
bool ValidLanguage(std::string_view tag) {
  size_t start = 0;
  bool first = true;
  while (start <= tag.size()) {
    size_t end = tag.find('-', start);
    if (end == std::string_view::npos) end = tag.size();
    std::string_view part = tag.substr(start, end - start);
    if (first) {
      if (part.size() < 2 || part.size() > 3) return false;
      if (!std::all_of(part.begin(), part.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
        return false;
      }
    } else if (part.size() < 2 || part.size() > 8 ||
               !std::all_of(part.begin(), part.end(), IsAlnum)) {
      return false;
    }
    first = false;
    if (end == tag.size()) break;
    start = end + 1;
  }
  return true;
}

bool ValidUrl(std::string_view url) {
  if (url.size() > kMaxUrlBytes) return false;
  if (!url.starts_with("https://") && !url.starts_with("http://")) return false;
  size_t host = url.find("//") + 2;
  if (host >= url.size() || url[host] == '/') return false;
  return std::all_of(url.begin(), url.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// Free text: non-empty (unless allowed), bounded, no control characters.
Status CheckText(const JsonFields& f, std::string_view field, const std::string& s,
                 bool allow_empty) {
  if (s.empty() && !allow_empty) return f.Bad(f.Field(field), "must not be empty");
  if (s.size() > kMaxTextBytes) {
    return f.Bad(f.Field(field), "is longer than " + std::to_string(kMaxTextBytes) + " bytes");
  }
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return f.Bad(f.Field(field), "contains a control character");
  }
  return Status::Ok();
}

Result<std::string> OptionalString(const JsonFields& f, std::string_view name) {
  if (!f.Has(name)) return std::string();
  return f.String(name);
}

Result<ReviewState> ParseReview(const JsonFields& f) {
  TS_ASSIGN_OR_RETURN(std::string s, f.String("review"));
  for (ReviewState r : {ReviewState::kDraft, ReviewState::kSubmitted, ReviewState::kApproved,
                        ReviewState::kRejected}) {
    if (ReviewStateName(r) == s) return r;
  }
  return f.Bad(f.Field("review"),
               "must be draft, submitted, approved or rejected, not \"" + s + "\"");
}

Result<Placement> ParsePlacement(const Json& v, const std::string& where) {
  JsonFields f = Fields(v, where);
  TS_RETURN_IF_ERROR(f.IsObject());
  TS_RETURN_IF_ERROR(f.OnlyKnown({"platform", "board", "category"}));
  Placement p;
  TS_ASSIGN_OR_RETURN(p.platform, f.String("platform"));
  TS_ASSIGN_OR_RETURN(p.board, f.String("board"));
  TS_ASSIGN_OR_RETURN(p.category, OptionalString(f, "category"));
  if (f.Has("category") && p.category.empty()) {
    return f.Bad(f.Field("category"), "must not be empty (leave it out instead)");
  }
  return p;
}

Result<Facets> ParseFacets(const Json& v, const std::string& where) {
  JsonFields f = Fields(v, where);
  TS_RETURN_IF_ERROR(f.IsObject());
  TS_RETURN_IF_ERROR(
      f.OnlyKnown({"stage", "grade", "subject", "edition", "volume", "lesson", "tags"}));
  Facets out;
  TS_ASSIGN_OR_RETURN(out.stage, OptionalString(f, "stage"));
  if (f.Has("grade")) {
    TS_ASSIGN_OR_RETURN(uint64_t grade, f.Uint("grade", 1));
    if (grade > 12) return f.Bad(f.Field("grade"), "must be 1-12");
    out.grade = static_cast<int>(grade);
  }
  TS_ASSIGN_OR_RETURN(out.subject, OptionalString(f, "subject"));
  TS_ASSIGN_OR_RETURN(out.edition, OptionalString(f, "edition"));
  TS_ASSIGN_OR_RETURN(out.volume, OptionalString(f, "volume"));
  TS_ASSIGN_OR_RETURN(out.lesson, OptionalString(f, "lesson"));
  for (std::string_view name : {"stage", "subject", "edition", "volume", "lesson"}) {
    TS_ASSIGN_OR_RETURN(std::string s, OptionalString(f, name));
    if (f.Has(name)) TS_RETURN_IF_ERROR(CheckText(f, name, s, /*allow_empty=*/false));
  }
  if (f.Has("tags")) {
    TS_ASSIGN_OR_RETURN(out.tags, f.StringList("tags", /*unique=*/true));
    if (out.tags.size() > kMaxTags) {
      return f.Bad(f.Field("tags"), "has more than " + std::to_string(kMaxTags) + " tags");
    }
    for (size_t i = 0; i < out.tags.size(); ++i) {
      TS_RETURN_IF_ERROR(CheckText(f, Indexed("tags", i), out.tags[i], false));
    }
  }
  return out;
}

Result<ResourceFile> ParseFile(const Json& v, const std::string& where, RecordSource source) {
  JsonFields f = Fields(v, where);
  TS_RETURN_IF_ERROR(f.IsObject());
  TS_RETURN_IF_ERROR(f.OnlyKnown({"name", "media_type", "size", "sha256", "chunk_index"}));
  ResourceFile file;
  TS_ASSIGN_OR_RETURN(file.name, f.String("name"));
  if (!ValidFileName(file.name)) {
    return f.Bad(f.Field("name"), "\"" + file.name +
                                      "\" is not a portable file name ([A-Za-z0-9][A-Za-z0-9._-]*, "
                                      "at most 128 bytes)");
  }
  TS_ASSIGN_OR_RETURN(file.media_type, f.String("media_type"));
  if (!ValidMediaType(file.media_type)) {
    return f.Bad(f.Field("media_type"), "\"" + file.media_type + "\" is not a media type");
  }
  TS_ASSIGN_OR_RETURN(file.size, f.Uint("size", 0));
  auto digest = [&](std::string_view name) -> Result<Sha256Digest> {
    TS_ASSIGN_OR_RETURN(std::string hex, f.String(name));
    std::optional<Sha256Digest> d = Sha256FromHex(hex);
    if (!d || ToHex(*d) != hex) return f.Bad(f.Field(name), "is not 64 lowercase hex digits");
    return *d;
  };
  TS_ASSIGN_OR_RETURN(file.sha256, digest("sha256"));
  if (f.Has("chunk_index")) {
    TS_ASSIGN_OR_RETURN(file.chunk_index, digest("chunk_index"));
  } else if (source == RecordSource::kCatalog) {
    return f.Bad(where, "missing field \"chunk_index\" (published files must be ingested)");
  }
  return file;
}

}  // namespace

std::string_view ReviewStateName(ReviewState s) {
  switch (s) {
    case ReviewState::kDraft:
      return "draft";
    case ReviewState::kSubmitted:
      return "submitted";
    case ReviewState::kApproved:
      return "approved";
    case ReviewState::kRejected:
      return "rejected";
  }
  return "?";
}

Result<Resource> ResourceFromJson(const Json& v, std::string_view where_in, RecordSource source) {
  std::string where = "resource in " + std::string(where_in);
  JsonFields top = Fields(v, where);
  TS_RETURN_IF_ERROR(top.IsObject());
  Resource r;
  TS_ASSIGN_OR_RETURN(r.id, top.String("id"));
  if (!ValidId(r.id)) {
    return top.Bad(top.Field("id"), "\"" + r.id +
                                        "\" is not a resource id ([a-z0-9][a-z0-9-]*, "
                                        "3-64 characters)");
  }
  JsonFields f = Fields(v, "resource " + r.id);
  TS_RETURN_IF_ERROR(
      f.OnlyKnown({"format", "id", "title", "language", "provider", "origin", "review",
                   "placements", "facets", "files", "link", "retired", "priority"}));
  TS_ASSIGN_OR_RETURN(std::string format, f.String("format"));
  if (format != kResourceFormat) {
    return f.Bad(f.Field("format"),
                 "is \"" + format + "\", expected \"" + std::string(kResourceFormat) + "\"");
  }
  TS_ASSIGN_OR_RETURN(r.title, f.String("title"));
  TS_RETURN_IF_ERROR(CheckText(f, "title", r.title, false));
  TS_ASSIGN_OR_RETURN(r.language, f.String("language"));
  if (!ValidLanguage(r.language)) {
    return f.Bad(f.Field("language"), "\"" + r.language + "\" is not a language tag (zh-CN)");
  }
  TS_ASSIGN_OR_RETURN(r.provider, f.String("provider"));
  TS_RETURN_IF_ERROR(CheckText(f, "provider", r.provider, false));
  TS_ASSIGN_OR_RETURN(r.origin, f.String("origin"));
  TS_ASSIGN_OR_RETURN(r.review, ParseReview(f));

  TS_ASSIGN_OR_RETURN(const Json* placements, f.Array("placements"));
  if (placements->as_array().empty()) return f.Bad(f.Field("placements"), "must not be empty");
  if (placements->as_array().size() > kMaxPlacements) {
    return f.Bad(f.Field("placements"), "has more than " + std::to_string(kMaxPlacements));
  }
  for (size_t i = 0; i < placements->as_array().size(); ++i) {
    std::string field = f.Field(Indexed("placements", i));
    TS_ASSIGN_OR_RETURN(Placement p, ParsePlacement(placements->as_array()[i], field));
    if (std::find(r.placements.begin(), r.placements.end(), p) != r.placements.end()) {
      return f.Bad(field, "repeats an earlier placement");
    }
    r.placements.push_back(std::move(p));
  }
  if (f.Has("facets")) {
    TS_ASSIGN_OR_RETURN(const Json* facets, f.Get("facets"));
    TS_ASSIGN_OR_RETURN(r.facets, ParseFacets(*facets, f.Field("facets")));
  }
  if (f.Has("files") == f.Has("link")) {
    return f.Bad(f.where(), "must have exactly one of \"files\" and \"link\"");
  }
  if (f.Has("files")) {
    TS_ASSIGN_OR_RETURN(const Json* files, f.Array("files"));
    const protocol::JsonArray& list = files->as_array();
    if (list.empty()) return f.Bad(f.Field("files"), "must not be empty");
    if (list.size() > kMaxFilesPerResource) {
      return f.Bad(f.Field("files"), "has more than " + std::to_string(kMaxFilesPerResource));
    }
    std::set<std::string> names;
    for (size_t i = 0; i < list.size(); ++i) {
      std::string field = f.Field(Indexed("files", i));
      TS_ASSIGN_OR_RETURN(ResourceFile file, ParseFile(list[i], field, source));
      if (!names.insert(file.name).second) {
        return f.Bad(field + ".name", "\"" + file.name + "\" is used twice");
      }
      r.files.push_back(std::move(file));
    }
  } else {
    TS_ASSIGN_OR_RETURN(const Json* link, f.Object("link"));
    JsonFields lf = Fields(*link, f.Field("link"));
    TS_RETURN_IF_ERROR(lf.OnlyKnown({"url", "site"}));
    ExternalLink l;
    TS_ASSIGN_OR_RETURN(l.url, lf.String("url"));
    if (!ValidUrl(l.url)) return lf.Bad(lf.Field("url"), "is not an http(s) URL");
    TS_ASSIGN_OR_RETURN(l.site, OptionalString(lf, "site"));
    TS_RETURN_IF_ERROR(CheckText(lf, "site", l.site, /*allow_empty=*/true));
    r.link = std::move(l);
  }
  TS_ASSIGN_OR_RETURN(r.retired, f.Bool("retired"));
  TS_ASSIGN_OR_RETURN(r.priority, f.Bool("priority"));
  return r;
}

Result<Resource> ParseResource(std::string_view text, std::string_view where, RecordSource source) {
  if (text.size() > kMaxResourceBytes) {
    return InvalidArgumentError("resource in " + std::string(where) + ": larger than " +
                                std::to_string(kMaxResourceBytes) + " bytes");
  }
  Result<Json> v = protocol::ParseJson(text);
  if (!v.ok()) {
    return InvalidArgumentError("resource in " + std::string(where) + ": " + v.status().message());
  }
  return ResourceFromJson(*v, where, source);
}

Json ResourceToJson(const Resource& r) {
  Json out = Json::Object();
  out.Set("format", std::string(kResourceFormat));
  out.Set("id", r.id);
  out.Set("title", r.title);
  out.Set("language", r.language);
  out.Set("provider", r.provider);
  out.Set("origin", r.origin);
  out.Set("review", std::string(ReviewStateName(r.review)));
  Json placements = Json::Array();
  for (const Placement& p : r.placements) {
    Json pj = Json::Object();
    pj.Set("platform", p.platform).Set("board", p.board);
    if (!p.category.empty()) pj.Set("category", p.category);
    placements.Push(std::move(pj));
  }
  out.Set("placements", std::move(placements));
  Json facets = Json::Object();
  const Facets& fa = r.facets;
  if (!fa.stage.empty()) facets.Set("stage", fa.stage);
  if (fa.grade != 0) facets.Set("grade", fa.grade);
  if (!fa.subject.empty()) facets.Set("subject", fa.subject);
  if (!fa.edition.empty()) facets.Set("edition", fa.edition);
  if (!fa.volume.empty()) facets.Set("volume", fa.volume);
  if (!fa.lesson.empty()) facets.Set("lesson", fa.lesson);
  if (!fa.tags.empty()) {
    Json tags = Json::Array();
    for (const std::string& t : fa.tags) tags.Push(t);
    facets.Set("tags", std::move(tags));
  }
  if (!facets.as_object().empty()) out.Set("facets", std::move(facets));
  if (r.link) {
    Json link = Json::Object();
    link.Set("url", r.link->url);
    if (!r.link->site.empty()) link.Set("site", r.link->site);
    out.Set("link", std::move(link));
  } else {
    Json files = Json::Array();
    for (const ResourceFile& file : r.files) {
      Json fj = Json::Object();
      fj.Set("name", file.name).Set("media_type", file.media_type);
      fj.Set("size", static_cast<int64_t>(file.size)).Set("sha256", ToHex(file.sha256));
      if (file.chunk_index) fj.Set("chunk_index", ToHex(*file.chunk_index));
      files.Push(std::move(fj));
    }
    out.Set("files", std::move(files));
  }
  out.Set("retired", r.retired);
  out.Set("priority", r.priority);
  return out;
}

std::string EncodeResource(const Resource& r) { return protocol::EncodePretty(ResourceToJson(r)); }

Status ValidateResource(const Resource& r, const Taxonomy& taxonomy, const RegionTable& regions) {
  const std::string where = "resource " + r.id;
  auto bad = [&](const std::string& field, const std::string& what) {
    return InvalidArgumentError(where + "." + field + ": " + what);
  };
  if (r.origin == kNationalOrigin) {
    if (r.id.empty() || IsDigit(r.id[0])) {
      return bad("id",
                 "national resource ids must not start with a digit (region namespaces "
                 "do)");
    }
  } else {
    const Region* region = regions.Find(r.origin);
    if (region == nullptr || region->placeholder) {
      return bad("origin", "\"" + r.origin + "\" is neither \"national\" nor a GB/T 2260 code");
    }
    if (!r.id.starts_with(r.origin + "-")) {
      return bad("id", "must start with \"" + r.origin + "-\" (the origin's namespace)");
    }
  }
  for (size_t i = 0; i < r.placements.size(); ++i) {
    const Placement& p = r.placements[i];
    std::string field = Indexed("placements", i);
    if (taxonomy.FindPlatform(p.platform) == nullptr) {
      return bad(field + ".platform", "unknown platform \"" + p.platform + "\"");
    }
    const Board* board = taxonomy.FindBoard(p.platform, p.board);
    if (board == nullptr) {
      return bad(field + ".board", "unknown board \"" + p.board + "\" on platform " + p.platform);
    }
    if (board->categories.empty()) {
      if (!p.category.empty()) {
        return bad(field + ".category",
                   "board " + p.board + " has no categories, got \"" + p.category + "\"");
      }
    } else if (p.category.empty()) {
      return bad(field, "missing field \"category\" (board " + p.board + " has categories)");
    } else if (std::find(board->categories.begin(), board->categories.end(), p.category) ==
               board->categories.end()) {
      return bad(field + ".category",
                 "unknown category \"" + p.category + "\" in board " + p.board);
    }
  }
  const Facets& fa = r.facets;
  if (!fa.stage.empty()) {
    const Stage* stage = taxonomy.FindStage(fa.stage);
    if (stage == nullptr) return bad("facets.stage", "unknown stage \"" + fa.stage + "\"");
    if (fa.grade != 0 && (fa.grade < stage->first_grade || fa.grade > stage->last_grade)) {
      return bad("facets.grade",
                 "grade " + std::to_string(fa.grade) + " is not in stage " + fa.stage);
    }
  } else if (fa.grade != 0) {
    return bad("facets.grade", "a grade needs a stage");
  }
  if (!fa.subject.empty() && !taxonomy.HasSubject(fa.subject)) {
    return bad("facets.subject", "unknown subject \"" + fa.subject + "\"");
  }
  if (!fa.edition.empty() && !taxonomy.HasEdition(fa.edition)) {
    return bad("facets.edition", "unknown textbook edition \"" + fa.edition + "\"");
  }
  return Status::Ok();
}

std::string ResourcePath(std::string_view origin, std::string_view id) {
  std::string shard = ToHex(Sha256(AsBytes(id))).substr(0, 2);
  return "resources/" + std::string(origin) + "/" + shard + "/" + std::string(id) + ".json";
}

std::string ResourcePath(const Resource& r) { return ResourcePath(r.origin, r.id); }

std::string TargetPath(const Resource& r, const ResourceFile& f, const RegionTable& regions) {
  std::string prefix;
  if (r.origin == kNationalOrigin) {
    prefix = "national";
  } else {
    prefix = "regions";
    for (const Region* region : regions.Chain(r.origin)) {
      if (!region->placeholder) prefix += "/" + region->code;
    }
  }
  return prefix + "/" + r.id + "/" + f.name;
}

bool IsServed(const Resource& r) {
  return !r.retired && r.review == ReviewState::kApproved && !r.link && !r.files.empty();
}

}  // namespace tiersync::catalogs
