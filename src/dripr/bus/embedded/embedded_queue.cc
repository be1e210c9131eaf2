// EmbeddedQueue: SQS receive/delete/visibility semantics over the bus_messages table.
#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "dripr/bus/embedded/embedded_bus.h"
#include "dripr/bus/embedded/messages.h"
#include "dripr/core/ids.h"
#include "dripr/core/time.h"

namespace dripr {

using sqlite::Connection;

namespace {

constexpr std::string_view kStaleReceipt = "receipt handle is invalid or expired";

Status CheckBatchSize(size_t n) {
  if (n < 1 || n > 10) {
    return Fail(ErrorCode::kInvalidArgument,
                "a batch must have 1-10 entries, got " + std::to_string(n));
  }
  return Ok();
}

}  // namespace

namespace embedded {

Status ValidateMessage(const OutgoingMessage& m) { return ValidateOutgoingMessage(m); }

std::string EncodeAttributes(const MessageAttributes& attributes) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : attributes) j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

MessageAttributes DecodeAttributes(std::string_view json_text) {
  MessageAttributes out;
  auto j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

Status InsertMessage(Connection& conn, const std::string& queue, const std::string& message_id,
                     std::string_view body, const std::string& attributes_json, int64_t now_ms,
                     int64_t delay_ms) {
  DRIPR_ASSIGN_OR_RETURN(
      auto st, conn.Prepare("INSERT INTO bus_messages(queue, message_id, body, attributes, "
                            "sent_at, visible_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
  st.BindString(queue).BindString(message_id).BindString(body).BindString(attributes_json);
  st.BindInt(now_ms).BindInt(now_ms + delay_ms);
  return st.Run();
}

}  // namespace embedded

Result<std::string> EmbeddedQueue::Send(const OutgoingMessage& m) {
  DRIPR_TRY(embedded::ValidateMessage(m));
  std::string id = NewUuid();
  DRIPR_TRY(broker_->InWriteTransaction("send to " + name_, [&](Connection& conn) -> Status {
    DRIPR_TRY(EmbeddedBroker::ReadQueueConfig(conn, name_));  // kNotFound once deleted
    return embedded::InsertMessage(conn, name_, id, m.body,
                                   embedded::EncodeAttributes(m.attributes), broker_->NowMillis(),
                                   m.delay.count() * 1000);
  }));
  broker_->Notify({name_});
  return id;
}

Result<std::vector<ReceivedMessage>> EmbeddedQueue::Receive(
    int max_messages, std::chrono::milliseconds wait,
    std::optional<std::chrono::seconds> visibility) {
  if (max_messages < 1 || max_messages > 10) {
    return Fail(ErrorCode::kInvalidArgument,
                "max_messages must be 1-10, got " + std::to_string(max_messages));
  }
  if (wait.count() < 0) return Fail(ErrorCode::kInvalidArgument, "wait must not be negative");
  if (visibility && (visibility->count() < 0 || visibility->count() > sqs::kMaxVisibilitySeconds)) {
    return Fail(ErrorCode::kInvalidArgument, "visibility timeout must be 0-43200 seconds");
  }
  const auto deadline = broker_->ticker_.Now() + wait;
  if (wait.count() > 0) broker_->EnsureWatching();
  // Only the calls in flight when CancelReceives runs are cut short.
  const uint64_t cancels = cancels_.load();
  const auto cancelled = [&] { return cancels_.load() != cancels; };
  while (true) {
    // Read the wake-up counters before looking, so a send that commits after our look
    // is never missed.
    uint64_t seen = broker_->Generation(name_);
    uint64_t external = broker_->ExternalGeneration();
    // A read first: the write transaction only when a message is visible. A send wakes every
    // receive loop of its queue and a loop looks again right after each batch it got, so
    // most looks find nothing, and each was a write transaction (a turn at the writer; on a
    // bus in its own file a BEGIN IMMEDIATE ... COMMIT of its own). The read also gives when
    // the queue's next invisible message becomes visible (a retry's backoff).
    DRIPR_ASSIGN_OR_RETURN(auto next, NextVisibleAt(/*check_declared=*/true));
    if (next && *next <= broker_->NowMillis()) {
      DRIPR_ASSIGN_OR_RETURN(auto got, TryReceive(max_messages, visibility));
      if (!got.empty()) return got;
      DRIPR_ASSIGN_OR_RETURN(next, NextVisibleAt());  // another receiver took them first
    }
    if (broker_->ticker_.Now() >= deadline) return std::vector<ReceivedMessage>{};
    while (true) {
      const auto now = broker_->ticker_.Now();
      auto slice = broker_->FallbackSlice();
      if (next) {
        const auto until_visible =
            std::chrono::milliseconds(std::max<int64_t>(0, *next - broker_->NowMillis()) + 1);
        slice = std::min(slice, until_visible);
      }
      const auto why =
          broker_->WaitForChange(name_, seen, external, std::min(deadline, now + slice), cancelled);
      if (why == EmbeddedBroker::Wake::kCancelled) return std::vector<ReceivedMessage>{};
      if (why == EmbeddedBroker::Wake::kLocal) break;  // sent in this process
      if (broker_->ticker_.Now() >= deadline) return std::vector<ReceivedMessage>{};
      // Another process committed, a visibility timeout lapsed, or the fallback period.
      external = broker_->ExternalGeneration();
      DRIPR_ASSIGN_OR_RETURN(next, NextVisibleAt());
      if (next && *next <= broker_->NowMillis()) break;
    }
  }
}

void EmbeddedQueue::CancelReceives() {
  ++cancels_;
  broker_->Interrupt(name_);
}

Result<std::optional<int64_t>> EmbeddedQueue::NextVisibleAt(bool check_declared) {
  std::optional<int64_t> next;
  DRIPR_TRY(broker_->WithConnection([&](Connection& conn) -> Status {
    DRIPR_ASSIGN_OR_RETURN(auto st,
                           conn.Prepare("SELECT min(visible_at) FROM bus_messages WHERE queue=?1"));
    st.BindString(name_);
    DRIPR_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) next = st.OptInt(0);
    // An empty queue may be one never declared (or deleted): kNotFound, as a receive's
    // transaction says when it reads the queue's settings.
    if (check_declared && !next) DRIPR_TRY(EmbeddedBroker::ReadQueueConfig(conn, name_));
    return Ok();
  }));
  return next;
}

Result<std::vector<ReceivedMessage>> EmbeddedQueue::TryReceive(
    int max_messages, std::optional<std::chrono::seconds> visibility) {
  std::vector<ReceivedMessage> out;
  std::string dlq;
  bool moved = false;
  DRIPR_TRY(broker_->InWriteTransaction("receive from " + name_, [&](Connection& conn) -> Status {
    DRIPR_ASSIGN_OR_RETURN(auto config, EmbeddedBroker::ReadQueueConfig(conn, name_));
    const int64_t vis_s = visibility ? visibility->count() : config.visibility_timeout.count();
    const int64_t max_receives = config.max_receive_count;
    dlq = config.dead_letter_queue;
    const int64_t now = broker_->NowMillis();

    struct Row {
      int64_t id;
      std::string message_id, body, attributes;
      int64_t sent_at, receive_count;
    };
    // Messages moved to the DLQ free their slot, so look again until the batch is full or
    // nothing visible is left.
    while (static_cast<int>(out.size()) < max_messages) {
      const int64_t want = max_messages - static_cast<int64_t>(out.size());
      std::vector<Row> rows;
      {
        DRIPR_ASSIGN_OR_RETURN(auto sel,
                               conn.Prepare("SELECT id, message_id, body, attributes, sent_at, "
                                            "receive_count FROM bus_messages WHERE queue=?1 AND "
                                            "visible_at<=?2 ORDER BY visible_at, id LIMIT ?3"));
        sel.BindString(name_).BindInt(now).BindInt(want);
        while (true) {
          DRIPR_ASSIGN_OR_RETURN(bool row, sel.Step());
          if (!row) break;
          rows.push_back(
              Row{sel.Int(0), sel.Text(1), sel.Text(2), sel.Text(3), sel.Int(4), sel.Int(5)});
        }
      }
      if (rows.empty()) break;
      bool moved_now = false;
      for (auto& r : rows) {
        if (!dlq.empty() && max_receives > 0 && r.receive_count >= max_receives) {
          // SQS redrive: the receive that would exceed maxReceiveCount moves the message
          // (id, body, attributes, sent time and receive count kept).
          DRIPR_ASSIGN_OR_RETURN(auto mv, conn.Prepare("UPDATE bus_messages SET queue=?1, "
                                                       "visible_at=?2, receipt_handle=NULL "
                                                       "WHERE id=?3"));
          mv.BindString(dlq).BindInt(now).BindInt(r.id);
          DRIPR_TRY(mv.Run());
          moved = moved_now = true;
          continue;
        }
        std::string receipt = NewUuid();
        DRIPR_ASSIGN_OR_RETURN(auto up,
                               conn.Prepare("UPDATE bus_messages SET visible_at=?1, receive_count="
                                            "receive_count+1, receipt_handle=?2, first_received_at="
                                            "COALESCE(first_received_at, ?3) WHERE id=?4"));
        up.BindInt(now + vis_s * 1000).BindString(receipt).BindInt(now).BindInt(r.id);
        DRIPR_TRY(up.Run());
        ReceivedMessage m;
        m.message_id = std::move(r.message_id);
        m.receipt_handle = std::move(receipt);
        m.body = std::move(r.body);
        m.attributes = embedded::DecodeAttributes(r.attributes);
        m.receive_count = static_cast<int>(r.receive_count + 1);
        m.sent_at = FromUnixMillis(r.sent_at);
        out.push_back(std::move(m));
      }
      if (!moved_now || static_cast<int64_t>(rows.size()) < want) break;
    }
    return Ok();
  }));
  if (moved) broker_->Notify({dlq});
  // A zero visibility makes the messages receivable again at once.
  if (visibility && visibility->count() == 0 && !out.empty()) broker_->Notify({name_});
  return out;
}

namespace {

class EmbeddedInTransactionAck final : public Queue::InTransactionAck {
 public:
  // `fn` may run on another thread (the writer's combiner) while the caller waits: it sets
  // `superseded` through the shared flag.
  EmbeddedInTransactionAck(std::shared_ptr<sqlite::Writer> writer,
                           std::shared_ptr<std::atomic<bool>> superseded,
                           std::function<Status(Connection&)> fn)
      : superseded_(std::move(superseded)), pending_(std::move(writer), std::move(fn)) {}
  bool committed() const override { return pending_.committed(); }
  bool superseded() const override { return superseded_->load(); }

 private:
  const std::shared_ptr<std::atomic<bool>> superseded_;
  sqlite::PendingInTransaction pending_;
};

}  // namespace

std::unique_ptr<Queue::InTransactionAck> EmbeddedQueue::AckInNextTransaction(
    const std::string& receipt) {
  auto superseded = std::make_shared<std::atomic<bool>>(false);
  return std::make_unique<EmbeddedInTransactionAck>(
      broker_->writer_, superseded,
      [queue = name_, receipt, superseded](Connection& conn) -> Status {
        DRIPR_ASSIGN_OR_RETURN(
            auto st, conn.Prepare("DELETE FROM bus_messages WHERE queue=?1 AND receipt_handle=?2"));
        st.BindString(queue).BindString(receipt);
        DRIPR_TRY(st.Run());
        if (conn.Changes() == 0) {
          superseded->store(true);
          return Fail(ErrorCode::kFailedPrecondition,
                      "message of queue " + queue +
                          " was received again elsewhere (its lease lapsed); nothing committed");
        }
        return Ok();
      });
}

Result<std::vector<Status>> EmbeddedQueue::DeleteBatch(const std::vector<std::string>& receipts) {
  DRIPR_TRY(CheckBatchSize(receipts.size()));
  std::vector<Status> out;
  DRIPR_TRY(broker_->InWriteTransaction("delete from " + name_, [&](Connection& conn) -> Status {
    out.clear();
    for (const auto& r : receipts) {
      DRIPR_ASSIGN_OR_RETURN(
          auto st, conn.Prepare("DELETE FROM bus_messages WHERE queue=?1 AND receipt_handle=?2"));
      st.BindString(name_).BindString(r);
      DRIPR_TRY(st.Run());
      if (conn.Changes() == 0) {
        out.push_back(Fail(ErrorCode::kInvalidArgument, std::string(kStaleReceipt)));
      } else {
        out.push_back(Ok());
      }
    }
    return Ok();
  }));
  return out;
}

Result<std::vector<Status>> EmbeddedQueue::ChangeVisibilityBatch(
    const std::vector<std::pair<std::string, std::chrono::seconds>>& entries) {
  DRIPR_TRY(CheckBatchSize(entries.size()));
  std::vector<Status> out;
  bool made_visible = false;
  DRIPR_TRY(
      broker_->InWriteTransaction("change visibility in " + name_, [&](Connection& conn) -> Status {
        const int64_t now = broker_->NowMillis();
        for (const auto& [receipt, timeout] : entries) {
          if (timeout.count() < 0 || timeout.count() > sqs::kMaxVisibilitySeconds) {
            out.push_back(
                Fail(ErrorCode::kInvalidArgument, "visibility timeout must be 0-43200 seconds"));
            continue;
          }
          DRIPR_ASSIGN_OR_RETURN(auto st, conn.Prepare("UPDATE bus_messages SET visible_at=?1 "
                                                       "WHERE queue=?2 AND receipt_handle=?3"));
          st.BindInt(now + timeout.count() * 1000).BindString(name_).BindString(receipt);
          DRIPR_TRY(st.Run());
          if (conn.Changes() == 0) {
            out.push_back(Fail(ErrorCode::kInvalidArgument, std::string(kStaleReceipt)));
          } else {
            out.push_back(Ok());
            if (timeout.count() == 0) made_visible = true;
          }
        }
        return Ok();
      }));
  if (made_visible) broker_->Notify({name_});
  return out;
}

Result<QueueStats> EmbeddedQueue::Stats() {
  QueueStats s;
  DRIPR_TRY(broker_->WithConnection([&](Connection& conn) -> Status {
    DRIPR_TRY(EmbeddedBroker::ReadQueueConfig(conn, name_));  // kNotFound once deleted
    // Not visible and never received (no receipt): sent with a delay that has not passed.
    // A message the broker moved here has no receipt either, but is visible at once.
    DRIPR_ASSIGN_OR_RETURN(
        auto st, conn.Prepare("SELECT COALESCE(SUM(visible_at<=?2), 0), "
                              "COALESCE(SUM(visible_at>?2 AND receipt_handle IS NOT NULL), 0), "
                              "COALESCE(SUM(visible_at>?2 AND receipt_handle IS NULL), 0), "
                              "MIN(sent_at) FROM bus_messages WHERE queue=?1"));
    st.BindString(name_).BindInt(broker_->NowMillis());
    DRIPR_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) {
      s.visible = st.Int(0);
      s.in_flight = st.Int(1);
      s.delayed = st.Int(2);
      if (auto oldest = st.OptInt(3)) s.oldest_sent_at = FromUnixMillis(*oldest);
    }
    return Ok();
  }));
  return s;
}

Result<std::optional<std::vector<ReceivedMessage>>> EmbeddedQueue::Browse() {
  std::vector<ReceivedMessage> out;
  DRIPR_TRY(broker_->WithConnection([&](Connection& conn) -> Status {
    DRIPR_ASSIGN_OR_RETURN(auto st,
                           conn.Prepare("SELECT message_id, body, attributes, sent_at, "
                                        "receive_count FROM bus_messages WHERE queue=?1 AND "
                                        "visible_at<=?2 ORDER BY visible_at, id"));
    st.BindString(name_).BindInt(broker_->NowMillis());
    DRIPR_ASSIGN_OR_RETURN(out, st.ReadAll<ReceivedMessage>([](sqlite::Statement& s) {
      ReceivedMessage m;
      m.message_id = s.Text(0);
      m.body = s.Text(1);
      m.attributes = embedded::DecodeAttributes(s.Text(2));
      m.sent_at = FromUnixMillis(s.Int(3));
      m.receive_count = static_cast<int>(s.Int(4));
      return m;
    }));
    return Ok();
  }));
  return out;
}

Status EmbeddedQueue::Purge() {
  return broker_->InWriteTransaction("purge " + name_, [&](Connection& conn) -> Status {
    DRIPR_ASSIGN_OR_RETURN(auto st, conn.Prepare("DELETE FROM bus_messages WHERE queue=?1"));
    st.BindString(name_);
    return st.Run();
  });
}

}  // namespace dripr
