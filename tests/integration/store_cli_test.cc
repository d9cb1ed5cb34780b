// The chunk store through the real tiersync binary (issue 2, items 2, 4 and 5): what an
// operator sees, exit codes included.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/random.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace tiersync {
namespace {

using testing::RunProcess;
using testing::RunResult;

const std::string kBin = TIERSYNC_BIN;

class StoreCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = tmp_.Sub("store");
    RunResult r = RunProcess({kBin, "store", "init", store_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  RunResult Tiersync(std::vector<std::string> args, const std::string& stdout_path = "") {
    args.insert(args.begin(), kBin);
    return RunProcess(args, stdout_path);
  }

  std::string Media(const std::string& name, const std::string& size, int seed) {
    std::string path = tmp_.Sub(name);
    RunResult r = Tiersync({"demo", "media", path, "--size", size, "--seed", std::to_string(seed)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return path;
  }

  nlohmann::json AddJson(const std::string& file) {
    RunResult r = Tiersync({"--json", "store", "add", "-s", store_, file});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out).at(0);
  }

  std::string Sha256Of(const std::string& path) {
    RunResult r = RunProcess({"/usr/bin/openssl", "dgst", "-sha256", "-r", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, 64);
  }

  void FlipByte(const std::string& path, uint64_t offset) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c;
    f.read(&c, 1);
    c ^= 0x20;
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
  }

  testing::TempDir tmp_;
  std::string store_;
};

// Item 2: 1 GiB of media-like data: identical bytes back; a second add stores nothing; a copy
// with 1 MiB inserted in the middle stores at most 1 MiB plus two maximum chunk sizes.
TEST_F(StoreCliTest, GibibyteRoundTripDedupAndInsertion) {
  std::string media = Media("media.bin", "1G", 7);
  nlohmann::json first = AddJson(media);
  EXPECT_EQ(first["size"], 1ull << 30);
  EXPECT_EQ(first["new_bytes"], 1ull << 30);
  EXPECT_EQ(first["new_stored_bytes"], 1ull << 30);  // video-like bytes are stored raw
  std::string id = first["id"];

  std::string restored = tmp_.Sub("restored.bin");
  RunResult cat = Tiersync({"store", "cat", "-s", store_, id, "-o", restored});
  ASSERT_EQ(cat.exit_code, 0) << cat.err;
  EXPECT_EQ(Sha256Of(restored), first["sha256"]);
  EXPECT_EQ(Sha256Of(restored), Sha256Of(media));
  ::unlink(restored.c_str());

  nlohmann::json again = AddJson(media);
  EXPECT_EQ(again["id"], id);
  EXPECT_EQ(again["new_chunks"], 0);
  EXPECT_EQ(again["new_stored_bytes"], 0);

  // The copy: first half, 1 MiB of new bytes, second half.
  std::string edited = tmp_.Sub("edited.bin");
  {
    std::ifstream in(media, std::ios::binary);
    std::ofstream out(edited, std::ios::binary);
    std::vector<char> half(512u << 20), insert(1u << 20);
    Random(99).Fill({reinterpret_cast<uint8_t*>(insert.data()), insert.size()});
    in.read(half.data(), static_cast<std::streamsize>(half.size()));
    out.write(half.data(), static_cast<std::streamsize>(half.size()));
    out.write(insert.data(), static_cast<std::streamsize>(insert.size()));
    in.read(half.data(), static_cast<std::streamsize>(half.size()));
    out.write(half.data(), static_cast<std::streamsize>(half.size()));
  }
  ::unlink(media.c_str());
  nlohmann::json copy = AddJson(edited);
  uint64_t new_bytes = copy["new_bytes"];
  EXPECT_GT(new_bytes, 1u << 20);
  EXPECT_LE(new_bytes, (1u << 20) + 2 * (256u << 10));
}

// Item 5: one flipped byte in a pack file.
TEST_F(StoreCliTest, FlippedByteIsNamedByVerifyAndStopsCat) {
  std::string media = Media("m.bin", "8M", 3);
  nlohmann::json added = AddJson(media);
  ASSERT_EQ(Tiersync({"store", "verify", "-s", store_}).exit_code, 0);

  FlipByte(store_ + "/packs/pack-00000001.tsp", 3'000'000);
  RunResult verify = Tiersync({"--json", "store", "verify", "-s", store_});
  EXPECT_EQ(verify.exit_code, 3) << verify.err;
  nlohmann::json report = nlohmann::json::parse(verify.out);
  EXPECT_FALSE(report["clean"]);
  ASSERT_GE(report["problems"].size(), 2u);  // the chunk, and the file that needs it
  EXPECT_EQ(report["problems"][0]["kind"], "chunk");
  EXPECT_NE(report["problems"][0]["error"].get<std::string>().find("checksum mismatch"),
            std::string::npos);
  RunResult text = Tiersync({"store", "verify", "-s", store_});
  EXPECT_NE(text.out.find("DAMAGED chunk " + report["problems"][0]["id"].get<std::string>()),
            std::string::npos);

  // To a file: fails clearly and leaves no file behind.
  std::string out = tmp_.Sub("out.bin");
  RunResult cat = Tiersync({"store", "cat", "-s", store_, added["id"], "-o", out});
  EXPECT_EQ(cat.exit_code, 3);
  EXPECT_NE(cat.err.find("checksum mismatch"), std::string::npos) << cat.err;
  EXPECT_EQ(::access(out.c_str(), F_OK), -1);
  EXPECT_EQ(::access((out + ".partial").c_str(), F_OK), -1);

  // To stdout: what was written before the error is a correct prefix of the file.
  std::string piped = tmp_.Sub("piped.bin");
  cat = Tiersync({"store", "cat", "-s", store_, added["id"]}, piped);
  EXPECT_EQ(cat.exit_code, 3);
  std::ifstream a(piped, std::ios::binary), b(media, std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(a)), std::istreambuf_iterator<char>());
  std::string want(got.size(), '\0');
  b.read(want.data(), static_cast<std::streamsize>(want.size()));
  EXPECT_LT(got.size(), 3'000'000u);
  EXPECT_EQ(got, want);
}

// Item 4: SIGKILL at random moments during `store add`; verify stays clean, the add finishes.
TEST_F(StoreCliTest, SigkillDuringAddLeavesAConsistentStore) {
  std::string media = Media("big.bin", "256M", 11);
  Random rng(20261123);
  for (int trial = 0; trial < 6; ++trial) {
    pid_t pid = testing::Spawn({kBin, "store", "add", "-s", store_, media});
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng.Uniform(600)));
    ::kill(pid, SIGKILL);
    testing::Wait(pid);
    RunResult verify = Tiersync({"store", "verify", "-s", store_});
    ASSERT_EQ(verify.exit_code, 0) << "trial " << trial << ": " << verify.out << verify.err;
  }
  nlohmann::json added = AddJson(media);
  std::string restored = tmp_.Sub("restored.bin");
  ASSERT_EQ(Tiersync({"store", "cat", "-s", store_, added["id"], "-o", restored}).exit_code, 0);
  EXPECT_EQ(Sha256Of(restored), Sha256Of(media));
  EXPECT_EQ(Tiersync({"store", "verify", "-s", store_}).exit_code, 0);
}

TEST_F(StoreCliTest, SecondWriterGetsAClearError) {
  pid_t holder = testing::Spawn({"/usr/bin/flock", store_ + "/LOCK", "sleep", "20"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string media = Media("m.bin", "1M", 1);
  RunResult r = Tiersync({"store", "add", "-s", store_, media});
  ::kill(holder, SIGKILL);
  testing::Wait(holder);
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_NE(r.err.find("being written by another process"), std::string::npos) << r.err;
  // Readers are not blocked by a writer.
  EXPECT_EQ(Tiersync({"store", "stats", "-s", store_}).exit_code, 0);
}

TEST_F(StoreCliTest, OperatorMistakesGetClearErrors) {
  RunResult r = Tiersync({"store", "stats", "-s", tmp_.Sub("nothing-here")});
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_NE(r.err.find("not a tiersync chunk store"), std::string::npos) << r.err;
  r = Tiersync({"store", "cat", "-s", store_, "xyz", "-o", tmp_.Sub("o")});
  EXPECT_EQ(r.exit_code, 2);
  r = Tiersync({"store", "cat", "-s", store_, std::string(64, 'a'), "-o", tmp_.Sub("o")});
  EXPECT_EQ(r.exit_code, 7);
  r = Tiersync({"store", "add", "-s", store_, tmp_.Sub("missing.bin")});
  EXPECT_EQ(r.exit_code, 7);
  r = Tiersync({"store", "frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(StoreCliTest, StatsJson) {
  AddJson(Media("m.bin", "4M", 5));
  RunResult r = Tiersync({"--json", "store", "stats", "-s", store_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json st = nlohmann::json::parse(r.out);
  EXPECT_EQ(st["raw_bytes"], 4u << 20);
  EXPECT_EQ(st["chunk_indexes"], 1);
}

}  // namespace
}  // namespace tiersync
