#include "base/env.h"

namespace tiersync {

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out.push_back('/');
  out.append(name);
  return out;
}

std::string DirName(std::string_view path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

Result<std::vector<uint8_t>> ReadFileToBytes(Env* env, const std::string& path, size_t max_bytes) {
  TS_ASSIGN_OR_RETURN(auto file, env->NewSequentialFile(path));
  std::vector<uint8_t> out;
  uint8_t buf[64 * 1024];
  for (;;) {
    TS_ASSIGN_OR_RETURN(size_t n, file->Read(MutableByteSpan(buf, sizeof(buf))));
    if (n == 0) break;
    if (out.size() + n > max_bytes) {
      return ResourceExhaustedError(path + ": larger than the limit of " +
                                    std::to_string(max_bytes) + " bytes");
    }
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

Status WriteFileAtomically(Env* env, const std::string& path, ByteSpan data, bool owner_only) {
  const std::string tmp = path + ".tmp";
  if (owner_only && env->FileExists(tmp)) {
    // A temp file left by an earlier failure may have another mode: gone, then made anew.
    if (Status s = env->RemoveFile(tmp); !s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  TS_ASSIGN_OR_RETURN(auto file, owner_only ? env->NewPrivateFile(tmp) : env->NewWritableFile(tmp));
  TS_RETURN_IF_ERROR(file->Append(data));
  TS_RETURN_IF_ERROR(file->Sync());
  TS_RETURN_IF_ERROR(file->Close());
  TS_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  return env->SyncDir(DirName(path));
}

Status CreateDirs(Env* env, const std::string& dir) {
  if (dir.empty() || dir == "/" || dir == ".") return Status::Ok();
  if (env->FileExists(dir)) return Status::Ok();
  TS_RETURN_IF_ERROR(CreateDirs(env, DirName(dir)));
  Status s = env->CreateDir(dir);
  if (s.code() == StatusCode::kAlreadyExists) return Status::Ok();
  return s;
}

Status RemoveTree(Env* env, const std::string& path) {
  auto children = env->GetChildren(path);
  if (!children.ok()) {  // a file, or nothing
    Status s = env->RemoveFile(path);
    return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
  }
  for (const std::string& name : *children) {
    TS_RETURN_IF_ERROR(RemoveTree(env, JoinPath(path, name)));
  }
  Status s = env->RemoveDir(path);
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

}  // namespace tiersync
