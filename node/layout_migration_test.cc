#include "node/layout_migration.h"

#include <gtest/gtest.h>

#include <map>

#include "base/bytes.h"
#include "base/fault_env.h"
#include "base/layout_version.h"
#include "base/mem_env.h"
#include "base/random.h"
#include "node/child_reports.h"

namespace tiersync::node {
namespace {

constexpr uint64_t kSeed = 20270119;
const NodePaths kPaths("/n");

// A child report and a release.json exactly as tiersync 0.1.0 (layout 1) wrote them.
constexpr std::string_view kReportV1 = R"({
  "name": "西湖小学分校",
  "received_at": 1760000000,
  "region": "330106",
  "rolled_up": "platform = k12 and stage = 小学",
  "subscription": "platform = k12 and stage = 小学",
  "tier": "school"
})";
constexpr std::string_view kReleaseV1 = R"({
  "bytes": 5210,
  "files": 4,
  "release": "r1",
  "switched_at": 1760000100,
  "version": 3
})";
constexpr std::string_view kReleaseDir = "3-0a1b2c3d";

std::string Read(Env* env, const std::string& path) {
  auto bytes = ReadFileToBytes(env, path, 1 << 20);
  return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : "<" + bytes.status().ToString();
}

void Write(Env* env, const std::string& path, std::string_view text) {
  ASSERT_TRUE(WriteFileAtomically(env, path, AsBytes(text)).ok()) << path;
}

void MakeDir(Env* env, const std::string& dir) {
  ASSERT_TRUE(env->CreateDir(dir).ok()) << dir;
  ASSERT_TRUE(env->SyncDir(DirName(dir)).ok());
}

std::string ReleaseJson() {
  return JoinPath(JoinPath(kPaths.releases, std::string(kReleaseDir)), "release.json");
}

// A layout-1 node directory (only the parts the migration reads), durable.
void MakeVersion1(Env* env) {
  for (const std::string& d : {kPaths.dir, kPaths.children, kPaths.releases,
                               JoinPath(kPaths.releases, std::string(kReleaseDir))}) {
    MakeDir(env, d);
  }
  Write(env, JoinPath(kPaths.children, "0123456789abcdef.json"), kReportV1);
  Write(env, JoinPath(kPaths.children, "fedcba9876543210.json"), "{not json");
  Write(env, ReleaseJson(), kReleaseV1);
  Write(env, kPaths.current, std::string(kReleaseDir) + "\n");
  Write(env, kPaths.marker, "tiersync-node 1\n");
}

// Every file below `dir`, by path.
void Snapshot(Env* env, const std::string& dir, std::map<std::string, std::string>* out) {
  auto names = env->GetChildren(dir);
  if (!names.ok()) {
    (*out)[dir] = Read(env, dir);
    return;
  }
  for (const auto& n : *names) Snapshot(env, JoinPath(dir, n), out);
}

// What a migrated node must hold: NODE 2, the report and the release with their formats and
// the same content, the damaged report untouched, CURRENT readable. "" if so.
std::string Migrated(Env* env) {
  if (Read(env, kPaths.marker) != "tiersync-node 2\n") return "NODE: " + Read(env, kPaths.marker);
  const std::string report = Read(env, JoinPath(kPaths.children, "0123456789abcdef.json"));
  if (report.find("\"format\": \"tiersync-child-report 1\"") == std::string::npos) {
    return "report: " + report;
  }
  auto decoded = DecodeChildReport(report);
  auto original = DecodeChildReport(kReportV1);
  if (!decoded.ok() || EncodeChildReport(*decoded) != EncodeChildReport(*original)) {
    return "report content: " + report;
  }
  if (Read(env, JoinPath(kPaths.children, "fedcba9876543210.json")) != "{not json") {
    return "the damaged report was changed";
  }
  const std::string release = Read(env, ReleaseJson());
  if (release.find("\"format\": \"tiersync-release 1\"") == std::string::npos) {
    return "release.json: " + release;
  }
  auto current = ReadCurrent(env, kPaths);
  if (!current.ok() || !current->has_value() || (*current)->release != "r1" ||
      (*current)->version != 3 || (*current)->files != 4 || (*current)->bytes != 5210 ||
      (*current)->switched_at != 1760000100) {
    return "CURRENT: " + (current.ok() ? std::string("wrong") : current.status().ToString());
  }
  return "";
}

TEST(NodeLayoutMigrationTest, MigratesAVersion1Node) {
  MemEnv env;
  MakeVersion1(&env);
  ASSERT_TRUE(CheckNodeLayout(&env, kPaths).ok());
  std::vector<std::string> log;
  ASSERT_TRUE(
      MigrateNodeLayout(&env, kPaths, [&](const std::string& l) { log.push_back(l); }).ok());
  EXPECT_EQ(Migrated(&env), "");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("from layout version 1 to 2"), std::string::npos) << log[0];
}

TEST(NodeLayoutMigrationTest, CurrentLayoutIsLeftAsItIs) {
  MemEnv env;
  MakeVersion1(&env);
  ASSERT_TRUE(MigrateNodeLayout(&env, kPaths, nullptr).ok());
  std::map<std::string, std::string> before, after;
  Snapshot(&env, "/n", &before);
  std::vector<std::string> log;
  ASSERT_TRUE(
      MigrateNodeLayout(&env, kPaths, [&](const std::string& l) { log.push_back(l); }).ok());
  Snapshot(&env, "/n", &after);
  EXPECT_EQ(before, after);
  EXPECT_TRUE(log.empty());
}

TEST(NodeLayoutMigrationTest, NewerLayoutIsRefusedAndNothingChanges) {
  MemEnv env;
  MakeVersion1(&env);
  Write(&env, kPaths.marker, "tiersync-node 3\n");
  std::map<std::string, std::string> before, after;
  Snapshot(&env, "/n", &before);
  Status check = CheckNodeLayout(&env, kPaths);
  EXPECT_EQ(check.code(), StatusCode::kNewerFormat);
  EXPECT_NE(check.message().find("upgrade tiersync"), std::string::npos) << check.message();
  EXPECT_EQ(MigrateNodeLayout(&env, kPaths, nullptr).code(), StatusCode::kNewerFormat);
  Snapshot(&env, "/n", &after);
  EXPECT_EQ(before, after);
}

TEST(NodeLayoutMigrationTest, ANewerStoreIsRefusedBeforeTheLock) {
  MemEnv env;
  MakeVersion1(&env);
  MakeDir(&env, kPaths.store);
  Write(&env, JoinPath(kPaths.store, "STORE"), "tiersync-chunk-store 1\n");
  EXPECT_TRUE(CheckNodeLayout(&env, kPaths).ok());
  Write(&env, JoinPath(kPaths.store, "STORE"), "tiersync-chunk-store 2\n");
  Status s = CheckNodeLayout(&env, kPaths);
  EXPECT_EQ(s.code(), StatusCode::kNewerFormat);
  EXPECT_NE(s.message().find("chunk store /n/store"), std::string::npos) << s.message();
  EXPECT_EQ(MigrateNodeLayout(&env, kPaths, nullptr).code(), StatusCode::kNewerFormat);
  EXPECT_EQ(Read(&env, kPaths.marker), "tiersync-node 1\n");
}

TEST(NodeLayoutMigrationTest, NotANode) {
  MemEnv env;
  MakeDir(&env, "/n");
  EXPECT_EQ(CheckNodeLayout(&env, kPaths).code(), StatusCode::kFailedPrecondition);
  Write(&env, kPaths.marker, "tiersync-hub 1\n");
  EXPECT_EQ(CheckNodeLayout(&env, kPaths).code(), StatusCode::kCorruption);
}

TEST(NodeLayoutMigrationTest, ANewerReleaseFileIsNotReadAsAnOldOne) {
  auto r = DecodeServedRelease(R"({"format": "tiersync-release 2", "version": 3,
      "release": "r1", "files": 4, "bytes": 5210, "switched_at": 1760000100})");
  EXPECT_EQ(r.status().code(), StatusCode::kNewerFormat);
}

// Crash at every Env operation of the migration (power loss, a torn last write), then open
// again: the next migration always ends in the complete layout 2 with nothing lost.
TEST(NodeLayoutMigrationTest, EveryCrashPointOfTheMigrationRecovers) {
  uint64_t k = 1;
  for (; k < 10000; ++k) {
    MemEnv mem;
    MakeVersion1(&mem);
    FaultEnv fault(&mem, kSeed + k);
    fault.CrashAtOperation(k);
    Status first = MigrateNodeLayout(&fault, kPaths, nullptr);
    const bool finished = first.ok() && !fault.crashed();
    Random tear(kSeed ^ k);
    mem.SimulateCrash(&tear);
    fault.ResetCounters();
    ASSERT_TRUE(CheckNodeLayout(&fault, kPaths).ok()) << "crash at operation " << k;
    Status again = MigrateNodeLayout(&fault, kPaths, nullptr);
    ASSERT_TRUE(again.ok()) << "crash at operation " << k << ": " << again.ToString();
    ASSERT_EQ(Migrated(&mem), "") << "crash at operation " << k;
    if (finished) break;
  }
  EXPECT_GT(k, 15u);  // the migration was crashed at many points, each rename among them
}

}  // namespace
}  // namespace tiersync::node
