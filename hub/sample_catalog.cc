#include "hub/sample_catalog.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <unordered_set>
#include <utility>

#include "base/bytes.h"
#include "base/random.h"
#include "base/sha256.h"
#include "catalogs/region_table.h"
#include "catalogs/resource.h"
#include "catalogs/taxonomy.h"
#include "hub/sample_catalog_vocabulary.h"
#include "hub/sample_media.h"
#include "protocol/json_fields.h"

namespace tiersync::hub {
namespace {

using catalogs::ExternalLink;
using catalogs::Placement;
using catalogs::RecordSource;
using catalogs::Resource;
using catalogs::ResourceFile;
using protocol::Json;
using sample_catalog_internal::AfterSchoolFor;
using sample_catalog_internal::AfterSchoolProvider;
using sample_catalog_internal::AfterSchoolTopics;
using sample_catalog_internal::CategoryTopics;
using sample_catalog_internal::FamilyTopics;
using sample_catalog_internal::FindCategory;
using sample_catalog_internal::GradeNames;
using sample_catalog_internal::IsPriorityCategory;
using sample_catalog_internal::Kind;
using sample_catalog_internal::KindMix;
using sample_catalog_internal::kLinkSites;
using sample_catalog_internal::kLinkThemes;
using sample_catalog_internal::LinkSite;
using sample_catalog_internal::MultiBoard;
using sample_catalog_internal::MultiBoards;
using sample_catalog_internal::Pick;
using sample_catalog_internal::PublisherOf;
using sample_catalog_internal::ReformRegions;
using sample_catalog_internal::ReformTopics;
using sample_catalog_internal::SeniorVolumes;
using sample_catalog_internal::Shuffle;
using sample_catalog_internal::SiteOf;
using sample_catalog_internal::SpecialTopics;
using sample_catalog_internal::StageOfGrade;
using sample_catalog_internal::Strings;
using sample_catalog_internal::Subject;
using sample_catalog_internal::Subjects;
using sample_catalog_internal::TeacherTopics;

constexpr std::string_view kVideoType = "video/mp4";
constexpr std::string_view kPdfType = "application/pdf";
constexpr std::string_view kPptxType =
    "application/vnd.openxmlformats-officedocument.presentationml.presentation";
constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kMinFileBytes = 64;
constexpr size_t kCopyBlock = 1 << 20;
// Revision r is presented as the catalog of year kFirstYear + r (edited titles say "2023年修订").
constexpr int kFirstYear = 2021;

// ---------------------------------------------------------------------------------------------
// Seeds. Everything random is drawn from a Random seeded by Mix(catalog seed, what it is for), so
// a resource's content depends only on (seed, id) and a revision's choices on (seed, revision).

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t state = a;
  state = SplitMix64(state) ^ b;
  return SplitMix64(state);
}

uint64_t Mix(uint64_t a, std::string_view s) { return Mix(a, Fnv1a(s)); }

uint64_t Between(Random& rng, uint64_t lo, uint64_t hi) { return lo + rng.Uniform(hi - lo + 1); }
bool Percent(Random& rng, uint64_t p) { return rng.Uniform(100) < p; }

// ---------------------------------------------------------------------------------------------
// One resource: its record, and what its files are to hold.

struct FileSpec {
  std::string name;
  std::string media_type;
  SampleKind kind;
  uint64_t size;
};

struct Draft {
  Resource r;
  std::vector<FileSpec> files;
};

class Maker {
 public:
  Maker(uint64_t seed, double size_scale) : seed_(seed), size_scale_(size_scale) {}

  // Marks an (edition, subject, volume) as having its e-textbook already.
  void NoteTextbook(const Resource& r) { textbooks_.insert(TextbookKey(r.facets)); }

  Draft Make(Kind kind, const std::string& id) {
    Random rng(Mix(seed_, id));
    Draft d;
    d.r.id = id;
    switch (kind) {
      case Kind::kLesson:
        Lesson(rng, &d);
        break;
      case Kind::kTextbook:
        Textbook(rng, &d);
        break;
      case Kind::kSpecial:
        Special(rng, &d);
        break;
      case Kind::kAfterSchool:
        AfterSchool(rng, &d);
        break;
      case Kind::kTeacher:
        Teacher(rng, &d);
        break;
      case Kind::kFamily:
        Family(rng, &d);
        break;
      case Kind::kReform:
        Reform(rng, &d);
        break;
      case Kind::kMultiBoard:
        Multi(rng, &d);
        break;
      case Kind::kLink:
        Link(rng, &d);
        break;
    }
    return d;
  }

 private:
  static std::string TextbookKey(const catalogs::Facets& f) {
    return f.edition + "|" + f.subject + "|" + f.volume;
  }

  uint64_t Size(Random& rng, uint64_t lo_mib, uint64_t hi_mib) const {
    uint64_t real = Between(rng, lo_mib * kMiB, hi_mib * kMiB);
    auto scaled = static_cast<uint64_t>(std::llround(static_cast<double>(real) * size_scale_));
    return std::max(kMinFileBytes, scaled);
  }
  FileSpec Video(Random& rng, std::string name) const {
    return {std::move(name), std::string(kVideoType), SampleKind::kMedia, Size(rng, 50, 500)};
  }
  FileSpec Pdf(Random& rng, std::string name) const {
    return {std::move(name), std::string(kPdfType), SampleKind::kText, Size(rng, 5, 100)};
  }
  FileSpec Pptx(Random& rng, std::string name) const {
    return {std::move(name), std::string(kPptxType), SampleKind::kText, Size(rng, 1, 50)};
  }

  // A grade, then a subject taught in it (by weight), then an edition publishing it there.
  static const Subject& PickSubject(Random& rng, int grade) {
    uint64_t total = 0;
    for (const Subject& s : Subjects()) {
      if (grade >= s.first_grade && grade <= s.last_grade) total += s.weight;
    }
    uint64_t x = rng.Uniform(total);
    for (const Subject& s : Subjects()) {
      if (grade < s.first_grade || grade > s.last_grade) continue;
      if (x < s.weight) return s;
      x -= s.weight;
    }
    return Subjects().front();
  }

  static std::string Volume(Random& rng, int grade) {
    std::string name(GradeNames()[grade]);
    if (grade >= 10) return name + " " + std::string(Pick(rng, SeniorVolumes(grade)));
    return name + (Percent(rng, 50) ? "上册" : "下册");
  }

  // Stage, grade, subject, edition and volume of a 课程教学 resource; its placement.
  static const Subject& Course(Random& rng, Draft* d) {
    int grade = static_cast<int>(Between(rng, 1, 12));
    const Subject& s = PickSubject(rng, grade);
    catalogs::Facets& f = d->r.facets;
    f.stage = StageOfGrade(grade);
    f.grade = grade;
    f.subject = s.name;
    f.edition = Pick(rng, s.editions);
    f.volume = Volume(rng, grade);
    d->r.provider = PublisherOf(f.edition);
    d->r.placements = {{"k12", "课程教学", f.stage}};
    return s;
  }

  void Lesson(Random& rng, Draft* d) const {
    const Subject& s = Course(rng, d);
    catalogs::Facets& f = d->r.facets;
    std::string number = std::to_string(Between(rng, 1, s.units ? 12 : 24));
    std::string_view topic = Pick(rng, s.topics);
    f.lesson = s.units ? "Unit " + number + " " + std::string(topic)
                       : "第" + number + "课 " + std::string(topic);
    static const Strings periods = {"第一课时", "第二课时", "第三课时"};
    d->r.title = f.lesson + "（" + std::string(Pick(rng, periods)) + "）";
    f.tags = {"同步课程", f.subject, std::string(GradeNames()[f.grade])};
    if (Percent(rng, 20)) f.tags.push_back("名师课堂");
    d->files.push_back(Video(rng, "lesson.mp4"));
    if (Percent(rng, 70)) d->files.push_back(Pptx(rng, "courseware.pptx"));
    if (Percent(rng, 30)) d->files.push_back(Pdf(rng, "exercises.pdf"));
  }

  void Textbook(Random& rng, Draft* d) {
    // One e-textbook per edition x subject x volume while unused ones are easy to find.
    for (int attempt = 0; attempt < 8; ++attempt) {
      d->r.facets = {};
      Course(rng, d);
      if (textbooks_.insert(TextbookKey(d->r.facets)).second) break;
    }
    catalogs::Facets& f = d->r.facets;
    std::string volume = f.volume;
    if (f.grade >= 10) volume = volume.substr(volume.find(' ') + 1);  // "高一 必修 第一册"
    d->r.title = (f.grade >= 10 ? "普通高中教科书·" : "义务教育教科书·") + f.subject + " " + volume;
    f.tags = {"电子教材", f.subject, f.edition};
    d->files.push_back(Pdf(rng, "textbook.pdf"));
  }

  // Optional stage facet for boards not tied to a stage.
  static void MaybeStage(Random& rng, Draft* d) {
    if (Percent(rng, 40)) d->r.facets.stage = StageOfGrade(static_cast<int>(Between(rng, 1, 12)));
  }

  static std::string Lecture(Random& rng, std::string_view topic) {
    return std::string(topic) + " 第" + std::to_string(Between(rng, 1, 12)) + "讲";
  }

  void Special(Random& rng, Draft* d) const {
    const CategoryTopics& c = Pick(rng, SpecialTopics());
    d->r.placements = {{"k12", "专题教育", std::string(c.category)}};
    if (Percent(rng, 30)) {
      d->r.placements.push_back({"k12", "课后服务", std::string(AfterSchoolFor(c.category))});
    }
    d->r.title = Lecture(rng, Pick(rng, c.topics));
    static const Strings providers = {"中央电化教育馆", "中央电化教育馆", "中央电化教育馆",
                                      "中国教育电视台", "人民教育出版社", "中国教育科学研究院"};
    d->r.provider = Pick(rng, providers);
    MaybeStage(rng, d);
    d->r.facets.tags = {"专题教育", std::string(c.category)};
    if (IsPriorityCategory(c.category)) {
      d->r.priority = true;
      d->r.facets.tags.push_back("停课不停学");
    }
    d->files.push_back(Video(rng, "video.mp4"));
    if (Percent(rng, 40)) d->files.push_back(Pdf(rng, "guide.pdf"));
  }

  void AfterSchool(Random& rng, Draft* d) const {
    const CategoryTopics& c = Pick(rng, AfterSchoolTopics());
    d->r.placements = {{"k12", "课后服务", std::string(c.category)}};
    d->r.title = Lecture(rng, Pick(rng, c.topics));
    d->r.provider = AfterSchoolProvider(rng, c.category);
    MaybeStage(rng, d);
    d->r.facets.tags = {"课后服务", std::string(c.category)};
    if (Percent(rng, 50)) d->r.facets.tags.push_back("“双减”");
    d->files.push_back(Video(rng, "video.mp4"));
  }

  void Teacher(Random& rng, Draft* d) const {
    const CategoryTopics& c = Pick(rng, TeacherTopics());
    d->r.placements = {{"k12", "教师研修", std::string(c.category)}};
    std::string title(Pick(rng, c.topics));
    if (c.category == "学科研修") {
      int grade = static_cast<int>(Between(rng, 1, 12));
      const Subject& s = PickSubject(rng, grade);
      d->r.facets.stage = StageOfGrade(grade);
      d->r.facets.subject = s.name;
      title = d->r.facets.stage + std::string(s.name) + title;  // 初中数学大单元教学设计
    }
    d->r.title = title;
    static const Strings providers = {"中国教育科学研究院", "国家教育行政学院",
                                      "北京师范大学",       "华东师范大学",
                                      "东北师范大学",       "教育部课程教材研究所"};
    d->r.provider = Pick(rng, providers);
    d->r.facets.tags = {"教师研修", std::string(c.category), "暑期教师研修"};
    d->files.push_back(Video(rng, "video.mp4"));
    if (Percent(rng, 50)) d->files.push_back(Pptx(rng, "slides.pptx"));
  }

  void Family(Random& rng, Draft* d) const {
    const CategoryTopics& c = Pick(rng, FamilyTopics());
    d->r.placements = {{"k12", "家庭教育", std::string(c.category)}};
    d->r.title = Lecture(rng, Pick(rng, c.topics));
    static const Strings providers = {"中国家庭教育学会", "中华全国妇女联合会", "中国儿童中心"};
    d->r.provider = Pick(rng, providers);
    MaybeStage(rng, d);
    d->r.facets.tags = {"家庭教育", "家长课堂"};
    d->files.push_back(Video(rng, "video.mp4"));
  }

  void Reform(Random& rng, Draft* d) const {
    const CategoryTopics& c = Pick(rng, ReformTopics());
    const auto& [region, authority] = Pick(rng, ReformRegions());
    d->r.placements = {{"k12", "教改实践经验", std::string(c.category)}};
    d->r.title = std::string(region) + "：" + std::string(Pick(rng, c.topics));
    d->r.provider = authority;
    d->r.facets.tags = {"教改实践经验", std::string(c.category), std::string(region)};
    d->files.push_back(Video(rng, "video.mp4"));
    if (Percent(rng, 60)) d->files.push_back(Pdf(rng, "report.pdf"));
  }

  void Multi(Random& rng, Draft* d) const {
    const MultiBoard& b = Pick(rng, MultiBoards());
    const CategoryTopics& c = Pick(rng, b.categories);
    std::string board(b.board), category(c.category);
    d->r.placements = {{"k12", board, category}};
    if (Percent(rng, 67)) {
      d->r.placements.push_back({"vocational", board, category});
      d->r.placements.push_back({"higher", board, category});
    } else {
      d->r.placements.push_back({Percent(rng, 50) ? "vocational" : "higher", board, category});
    }
    d->r.title = Lecture(rng, Pick(rng, c.topics));
    d->r.provider = Pick(rng, b.providers);
    d->r.facets.tags = {board, category};
    d->files.push_back(Video(rng, "video.mp4"));
  }

  void Link(Random& rng, Draft* d) const {
    // Where links are placed, and the themes (indexes into kLinkThemes) of fitting sites.
    static const std::vector<std::pair<Placement, std::vector<size_t>>> places = {
        {{"k12", "课后服务", "科普教育"}, {0, 3, 4, 5, 11}},
        {{"k12", "课后服务", "文化艺术"}, {1, 6}},
        {{"k12", "课后服务", "经典阅读"}, {2}},
        {{"k12", "课后服务", "体育锻炼"}, {7}},
        {{"k12", "教师研修", "学科研修"}, {0, 1, 2, 3, 4, 5, 6, 11}},
        {{"k12", "专题教育", "生态文明教育"}, {4, 5}},
        {{"k12", "专题教育", "中华优秀传统文化教育"}, {1, 2, 6}},
        {{"k12", "专题教育", "宪法法治教育"}, {8}},
        {{"k12", "专题教育", "生命与安全教育"}, {9}},
        {{"k12", "专题教育", "心理健康教育"}, {10}},
    };
    const auto& [p, themes] = Pick(rng, places);
    const LinkSite site =
        SiteOf(Pick(rng, themes), rng.Uniform(kLinkSites / std::size(kLinkThemes)));
    const std::vector<CategoryTopics>& list = p.board == "课后服务"   ? AfterSchoolTopics()
                                              : p.board == "教师研修" ? TeacherTopics()
                                                                      : SpecialTopics();
    d->r.placements = {p};
    d->r.title = site.name + "：" + std::string(Pick(rng, FindCategory(list, p.category).topics));
    d->r.provider = site.name;
    d->r.priority = IsPriorityCategory(p.category);
    d->r.facets.tags = {"外部资源", p.category};
    d->r.link = ExternalLink{site.url + "resources/" + d->r.id.substr(4) + ".html", site.name};
  }

  uint64_t seed_;
  double size_scale_;
  std::set<std::string> textbooks_;
};

// ---------------------------------------------------------------------------------------------
// Files.

std::string RecordPath(const std::string& dir, std::string_view id) {
  return JoinPath(JoinPath(dir, "resources"), std::string(id) + ".json");
}
std::string MediaDir(const std::string& dir, std::string_view id) {
  return JoinPath(JoinPath(dir, "media"), id);
}

// Writes without fsync (see the header comment). With `replace`, beside and renamed over.
Status WriteFast(Env* env, const std::string& path, std::string_view data, bool replace) {
  const std::string target = replace ? path + ".tmp" : path;
  TS_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(target));
  TS_RETURN_IF_ERROR(file->Append(AsBytes(data)));
  TS_RETURN_IF_ERROR(file->Close());
  if (replace) return env->RenameFile(target, path);
  return Status::Ok();
}

uint64_t FileSeed(uint64_t seed, std::string_view id, std::string_view name) {
  return Mix(Mix(seed, id), name);
}

// Writes the draft's media and record; fills in the files' sizes and digests.
Status WriteDraft(Env* env, const std::string& dir, uint64_t seed, Draft* d, bool replace,
                  uint64_t* bytes_written) {
  if (!d->files.empty()) TS_RETURN_IF_ERROR(CreateDirs(env, MediaDir(dir, d->r.id)));
  Sha256Hasher hasher;
  for (const FileSpec& spec : d->files) {
    const std::string path = JoinPath(MediaDir(dir, d->r.id), spec.name);
    const std::string target = replace ? path + ".tmp" : path;
    TS_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(target));
    TS_RETURN_IF_ERROR(
        GenerateSample(spec.kind, spec.size, FileSeed(seed, d->r.id, spec.name), [&](ByteSpan b) {
          hasher.Update(b);
          return file->Append(b);
        }));
    TS_RETURN_IF_ERROR(file->Close());
    if (replace) TS_RETURN_IF_ERROR(env->RenameFile(target, path));
    *bytes_written += spec.size;
    ResourceFile f;
    f.name = spec.name;
    f.media_type = spec.media_type;
    f.size = spec.size;
    f.sha256 = hasher.Finish();
    d->r.files.push_back(std::move(f));
  }
  // A generator bug must not produce a catalog that `hub publish` refuses.
  TS_RETURN_IF_ERROR(catalogs::ValidateResource(d->r, catalogs::Taxonomy::Builtin(),
                                                catalogs::RegionTable::Builtin()));
  return WriteFast(env, RecordPath(dir, d->r.id), catalogs::EncodeResource(d->r), replace);
}

// Issues ids "k12-" + 8 hex digits never issued before in this catalog.
class IdSource {
 public:
  explicit IdSource(uint64_t seed) : rng_(seed) {}
  void Note(std::string id) { used_.insert(std::move(id)); }
  std::string Next() {
    for (;;) {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "k12-%08x", static_cast<unsigned>(rng_.Next() >> 32));
      if (used_.insert(buf).second) return buf;
    }
  }

 private:
  Random rng_;
  std::unordered_set<std::string> used_;
};

// ---------------------------------------------------------------------------------------------
// generator.json

struct GeneratorState {
  uint64_t seed = 0;
  uint64_t resources = 0;
  double size_scale = 0;
  int revision = 0;
};

// Shortest decimal that reads back as the same double: "0.0001", or "1e-30" when long.
std::string FormatScale(double scale) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), scale, std::chars_format::fixed);
  if (r.ec != std::errc()) r = std::to_chars(buf, buf + sizeof(buf), scale);
  return std::string(buf, r.ptr);
}

Status CheckOptions(uint64_t resources, uint64_t seed, double size_scale) {
  if (resources == 0 || resources > kMaxSampleResources) {
    return InvalidArgumentError("resources must be 1 to " + std::to_string(kMaxSampleResources) +
                                ", not " + std::to_string(resources));
  }
  if (seed > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return InvalidArgumentError("seed must be at most " +
                                std::to_string(std::numeric_limits<int64_t>::max()));
  }
  if (!(size_scale > 0 && size_scale <= 1)) {
    return InvalidArgumentError("size scale must be in (0, 1], not " + FormatScale(size_scale));
  }
  return Status::Ok();
}

Status WriteGeneratorJson(Env* env, const std::string& dir, const GeneratorState& g) {
  Json j = Json::Object();
  j.Set("format", std::string(kSampleCatalogFormat));
  j.Set("seed", g.seed);
  j.Set("resources", g.resources);
  j.Set("size_scale", FormatScale(g.size_scale));
  j.Set("revision", g.revision);
  return WriteFileAtomically(env, JoinPath(dir, "generator.json"), AsBytes(EncodePretty(j)));
}

Result<GeneratorState> ReadGeneratorJson(Env* env, const std::string& dir) {
  const std::string path = JoinPath(dir, "generator.json");
  if (!env->FileExists(path)) {
    return NotFoundError(path + ": not found (not a catalog written by `tiersync demo generate`)");
  }
  TS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileToBytes(env, path, 64 << 10));
  Result<Json> v = protocol::ParseJson(AsChars(bytes));
  if (!v.ok()) return CorruptionError(path + ": " + v.status().message());
  protocol::JsonFields f(*v, path, StatusCode::kCorruption, "");
  TS_RETURN_IF_ERROR(f.IsObject());
  TS_RETURN_IF_ERROR(f.OnlyKnown({"format", "seed", "resources", "size_scale", "revision"}));
  TS_ASSIGN_OR_RETURN(std::string format, f.String("format"));
  if (format != kSampleCatalogFormat) {
    return f.Bad(f.Field("format"),
                 "is \"" + format + "\", expected \"" + std::string(kSampleCatalogFormat) + "\"");
  }
  GeneratorState g;
  TS_ASSIGN_OR_RETURN(g.seed, f.Uint("seed", 0));
  TS_ASSIGN_OR_RETURN(g.resources, f.Uint("resources", 1));
  TS_ASSIGN_OR_RETURN(std::string scale, f.String("size_scale"));
  auto [end, ec] = std::from_chars(scale.data(), scale.data() + scale.size(), g.size_scale);
  if (ec != std::errc() || end != scale.data() + scale.size()) {
    return f.Bad(f.Field("size_scale"), "\"" + scale + "\" is not a decimal number");
  }
  TS_ASSIGN_OR_RETURN(uint64_t revision, f.Uint("revision", 1));
  if (revision >= static_cast<uint64_t>(std::numeric_limits<int>::max())) {
    return f.Bad(f.Field("revision"), "is too large");
  }
  g.revision = static_cast<int>(revision);
  Status s = CheckOptions(g.resources, g.seed, g.size_scale);
  if (!s.ok()) return f.Bad(path, s.message());
  return g;
}

Status WriteChanges(Env* env, const std::string& dir, const CatalogChanges& c) {
  return WriteFileAtomically(env, JoinPath(dir, "changes.json"),
                             AsBytes(EncodePretty(CatalogChangesToJson(c))));
}

Result<bool> NonEmptyDir(Env* env, const std::string& path) {
  if (!env->FileExists(path)) return false;
  TS_ASSIGN_OR_RETURN(std::vector<std::string> children, env->GetChildren(path));
  return !children.empty();
}

// ---------------------------------------------------------------------------------------------
// Revisions.

Result<Resource> ReadRecord(Env* env, const std::string& dir, std::string_view id) {
  const std::string path = RecordPath(dir, id);
  TS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                      ReadFileToBytes(env, path, catalogs::kMaxResourceBytes + 1));
  Result<Resource> r = catalogs::ParseResource(AsChars(bytes), path, RecordSource::kInput);
  if (!r.ok()) return CorruptionError(r.status().message());
  if (r->id != id) return CorruptionError(path + ": holds resource " + r->id);
  return r;
}

// What planning a revision needs to know of a resource.
struct Entry {
  std::string id;
  bool video = false;    // has a video/mp4 file
  bool doc = false;      // has a PDF or courseware file
  bool movable = false;  // see Movable()
};

bool IsDoc(const ResourceFile& f) { return f.media_type == kPdfType || f.media_type == kPptxType; }

const catalogs::Board* BoardOf(const Placement& p) {
  return catalogs::Taxonomy::Builtin().FindBoard(p.platform, p.board);
}

// Not priority, first placed in a k12 board (not 课程教学, whose categories are stages) with
// another non-priority category to move to.
bool Movable(const Resource& r) {
  if (r.priority || r.placements.empty()) return false;
  const Placement& p = r.placements.front();
  if (p.platform != "k12" || p.board == "课程教学") return false;
  const catalogs::Board* board = BoardOf(p);
  return board != nullptr && board->categories.size() > 1 && !IsPriorityCategory(p.category);
}

// Changes the placements only: a 专题教育 item is also placed in 课后服务, or the first
// placement's category (in every platform holding that board) becomes another one.
void Move(Random& rng, Resource* r) {
  const Placement first = r->placements.front();
  if (first.board == "专题教育" && r->placements.size() == 1 && Percent(rng, 50)) {
    r->placements.push_back({"k12", "课后服务", std::string(AfterSchoolFor(first.category))});
    return;
  }
  std::vector<std::string> others;
  for (const std::string& c : BoardOf(first)->categories) {
    if (c != first.category && !IsPriorityCategory(c)) others.push_back(c);
  }
  const std::string to = Pick(rng, others);
  for (Placement& p : r->placements) {
    if (p.board == first.board && p.category == first.category) p.category = to;
  }
  // Defensive: a record never lists a placement twice.
  std::vector<Placement> unique;
  for (const Placement& p : r->placements) {
    if (std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(p);
  }
  r->placements = std::move(unique);
}

// Title and tags carry the year of the revision: "（2023年修订）", tag "2023年修订".
void Edit(int revision, Resource* r) {
  const std::string year = std::to_string(kFirstYear + revision) + "年修订";
  constexpr std::string_view kSuffixEnd = "年修订）";
  if (r->title.ends_with(kSuffixEnd)) {
    size_t open = r->title.rfind("（");
    if (open != std::string::npos) r->title.resize(open);
  }
  r->title += "（" + year + "）";
  std::erase_if(r->facets.tags, [](const std::string& t) { return t.ends_with("年修订"); });
  if (r->facets.tags.size() >= catalogs::kMaxTags) r->facets.tags.pop_back();
  r->facets.tags.push_back(year);
}

// Rewrites media file `path` (recorded as `file`) with `extra` bytes of sample content inserted
// at `offset` (== size: appended), beside and renamed over. Checks the old bytes against the
// record; updates `file`.
Status Splice(Env* env, const std::string& path, ResourceFile* file, uint64_t offset,
              SampleKind kind, uint64_t extra, uint64_t seed) {
  TS_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(path));
  if (size != file->size) {
    return CorruptionError(path + ": " + std::to_string(size) + " bytes, its record says " +
                           std::to_string(file->size));
  }
  TS_ASSIGN_OR_RETURN(auto in, env->NewSequentialFile(path));
  const std::string tmp = path + ".tmp";
  TS_ASSIGN_OR_RETURN(auto out, env->NewWritableFile(tmp));
  Sha256Hasher old_hash, new_hash;
  auto put = [&](ByteSpan b) {
    new_hash.Update(b);
    return out->Append(b);
  };
  std::vector<uint8_t> buf(kCopyBlock);
  // Copies up to `end` bytes of the old file (position `*pos`) to the new one.
  uint64_t pos = 0;
  auto copy_until = [&](uint64_t end) -> Status {
    while (pos < end) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - pos));
      TS_ASSIGN_OR_RETURN(size_t n, in->Read(MutableByteSpan(buf.data(), want)));
      if (n == 0) return CorruptionError(path + ": shorter than its record says");
      ByteSpan b(buf.data(), n);
      old_hash.Update(b);
      TS_RETURN_IF_ERROR(put(b));
      pos += n;
    }
    return Status::Ok();
  };
  TS_RETURN_IF_ERROR(copy_until(offset));
  TS_RETURN_IF_ERROR(GenerateSample(kind, extra, seed, put));
  TS_RETURN_IF_ERROR(copy_until(size));
  if (old_hash.Finish() != file->sha256) {
    env->RemoveFile(tmp).IgnoreError();
    return CorruptionError(path + ": does not match the sha256 of its record");
  }
  TS_RETURN_IF_ERROR(out->Close());
  TS_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  file->size = size + extra;
  file->sha256 = new_hash.Finish();
  return Status::Ok();
}

uint64_t Share(uint64_t live, uint64_t permille) {
  uint64_t n = (live * permille + 500) / 1000;
  return std::max<uint64_t>(n, live >= 100 ? 1 : 0);
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

protocol::Json CatalogChangesToJson(const CatalogChanges& c) {
  Json j = Json::Object();
  j.Set("format", std::string(kSampleChangesFormat));
  j.Set("revision", c.revision);
  j.Set("resources", c.resources);
  auto list = [](const std::vector<std::string>& ids) {
    Json a = Json::Array();
    for (const std::string& id : ids) a.Push(id);
    return a;
  };
  j.Set("added", list(c.added));
  j.Set("changed", list(c.changed));
  j.Set("retired", list(c.retired));
  j.Set("moved", list(c.moved));
  j.Set("edited", list(c.edited));
  j.Set("inserted", list(c.inserted));
  j.Set("appended", list(c.appended));
  return j;
}

Result<CatalogChanges> GenerateCatalog(Env* env, const std::string& dir,
                                       const CatalogGenOptions& options) {
  TS_RETURN_IF_ERROR(CheckOptions(options.resources, options.seed, options.size_scale));
  if (env->FileExists(JoinPath(dir, "generator.json"))) {
    return AlreadyExistsError(dir +
                              " already holds a catalog (generator.json); use "
                              "--next-release to revise it, or remove it");
  }
  for (const char* sub : {"resources", "media"}) {
    TS_ASSIGN_OR_RETURN(bool busy, NonEmptyDir(env, JoinPath(dir, sub)));
    if (busy) {
      return AlreadyExistsError(JoinPath(dir, sub) +
                                " is not empty (an interrupted generation?); remove it first");
    }
  }
  TS_RETURN_IF_ERROR(CreateDirs(env, JoinPath(dir, "resources")));
  TS_RETURN_IF_ERROR(CreateDirs(env, JoinPath(dir, "media")));

  const uint64_t seed = options.seed;
  Random mix_rng(Mix(seed, "mix 1"));
  const std::vector<Kind> kinds = KindMix(options.resources, mix_rng);
  IdSource ids(Mix(seed, "ids 1"));
  Maker maker(seed, options.size_scale);
  CatalogChanges changes;
  changes.revision = 1;
  changes.added.reserve(kinds.size());
  for (size_t i = 0; i < kinds.size(); ++i) {
    Draft d = maker.Make(kinds[i], ids.Next());
    TS_RETURN_IF_ERROR(WriteDraft(env, dir, seed, &d, /*replace=*/false, &changes.bytes_written));
    changes.added.push_back(d.r.id);
    if (options.progress) options.progress(i + 1, kinds.size());
  }
  std::sort(changes.added.begin(), changes.added.end());
  changes.resources = changes.added.size();
  TS_RETURN_IF_ERROR(WriteChanges(env, dir, changes));
  TS_RETURN_IF_ERROR(WriteGeneratorJson(
      env, dir, {seed, options.resources, options.size_scale, changes.revision}));
  return changes;
}

Result<CatalogChanges> GenerateNextRelease(Env* env, const std::string& dir,
                                           std::function<void(uint64_t, uint64_t)> progress) {
  TS_ASSIGN_OR_RETURN(GeneratorState g, ReadGeneratorJson(env, dir));
  const int revision = g.revision + 1;
  const std::string rev = " " + std::to_string(revision);

  // What is there: every record, in id order.
  TS_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(JoinPath(dir, "resources")));
  std::sort(names.begin(), names.end());
  IdSource ids(Mix(g.seed, "ids" + rev));
  Maker maker(g.seed, g.size_scale);
  std::vector<Entry> live;
  uint64_t records = 0;
  for (const std::string& name : names) {
    if (!name.ends_with(".json")) continue;  // e.g. a .tmp left by an interrupted run
    TS_ASSIGN_OR_RETURN(Resource r, ReadRecord(env, dir, name.substr(0, name.size() - 5)));
    ++records;
    ids.Note(r.id);
    if (std::any_of(r.files.begin(), r.files.end(),
                    [](const ResourceFile& f) { return f.name == "textbook.pdf"; })) {
      maker.NoteTextbook(r);
    }
    if (r.retired) continue;
    Entry e;
    e.id = r.id;
    for (const ResourceFile& f : r.files) {
      e.video |= f.media_type == kVideoType;
      e.doc |= IsDoc(f);
    }
    e.movable = Movable(r);
    live.push_back(std::move(e));
  }

  // The plan: disjoint sets drawn from the live resources in a random order.
  Random plan(Mix(g.seed, "plan" + rev));
  std::vector<size_t> order(live.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Shuffle(plan, &order);
  std::vector<bool> taken(live.size(), false);
  auto take = [&](uint64_t count, auto eligible) {
    std::vector<std::string> out;
    for (size_t i : order) {
      if (out.size() >= count) break;
      if (taken[i] || !eligible(live[i])) continue;
      taken[i] = true;
      out.push_back(live[i].id);
    }
    return Sorted(std::move(out));
  };
  const uint64_t n = live.size();
  CatalogChanges c;
  c.revision = revision;
  c.inserted = take(Share(n, 5), [](const Entry& e) { return e.video; });
  c.appended = take(Share(n, 5), [](const Entry& e) { return e.doc; });
  c.moved = take(Share(n, 5), [](const Entry& e) { return e.movable; });
  c.edited = take(Share(n, 10), [](const Entry&) { return true; });
  c.retired = take(Share(n, 5), [](const Entry&) { return true; });
  const uint64_t added = Share(n, 20);
  const uint64_t total = c.inserted.size() + c.appended.size() + c.moved.size() + c.edited.size() +
                         c.retired.size() + added;
  uint64_t done = 0;
  auto step = [&] {
    if (progress) progress(++done, total);
  };

  // Carry it out, one resource at a time.
  for (const std::string& id : c.inserted) {
    TS_ASSIGN_OR_RETURN(Resource r, ReadRecord(env, dir, id));
    Random rng(Mix(Mix(g.seed, id), "insert" + rev));
    auto f = std::find_if(r.files.begin(), r.files.end(),
                          [](const ResourceFile& f) { return f.media_type == kVideoType; });
    if (f == r.files.end()) return CorruptionError(RecordPath(dir, id) + ": has no video any more");
    // A few KB, at most a quarter of the file (sample files may be tiny).
    uint64_t extra = std::min(Between(rng, 1024, 8192), std::max<uint64_t>(16, f->size / 4));
    uint64_t offset = f->size / 4 + rng.Uniform(f->size / 2 + 1);
    TS_RETURN_IF_ERROR(Splice(env, JoinPath(MediaDir(dir, id), f->name), &*f, offset,
                              SampleKind::kMedia, extra, rng.Next()));
    c.bytes_written += f->size;
    TS_RETURN_IF_ERROR(WriteFast(env, RecordPath(dir, id), EncodeResource(r), true));
    step();
  }
  for (const std::string& id : c.appended) {
    TS_ASSIGN_OR_RETURN(Resource r, ReadRecord(env, dir, id));
    Random rng(Mix(Mix(g.seed, id), "append" + rev));
    std::vector<ResourceFile*> docs;
    for (ResourceFile& f : r.files) {
      if (IsDoc(f)) docs.push_back(&f);
    }
    if (docs.empty()) return CorruptionError(RecordPath(dir, id) + ": has no document any more");
    ResourceFile* f = Pick(rng, docs);
    // An added chapter or slides: 2-7% more, at least 64 bytes.
    uint64_t extra =
        std::max<uint64_t>(kMinFileBytes, f->size / 50 + rng.Uniform(f->size / 20 + 1));
    TS_RETURN_IF_ERROR(Splice(env, JoinPath(MediaDir(dir, id), f->name), f, f->size,
                              SampleKind::kText, extra, rng.Next()));
    c.bytes_written += f->size;
    TS_RETURN_IF_ERROR(WriteFast(env, RecordPath(dir, id), EncodeResource(r), true));
    step();
  }
  for (const std::string& id : c.moved) {
    TS_ASSIGN_OR_RETURN(Resource r, ReadRecord(env, dir, id));
    Random rng(Mix(Mix(g.seed, id), "move" + rev));
    Move(rng, &r);
    TS_RETURN_IF_ERROR(catalogs::ValidateResource(r, catalogs::Taxonomy::Builtin(),
                                                  catalogs::RegionTable::Builtin()));
    TS_RETURN_IF_ERROR(WriteFast(env, RecordPath(dir, id), EncodeResource(r), true));
    step();
  }
  for (const std::string& id : c.edited) {
    TS_ASSIGN_OR_RETURN(Resource r, ReadRecord(env, dir, id));
    Edit(revision, &r);
    TS_RETURN_IF_ERROR(WriteFast(env, RecordPath(dir, id), EncodeResource(r), true));
    step();
  }
  for (const std::string& id : c.retired) {
    TS_ASSIGN_OR_RETURN(Resource r, ReadRecord(env, dir, id));
    r.retired = true;
    TS_RETURN_IF_ERROR(WriteFast(env, RecordPath(dir, id), EncodeResource(r), true));
    step();
  }
  Random mix_rng(Mix(g.seed, "mix" + rev));
  for (Kind kind : KindMix(added, mix_rng)) {
    Draft d = maker.Make(kind, ids.Next());
    TS_RETURN_IF_ERROR(WriteDraft(env, dir, g.seed, &d, /*replace=*/true, &c.bytes_written));
    c.added.push_back(d.r.id);
    step();
  }
  std::sort(c.added.begin(), c.added.end());
  c.changed = c.edited;
  c.changed.insert(c.changed.end(), c.inserted.begin(), c.inserted.end());
  c.changed.insert(c.changed.end(), c.appended.begin(), c.appended.end());
  std::sort(c.changed.begin(), c.changed.end());
  c.resources = records + c.added.size();

  TS_RETURN_IF_ERROR(WriteChanges(env, dir, c));
  g.revision = revision;
  TS_RETURN_IF_ERROR(WriteGeneratorJson(env, dir, g));
  return c;
}

}  // namespace tiersync::hub
