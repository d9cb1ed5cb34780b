#include "cli/service_notify.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"

namespace tiersync::cli {
namespace {

// A datagram socket standing in for systemd's notification socket.
class NotifySocket {
 public:
  NotifySocket() {
    char dir[] = "/tmp/notify_test.XXXXXX";
    dir_ = mkdtemp(dir);
    path_ = dir_ + "/notify";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~NotifySocket() {
    close(fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }
  // The next datagram, or "" if none is waiting.
  std::string Receive() {
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    return n > 0 ? std::string(buf, n) : std::string();
  }

 private:
  std::string dir_, path_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(ServiceNotifyTest, ReadyReachesTheServiceManagerWithTheStatus) {
  NotifySocket manager;
  ASSERT_TRUE(manager.bound());
  setenv("NOTIFY_SOCKET", manager.path().c_str(), 1);
  EXPECT_TRUE(NotifyReady("serving node /var/lib/tiersync/xihu on port 8080"));
  unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(manager.Receive(), "READY=1\nSTATUS=serving node /var/lib/tiersync/xihu on port 8080");
}

TEST(ServiceNotifyTest, WithoutAServiceManagerNothingIsSent) {
  NotifySocket manager;
  ASSERT_TRUE(manager.bound());
  unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(NotifyReady("serving"));
  EXPECT_EQ(manager.Receive(), "");
}

}  // namespace
}  // namespace tiersync::cli
