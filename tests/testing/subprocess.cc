#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

namespace tiersync::testing {
namespace {

[[noreturn]] void Exec(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

RunResult FromStatus(int status) {
  RunResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

// Reads both pipes until they close.
void Collect(int out_fd, int err_fd, std::string* out, std::string* err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* dst[2] = {out, err};
  int open = (out_fd >= 0) + 1;
  if (out_fd < 0) fds[0].fd = -1;
  char buf[65536];
  while (open > 0) {
    if (::poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      } else {
        dst[i]->append(buf, static_cast<size_t>(n));
      }
    }
  }
}

}  // namespace

RunResult RunProcess(const std::vector<std::string>& argv, const std::string& stdout_path) {
  int out_pipe[2] = {-1, -1}, err_pipe[2];
  if (stdout_path.empty() && ::pipe(out_pipe) != 0) std::abort();
  if (::pipe(err_pipe) != 0) std::abort();
  pid_t pid = ::fork();
  if (pid == 0) {
    int out_fd = stdout_path.empty()
                     ? out_pipe[1]
                     : ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    Exec(argv);
  }
  if (out_pipe[1] >= 0) ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  RunResult r;
  std::string out, err;
  Collect(out_pipe[0], err_pipe[0], &out, &err);
  r = Wait(pid);
  r.out = std::move(out);
  r.err = std::move(err);
  return r;
}

pid_t Spawn(const std::vector<std::string>& argv) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);
    ::dup2(devnull, STDERR_FILENO);
    Exec(argv);
  }
  return pid;
}

RunResult Wait(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  return FromStatus(status);
}

}  // namespace tiersync::testing
