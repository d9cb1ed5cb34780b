// The hub's catalog job end to end through the real binary: a generated national catalog is
// published and signed, revised and published again, read back with `catalog`, checked by a
// TUF client, cloned with stock git, tampered with, and interrupted with SIGKILL.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "base/bytes.h"
#include "base/hex.h"
#include "base/random.h"
#include "base/sha256.h"
#include "node/http_fetcher.h"
#include "tests/testing/file_contents.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace tiersync {
namespace {

using testing::RunProcess;
using testing::RunResult;
namespace fs = std::filesystem;

const std::string kBin = TIERSYNC_BIN;
const char kGit[] = "/usr/bin/git";
// Small enough for CI on two cores; bench/publish.sh and the closing note run 34,000.
constexpr int kResources = 1500;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::set<std::string> Set(const nlohmann::json& list) {
  std::set<std::string> out;
  for (const auto& v : list) out.insert(v.get<std::string>());
  return out;
}

class HubCliTest : public ::testing::Test {
 protected:
  RunResult Tiersync(std::vector<std::string> args) {
    args.insert(args.begin(), kBin);
    return RunProcess(args);
  }
  void MustRun(const std::vector<std::string>& args) {
    RunResult r = Tiersync(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << r.err
                              << r.out;
  }
  void SetUp() override {
    for (const char* role : {"root", "targets", "snapshot", "timestamp"}) {
      MustRun({"keys", "gen", tmp_.Sub(std::string(role) + ".key")});
    }
    MustRun({"hub", "init", hub_, "--root-key", Key("root"), "--targets-key", Key("targets"),
             "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp"), "-k",
             Key("root"), "-k", Key("targets"), "-k", Key("snapshot"), "-k", Key("timestamp")});
  }
  std::string Key(const std::string& role) { return tmp_.Sub(role + ".key"); }
  RunResult Publish(const std::string& publisher) {
    return Tiersync({"--json", "hub", "publish", hub_, "--input", gen_, "-k", Key("targets"), "-k",
                     Key("snapshot"), "-k", Key("timestamp"), "--publisher", publisher});
  }
  void Generate(bool next) {
    std::vector<std::string> args = {"demo", "generate", gen_};
    if (next) {
      args.push_back("--next-release");
    } else {
      args.insert(args.end(), {"--resources", std::to_string(kResources), "--seed", "7",
                               "--size-scale", "0.00001"});
    }
    MustRun(args);
  }
  // The TUF client (same verifier as every node) refreshes the hub's metadata from disk.
  int RefreshClient() {
    std::string meta = tmp_.Sub("client-meta");
    fs::remove_all(meta);
    RunResult init = Tiersync(
        {"tuf-client", "--metadata-dir", meta, "init", hub_ + "/tuf/metadata/1.root.json"});
    EXPECT_EQ(init.exit_code, 0) << init.err;
    RunResult r = Tiersync({"tuf-client", "--metadata-dir", meta, "--metadata-url",
                            "file://" + hub_ + "/tuf/metadata", "refresh"});
    EXPECT_EQ(r.err, "");
    return r.exit_code;
  }
  // The signed entry for `path` in the current release (its hash bin), or null.
  nlohmann::json SignedTarget(const std::string& path) {
    const std::string dir = hub_ + "/tuf/metadata/";
    auto ts = nlohmann::json::parse(Slurp(dir + "timestamp.json"));
    int64_t sv = ts["signed"]["meta"]["snapshot.json"]["version"];
    auto snap = nlohmann::json::parse(Slurp(dir + std::to_string(sv) + ".snapshot.json"));
    std::string bin = "bin-" + ToHex(Sha256(AsBytes(path))).substr(0, 2);
    int64_t bv = snap["signed"]["meta"][bin + ".json"]["version"];
    auto targets = nlohmann::json::parse(Slurp(dir + std::to_string(bv) + "." + bin + ".json"));
    const auto& t = targets["signed"]["targets"];
    return t.contains(path) ? t[path] : nlohmann::json();
  }

  testing::TempDir tmp_;
  std::string hub_ = tmp_.Sub("hub"), gen_ = tmp_.Sub("catalog");
};

TEST_F(HubCliTest, TwoReleasesDiffExactlyAsGeneratedAndSignedTargetsFollow) {
  Generate(false);
  RunResult r1 = Publish("国家平台发布员 <publish@hub.example.edu.cn>");
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  auto j1 = nlohmann::json::parse(r1.out);
  EXPECT_EQ(j1["release"], "r1");
  EXPECT_EQ(j1["resources"], kResources);

  Generate(true);
  auto changes = nlohmann::json::parse(Slurp(gen_ + "/changes.json"));
  RunResult r2 = Publish("第二位发布员 <second@hub.example.edu.cn>");
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(nlohmann::json::parse(r2.out)["release"], "r2");

  // catalog diff lists exactly what the generator says it did.
  RunResult diff = Tiersync({"--json", "catalog", "diff", "--repo", hub_, "r1", "r2"});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  auto d = nlohmann::json::parse(diff.out);
  for (const char* kind : {"added", "changed", "moved", "retired"}) {
    EXPECT_EQ(Set(d[kind]), Set(changes[kind])) << kind;
    EXPECT_FALSE(d[kind].empty()) << kind;
  }
  EXPECT_TRUE(d["removed"].empty());

  // Signed targets: a retired resource's files are gone, a changed file has its new bytes
  // (hash, and a chunk index that restores them), and the metadata chain verifies.
  EXPECT_EQ(RefreshClient(), 0);
  std::string retired = changes["retired"][0];
  nlohmann::json retired_record =
      nlohmann::json::parse(Slurp(gen_ + "/resources/" + retired + ".json"));
  ASSERT_TRUE(retired_record.contains("files")) << retired;
  std::string gone =
      "national/" + retired + "/" + retired_record["files"][0]["name"].get<std::string>();
  EXPECT_TRUE(SignedTarget(gone).is_null()) << gone;

  std::string inserted = changes["inserted"][0];
  nlohmann::json rec = nlohmann::json::parse(Slurp(gen_ + "/resources/" + inserted + ".json"));
  std::string name;
  for (const auto& f : rec["files"]) {
    if (f["media_type"] == "video/mp4") name = f["name"];
  }
  ASSERT_FALSE(name.empty());
  const std::string media = Slurp(gen_ + "/media/" + inserted + "/" + name);
  nlohmann::json entry = SignedTarget("national/" + inserted + "/" + name);
  ASSERT_FALSE(entry.is_null());
  EXPECT_EQ(entry["hashes"]["sha256"], ToHex(Sha256(AsBytes(media))));
  EXPECT_EQ(entry["length"], media.size());
  RunResult cat =
      Tiersync({"store", "cat", "-s", hub_ + "/store",
                entry["custom"]["chunk_index"].get<std::string>(), "-o", tmp_.Sub("restored")});
  ASSERT_EQ(cat.exit_code, 0) << cat.err;
  EXPECT_EQ(Slurp(tmp_.Sub("restored")), media);

  // Stock git: clone and log show who published each release.
  std::string clone = tmp_.Sub("clone");
  RunResult git = RunProcess({kGit, "clone", "-q", hub_ + "/catalog.git", clone});
  ASSERT_EQ(git.exit_code, 0) << git.err;
  git = RunProcess({kGit, "-C", clone, "log", "--format=%an <%ae>"});
  EXPECT_EQ(
      git.out,
      "第二位发布员 <second@hub.example.edu.cn>\n国家平台发布员 <publish@hub.example.edu.cn>\n");
  git = RunProcess({kGit, "-C", clone, "tag", "-l", "--format=%(refname:short) %(taggername)"});
  EXPECT_EQ(git.out, "r1 国家平台发布员\nr2 第二位发布员\n");
  RunResult log = Tiersync({"catalog", "log", "--repo", hub_});
  EXPECT_NE(log.out.find("r2  "), std::string::npos);
  EXPECT_NE(log.out.find("第二位发布员 <second@hub.example.edu.cn>"), std::string::npos) << log.out;

  // Tampering: rewrite a record in a clone, move the release tag, push it back.
  fs::path record;
  for (const auto& e : fs::recursive_directory_iterator(clone + "/resources")) {
    if (e.is_regular_file()) {
      record = e.path();
      break;
    }
  }
  std::string text = Slurp(record);
  text.replace(text.find("\"title\": \""), 10, "\"title\": \"篡改 ");
  std::ofstream(record, std::ios::binary) << text;
  std::string rel = fs::relative(record, clone).string();
  for (std::vector<std::string> cmd :
       {std::vector<std::string>{kGit, "-C", clone, "-c", "user.name=x", "-c", "user.email=x@x",
                                 "commit", "-qam", "edit"},
        {kGit, "-C", clone, "-c", "user.name=x", "-c", "user.email=x@x", "tag", "-f", "-a", "r2",
         "-m", "forged"},
        {kGit, "-C", clone, "push", "-q", "-f", "origin", "main", "r2"}}) {
    RunResult g = RunProcess(cmd);
    ASSERT_EQ(g.exit_code, 0) << g.err;
  }
  RunResult verify = Tiersync({"catalog", "verify", "--repo", hub_});
  EXPECT_EQ(verify.exit_code, 3);
  EXPECT_NE(verify.err.find("content does not match the signed metadata"), std::string::npos);
  EXPECT_NE(verify.err.find("changed " + rel), std::string::npos) << verify.err;
  RunResult again = Publish("x <x@x>");
  EXPECT_EQ(again.exit_code, 3) << again.err;
}

TEST_F(HubCliTest, EditionFilterSelectsTheIndependentlyCountedSubset) {
  Generate(false);
  ASSERT_EQ(Publish("p <p@x>").exit_code, 0);
  // Counted straight from the generator's files, with a different JSON parser.
  const std::set<std::string> editions = {"人教版", "北师大版"};
  size_t expected = 0, special = 0;
  for (const auto& e : fs::directory_iterator(gen_ + "/resources")) {
    auto r = nlohmann::json::parse(Slurp(e.path()));
    if (r["retired"].get<bool>()) continue;
    const auto& facets = r.contains("facets") ? r["facets"] : nlohmann::json::object();
    bool k12_course = false, topic = false;
    for (const auto& p : r["placements"]) {
      k12_course |= p["platform"] == "k12" && p["board"] == "课程教学";
      topic |= p["board"] == "专题教育";
    }
    int grade = facets.value("grade", 0);
    bool edition = editions.contains(facets.value("edition", std::string()));
    if ((k12_course && edition && grade >= 1 && grade <= 9) || topic) ++expected;
    special += topic;
  }
  ASSERT_GT(special, 0u);
  RunResult ls = Tiersync({"--json", "catalog", "ls", "--repo", hub_, "--filter",
                           "platform = k12 and board = 课程教学 and edition in (人教版, 北师大版) "
                           "and grade in (1..9)\nboard = 专题教育"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  size_t got = nlohmann::json::parse(ls.out).size();
  EXPECT_EQ(got, expected);
  EXPECT_GT(got, special);
  EXPECT_LT(got, static_cast<size_t>(kResources));

  RunResult typo = Tiersync({"catalog", "ls", "--repo", hub_, "--filter", "edition = 人教板"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("unknown edition \"人教板\""), std::string::npos) << typo.err;
}

TEST_F(HubCliTest, BadRecordIsRefusedWithExitTwoAndNothingCommitted) {
  Generate(false);
  ASSERT_EQ(Publish("p <p@x>").exit_code, 0);
  fs::path victim = fs::directory_iterator(gen_ + "/resources")->path();
  std::string text = Slurp(victim);
  size_t at = text.find("\"title\": ");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 9, "\"titel\": ");
  std::ofstream(victim, std::ios::binary) << text;
  RunResult head = RunProcess({kGit, "-C", hub_ + "/catalog.git", "rev-parse", "main"});
  RunResult r = Publish("p <p@x>");
  EXPECT_EQ(r.exit_code, 2);
  std::string id = victim.stem().string();
  EXPECT_NE(r.err.find("resource " + id + ".titel: unknown field"), std::string::npos) << r.err;
  EXPECT_EQ(RunProcess({kGit, "-C", hub_ + "/catalog.git", "rev-parse", "main"}).out, head.out);
}

TEST_F(HubCliTest, SigkillDuringPublishThenRerunCompletes) {
  Generate(false);
  Random rng(20261123);
  for (int attempt = 0; attempt < 4; ++attempt) {
    pid_t pid =
        testing::Spawn({kBin, "hub", "publish", hub_, "--input", gen_, "-k", Key("targets"), "-k",
                        Key("snapshot"), "-k", Key("timestamp"), "--publisher", "p <p@x>"});
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng.Uniform(700)));
    ::kill(pid, SIGKILL);
    testing::Wait(pid);
  }
  RunResult r = Publish("p <p@x>");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["release"], "r1") << "an interrupted publish must not leave extra releases";
  RunResult verify = Tiersync({"catalog", "verify", "--repo", hub_});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  RunResult fsck = RunProcess({kGit, "-C", hub_ + "/catalog.git", "fsck", "--strict"});
  EXPECT_EQ(fsck.exit_code, 0) << fsck.out << fsck.err;
  RunResult store = Tiersync({"store", "verify", "-s", hub_ + "/store"});
  EXPECT_EQ(store.exit_code, 0) << store.out << store.err;
}

// `hub serve`: a stock client flow over HTTP (our TUF client, the same verifier as every node)
// downloads a media target streamed from chunks; path tricks get nothing.
TEST_F(HubCliTest, ServeStreamsSignedMediaFromChunksOverHttp) {
  Generate(false);
  ASSERT_EQ(Publish("p <p@x>").exit_code, 0);
  // A free port: bind, note, release (the server binds it right after).
  uint16_t port = 0;
  {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    ::close(fd);
  }
  const std::string base = "http://127.0.0.1:" + std::to_string(port) + "/v1/";
  pid_t server =
      testing::Spawn({kBin, "hub", "serve", hub_, "--listen", "127.0.0.1:" + std::to_string(port)});
  node::HttpFetcher http;
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    up = http.Fetch(base + "status", 1 << 20).ok();
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(up) << "hub serve did not come up";

  // The largest media file of the catalog.
  std::string id, name;
  uint64_t size = 0;
  for (const auto& e : fs::directory_iterator(gen_ + "/resources")) {
    auto r = nlohmann::json::parse(Slurp(e.path()));
    if (r["retired"].get<bool>() || !r.contains("files")) continue;
    for (const auto& f : r["files"]) {
      if (f["size"].get<uint64_t>() > size) {
        size = f["size"];
        id = r["id"];
        name = f["name"];
      }
    }
  }
  ASSERT_GT(size, 1000u);  // (multi-chunk files: tests/interop/tuf_js_hub.test.mjs)
  std::string meta = tmp_.Sub("http-client"), out = tmp_.Sub("http-downloads");
  fs::create_directories(out);
  ASSERT_EQ(
      Tiersync({"tuf-client", "--metadata-dir", meta, "init", hub_ + "/tuf/metadata/1.root.json"})
          .exit_code,
      0);
  RunResult r = Tiersync({"tuf-client", "--metadata-dir", meta, "--metadata-url", base + "metadata",
                          "--target-base-url", base + "targets", "--target-dir", out,
                          "--target-name", "national/" + id + "/" + name, "download"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string got;
  for (const auto& e : fs::directory_iterator(out)) got = Slurp(e.path());
  EXPECT_EQ(got, Slurp(gen_ + "/media/" + id + "/" + name));
  // The byte counters account for exactly that one download.
  auto metrics = http.Fetch("http://127.0.0.1:" + std::to_string(port) + "/metrics", 1 << 20);
  ASSERT_TRUE(metrics.ok()) << metrics.status().ToString();
  std::string text(metrics->begin(), metrics->end());
  EXPECT_NE(text.find("tiersync_http_response_bytes_total{endpoint=\"targets\"} " +
                      std::to_string(size) + "\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tiersync_http_requests_total{code=\"200\",endpoint=\"targets\"} 1\n"),
            std::string::npos)
      << text;

  for (const std::string& bad : std::vector<std::string>{
           "metadata/../HUB", "metadata/..%2FHUB", "targets/../../HUB", "targets//etc/passwd",
           "chunks/" + std::string(64, 'g'), "nothing"}) {
    // Refused: 404, or 400 where the user API (which answers content URLs first) finds no
    // path at all (HttpFetcher reports that as kUnavailable). Never the file.
    auto got = http.Fetch(base + bad, 1 << 20);
    EXPECT_TRUE(got.status().code() == StatusCode::kNotFound ||
                got.status().code() == StatusCode::kUnavailable)
        << bad << ": " << got.status().ToString();
  }
  ::kill(server, SIGTERM);
  RunResult stopped = testing::Wait(server);
  EXPECT_EQ(stopped.exit_code, 0) << "SIGTERM stops the server cleanly";
}

}  // namespace
}  // namespace tiersync
