#include "tests/sim/sim_node.h"

#include "base/hex.h"
#include "base/random.h"
#include "base/sha256.h"
#include "node/release_dir.h"
#include "protocol/tuf_metadata.h"
#include "replication/file_ingest.h"
#include "replication/release_sync.h"
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

int64_t Seconds(MemEnv* env) { return static_cast<int64_t>(env->NowMicros() / 1'000'000); }

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

protocol::ChunkerParams SimChunkerParams() {
  return protocol::ChunkerParams{protocol::kChunkerFastCdcV1, 2, 1024, 4096, 16384};
}

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

// ---- SimHub ----

SimHub::SimHub(SimNetwork* net, std::string host, std::string index_dir, uint64_t seed,
               int64_t now_seconds)
    : net_(net), host_(std::move(host)) {
  mem_.SetNowMicros(static_cast<uint64_t>(now_seconds) * 1'000'000);
  tuf::Root root;
  for (int i = 0; i < 4; ++i) {
    PrivateKey key = SimKey(seed * 16 + i);
    PublicKey pub = key.Public();
    tuf::Key k = tuf::MakeKey(pub.keytype(), pub.scheme(), pub.public_value());
    root.keys[tuf::KeyId(k)] = k;
    root.roles[kRoles[i]].keyids.push_back(tuf::KeyId(k));
    keys_.emplace(kRoles[i], std::move(key));
  }
  replication::ChunkStoreOptions o;
  o.env = &mem_;
  o.index_dir = index_dir;
  Status s =
      replication::TufRepository::Create(&mem_, "/hub/tuf", root, Ring(), now_seconds, expiry_);
  if (s.ok()) s = replication::ChunkStore::Create("/hub/store", o);
  o.writable = true;
  auto store = s.ok() ? replication::ChunkStore::Open("/hub/store", o)
                      : Result<std::unique_ptr<replication::ChunkStore>>(s);
  if (!store.ok()) std::abort();  // a fresh MemEnv: cannot fail
  store_ = std::move(store).value();
  service_ = std::make_unique<node::RepositoryService>(&mem_, "/hub/tuf", store_.get());
  auto bytes = ReadFileToBytes(&mem_, "/hub/tuf/metadata/1.root.json", 1 << 20);
  if (!bytes.ok()) std::abort();
  root_json_ = *bytes;
  net_->Attach(host_, this);
}

SimHub::~SimHub() { net_->Attach(host_, nullptr); }

replication::KeyRing SimHub::Ring() const {
  replication::KeyRing ring;
  for (const auto& [role, key] : keys_) ring.push_back(&key);
  return ring;
}

Status SimHub::Publish(const std::map<std::string, std::string>& files, int64_t now_seconds) {
  mem_.SetNowMicros(static_cast<uint64_t>(now_seconds) * 1'000'000);
  TS_ASSIGN_OR_RETURN(auto repo, replication::TufRepository::Open(&mem_, "/hub/tuf"));
  TS_ASSIGN_OR_RETURN(const tuf::Targets* have, repo.targets("targets"));
  for (const auto& [path, tf] : std::map<std::string, tuf::TargetFile>(have->targets)) {
    if (!files.count(path)) TS_RETURN_IF_ERROR(repo.RemoveTarget("targets", path));
  }
  replication::IngestOptions ingest;
  ingest.params = SimChunkerParams();
  ingest.threads = 1;
  for (const auto& [path, bytes] : files) {
    TS_RETURN_IF_ERROR(WriteFileAtomically(&mem_, "/hub/incoming", AsBytes(bytes)));
    TS_ASSIGN_OR_RETURN(auto result,
                        replication::IngestFile(store_.get(), &mem_, "/hub/incoming", ingest));
    tuf::TargetFile tf;
    tf.length = bytes.size();
    tf.hashes["sha256"] = ToHex(result.file_sha256);
    protocol::Json custom = protocol::Json::Object();
    custom.Set("chunk_index", ToHex(result.index_id));
    tf.custom = std::move(custom);
    TS_RETURN_IF_ERROR(repo.AddTargetEntry("targets", path, std::move(tf)));
  }
  TS_RETURN_IF_ERROR(repo.Publish(Ring(), now_seconds, expiry_));
  latest_version_ = VersionOf(&mem_, "/hub/tuf/metadata/timestamp.json");
  releases_[latest_version_] = files;
  return Status::Ok();
}

Status SimHub::RefreshTimestamp(int64_t now_seconds) {
  mem_.SetNowMicros(static_cast<uint64_t>(now_seconds) * 1'000'000);
  TS_ASSIGN_OR_RETURN(auto repo, replication::TufRepository::Open(&mem_, "/hub/tuf"));
  TS_RETURN_IF_ERROR(repo.RefreshTimestamp(Ring(), now_seconds, expiry_));
  uint64_t v = VersionOf(&mem_, "/hub/tuf/metadata/timestamp.json");
  releases_[v] = releases_[latest_version_];
  latest_version_ = v;
  return Status::Ok();
}

const std::string* SimHub::Published(uint64_t version, const std::string& path) const {
  auto r = releases_.find(version);
  if (r == releases_.end()) return nullptr;
  auto f = r->second.find(path);
  return f == r->second.end() ? nullptr : &f->second;
}

node::HttpReply SimHub::Handle(const node::HttpRequest& request) {
  return service_->Handle(request);
}

// ---- SimNode ----

SimNode::SimNode(SimNetwork* net, std::string host, std::vector<std::string> sources, Wants wants,
                 ByteSpan root_json, std::string index_dir, uint64_t seed)
    : net_(net),
      host_(std::move(host)),
      wants_(std::move(wants)),
      index_dir_(std::move(index_dir)),
      mem_(seed),
      fault_(&mem_, seed),
      fetcher_(net, host_, &mem_),
      paths_("/node") {
  std::vector<replication::Source> list;
  for (size_t i = 0; i < sources.size(); ++i) {
    list.push_back({(i + 1 == sources.size() ? "national " : "upstream ") + sources[i],
                    "sim://" + sources[i]});
  }
  sources_ = std::make_unique<replication::SourcePolicy>(std::move(list));
  Status s = CreateDirs(&mem_, paths_.trusted);
  if (s.ok()) s = CreateDirs(&mem_, paths_.releases);
  if (s.ok()) s = replication::Updater::Init(&mem_, paths_.trusted, root_json);
  // As InitNode: the pinned root is also the first of the root chain the node relays.
  if (s.ok()) s = WriteFileAtomically(&mem_, JoinPath(paths_.trusted, "1.root.json"), root_json);
  replication::ChunkStoreOptions o;
  o.env = &mem_;
  o.index_dir = index_dir_;
  if (s.ok()) s = replication::ChunkStore::Create(paths_.store, o);
  if (s.ok()) s = mem_.SyncDir("/");
  if (s.ok()) s = mem_.SyncDir(paths_.dir);
  if (!s.ok()) std::abort();  // a fresh MemEnv: cannot fail
  net_->Attach(host_, this);
  net_->SetUp(host_, false);
}

SimNode::~SimNode() {
  net_->Attach(host_, nullptr);
  service_.reset();
  store_.reset();
}

Status SimNode::ServeCurrent() {
  TS_ASSIGN_OR_RETURN(std::string dir, node::CurrentReleaseDir(&fault_, paths_));
  service_ = std::make_unique<node::RepositoryService>(
      &fault_, dir.empty() ? std::string() : JoinPath(paths_.releases, dir), store_.get());
  return Status::Ok();
}

Status SimNode::Boot() {
  replication::ChunkStoreOptions o;
  o.env = &fault_;
  o.index_dir = index_dir_;
  o.writable = true;
  o.auto_commit_bytes = 64 << 10;  // several commits per sync: more crash points
  TS_ASSIGN_OR_RETURN(store_, replication::ChunkStore::Open(paths_.store, o));
  TS_RETURN_IF_ERROR(ServeCurrent());
  net_->SetUp(host_, true);
  return Status::Ok();
}

void SimNode::Crash(bool power_loss, Random* tear) {
  net_->SetUp(host_, false);
  service_.reset();
  store_.reset();
  if (power_loss) mem_.SimulateCrash(tear);
  fault_.ResetCounters();
}

node::HttpReply SimNode::Handle(const node::HttpRequest& request) {
  if (!service_) return node::HttpReply::Text(503, "starting");
  return service_->Handle(request);
}

CycleOutcome SimNode::SyncCycle() {
  CycleOutcome out;
  net_->StartCycle();
  auto finish = [&](Status s) {
    out.status = std::move(s);
    auto v = ServedVersion();
    out.version = v.ok() ? *v : 0;
    return out;
  };
  if (!store_) return finish(UnavailableError(host_ + " is down"));
  Env* env = &fault_;
  auto meta = replication::RefreshMetadata(
      env, &fetcher_, sources_.get(), {paths_.trusted, paths_.downloads}, nullptr, &out.rejected);
  if (!meta.ok()) return finish(meta.status());

  std::vector<replication::PlannedFile> files;
  std::string plan_key = std::to_string(meta->version);
  for (const auto& [path, tf] : meta->targets) {
    if (!wants_(path)) continue;
    auto f = replication::PlannedFileFor(path, *tf, false);
    if (!f.ok()) return finish(f.status());
    files.push_back(std::move(f).value());
    plan_key += "\n" + path;
  }
  const std::string name =
      std::to_string(meta->version) + "-" + ToHex(Sha256(AsBytes(plan_key))).substr(0, 8);
  auto previous = node::CurrentReleaseDir(env, paths_);
  if (!previous.ok()) return finish(previous.status());
  if (*previous == name) return finish(Status::Ok());

  replication::SyncCounters counters;
  replication::SyncContext ctx{env, &fetcher_, sources_.get(), store_.get(), &counters};
  replication::ChunkSyncOptions options;
  options.parallel = 1;  // one request at a time: a run replays exactly
  options.batch_chunks = 16;
  auto fetched = replication::FetchRelease(files, ctx, options, nullptr);
  out.fetched_bytes = counters.chunk_bytes;
  {
    std::lock_guard<std::mutex> lock(counters.mu);
    out.rejected.insert(out.rejected.end(), counters.rejected.begin(), counters.rejected.end());
  }
  if (!fetched.ok()) return finish(fetched.status());
  out.planned_bytes = fetched->planned_bytes;

  node::ServedRelease served;
  served.version = meta->version;
  served.release = "v" + std::to_string(meta->version);
  served.files = files.size();
  for (const auto& f : files) served.bytes += f.length;
  served.switched_at = Seconds(&mem_);
  Status s = node::WriteReleaseDir(env, paths_, *meta->updater->trusted(), name, served, {});
  if (s.ok()) s = node::SwitchCurrent(env, paths_, name, *previous);
  if (!s.ok()) return finish(s);
  out.switched = true;
  s = ServeCurrent();
  return finish(s);
}

Result<uint64_t> SimNode::ServedVersion() {
  TS_ASSIGN_OR_RETURN(auto current, node::ReadCurrent(&mem_, paths_));
  return current ? current->version : 0;
}

std::map<std::string, uint64_t> SimNode::TrustedVersions() {
  std::map<std::string, uint64_t> out;
  for (const char* role : kRoles) {
    out[role] = VersionOf(&mem_, JoinPath(paths_.trusted, std::string(role) + ".json"));
  }
  return out;
}

}  // namespace tiersync::sim
