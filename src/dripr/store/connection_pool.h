#pragma once
// ConnectionPool<Connection>: up to `size` connections of a client/server backend, opened
// lazily. Acquire() waits for a free one (up to `acquire_timeout`, then kUnavailable). A
// connection the backend calls not reusable when its lease ends (lost, or left inside a
// transaction) is closed instead of kept. Shared by the PostgreSQL and MySQL stores.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"

namespace dripr {

template <class Connection>
class ConnectionPool {
 public:
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> c) : pool_(pool), conn_(std::move(c)) {}
    Lease(Lease&& o) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_ != nullptr && conn_) pool_->Return(std::move(conn_));
    }
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  virtual ~ConnectionPool() = default;

  Result<Lease> Acquire() {
    std::unique_lock lock(mu_);
    if (!ticker_.WaitUntil(lock, cv_, ticker_.Now() + acquire_timeout_,
                           [&] { return !idle_.empty() || open_ < size_; })) {
      return Fail(ErrorCode::kUnavailable,
                  server_ + ": all " + std::to_string(size_) + " pooled connections are busy");
    }
    if (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
    ++open_;
    lock.unlock();
    auto c = Open();
    if (!c) {
      lock.lock();
      --open_;
      cv_.notify_one();
      return Fail(c.error());
    }
    return Lease(this, std::move(*c));
  }

 protected:
  // `server` names the backend in errors ("PostgreSQL"); `ticker` (null: the real one) times
  // the acquire wait and must outlive the pool.
  ConnectionPool(std::string server, int size, std::chrono::milliseconds acquire_timeout,
                 Ticker* ticker)
      : server_(std::move(server)),
        size_(std::max(1, size)),
        acquire_timeout_(acquire_timeout),
        ticker_(OrRealTicker(ticker)) {}

  // A new connection (called without the pool's lock).
  virtual Result<std::unique_ptr<Connection>> Open() = 0;
  // Whether a connection whose lease ended may serve the next one.
  virtual bool Reusable(const Connection& c) const = 0;

 private:
  void Return(std::unique_ptr<Connection> c) {
    bool reusable = Reusable(*c);
    if (!reusable) c.reset();
    {
      std::lock_guard lock(mu_);
      if (reusable) {
        idle_.push_back(std::move(c));
      } else {
        --open_;
      }
    }
    // Outside the lock: a woken waiter does not block at once on the mutex still held here.
    cv_.notify_one();
  }

  const std::string server_;
  const int size_;
  const std::chrono::milliseconds acquire_timeout_;
  Ticker& ticker_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  int open_ = 0;                                   // leased + idle; guarded by mu_
};

// The pool of a backend whose connections open from a URL: Connection::Open(url,
// connect_timeout) opens one, Connection::Reusable() is the backend's rule for keeping one whose
// lease ended, and Connection::kServer names the backend in errors ("PostgreSQL").
template <class Connection, class Url>
class UrlConnectionPool final : public ConnectionPool<Connection> {
 public:
  // `ticker` (null: the real one) times the acquire wait; it must outlive the pool.
  UrlConnectionPool(Url url, int size, std::chrono::seconds connect_timeout,
                    std::chrono::milliseconds acquire_timeout, Ticker* ticker = nullptr)
      : ConnectionPool<Connection>(std::string(Connection::kServer), size, acquire_timeout, ticker),
        url_(std::move(url)),
        connect_timeout_(connect_timeout) {}

 private:
  Result<std::unique_ptr<Connection>> Open() override {
    return Connection::Open(url_, connect_timeout_);
  }
  bool Reusable(const Connection& c) const override { return c.Reusable(); }

  const Url url_;
  const std::chrono::seconds connect_timeout_;
};

}  // namespace dripr
