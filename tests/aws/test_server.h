#pragma once
// A real HTTP server on a free loopback port for tests (an "imposter", docs/style.md). Register
// handlers on server() before Start(); the destructor stops it and joins its thread.

#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

namespace dripr::testing {

class TestServer {
 public:
  // Keep-alive is short because stopping waits for idle keep-alive connections to time out
  // (a client thread's curl handle keeps its connection open).
  TestServer() : port_(server_.bind_to_any_port("127.0.0.1")) { server_.set_keep_alive_timeout(1); }
  ~TestServer() { Stop(); }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  httplib::Server& server() { return server_; }
  // The socket listens from construction on; Start() begins accepting connections.
  void Start() {
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  void Stop() {
    if (thread_.joinable()) {
      // stop() is a no-op until the listen loop runs: wait for it (bounded).
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      server_.stop();
      thread_.join();
    }
  }
  int port() const { return port_; }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_;
  std::thread thread_;
};

}  // namespace dripr::testing
