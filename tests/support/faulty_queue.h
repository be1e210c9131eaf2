#pragma once
// A Queue wrapper that forwards to a real queue and injects faults on demand (LevelDB's
// EnvWrapper/SpecialEnv pattern): failed receives and deletes, and a record of calls. Every
// Queue method is forwarded, the optional ones too (Browse, AckInNextTransaction), so a test
// through the wrapper sees the wrapped backend's behaviour.

#include <atomic>
#include <functional>
#include <mutex>

#include "dripr/bus/bus.h"

namespace dripr::testing {

class FaultyQueue : public Queue {
 public:
  explicit FaultyQueue(Queue& target) : target_(target) {}

  std::atomic<int> fail_next_receives{0};  // whole call fails with kUnavailable
  std::atomic<int> fail_next_deletes{0};   // whole DeleteBatch call fails with kUnavailable
  // Whole ChangeVisibilityBatch call fails with kUnavailable (not recorded as a change).
  std::atomic<int> fail_next_visibility_changes{0};
  std::atomic<int> delete_calls{0};
  std::atomic<int> max_delete_batch{0};
  std::atomic<int> receive_calls{0};
  std::atomic<bool> never_strands{false};  // what ReceiveNeverStrands() says
  // Called with every ChangeVisibilityBatch's entries before they are applied (set before the
  // consumer starts): a test holds a change in flight here.
  std::function<void(const std::vector<std::pair<std::string, std::chrono::seconds>>&)>
      before_visibility_change;

  std::string Name() const override { return target_.Name(); }
  Result<std::string> Send(const OutgoingMessage& m) override { return target_.Send(m); }
  Result<std::vector<ReceivedMessage>> Receive(int max, std::chrono::milliseconds wait,
                                               std::optional<std::chrono::seconds> vis) override {
    ++receive_calls;
    {
      std::lock_guard lock(mu_);
      receive_visibilities_.push_back(vis);
    }
    if (fail_next_receives > 0) {
      --fail_next_receives;
      return Fail(ErrorCode::kUnavailable, "injected receive failure");
    }
    return target_.Receive(max, wait, vis);
  }
  void CancelReceives() override { target_.CancelReceives(); }
  bool ReceiveNeverStrands() const override { return never_strands; }
  Result<std::vector<Status>> DeleteBatch(const std::vector<std::string>& receipts) override {
    ++delete_calls;
    int n = static_cast<int>(receipts.size());
    for (int cur = max_delete_batch; n > cur && !max_delete_batch.compare_exchange_weak(cur, n);) {
    }
    if (fail_next_deletes > 0) {
      --fail_next_deletes;
      return Fail(ErrorCode::kUnavailable, "injected delete failure");
    }
    return target_.DeleteBatch(receipts);
  }
  Result<std::vector<Status>> ChangeVisibilityBatch(
      const std::vector<std::pair<std::string, std::chrono::seconds>>& entries) override {
    if (fail_next_visibility_changes > 0) {
      --fail_next_visibility_changes;
      return Fail(ErrorCode::kUnavailable, "injected visibility change failure");
    }
    if (before_visibility_change) before_visibility_change(entries);
    // Recorded once applied: a test that sees the change and then moves the queue's clock
    // must not race the change itself (it would be applied at the later time).
    auto applied = target_.ChangeVisibilityBatch(entries);
    {
      std::lock_guard lock(mu_);
      for (const auto& e : entries) visibility_changes_.push_back(e.second);
    }
    return applied;
  }
  Result<QueueStats> Stats() override { return target_.Stats(); }
  Status Purge() override { return target_.Purge(); }
  Result<std::optional<std::vector<ReceivedMessage>>> Browse() override { return target_.Browse(); }
  std::unique_ptr<InTransactionAck> AckInNextTransaction(const std::string& receipt) override {
    return target_.AckInNextTransaction(receipt);
  }

  std::vector<std::chrono::seconds> visibility_changes() {
    std::lock_guard lock(mu_);
    return visibility_changes_;
  }
  // The visibility each Receive asked for, in call order.
  std::vector<std::optional<std::chrono::seconds>> receive_visibilities() {
    std::lock_guard lock(mu_);
    return receive_visibilities_;
  }

 private:
  Queue& target_;
  std::mutex mu_;
  std::vector<std::chrono::seconds> visibility_changes_;
  std::vector<std::optional<std::chrono::seconds>> receive_visibilities_;
};

}  // namespace dripr::testing
