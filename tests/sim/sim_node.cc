#include "tests/sim/sim_node.h"

#include <cstdlib>
#include <filesystem>

#include "base/hex.h"
#include "base/random.h"
#include "base/sha256.h"
#include "catalogs/git_catalog.h"
#include "catalogs/region_table.h"
#include "hub/hub_dir.h"
#include "hub/publisher.h"
#include "node/node_sources.h"
#include "node/node_sync.h"
#include "node/release_dir.h"
#include "protocol/tuf_metadata.h"
#include "replication/tuf_updater.h"

namespace tiersync::sim {
namespace {

namespace tuf = protocol::tuf;

constexpr const char* kRoles[] = {"root", "timestamp", "snapshot", "targets"};

std::string Base64(ByteSpan in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = in[i] << 16;
    if (i + 1 < in.size()) v |= in[i + 1] << 8;
    if (i + 2 < in.size()) v |= in[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// Reads the "version" of a metadata file (0 if unreadable).
uint64_t VersionOf(Env* env, const std::string& path) {
  auto bytes = ReadFileToBytes(env, path, 64 << 20);
  if (!bytes.ok()) return 0;
  auto envelope = tuf::ParseEnvelope(*bytes, 64 << 20);
  if (!envelope.ok()) return 0;
  const protocol::Json* v = envelope->signed_json.Find("version");
  return v && v->is_int() ? static_cast<uint64_t>(v->as_int()) : 0;
}

}  // namespace

PrivateKey SimKey(uint64_t seed) {
  // PKCS#8 for Ed25519: a fixed prefix, then the 32-byte private key.
  std::vector<uint8_t> der = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                              0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
  Random r(seed);
  for (int i = 0; i < 32; ++i) der.push_back(static_cast<uint8_t>(r.Next()));
  auto key = PrivateKey::FromPem(
      "ed25519", "-----BEGIN PRIVATE KEY-----\n" + Base64(der) + "\n-----END PRIVATE KEY-----\n");
  if (!key.ok()) std::abort();  // a fixed, valid encoding
  return std::move(key).value();
}

void SimCatalog::Put(const std::string& id, const std::string& tag, const std::string& bytes) {
  catalogs::Resource r;
  r.id = id;
  r.title = "模拟课程 " + id;
  r.provider = "人民教育出版社";
  r.placements = {{"k12", "课程教学", "小学"}};
  r.facets.stage = "小学";
  r.facets.subject = "语文";
  r.facets.tags = {tag};
  catalogs::ResourceFile f;
  f.name = "lesson.bin";
  f.media_type = "application/octet-stream";
  f.size = bytes.size();
  f.sha256 = Sha256(AsBytes(bytes));
  r.files = {f};
  media[id + "/lesson.bin"] = bytes;
  for (auto& have : resources) {
    if (have.id == id) {
      have = std::move(r);
      return;
    }
  }
  resources.push_back(std::move(r));
}

// ---- SimHub ----

SimHub::SimHub(SimNetwork* net, std::string host, std::string dir, uint64_t seed,
               int64_t now_seconds)
    : net_(net), host_(std::move(host)), dir_(std::move(dir)) {
  hub::HubInitOptions init;
  for (int i = 0; i < 4; ++i) {
    PrivateKey key = SimKey(seed * 16 + i);
    PublicKey pub = key.Public();
    tuf::Key k = tuf::MakeKey(pub.keytype(), pub.scheme(), pub.public_value());
    init.root.keys[tuf::KeyId(k)] = k;
    init.root.roles[kRoles[i]].keyids.push_back(tuf::KeyId(k));
    if (std::string(kRoles[i]) == "targets") init.bin_keys.push_back(k);
    keys_.emplace(kRoles[i], std::move(key));
  }
  init.keys = Ring();
  init.bin_digits = 1;  // 16 bins: a few delegated roles in every refresh
  init.now = now_seconds;
  Env* env = Env::Default();
  std::filesystem::create_directories(dir_);
  Status s = hub::InitHub(env, dir_ + "/hub", init);
  hub::HubPaths paths(dir_ + "/hub");
  Result<std::vector<uint8_t>> root =
      s.ok() ? ReadFileToBytes(env, JoinPath(paths.tuf, "metadata/1.root.json"), 1 << 20)
             : Result<std::vector<uint8_t>>(s);
  if (root.ok()) s = Serve();
  if (!root.ok() || !s.ok()) std::abort();  // a fresh directory: cannot fail
  root_json_ = *root;
  net_->Attach(host_, this);
}

SimHub::~SimHub() { net_->Attach(host_, nullptr); }

replication::KeyRing SimHub::Ring() const {
  replication::KeyRing ring;
  for (const auto& [role, key] : keys_) ring.push_back(&key);
  return ring;
}

Status SimHub::Serve() {
  git_.reset();
  service_.reset();
  store_.reset();
  hub::HubPaths paths(dir_ + "/hub");
  replication::ChunkStoreOptions o;
  TS_ASSIGN_OR_RETURN(store_, replication::ChunkStore::Open(paths.store, o));
  service_ = std::make_unique<node::RepositoryService>(Env::Default(), paths.tuf, store_.get());
  git_ = std::make_unique<node::GitHttpService>(paths.catalog, [this] { return release_number_; });
  return Status::Ok();
}

Status SimHub::Publish(const SimCatalog& catalog, int64_t now_seconds) {
  Env* env = Env::Default();
  const std::string input = dir_ + "/input";
  std::error_code ec;
  std::filesystem::remove_all(input, ec);
  const auto& regions = catalogs::RegionTable::Builtin();
  Release release;
  TS_RETURN_IF_ERROR(CreateDirs(env, JoinPath(input, "resources")));
  for (const auto& r : catalog.resources) {
    TS_RETURN_IF_ERROR(CreateDirs(env, JoinPath(input, "media/" + r.id)));
    TS_RETURN_IF_ERROR(WriteFileAtomically(env, JoinPath(input, "resources/" + r.id + ".json"),
                                           AsBytes(catalogs::EncodeResource(r)), false));
    for (const auto& f : r.files) {
      auto media = catalog.media.find(r.id + "/" + f.name);
      if (media == catalog.media.end()) return InvalidArgumentError("no media for " + r.id);
      TS_RETURN_IF_ERROR(WriteFileAtomically(env, JoinPath(input, "media/" + r.id + "/" + f.name),
                                             AsBytes(media->second), false));
      if (r.retired) continue;
      const std::string path = catalogs::TargetPath(r, f, regions);
      release.files[path] = media->second;
      release.records[path] = r;
    }
  }
  // The hub's commands run while it serves (separate processes in production): the store is
  // closed around the publish, as LMDB allows one open environment per process.
  git_.reset();
  service_.reset();
  store_.reset();
  hub::PublishOptions o;
  o.input = input;
  o.publisher = catalogs::Identity{"sim", "sim@example.org"};
  o.keys = Ring();
  o.now = now_seconds;
  o.ingest_threads = 1;
  auto report = hub::Publish(env, dir_ + "/hub", o);
  if (report.ok()) release_number_ = catalogs::ReleaseNumber(report->release).value_or(0);
  TS_RETURN_IF_ERROR(Serve());
  TS_RETURN_IF_ERROR(report.status());
  latest_version_ = VersionOf(env, dir_ + "/hub/tuf/metadata/timestamp.json");
  releases_[latest_version_] = std::move(release);
  return Status::Ok();
}

Status SimHub::RefreshTimestamp(int64_t now_seconds) {
  Env* env = Env::Default();
  TS_ASSIGN_OR_RETURN(auto repo, replication::TufRepository::Open(env, dir_ + "/hub/tuf"));
  TS_RETURN_IF_ERROR(repo.RefreshTimestamp(Ring(), now_seconds));
  uint64_t v = VersionOf(env, dir_ + "/hub/tuf/metadata/timestamp.json");
  releases_[v] = releases_[latest_version_];
  latest_version_ = v;
  return Status::Ok();
}

const std::string* SimHub::Published(uint64_t version, const std::string& path) const {
  auto r = releases_.find(version);
  if (r == releases_.end()) return nullptr;
  auto f = r->second.files.find(path);
  return f == r->second.files.end() ? nullptr : &f->second;
}

const std::map<std::string, catalogs::Resource>* SimHub::Records(uint64_t version) const {
  auto r = releases_.find(version);
  return r == releases_.end() ? nullptr : &r->second.records;
}

node::HttpReply SimHub::Handle(const node::HttpRequest& request) {
  std::string_view target = request.target;
  if (target.starts_with("/v1/catalog.git/")) {
    return git_->Handle(request, target.substr(std::string_view("/v1/catalog.git").size()));
  }
  return service_->Handle(request);
}

// ---- SimNode ----

SimNode::SimNode(SimNetwork* net, SimNodeSpec spec, ByteSpan root_json, std::string scratch,
                 uint64_t seed)
    : net_(net),
      spec_(std::move(spec)),
      scratch_(std::move(scratch)),
      mem_(seed),
      fault_(&mem_, seed),
      fetcher_(net, spec_.host, &mem_),
      scheduler_(seed),
      paths_("/node") {
  paths_.catalog = scratch_ + "/catalog.git";  // libgit2: a real directory
  config_.name = spec_.host;
  config_.tier = spec_.tier;
  for (size_t i = 0; i + 1 < spec_.sources.size(); ++i) {
    config_.sources.push_back("sim://" + spec_.sources[i]);
  }
  config_.national = "sim://" + spec_.sources.back();
  config_.subscription = spec_.subscription;
  config_.poll_seconds = spec_.poll_seconds;
  config_.push = false;
  // One thread, so a run replays exactly: metadata one request at a time; chunk transfers
  // with several requests in flight, answered in the seed's order (SeededScheduler).
  config_.parallel = 1;
  sources_ = std::make_unique<replication::SourcePolicy>(node::NamedSources(config_));
  std::filesystem::create_directories(scratch_);
  Status s = CreateDirs(&mem_, paths_.trusted);
  if (s.ok()) s = CreateDirs(&mem_, paths_.releases);
  if (s.ok()) s = replication::Updater::Init(&mem_, paths_.trusted, root_json);
  // As InitNode: the pinned root is also the first of the root chain the node relays.
  if (s.ok()) s = WriteFileAtomically(&mem_, JoinPath(paths_.trusted, "1.root.json"), root_json);
  replication::ChunkStoreOptions o;
  o.env = &mem_;
  o.index_dir = scratch_ + "/index";
  if (s.ok()) s = replication::ChunkStore::Create(paths_.store, o);
  if (s.ok()) s = catalogs::GitCatalog::Init(paths_.catalog);
  if (s.ok()) s = mem_.SyncDir("/");
  if (s.ok()) s = mem_.SyncDir(paths_.dir);
  if (!s.ok()) std::abort();  // fresh directories: cannot fail
  net_->Attach(spec_.host, this);
  net_->SetUp(spec_.host, false);
}

SimNode::~SimNode() {
  net_->Attach(spec_.host, nullptr);
  cycle_.reset();
  runner_.reset();
  children_.reset();
  git_.reset();
  service_.reset();
  store_.reset();
}

Status SimNode::ServeCurrent() {
  TS_ASSIGN_OR_RETURN(std::string dir, node::CurrentReleaseDir(&fault_, paths_));
  TS_ASSIGN_OR_RETURN(auto current, node::ReadCurrent(&fault_, paths_));
  service_ = std::make_unique<node::RepositoryService>(
      &fault_, dir.empty() ? std::string() : JoinPath(paths_.releases, dir), store_.get());
  release_number_ = current ? catalogs::ReleaseNumber(current->release).value_or(0) : 0;
  return Status::Ok();
}

Status SimNode::Boot() {
  replication::ChunkStoreOptions o;
  o.env = &fault_;
  o.index_dir = scratch_ + "/index";
  o.writable = true;
  o.auto_commit_bytes = 64 << 10;  // several commits per sync: more crash points
  TS_ASSIGN_OR_RETURN(store_, replication::ChunkStore::Open(paths_.store, o));
  children_ = std::make_unique<node::ChildReports>(&fault_, paths_);
  children_->Load();
  runner_ =
      std::make_unique<node::SyncRunner>(node::SyncParts{&fault_, paths_, config_, store_.get(),
                                                         &fetcher_, sources_.get(), &scheduler_},
                                         children_.get());
  cycle_ = std::make_unique<node::SyncCycle>(
      runner_.get(), &fetcher_, config_, [this](const node::SyncOutcome& o) {
        // What /v1/status says at this moment (a
        // re-switch to the same version differs in
        // its files or time).
        auto named = runner_->current();
        if (named && node::EncodeServedRelease(*named) == node::EncodeServedRelease(o.current))
          ++status_ahead_of_serving_;
        if (Status s = ServeCurrent(); !s.ok()) {
          service_.reset();  // serves nothing: 503
        }
      });
  if (report_maker_) cycle_->SetReportMaker(report_maker_);
  git_ = std::make_unique<node::GitHttpService>(paths_.catalog, [this] { return release_number_; });
  TS_RETURN_IF_ERROR(ServeCurrent());
  net_->SetUp(spec_.host, true);
  return Status::Ok();
}

void SimNode::Crash(bool power_loss, Random* tear) {
  net_->SetUp(spec_.host, false);
  cycle_.reset();
  runner_.reset();
  children_.reset();
  git_.reset();
  service_.reset();
  store_.reset();
  if (power_loss) mem_.SimulateCrash(tear);
  fault_.ResetCounters();
}

node::HttpReply SimNode::Handle(const node::HttpRequest& request) {
  if (!service_) return node::HttpReply::Text(503, "starting");
  std::string_view target = request.target;
  if (target.starts_with("/v1/catalog.git/")) {
    return git_->Handle(request, target.substr(std::string_view("/v1/catalog.git").size()));
  }
  if (target.substr(0, target.find('?')) == "/v1/reports") return children_->Accept(request);
  return service_->Handle(request);
}

CycleOutcome SimNode::SyncCycle(uint64_t jitter) {
  CycleOutcome out;
  net_->StartCycle();
  auto finish = [&] {
    auto v = ServedVersion();
    out.version = v.ok() ? *v : 0;
    return out;
  };
  if (!store_) {
    out.status = UnavailableError(spec_.host + " is down");
    return finish();
  }
  // The rules the cycle plans for (reports reach this node only from its children's cycles,
  // never nested inside its own, so they do not change during the turn).
  rules_seen_.insert(runner_->Rules().text);
  node::TurnResult t = cycle_->Turn(jitter);
  out.next_delay_ms = t.next_delay_ms;
  out.reported = t.reported;
  if (!t.outcome.ok()) {
    out.status = t.outcome.status();
    return finish();
  }
  const node::SyncOutcome& o = *t.outcome;
  out.switched = o.switched;
  out.pending = o.pending;
  out.planned_bytes = o.planned_bytes;
  out.fetched_bytes = o.fetched_bytes;
  out.rejected = o.rejected;
  return finish();
}

Result<uint64_t> SimNode::ServedVersion() {
  TS_ASSIGN_OR_RETURN(auto current, node::ReadCurrent(&mem_, paths_));
  return current ? current->version : 0;
}

std::string SimNode::ServedRules() {
  // Which of the rules this node planned for named the served release directory.
  auto dir = node::CurrentReleaseDir(&mem_, paths_);
  if (!dir.ok() || dir->empty()) return "";
  const uint64_t version = std::strtoull(dir->c_str(), nullptr, 10);
  for (const std::string& rules : rules_seen_) {
    if (node::ReleaseDirName(version, rules) == *dir) return rules;
  }
  return "";
}

std::map<std::string, uint64_t> SimNode::TrustedVersions() {
  std::map<std::string, uint64_t> out;
  for (const char* role : kRoles) {
    out[role] = VersionOf(&mem_, JoinPath(paths_.trusted, std::string(role) + ".json"));
  }
  return out;
}

}  // namespace tiersync::sim
