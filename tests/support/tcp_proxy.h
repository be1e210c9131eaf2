// A TCP proxy on 127.0.0.1 in front of a test server, forwarding both ways, that can lose one
// reply: armed with a byte pattern, it drops the first server-to-client chunk holding it and
// closes that connection both ways, as a network does when it fails after the server acted on
// a request (a COMMIT that committed, its reply never read). The store under test then sees a
// lost connection at the worst moment, against the real server.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dripr::testing {

class TcpProxy {
 public:
  // Listens on a free loopback port; connects each client to `target_host`:`target_port`.
  // nullptr (with the reason in `error`) when it cannot listen.
  static std::unique_ptr<TcpProxy> Start(std::string target_host, int target_port,
                                         std::string* error);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  // The next server-to-client chunk holding `pattern` is lost and its connection cut.
  void LoseNextReplyHolding(std::string pattern);
  // How many replies were lost so far.
  int lost() const { return lost_.load(); }

 private:
  TcpProxy(std::string target_host, int target_port, int listen_fd, int port);
  void AcceptLoop();
  void Pump(int client_fd, int server_fd);
  // Whether `chunk` holds the armed pattern (disarming it).
  bool TakeArmed(const std::string& chunk);

  const std::string target_host_;
  const int target_port_;
  const int listen_fd_;
  const int port_;
  std::atomic<bool> stop_{false};
  std::atomic<int> lost_{0};
  std::mutex mu_;
  std::string armed_;               // guarded by mu_; empty: not armed
  std::vector<std::thread> pumps_;  // guarded by mu_
  std::thread acceptor_;
};

}  // namespace dripr::testing
