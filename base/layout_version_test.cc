#include "base/layout_version.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/fault_env.h"
#include "base/mem_env.h"
#include "base/random.h"

namespace tiersync {
namespace {

constexpr std::string_view kKind = "tiersync-test";
constexpr uint64_t kSeed = 20270118;

std::string Read(Env* env, const std::string& path) {
  auto bytes = ReadFileToBytes(env, path, 1 << 20);
  return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : "<" + bytes.status().ToString();
}

void Write(Env* env, const std::string& path, std::string_view text) {
  ASSERT_TRUE(WriteFileAtomically(env, path, AsBytes(text)).ok());
}

TEST(LayoutVersionTest, ReadsAMarker) {
  MemEnv env;
  Write(&env, "/M", "tiersync-test 12\n");
  EXPECT_EQ(*ReadLayoutVersion(&env, "/M", kKind), 12);
  EXPECT_EQ(LayoutMarker(kKind, 12), "tiersync-test 12\n");
}

TEST(LayoutVersionTest, MissingMarkerIsNotFound) {
  MemEnv env;
  EXPECT_EQ(ReadLayoutVersion(&env, "/M", kKind).status().code(), StatusCode::kNotFound);
}

TEST(LayoutVersionTest, MalformedMarkersAreCorruption) {
  MemEnv env;
  for (std::string_view bad : {"tiersync-other 1\n", "tiersync-test\n", "tiersync-test 0\n",
                               "tiersync-test -1\n", "tiersync-test 1x\n", "tiersync-test  1\n",
                               "tiersync-testing 1\n", "", "tiersync-test 99999999999999\n"}) {
    Write(&env, "/M", bad);
    EXPECT_EQ(ReadLayoutVersion(&env, "/M", kKind).status().code(), StatusCode::kCorruption)
        << bad;
  }
}

TEST(LayoutVersionTest, NewerLayoutIsRefusedWithWhatToDo) {
  EXPECT_TRUE(CheckLayoutVersion(1, 2, "node /n", "/n/NODE").ok());
  EXPECT_TRUE(CheckLayoutVersion(2, 2, "node /n", "/n/NODE").ok());
  Status s = CheckLayoutVersion(3, 2, "node /n", "/n/NODE");
  EXPECT_EQ(s.code(), StatusCode::kNewerFormat);
  EXPECT_TRUE(s.local());
  for (std::string_view part : {"node /n", "version 3", "up to 2", "/n/NODE", "upgrade tiersync"}) {
    EXPECT_NE(s.message().find(part), std::string::npos) << part << " in " << s.message();
  }
}

// Steps 1->2 and 2->3 each rewrite one file; the log says which ran.
struct Fixture {
  explicit Fixture(Env* env) : env(env) {}
  std::vector<MigrationStep> Steps() {
    return {{1, "a", [this] { return WriteFileAtomically(env, "/d/a", AsBytes("A2")); }},
            {2, "b", [this] { return WriteFileAtomically(env, "/d/b", AsBytes("B3")); }}};
  }
  Status Migrate() {
    return MigrateLayout(env, "/d/M", kKind, "test /d", 3, Steps(),
                         [this](const std::string& line) { log.push_back(line); });
  }
  Env* env;
  std::vector<std::string> log;
};

void MakeVersion1(Env* env) {
  ASSERT_TRUE(env->CreateDir("/d").ok());
  ASSERT_TRUE(env->SyncDir("/").ok());
  Write(env, "/d/a", "A1");
  Write(env, "/d/b", "B1");
  Write(env, "/d/M", LayoutMarker(kKind, 1));
}

TEST(LayoutVersionTest, MigratesStepByStepAndBumpsTheMarker) {
  MemEnv env;
  MakeVersion1(&env);
  Fixture f(&env);
  ASSERT_TRUE(f.Migrate().ok());
  EXPECT_EQ(Read(&env, "/d/M"), "tiersync-test 3\n");
  EXPECT_EQ(Read(&env, "/d/a"), "A2");
  EXPECT_EQ(Read(&env, "/d/b"), "B3");
  ASSERT_EQ(f.log.size(), 2u);
  EXPECT_NE(f.log[0].find("from layout version 1 to 2: a"), std::string::npos) << f.log[0];
  // Current: nothing runs.
  ASSERT_TRUE(f.Migrate().ok());
  EXPECT_EQ(f.log.size(), 2u);
}

TEST(LayoutVersionTest, NewerLayoutIsNotTouched) {
  MemEnv env;
  MakeVersion1(&env);
  Write(&env, "/d/M", LayoutMarker(kKind, 4));
  Fixture f(&env);
  EXPECT_EQ(f.Migrate().code(), StatusCode::kNewerFormat);
  EXPECT_EQ(Read(&env, "/d/a"), "A1");
  EXPECT_EQ(Read(&env, "/d/M"), "tiersync-test 4\n");
  EXPECT_TRUE(f.log.empty());
}

TEST(LayoutVersionTest, AMissingStepIsNotSupported) {
  MemEnv env;
  MakeVersion1(&env);
  Status s = MigrateLayout(&env, "/d/M", kKind, "test /d", 2, {}, nullptr);
  EXPECT_EQ(s.code(), StatusCode::kNotSupported);
  EXPECT_EQ(Read(&env, "/d/M"), "tiersync-test 1\n");
}

TEST(LayoutVersionTest, AFailedStepLeavesTheMarker) {
  MemEnv env;
  MakeVersion1(&env);
  Status s = MigrateLayout(&env, "/d/M", kKind, "test /d", 2,
                           {{1, "fails", [] { return IOError("disk"); }}}, nullptr);
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_EQ(Read(&env, "/d/M"), "tiersync-test 1\n");
}

// Crash at every operation of a migration, power loss, migrate again: the result is always
// the fully migrated layout. `durable_step` false makes step 1 skip its fsync (a step that
// breaks the rules): the loop must then find a marker that says 2 over a file that is not.
bool EveryCrashPointRecovers(bool durable_step, uint64_t* points) {
  for (uint64_t k = 1; k < 1000; ++k) {
    MemEnv mem;
    MakeVersion1(&mem);
    FaultEnv fault(&mem, kSeed + k);
    std::vector<MigrationStep> steps = {
        {1, "a",
         [&] {
           if (durable_step) return WriteFileAtomically(&fault, "/d/a", AsBytes("A2"));
           TS_ASSIGN_OR_RETURN(auto f, fault.NewWritableFile("/d/a.tmp"));
           TS_RETURN_IF_ERROR(f->Append(AsBytes("A2")));
           TS_RETURN_IF_ERROR(f->Close());
           return fault.RenameFile("/d/a.tmp", "/d/a");
         }},
        {2, "b", [&] { return WriteFileAtomically(&fault, "/d/b", AsBytes("B3")); }}};
    fault.CrashAtOperation(k);
    Status first = MigrateLayout(&fault, "/d/M", kKind, "test /d", 3, steps, nullptr);
    const bool finished = first.ok() && !fault.crashed();
    Random tear(kSeed ^ k);
    mem.SimulateCrash(&tear);
    fault.ResetCounters();
    Status again = MigrateLayout(&fault, "/d/M", kKind, "test /d", 3, steps, nullptr);
    *points = k;
    if (!again.ok() || Read(&mem, "/d/M") != "tiersync-test 3\n" || Read(&mem, "/d/a") != "A2" ||
        Read(&mem, "/d/b") != "B3") {
      return false;
    }
    if (finished) return true;
  }
  return false;
}

TEST(LayoutVersionTest, EveryCrashPointOfAMigrationRecovers) {
  uint64_t points = 0;
  EXPECT_TRUE(EveryCrashPointRecovers(true, &points)) << "crash at operation " << points;
  EXPECT_GT(points, 10u);
}

TEST(LayoutVersionTest, NegativeControlAStepWithoutFsyncIsCaught) {
  uint64_t points = 0;
  EXPECT_FALSE(EveryCrashPointRecovers(false, &points));
}

}  // namespace
}  // namespace tiersync
