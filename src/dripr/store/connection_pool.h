#pragma once
// ConnectionPool<Connection>: up to `size` connections of a client/server backend, opened
// lazily. Acquire() waits for a free one (up to `acquire_timeout`, then kUnavailable), first
// come first served: a returned connection is handed straight to the oldest waiter. A
// connection the backend calls not reusable when its lease ends (lost, or left inside a
// transaction) is closed instead of kept. Shared by the PostgreSQL and MySQL stores.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
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
    if (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
    if (open_ < size_) {
      ++open_;
      lock.unlock();
      return OpenLease();
    }
    // All `size_` are leased: queue up and wait to be handed one (or the slot of one closed).
    auto waiter = std::make_shared<Waiter>();
    waiters_.push_back(waiter);
    if (!ticker_.WaitUntil(lock, waiter->cv, ticker_.Now() + acquire_timeout_,
                           [&] { return waiter->served(); })) {
      std::erase(waiters_, waiter);
      return Fail(ErrorCode::kUnavailable,
                  server_ + ": all " + std::to_string(size_) + " pooled connections are busy");
    }
    if (waiter->conn) return Lease(this, std::move(waiter->conn));
    lock.unlock();  // handed the slot of a connection that was closed: open one in its place
    return OpenLease();
  }

  // Callers waiting in Acquire right now (tests, diagnostics).
  int Waiting() const {
    std::lock_guard lock(mu_);
    return static_cast<int>(waiters_.size());
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
  // A caller waiting in Acquire. Return and a failed Open serve the oldest one directly: it
  // gets the connection (or the slot, to open one), so a wake-up is never for nothing and no
  // other thread can take the connection between the notify and the waiter's turn (a shared
  // condition variable woke a waiter that often found the connection taken again, and its
  // internal lock made returning threads block too). Shared with the waiter so the notify,
  // made after the pool's lock is released, never touches a waiter that has already left.
  struct Waiter {
    std::condition_variable cv;
    std::unique_ptr<Connection> conn;  // the connection handed over; guarded by mu_
    bool slot = false;                 // may open a new connection instead; guarded by mu_
    bool served() const { return conn != nullptr || slot; }
  };

  // Opens the connection of a slot already counted in `open_`; gives the slot on if it fails.
  Result<Lease> OpenLease() {
    auto c = Open();
    if (!c) {
      ReleaseSlot(nullptr);
      return Fail(c.error());
    }
    return Lease(this, std::move(*c));
  }

  void Return(std::unique_ptr<Connection> c) {
    if (!Reusable(*c)) c.reset();  // closed outside the lock
    ReleaseSlot(std::move(c));
  }

  // A lease ended with `c` (null: its connection was closed or never opened): to the oldest
  // waiter if there is one, else to the idle list (or the slot is freed).
  void ReleaseSlot(std::unique_ptr<Connection> c) {
    std::shared_ptr<Waiter> waiter;
    {
      std::lock_guard lock(mu_);
      if (!waiters_.empty()) {
        waiter = std::move(waiters_.front());
        waiters_.pop_front();
        if (c) {
          waiter->conn = std::move(c);
        } else {
          waiter->slot = true;
        }
      } else if (c) {
        idle_.push_back(std::move(c));
      } else {
        --open_;
      }
    }
    // Outside the lock: the woken waiter does not block at once on the mutex still held here.
    if (waiter) waiter->cv.notify_one();
  }

  const std::string server_;
  const int size_;
  const std::chrono::milliseconds acquire_timeout_;
  Ticker& ticker_;

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  std::deque<std::shared_ptr<Waiter>> waiters_;    // oldest first; guarded by mu_
  int open_ = 0;                                   // leased + idle + being opened; guarded by mu_
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
