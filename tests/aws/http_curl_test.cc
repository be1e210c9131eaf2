#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "aws/test_server.h"
#include "dripr/core/http.h"

namespace dripr {
namespace {

using std::chrono::milliseconds;
using testing::TestServer;

TEST(UrlEncode, KeepsUnreservedAndEncodesEverythingElseUppercase) {
  EXPECT_EQ(UrlEncode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(UrlEncode("a b/c=d&e+f*"), "a%20b%2Fc%3Dd%26e%2Bf%2A");
  EXPECT_EQ(UrlEncode("\xC3\xA9"), "%C3%A9");
  EXPECT_EQ(UrlEncode(""), "");
}

TEST(HttpResponse, HeaderIsCaseInsensitiveAndFirstWins) {
  HttpResponse r;
  r.headers = {{"x-a", "1"}, {"x-a", "2"}, {"content-type", "text/plain"}};
  EXPECT_EQ(r.Header("X-A"), "1");
  EXPECT_EQ(r.Header("Content-Type"), "text/plain");
  EXPECT_EQ(r.Header("missing"), "");
}

TEST(CurlHttpClient, SendsMethodHeadersBodyAndReadsStatusHeadersBody) {
  TestServer ts;
  std::mutex mu;
  std::string seen_body, seen_ct, seen_custom;
  bool had_expect = true;
  ts.server().Post("/echo", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    seen_body = req.body;
    seen_ct = req.get_header_value("Content-Type");
    seen_custom = req.get_header_value("X-Custom");
    had_expect = req.has_header("Expect");
    res.status = 201;
    res.set_header("X-Reply", "Yes");
    res.set_content("created:" + req.body, "text/plain");
  });
  ts.Start();

  auto client = NewCurlHttpClient();
  HttpRequest req;
  req.method = "POST";
  req.url = ts.Url() + "/echo";
  req.headers = {{"Content-Type", "application/json"}, {"X-Custom", "v 1"}, {"X-Empty", ""}};
  req.body = std::string(4096, 'x');  // large enough that curl would send Expect by default
  auto res = client->Send(req);
  ASSERT_TRUE(res) << res.error().ToString();
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->body, "created:" + req.body);
  EXPECT_EQ(res->Header("x-reply"), "Yes");
  bool all_lower = true;
  for (const auto& [k, v] : res->headers) {
    for (char c : k) all_lower = all_lower && !(c >= 'A' && c <= 'Z');
  }
  EXPECT_TRUE(all_lower);
  EXPECT_EQ(res->Header("content-type"), "text/plain");
  std::lock_guard lock(mu);
  EXPECT_EQ(seen_body, req.body);
  EXPECT_EQ(seen_ct, "application/json");
  EXPECT_EQ(seen_custom, "v 1");
  EXPECT_FALSE(had_expect);
  // (cpp-httplib drops headers with empty values when parsing, so X-Empty is not checked.)
}

// Sends `req` and expects a response with `status` and, when given, `body`.
void ExpectResponse(HttpClient& client, const HttpRequest& req, int status,
                    const std::optional<std::string>& body = std::nullopt) {
  auto res = client.Send(req);
  ASSERT_TRUE(res) << req.method << " " << req.url << ": " << res.error().ToString();
  EXPECT_EQ(res->status, status) << req.method << " " << req.url;
  if (body) {
    EXPECT_EQ(res->body, *body) << req.method << " " << req.url;
  }
}

TEST(CurlHttpClient, ErrorStatusesAreResponsesNotErrors) {
  TestServer ts;
  ts.server().Get("/404", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content("nope", "text/plain");
  });
  ts.server().Get("/503", [](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_content("busy", "text/plain");
  });
  ts.Start();
  auto client = NewCurlHttpClient();
  ExpectResponse(*client, {.method = "GET", .url = ts.Url() + "/404"}, 404, "nope");
  ExpectResponse(*client, {.method = "GET", .url = ts.Url() + "/503"}, 503);
}

// A body over the request's limit is not read into memory: the request fails, one line, and
// the client serves the next request as usual.
TEST(CurlHttpClient, AResponseBodyOverTheLimitFailsTheRequest) {
  TestServer ts;
  ts.server().Get("/big", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(100000, 'x'), "text/plain");
  });
  ts.server().Get("/chunked", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/plain", [](size_t offset, httplib::DataSink& sink) {
      if (offset >= 200000) {
        sink.done();
        return true;
      }
      const std::string part(10000, 'y');
      return sink.write(part.data(), part.size());
    });
  });
  ts.Start();
  auto client = NewCurlHttpClient();
  for (const char* path : {"/big", "/chunked"}) {
    auto r = client->Send({.url = ts.Url() + path, .max_response_bytes = 50000});
    ASSERT_FALSE(r) << path;
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << path;
    EXPECT_NE(r.error().message.find("response body larger than 50000 bytes"), std::string::npos)
        << r.error().message;
  }
  auto fits = client->Send({.url = ts.Url() + "/big", .max_response_bytes = 100000});
  ASSERT_TRUE(fits) << fits.error().ToString();
  EXPECT_EQ(fits->body.size(), 100000u);
}

TEST(CurlHttpClient, PutAndDeleteWithEmptyBodies) {
  TestServer ts;
  std::atomic<int> put_len{-1};
  ts.server().Put("/token", [&](const httplib::Request& req, httplib::Response& res) {
    put_len =
        req.has_header("Content-Length") ? std::stoi(req.get_header_value("Content-Length")) : -2;
    res.set_content("tok", "text/plain");
  });
  ts.server().Delete("/thing",
                     [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  ts.Start();
  auto client = NewCurlHttpClient();
  ExpectResponse(*client, {.method = "PUT", .url = ts.Url() + "/token"}, 200, "tok");
  EXPECT_EQ(put_len.load(), 0);
  ExpectResponse(*client, {.method = "DELETE", .url = ts.Url() + "/thing"}, 204);
}

TEST(CurlHttpClient, ReusesTheConnectionOnTheSameThread) {
  TestServer ts;
  std::mutex mu;
  std::vector<int> ports;
  ts.server().Get("/p", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    ports.push_back(req.remote_port);
    res.set_content("ok", "text/plain");
  });
  ts.Start();
  auto client = NewCurlHttpClient();
  for (int i = 0; i < 3; ++i) {
    auto r = client->Send({.method = "GET", .url = ts.Url() + "/p"});
    ASSERT_TRUE(r) << r.error().ToString();
  }
  std::lock_guard lock(mu);
  ASSERT_EQ(ports.size(), 3u);
  EXPECT_EQ(ports[0], ports[1]);
  EXPECT_EQ(ports[1], ports[2]);
}

TEST(CurlHttpClient, TimeoutIsDeadlineExceeded) {
  TestServer ts;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  ts.server().Get("/slow", [released](const httplib::Request&, httplib::Response& res) {
    released.wait_for(std::chrono::seconds(10));
    res.set_content("late", "text/plain");
  });
  ts.Start();
  auto client = NewCurlHttpClient();
  auto start = std::chrono::steady_clock::now();
  auto r = client->Send(
      {.method = "GET", .url = ts.Url() + "/slow?secret=abc", .timeout = milliseconds(200)});
  auto took = std::chrono::steady_clock::now() - start;
  release.set_value();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_NE(r.error().message.find("GET " + ts.Url() + "/slow"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().message.find("secret=abc"), std::string::npos) << r.error().message;
}

// A long poll waiting for its reply is abandoned by CancelToken::Cancel at once (a wake-up,
// not the transport's 1 s safety poll); a token cancelled before the request ends it too.
TEST(CurlHttpClient, CancelAbandonsAWaitingRequestAtOnce) {
  TestServer ts;
  std::promise<void> arrived;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  ts.server().Get("/poll", [&arrived, released](const httplib::Request&, httplib::Response& res) {
    arrived.set_value();
    released.wait_for(std::chrono::seconds(10));
    res.set_content("late", "text/plain");
  });
  std::promise<void> release_hold;
  std::shared_future<void> hold_released = release_hold.get_future().share();
  ts.server().Get("/hold", [hold_released](const httplib::Request&, httplib::Response& res) {
    hold_released.wait_for(std::chrono::seconds(10));
    res.set_content("late", "text/plain");
  });
  ts.Start();
  auto client = NewCurlHttpClient();
  CancelToken token;
  auto got = std::async(std::launch::async, [&] {
    return client->Send({.method = "GET",
                         .url = ts.Url() + "/poll",
                         .timeout = std::chrono::seconds(10),
                         .cancel = &token});
  });
  ASSERT_EQ(arrived.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const auto start = std::chrono::steady_clock::now();
  token.Cancel();
  ASSERT_EQ(got.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const auto took = std::chrono::steady_clock::now() - start;
  release.set_value();
  auto r = got.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("cancelled"), std::string::npos) << r.error().message;
  EXPECT_LT(took, milliseconds(900)) << "woken by the safety poll, not by Cancel()";

  auto again = client->Send({.method = "GET", .url = ts.Url() + "/hold", .cancel = &token});
  release_hold.set_value();
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("cancelled"), std::string::npos) << again.error().message;
}

TEST(CurlHttpClient, ConnectionRefusedIsUnavailable) {
  std::string url;
  {
    TestServer ts;  // take a free port, then close it
    ts.Start();
    url = ts.Url() + "/x";
  }
  auto client = NewCurlHttpClient();
  auto r = client->Send({.method = "GET", .url = url});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(r.error().Retryable());
}

TEST(CurlHttpClient, UnresolvableHostIsUnavailable) {
  auto client = NewCurlHttpClient();
  auto r = client->Send(
      {.method = "GET", .url = "http://nonexistent.invalid/x", .timeout = milliseconds(5000)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

TEST(CurlHttpClient, UnsupportedSchemeAndMethodAreInvalidArgument) {
  auto client = NewCurlHttpClient();
  auto r = client->Send({.method = "GET", .url = "bogus://x/"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  auto m = client->Send({.method = "BREW", .url = "http://127.0.0.1:1/"});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(m.error().message, "unsupported HTTP method BREW");
}

TEST(CurlHttpClient, HonoursProxyFromEnvironment) {
  TestServer proxy;
  std::mutex mu;
  std::string target;
  proxy.server().set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    target = req.target;
    res.set_content("via proxy", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
  proxy.Start();
  ::setenv("http_proxy", proxy.Url().c_str(), 1);
  ::unsetenv("no_proxy");
  ::unsetenv("NO_PROXY");
  auto client = NewCurlHttpClient();
  auto r = client->Send({.method = "GET", .url = "http://example.invalid/through"});
  ::unsetenv("http_proxy");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->body, "via proxy");
  std::lock_guard lock(mu);
  EXPECT_EQ(target, "http://example.invalid/through");
}

TEST(CurlHttpClient, HttpsVerifiesCertificates) {
  // A plain-HTTP server spoken to over TLS fails the handshake: never silently downgraded.
  TestServer ts;
  ts.server().Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("x", "text/plain");
  });
  ts.Start();
  auto client = NewCurlHttpClient();
  auto r = client->Send({.method = "GET",
                         .url = "https://127.0.0.1:" + std::to_string(ts.port()) + "/",
                         .timeout = milliseconds(3000)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

TEST(CurlHttpClient, WorksFromManyThreads) {
  TestServer ts;
  ts.server().Get("/n", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.get_param_value("i"), "text/plain");
  });
  ts.Start();
  auto client = NewCurlHttpClient();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string v = std::to_string(t * 100 + i);
        auto r = client->Send({.method = "GET", .url = ts.Url() + "/n?i=" + v});
        if (r && r->body == v) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 40);
}

}  // namespace
}  // namespace dripr
