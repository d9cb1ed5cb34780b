#include "hub/sample_catalog.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "base/mem_env.h"
#include "base/sha256.h"
#include "catalogs/region_table.h"
#include "catalogs/resource.h"
#include "catalogs/taxonomy.h"
#include "tests/testing/temp_dir.h"

namespace tiersync::hub {
namespace {

using catalogs::Placement;
using catalogs::Resource;
using catalogs::ResourceFile;

// Every file under `dir`, by path relative to it, with its bytes.
void ReadTree(Env* env, const std::string& dir, const std::string& rel,
              std::map<std::string, std::string>* out) {
  Result<std::vector<std::string>> children = env->GetChildren(dir);
  if (!children.ok()) {  // a file
    Result<std::vector<uint8_t>> bytes = ReadFileToBytes(env, dir, 64 << 20);
    ASSERT_TRUE(bytes.ok()) << dir << ": " << bytes.status().ToString();
    (*out)[rel] = std::string(bytes->begin(), bytes->end());
    return;
  }
  for (const std::string& name : *children) {
    ReadTree(env, JoinPath(dir, name), rel.empty() ? name : rel + "/" + name, out);
  }
}

std::map<std::string, std::string> Tree(Env* env, const std::string& dir) {
  std::map<std::string, std::string> out;
  ReadTree(env, dir, "", &out);
  return out;
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.starts_with(prefix); }

// The records of a catalog, by id, parsed from a tree; checks the file name and that the bytes
// are exactly what EncodeResource() writes.
std::map<std::string, Resource> Records(const std::map<std::string, std::string>& tree) {
  std::map<std::string, Resource> out;
  for (const auto& [path, bytes] : tree) {
    if (!StartsWith(path, "resources/")) continue;
    Result<Resource> r = catalogs::ParseResource(bytes, path, catalogs::RecordSource::kInput);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) continue;
    EXPECT_EQ(path, "resources/" + r->id + ".json");
    EXPECT_EQ(catalogs::EncodeResource(*r), bytes) << path;
    out[r->id] = *r;
  }
  return out;
}

std::string Media(const std::map<std::string, std::string>& tree, const std::string& id,
                  const std::string& name) {
  auto it = tree.find("media/" + id + "/" + name);
  return it == tree.end() ? "<missing>" : it->second;
}

// The bytes on disk are what the record says.
void ExpectMediaMatches(const std::map<std::string, std::string>& tree, const Resource& r) {
  for (const ResourceFile& f : r.files) {
    std::string bytes = Media(tree, r.id, f.name);
    EXPECT_EQ(bytes.size(), f.size) << r.id << "/" << f.name;
    EXPECT_EQ(ToHex(Sha256(AsBytes(bytes))), ToHex(f.sha256)) << r.id << "/" << f.name;
  }
}

CatalogChanges Generate(Env* env, const std::string& dir, uint64_t n, uint64_t seed, double scale) {
  CatalogGenOptions o;
  o.resources = n;
  o.seed = seed;
  o.size_scale = scale;
  Result<CatalogChanges> c = GenerateCatalog(env, dir, o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : CatalogChanges{};
}

CatalogChanges NextRelease(Env* env, const std::string& dir) {
  Result<CatalogChanges> c = GenerateNextRelease(env, dir);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : CatalogChanges{};
}

bool IsLink(const Resource& r) { return r.link.has_value(); }
bool HasTag(const Resource& r, const std::string& tag) {
  return std::find(r.facets.tags.begin(), r.facets.tags.end(), tag) != r.facets.tags.end();
}
const ResourceFile* FindFile(const Resource& r, const std::string& name) {
  for (const ResourceFile& f : r.files) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string ChangesJson(const CatalogChanges& c) { return EncodePretty(CatalogChangesToJson(c)); }

TEST(SampleCatalogTest, SameSeedGivesByteIdenticalDirectory) {
  MemEnv env;
  CatalogChanges a = Generate(&env, "/a", 300, 5, 1e-5);
  CatalogChanges b = Generate(&env, "/b", 300, 5, 1e-5);
  EXPECT_EQ(ChangesJson(a), ChangesJson(b));
  std::map<std::string, std::string> ta = Tree(&env, "/a");
  size_t records = 0;
  for (const auto& [path, bytes] : ta) {
    records += StartsWith(path, "resources/");
    EXPECT_TRUE(path == "generator.json" || path == "changes.json" ||
                StartsWith(path, "resources/") || StartsWith(path, "media/"))
        << path;
  }
  EXPECT_EQ(records, 300u);
  EXPECT_EQ(ta, Tree(&env, "/b"));

  // The real file system gives the same bytes as the in-memory one.
  testing::TempDir tmp;
  Generate(Env::Default(), tmp.Sub("cat"), 300, 5, 1e-5);
  EXPECT_EQ(ta, Tree(Env::Default(), tmp.Sub("cat")));

  // Another seed, another catalog.
  Generate(&env, "/c", 300, 6, 1e-5);
  std::map<std::string, std::string> tc = Tree(&env, "/c");
  EXPECT_NE(Records(ta), Records(tc));
}

TEST(SampleCatalogTest, GeneratorAndChangesFiles) {
  MemEnv env;
  int calls = 0;
  uint64_t last_done = 0, last_total = 0;
  CatalogGenOptions o;
  o.resources = 120;
  o.seed = 77;
  o.size_scale = 0.0001;
  o.progress = [&](uint64_t done, uint64_t total) {
    ++calls;
    EXPECT_EQ(done, last_done + 1);
    last_done = done;
    last_total = total;
  };
  Result<CatalogChanges> c = GenerateCatalog(&env, "/x/y/cat", o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(calls, 120);
  EXPECT_EQ(last_total, 120u);
  EXPECT_EQ(c->revision, 1);
  EXPECT_EQ(c->resources, 120u);
  EXPECT_EQ(c->added.size(), 120u);
  EXPECT_TRUE(std::is_sorted(c->added.begin(), c->added.end()));
  EXPECT_TRUE(c->changed.empty() && c->retired.empty() && c->moved.empty());
  EXPECT_GT(c->bytes_written, 0u);

  std::map<std::string, std::string> tree = Tree(&env, "/x/y/cat");
  EXPECT_EQ(tree["generator.json"],
            "{\n  \"format\": \"tiersync-demo-catalog 1\",\n  \"resources\": 120,\n  "
            "\"revision\": 1,\n  \"seed\": 77,\n  \"size_scale\": \"0.0001\"\n}\n");
  EXPECT_EQ(tree["changes.json"], ChangesJson(*c));
  std::vector<std::string> ids;
  for (const auto& [id, r] : Records(tree)) ids.push_back(id);
  EXPECT_EQ(ids, c->added);
}

class SampleCatalog2000Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = new MemEnv;
    changes_ = new CatalogChanges(Generate(env_, "/cat", 2000, 11, 1e-6));
    tree_ = new std::map<std::string, std::string>(Tree(env_, "/cat"));
    records_ = new std::map<std::string, Resource>(Records(*tree_));
  }
  static void TearDownTestSuite() {
    delete records_;
    delete tree_;
    delete changes_;
    delete env_;
  }

  static MemEnv* env_;
  static CatalogChanges* changes_;
  static std::map<std::string, std::string>* tree_;
  static std::map<std::string, Resource>* records_;
};

MemEnv* SampleCatalog2000Test::env_ = nullptr;
CatalogChanges* SampleCatalog2000Test::changes_ = nullptr;
std::map<std::string, std::string>* SampleCatalog2000Test::tree_ = nullptr;
std::map<std::string, Resource>* SampleCatalog2000Test::records_ = nullptr;

TEST_F(SampleCatalog2000Test, EveryRecordParsesAndValidates) {
  ASSERT_EQ(records_->size(), 2000u);
  for (const auto& [id, r] : *records_) {
    EXPECT_TRUE(
        ValidateResource(r, catalogs::Taxonomy::Builtin(), catalogs::RegionTable::Builtin()).ok())
        << ValidateResource(r, catalogs::Taxonomy::Builtin(), catalogs::RegionTable::Builtin())
               .ToString();
    ASSERT_EQ(id.size(), 12u);
    EXPECT_TRUE(StartsWith(id, "k12-")) << id;
    EXPECT_TRUE(std::all_of(id.begin() + 4, id.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    })) << id;
    EXPECT_EQ(r.origin, "national");
    EXPECT_EQ(r.review, catalogs::ReviewState::kApproved);
    EXPECT_EQ(r.language, "zh-CN");
    EXPECT_FALSE(r.retired);
    EXPECT_FALSE(r.title.empty());
    EXPECT_FALSE(r.provider.empty());
    EXPECT_GE(r.facets.tags.size(), 2u) << id;
    EXPECT_EQ(r.files.empty(), IsLink(r)) << id;
    for (const ResourceFile& f : r.files) EXPECT_FALSE(f.chunk_index.has_value());
    ExpectMediaMatches(*tree_, r);
  }
}

TEST_F(SampleCatalog2000Test, ProportionsFollowThePlatform) {
  std::map<std::string, int> kinds;
  std::set<std::string> editions, lesson_subjects;
  int with_courseware = 0, with_exercises = 0;
  for (const auto& [id, r] : *records_) {
    const Placement& p = r.placements.front();
    if (IsLink(r)) {
      ++kinds["link"];
    } else if (p.board == "课程教学" && HasTag(r, "电子教材")) {
      ++kinds["textbook"];
      ASSERT_EQ(r.files.size(), 1u);
      EXPECT_EQ(r.files[0].name, "textbook.pdf");
      EXPECT_EQ(r.files[0].media_type, "application/pdf");
      EXPECT_FALSE(r.facets.volume.empty());
      EXPECT_TRUE(r.facets.lesson.empty());
    } else if (p.board == "课程教学") {
      ++kinds["lesson"];
      EXPECT_EQ(p.category, r.facets.stage);
      EXPECT_NE(r.facets.grade, 0);
      EXPECT_FALSE(r.facets.subject.empty() || r.facets.edition.empty() ||
                   r.facets.volume.empty() || r.facets.lesson.empty())
          << id;
      editions.insert(r.facets.edition);
      lesson_subjects.insert(r.facets.subject);
      ASSERT_NE(FindFile(r, "lesson.mp4"), nullptr) << id;
      EXPECT_EQ(FindFile(r, "lesson.mp4")->media_type, "video/mp4");
      if (const ResourceFile* f = FindFile(r, "courseware.pptx")) {
        ++with_courseware;
        EXPECT_EQ(f->media_type,
                  "application/vnd.openxmlformats-officedocument.presentationml.presentation");
      }
      if (const ResourceFile* f = FindFile(r, "exercises.pdf")) {
        ++with_exercises;
        EXPECT_EQ(f->media_type, "application/pdf");
      }
    } else {
      ++kinds[p.board];
    }
  }
  auto near = [&](const std::string& kind, double share) {
    double expected = 2000 * share;
    EXPECT_NEAR(kinds[kind], expected, expected * 0.2 + 2) << kind;
  };
  near("lesson", 0.70);
  near("textbook", 0.06);
  near("专题教育", 0.05);
  near("课后服务", 0.04);
  near("教师研修", 0.05);
  near("家庭教育", 0.02);
  near("教改实践经验", 0.03);
  near("link", 0.005);
  EXPECT_NEAR(kinds["体育"] + kinds["美育"] + kinds["劳动教育"], 60, 14);
  EXPECT_GT(kinds["体育"], 0);
  EXPECT_GT(kinds["美育"], 0);
  EXPECT_GT(kinds["劳动教育"], 0);
  EXPECT_EQ(editions.size(), catalogs::Taxonomy::Builtin().editions().size());
  EXPECT_GE(lesson_subjects.size(), 15u);
  EXPECT_NEAR(with_courseware, kinds["lesson"] * 0.7, kinds["lesson"] * 0.1);
  EXPECT_NEAR(with_exercises, kinds["lesson"] * 0.3, kinds["lesson"] * 0.1);
}

TEST_F(SampleCatalog2000Test, MultiPlacementLinksAndPriority) {
  int multi_platform = 0, special_after_school = 0, links = 0, priority = 0;
  std::set<std::string> sites;
  for (const auto& [id, r] : *records_) {
    std::set<std::string> platforms;
    for (const Placement& p : r.placements) platforms.insert(p.platform);
    if (platforms.size() > 1) {
      ++multi_platform;
      EXPECT_TRUE(platforms.count("k12")) << id;
      for (const Placement& p : r.placements) {
        EXPECT_EQ(p.board, r.placements[0].board) << id;
        EXPECT_EQ(p.category, r.placements[0].category) << id;
      }
    }
    if (r.placements.size() == 2 && r.placements[0].board == "专题教育" &&
        r.placements[1].board == "课后服务") {
      ++special_after_school;
    }
    if (IsLink(r)) {
      ++links;
      EXPECT_TRUE(StartsWith(r.link->url, "https://site")) << r.link->url;
      EXPECT_NE(r.link->url.find(".example.edu.cn/"), std::string::npos) << r.link->url;
      EXPECT_FALSE(r.link->site.empty());
      sites.insert(r.link->site);
    }
    bool in_priority_category = false;
    for (const Placement& p : r.placements) {
      in_priority_category |=
          p.board == "专题教育" && (p.category == "心理健康教育" || p.category == "生命与安全教育");
    }
    EXPECT_EQ(r.priority, in_priority_category) << id;
    priority += r.priority;
  }
  EXPECT_GE(multi_platform, 40);
  EXPECT_GE(special_after_school, 15);
  EXPECT_GE(links, 8);
  EXPECT_GE(sites.size(), 5u);
  EXPECT_GE(priority, 10);
}

TEST(SampleCatalogTest, SizesScale) {
  constexpr double kMiB = 1 << 20;
  MemEnv env;
  Generate(&env, "/big", 200, 3, 1e-4);
  Generate(&env, "/small", 200, 3, 1e-5);
  Generate(&env, "/tiny", 50, 3, 1e-7);
  std::map<std::string, Resource> big = Records(Tree(&env, "/big"));
  std::map<std::string, Resource> small = Records(Tree(&env, "/small"));
  ASSERT_EQ(big.size(), 200u);
  uint64_t big_video = 0, small_video = 0;
  for (const auto& [id, r] : big) {
    ASSERT_TRUE(small.count(id)) << "ids do not depend on the size scale";
    const Resource& s = small.at(id);
    ASSERT_EQ(r.files.size(), s.files.size());
    for (size_t i = 0; i < r.files.size(); ++i) {
      const ResourceFile& f = r.files[i];
      double lo = 0, hi = 0;
      if (f.media_type == "video/mp4") {
        lo = 50, hi = 500;
      } else if (f.media_type == "application/pdf") {
        lo = 5, hi = 100;
      } else {
        lo = 1, hi = 50;
      }
      EXPECT_GE(f.size, std::max(64.0, lo * kMiB * 1e-4) - 1) << id << "/" << f.name;
      EXPECT_LE(f.size, std::max(64.0, hi * kMiB * 1e-4) + 1) << id << "/" << f.name;
      if (s.files[i].size > 64) {
        EXPECT_NEAR(static_cast<double>(f.size) / 10, static_cast<double>(s.files[i].size), 1);
      }
      if (f.media_type == "video/mp4") {
        big_video += f.size;
        small_video += s.files[i].size;
      }
    }
  }
  EXPECT_NEAR(static_cast<double>(big_video) / static_cast<double>(small_video), 10, 0.01);
  for (const auto& [id, r] : Records(Tree(&env, "/tiny"))) {
    for (const ResourceFile& f : r.files) EXPECT_EQ(f.size, 64u) << "at least 64 bytes a file";
  }
}

// What a revision did, checked from the records and media alone (not from the generator).
void CheckRevision(const std::map<std::string, std::string>& old_tree,
                   const std::map<std::string, std::string>& new_tree, const CatalogChanges& c) {
  std::map<std::string, Resource> before = Records(old_tree), after = Records(new_tree);
  auto as_set = [](const std::vector<std::string>& v) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
    return std::set<std::string>(v.begin(), v.end());
  };
  std::set<std::string> added = as_set(c.added), changed = as_set(c.changed),
                        retired = as_set(c.retired), moved = as_set(c.moved),
                        edited = as_set(c.edited), inserted = as_set(c.inserted),
                        appended = as_set(c.appended);
  // Disjoint; changed is exactly the three kinds.
  std::set<std::string> all;
  size_t sum = 0;
  for (const auto* s : {&added, &retired, &moved, &edited, &inserted, &appended}) {
    all.insert(s->begin(), s->end());
    sum += s->size();
  }
  EXPECT_EQ(all.size(), sum) << "sets overlap";
  std::set<std::string> three = edited;
  three.insert(inserted.begin(), inserted.end());
  three.insert(appended.begin(), appended.end());
  EXPECT_EQ(changed, three);
  EXPECT_EQ(c.resources, after.size());

  for (const auto& [id, r] : after) {
    EXPECT_TRUE(
        ValidateResource(r, catalogs::Taxonomy::Builtin(), catalogs::RegionTable::Builtin()).ok())
        << id;
    if (!before.count(id)) {
      EXPECT_TRUE(added.count(id)) << id << " is new but not in added";
      EXPECT_FALSE(r.retired);
      ExpectMediaMatches(new_tree, r);
    }
  }
  for (const auto& [id, old] : before) {
    ASSERT_TRUE(after.count(id)) << id << " disappeared";
    const Resource& now = after.at(id);
    EXPECT_FALSE(added.count(id)) << id;
    if (old.retired) {
      EXPECT_FALSE(all.count(id)) << id << " was retired before";
    }
    Resource expect_same = now;  // `now` with the allowed change undone must equal `old`
    if (retired.count(id)) {
      EXPECT_TRUE(now.retired) << id;
      expect_same.retired = false;
    } else if (moved.count(id)) {
      EXPECT_NE(now.placements, old.placements) << id;
      expect_same.placements = old.placements;
    } else if (edited.count(id)) {
      EXPECT_NE(now.title, old.title) << id;
      EXPECT_NE(now.facets.tags, old.facets.tags) << id;
      expect_same.title = old.title;
      expect_same.facets.tags = old.facets.tags;
    } else if (inserted.count(id) || appended.count(id)) {
      ASSERT_EQ(now.files.size(), old.files.size()) << id;
      int differing = 0;
      for (size_t i = 0; i < now.files.size(); ++i) {
        const ResourceFile &o = old.files[i], &n = now.files[i];
        EXPECT_EQ(o.name, n.name);
        if (o == n) continue;
        ++differing;
        EXPECT_NE(o.sha256, n.sha256) << id;
        EXPECT_GT(n.size, o.size) << id;
        const std::string ob = Media(old_tree, id, o.name), nb = Media(new_tree, id, n.name);
        if (inserted.count(id)) {
          EXPECT_EQ(n.media_type, "video/mp4") << id;
          EXPECT_LE(n.size - o.size, 8192u) << "a few KB";
          // new = old[0:k] + inserted + old[k:], k in the middle half.
          size_t prefix = 0;
          while (prefix < ob.size() && ob[prefix] == nb[prefix]) ++prefix;
          size_t suffix = 0;
          while (suffix < ob.size() && ob[ob.size() - 1 - suffix] == nb[nb.size() - 1 - suffix]) {
            ++suffix;
          }
          EXPECT_GE(prefix + suffix, ob.size()) << id;
          EXPECT_GE(prefix, ob.size() / 4 - 1) << id;
        } else {
          EXPECT_TRUE(n.media_type == "application/pdf" ||
                      n.media_type ==
                          "application/vnd.openxmlformats-officedocument.presentationml."
                          "presentation")
              << id;
          EXPECT_TRUE(StartsWith(nb, ob)) << id << " was appended to";
        }
      }
      EXPECT_EQ(differing, 1) << id;
      ExpectMediaMatches(new_tree, now);
      expect_same.files = old.files;
    } else {
      // Untouched: same record bytes, same media bytes.
      EXPECT_EQ(new_tree.at("resources/" + id + ".json"), old_tree.at("resources/" + id + ".json"))
          << id;
    }
    EXPECT_EQ(expect_same, old) << id;
    for (const ResourceFile& f : old.files) {
      if (!inserted.count(id) && !appended.count(id)) {
        EXPECT_EQ(Media(new_tree, id, f.name), Media(old_tree, id, f.name)) << id;
      }
    }
  }
}

TEST(SampleCatalogTest, NextReleaseChangesExactlyWhatItSays) {
  MemEnv env;
  CatalogChanges first = Generate(&env, "/cat", 1000, 21, 1e-5);
  std::map<std::string, std::string> t1 = Tree(&env, "/cat");
  CatalogChanges c = NextRelease(&env, "/cat");
  std::map<std::string, std::string> t2 = Tree(&env, "/cat");
  EXPECT_EQ(c.revision, 2);
  EXPECT_EQ(c.edited.size(), 10u);
  EXPECT_EQ(c.inserted.size(), 5u);
  EXPECT_EQ(c.appended.size(), 5u);
  EXPECT_EQ(c.moved.size(), 5u);
  EXPECT_EQ(c.retired.size(), 5u);
  EXPECT_EQ(c.added.size(), 20u);
  EXPECT_EQ(c.changed.size(), 20u);
  EXPECT_EQ(c.resources, 1020u);
  EXPECT_EQ(t2["changes.json"], ChangesJson(c));
  EXPECT_NE(t2["generator.json"].find("\"revision\": 2"), std::string::npos);
  CheckRevision(t1, t2, c);
  // No temporary files are left behind.
  for (const auto& [path, bytes] : t2) EXPECT_FALSE(path.ends_with(".tmp")) << path;
}

TEST(SampleCatalogTest, TwoSuccessiveNextReleasesAreDeterministic) {
  MemEnv env;
  Generate(&env, "/cat", 400, 8, 1e-5);
  CatalogChanges r2 = NextRelease(&env, "/cat");
  std::map<std::string, std::string> t2 = Tree(&env, "/cat");
  CatalogChanges r3 = NextRelease(&env, "/cat");
  std::map<std::string, std::string> t3 = Tree(&env, "/cat");
  EXPECT_EQ(r3.revision, 3);
  EXPECT_NE(t3["generator.json"].find("\"revision\": 3"), std::string::npos);
  CheckRevision(t2, t3, r3);
  for (const std::string& id : r3.added) {
    EXPECT_FALSE(t2.count("resources/" + id + ".json")) << "id " << id << " reused";
  }
  EXPECT_NE(r2.edited, r3.edited);
  EXPECT_EQ(r3.added.size(), 8u);  // 2% of the 406 live ones

  // The same history again gives the same bytes.
  Generate(&env, "/again", 400, 8, 1e-5);
  NextRelease(&env, "/again");
  NextRelease(&env, "/again");
  EXPECT_EQ(Tree(&env, "/again"), t3);
}

TEST(SampleCatalogTest, RefusesToOverwriteAndChecksInput) {
  MemEnv env;
  Generate(&env, "/cat", 10, 1, 1e-6);
  CatalogGenOptions o;
  o.resources = 10;
  EXPECT_EQ(GenerateCatalog(&env, "/cat", o).status().code(), StatusCode::kAlreadyExists);

  // Leftovers of an interrupted run.
  ASSERT_TRUE(env.RemoveFile("/cat/generator.json").ok());
  EXPECT_EQ(GenerateCatalog(&env, "/cat", o).status().code(), StatusCode::kAlreadyExists);

  EXPECT_EQ(GenerateNextRelease(&env, "/cat").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(GenerateNextRelease(&env, "/nowhere").status().code(), StatusCode::kNotFound);

  for (auto bad : {std::make_tuple(uint64_t{0}, uint64_t{1}, 1e-4),
                   std::make_tuple(kMaxSampleResources + 1, uint64_t{1}, 1e-4),
                   std::make_tuple(uint64_t{10}, uint64_t{1} << 63, 1e-4),
                   std::make_tuple(uint64_t{10}, uint64_t{1}, 0.0),
                   std::make_tuple(uint64_t{10}, uint64_t{1}, 1.5)}) {
    o.resources = std::get<0>(bad);
    o.seed = std::get<1>(bad);
    o.size_scale = std::get<2>(bad);
    EXPECT_EQ(GenerateCatalog(&env, "/fresh", o).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(env.FileExists("/fresh/generator.json"));

  // A broken generator.json.
  ASSERT_TRUE(WriteFileAtomically(&env, "/cat/generator.json", AsBytes("{\"format\": 1}")).ok());
  EXPECT_EQ(GenerateNextRelease(&env, "/cat").status().code(), StatusCode::kCorruption);
}

TEST(SampleCatalogTest, NextReleaseRefusesMediaThatDoNotMatchTheirRecords) {
  MemEnv env;
  Generate(&env, "/cat", 100, 2, 1e-6);
  // Overwrite every video with other bytes of the same size: the insertion must notice.
  for (const auto& [id, r] : Records(Tree(&env, "/cat"))) {
    for (const ResourceFile& f : r.files) {
      if (f.media_type != "video/mp4") continue;
      std::string path = "/cat/media/" + id + "/" + f.name;
      ASSERT_TRUE(WriteFileAtomically(&env, path, AsBytes(std::string(f.size, 'x'))).ok());
    }
  }
  EXPECT_EQ(GenerateNextRelease(&env, "/cat").status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tiersync::hub
