#include "node/release_notifier.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <string>
#include <thread>

namespace tiersync::node {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

class EventsHandler : public HttpHandler {
 public:
  HttpReply Handle(const HttpRequest& request) override {
    return notifier.Wait(ParseEventsQuery(request.target));
  }
  ReleaseNotifier notifier;
};

class ReleaseNotifierTest : public ::testing::Test {
 protected:
  void Serve(milliseconds max_hold) {
    ServerLimits limits;
    limits.max_hold = max_hold;
    server_ = std::make_unique<HttpServer>(&handler_, limits);
    auto port = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    server_->Start();
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), *port));
  }
  void TearDown() override { server_.reset(); }

  // One GET on the kept-alive connection; the response's status line and body.
  std::pair<std::string, std::string> Get(const std::string& target) {
    asio::write(socket_, asio::buffer("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    boost::system::error_code ec;
    size_t head = asio::read_until(socket_, buffer_, "\r\n\r\n", ec);
    if (ec) return {"closed: " + ec.message(), ""};
    std::string headers(static_cast<const char*>(buffer_.data().data()), head);
    buffer_.consume(head);
    size_t at = headers.find("Content-Length: ");
    size_t length = at == std::string::npos ? 0 : std::stoul(headers.substr(at + 16));
    if (buffer_.size() < length)
      asio::read(socket_, buffer_, asio::transfer_exactly(length - buffer_.size()), ec);
    std::string body(static_cast<const char*>(buffer_.data().data()), length);
    buffer_.consume(length);
    return {headers.substr(0, headers.find("\r\n")), body};
  }

  EventsHandler handler_;
  std::unique_ptr<HttpServer> server_;
  asio::io_context ioc_;
  tcp::socket socket_{ioc_};
  asio::streambuf buffer_;
};

TEST_F(ReleaseNotifierTest, TimedOutWaitersLeaveTheNotifier) {
  // Each long-poll's hold ends at once; before the fix every one stayed in the list, and past
  // kMaxWaiters everyone got 503 "too many waiting clients".
  Serve(milliseconds(0));
  handler_.notifier.Publish(7);
  for (size_t i = 0; i < ReleaseNotifier::kMaxWaiters + 904; ++i) {
    auto [status, body] = Get("/v1/events?after=7");
    ASSERT_EQ(status, "HTTP/1.1 200 OK") << "long-poll " << i << ": " << body;
    ASSERT_EQ(body, "{\"version\":7}");
  }
  EXPECT_EQ(handler_.notifier.waiting(), 0u);
  handler_.notifier.Publish(8);
  EXPECT_EQ(Get("/v1/events?after=7").second, "{\"version\":8}");
}

TEST_F(ReleaseNotifierTest, ClientThatLeavesWhileHeldLeavesTheNotifier) {
  Serve(milliseconds(60'000));
  handler_.notifier.Publish(7);
  asio::write(socket_,
              asio::buffer(std::string("GET /v1/events?after=7 HTTP/1.1\r\nHost: x\r\n\r\n")));
  for (int i = 0; i < 1000 && handler_.notifier.waiting() == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(handler_.notifier.waiting(), 1u);
  socket_.close();
  for (int i = 0; i < 1000 && handler_.notifier.waiting() != 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(handler_.notifier.waiting(), 0u) << "the slot was kept for a client that left";
}

TEST_F(ReleaseNotifierTest, AnswersTheCurrentVersionWhenTheClientsWaitEnds) {
  Serve(milliseconds(60'000));
  handler_.notifier.Publish(7);
  auto start = std::chrono::steady_clock::now();
  auto [status, body] = Get("/v1/events?after=7&wait=1");
  EXPECT_EQ(status, "HTTP/1.1 200 OK");
  EXPECT_EQ(body, "{\"version\":7}");
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(1000)) << "not held";
}

TEST_F(ReleaseNotifierTest, AnswersAtOnceWhenNewerAndAsSoonAsPublished) {
  Serve(milliseconds(60'000));
  handler_.notifier.Publish(7);
  EXPECT_EQ(Get("/v1/events?wait=30&after=6").second, "{\"version\":7}");
  std::jthread publisher([this] {
    while (handler_.notifier.waiting() == 0) std::this_thread::sleep_for(milliseconds(5));
    handler_.notifier.Publish(9);
  });
  EXPECT_EQ(Get("/v1/events?after=7&wait=30").second, "{\"version\":9}");
  EXPECT_EQ(handler_.notifier.waiting(), 0u);
}

TEST(EventsQueryTest, ParsesAfterAndWaitInAnyOrder) {
  EventsQuery q = ParseEventsQuery("/v1/events?after=12&wait=40");
  EXPECT_EQ(q.after, 12u);
  EXPECT_EQ(q.wait, std::chrono::seconds(40));
  q = ParseEventsQuery("/v1/events?wait=5&after=3");
  EXPECT_EQ(q.after, 3u);
  EXPECT_EQ(q.wait, std::chrono::seconds(5));
  q = ParseEventsQuery("/v1/events?after=3");
  EXPECT_EQ(q.wait, EventsQuery::kDefaultWait);
  EXPECT_EQ(q.wait, std::chrono::seconds(25));
  q = ParseEventsQuery("/v1/events");
  EXPECT_EQ(q.after, 0u);
  q = ParseEventsQuery("/v1/events?after=1x&wait=-3");
  EXPECT_EQ(q.after, 0u);
  EXPECT_EQ(q.wait, EventsQuery::kDefaultWait);
  q = ParseEventsQuery("/v1/events?after=99999999999999999999999&wait=99999999999999999999");
  EXPECT_EQ(q.after, 0u);
  EXPECT_EQ(q.wait, EventsQuery::kDefaultWait);
  q = ParseEventsQuery("/v1/events?xafter=5&wait=");
  EXPECT_EQ(q.after, 0u);
  EXPECT_EQ(AfterParameter("/v1/events?wait=10&after=42"), 42u);
}

TEST(ReleaseNotifierHoldTest, HoldIsTheClientsWaitWithinBounds) {
  ReleaseNotifier n;
  n.Publish(5);
  EXPECT_EQ(n.Wait(EventsQuery{5, std::chrono::seconds(10)}).hold, milliseconds(10'000));
  EXPECT_EQ(n.Wait(EventsQuery{5, std::chrono::seconds(0)}).hold, milliseconds(1000));
  EXPECT_EQ(n.Wait(EventsQuery{5}).hold, milliseconds(25'000));
  EXPECT_FALSE(n.Wait(EventsQuery{4}).wait) << "newer: answered at once";
}

}  // namespace
}  // namespace tiersync::node
