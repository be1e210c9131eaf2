#include "support/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dripr::testing {

namespace {

constexpr int kPollMs = 50;  // how soon a pump or the acceptor notices the proxy stopping

int ConnectTo(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool SendAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

std::unique_ptr<TcpProxy> TcpProxy::Start(std::string target_host, int target_port,
                                          std::string* error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, 64) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (error != nullptr) *error = std::string("proxy cannot listen: ") + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<TcpProxy>(
      new TcpProxy(std::move(target_host), target_port, fd, ntohs(addr.sin_port)));
}

TcpProxy::TcpProxy(std::string target_host, int target_port, int listen_fd, int port)
    : target_host_(std::move(target_host)),
      target_port_(target_port),
      listen_fd_(listen_fd),
      port_(port),
      acceptor_([this] { AcceptLoop(); }) {}

TcpProxy::~TcpProxy() {
  stop_ = true;
  acceptor_.join();
  std::vector<std::thread> pumps;
  {
    std::lock_guard lock(mu_);
    pumps.swap(pumps_);
  }
  for (auto& t : pumps) t.join();
  ::close(listen_fd_);
}

void TcpProxy::LoseNextReplyHolding(std::string pattern) {
  std::lock_guard lock(mu_);
  armed_ = std::move(pattern);
}

bool TcpProxy::TakeArmed(const std::string& chunk) {
  std::lock_guard lock(mu_);
  if (armed_.empty() || chunk.find(armed_) == std::string::npos) return false;
  armed_.clear();
  return true;
}

void TcpProxy::AcceptLoop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    int server = ConnectTo(target_host_, target_port_);
    if (server < 0) {
      ::close(client);
      continue;
    }
    std::lock_guard lock(mu_);
    pumps_.emplace_back([this, client, server] { Pump(client, server); });
  }
}

void TcpProxy::Pump(int client_fd, int server_fd) {
  char buf[64 * 1024];
  pollfd fds[2] = {{client_fd, POLLIN, 0}, {server_fd, POLLIN, 0}};
  while (!stop_) {
    if (::poll(fds, 2, kPollMs) <= 0) continue;
    bool open = true;
    for (int i = 0; i < 2 && open; ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
      if (n <= 0) {
        open = false;
        break;
      }
      const bool from_server = i == 1;
      if (from_server && TakeArmed(std::string(buf, static_cast<size_t>(n)))) {
        lost_.fetch_add(1);
        open = false;  // the reply is dropped and the connection cut both ways
        break;
      }
      open = SendAll(fds[1 - i].fd, buf, static_cast<size_t>(n));
    }
    if (!open) break;
  }
  ::close(client_fd);
  ::close(server_fd);
}

}  // namespace dripr::testing
