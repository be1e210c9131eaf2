// EmbeddedBroker: schema, declarations and in-process wake-ups.
#include <algorithm>
#include <utility>

#include "dripr/bus/embedded/embedded_bus.h"
#include "dripr/bus/embedded/messages.h"
#include "dripr/core/time.h"

namespace dripr {

using sqlite::Connection;

namespace {

// Tables created if missing; the bus owns every table prefixed bus_ (docs/contracts.md §3).
constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS bus_topics(
  name TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bus_queues(
  name TEXT PRIMARY KEY,
  visibility_timeout_s INTEGER NOT NULL,
  max_receive_count INTEGER NOT NULL DEFAULT 0,
  dlq_name TEXT,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bus_subscriptions(
  topic TEXT NOT NULL,
  queue TEXT NOT NULL,
  filter_policy TEXT NOT NULL DEFAULT '',
  filter_scope TEXT NOT NULL DEFAULT 'MessageAttributes'
    CHECK (filter_scope IN ('MessageAttributes', 'MessageBody')),
  raw_delivery INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (topic, queue));
CREATE TABLE IF NOT EXISTS bus_messages(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  message_id TEXT NOT NULL,
  body TEXT NOT NULL,
  attributes TEXT NOT NULL DEFAULT '{}',
  sent_at INTEGER NOT NULL,
  visible_at INTEGER NOT NULL,
  receive_count INTEGER NOT NULL DEFAULT 0,
  receipt_handle TEXT,
  first_received_at INTEGER);
CREATE INDEX IF NOT EXISTS bus_messages_by_visibility ON bus_messages(queue, visible_at, id);
CREATE UNIQUE INDEX IF NOT EXISTS bus_messages_by_receipt ON bus_messages(receipt_handle);
)sql";

bool ValidName(const std::string& name, size_t max_len) {
  if (name.empty() || name.size() > max_len) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

}  // namespace

EmbeddedBroker::EmbeddedBroker(std::string path, EmbeddedBrokerOptions options,
                               std::unique_ptr<Connection> conn)
    : path_(std::move(path)),
      options_(options),
      clock_(options.clock != nullptr ? *options.clock : SystemClock::Instance()),
      ticker_(OrRealTicker(options.ticker)),
      conn_(std::move(conn)) {}

EmbeddedBroker::~EmbeddedBroker() = default;

Result<std::shared_ptr<EmbeddedBroker>> EmbeddedBroker::Open(const std::string& path,
                                                             EmbeddedBrokerOptions options) {
  auto conn = Connection::Open(path, sqlite::ConnectionOptions{.busy_timeout = options.busy_timeout,
                                                               .create = options.create});
  if (!conn) return Fail(conn.error().Wrap("embedded bus"));
  std::shared_ptr<EmbeddedBroker> broker(new EmbeddedBroker(path, options, std::move(*conn)));
  auto writer = sqlite::Writer::For(path, options.busy_timeout);
  if (!writer) return Fail(writer.error().Wrap("embedded bus"));
  broker->writer_ = std::move(*writer);
  broker->wake_ = embedded::WakeHub::For(broker->writer_->path());
  if (!options.create) return broker;
  auto schema = broker->CreateSchema();
  if (!schema) return Fail(schema.error().Wrap("embedded bus: create tables in " + path));
  return broker;
}

Status EmbeddedBroker::CreateSchema() {
  return InWriteTransaction("create bus tables",
                            [](Connection& c) -> Status { return c.Exec(kSchema); });
}

Status EmbeddedBroker::InWriteTransaction(std::string_view what,
                                          const std::function<Status(Connection&)>& fn) {
  return writer_->InWriteTransaction(what, fn);
}

Status EmbeddedBroker::WithConnection(const std::function<Status(Connection&)>& fn) {
  std::lock_guard lock(db_mu_);
  return fn(*conn_);
}

int64_t EmbeddedBroker::NowMillis() const { return ToUnixMillis(clock_.Now()); }

Status EmbeddedBroker::DeclareQueue(const EmbeddedQueueConfig& c) {
  if (!ValidName(c.name, 80)) {
    return Fail(ErrorCode::kInvalidArgument,
                "queue name \"" + c.name + "\": must be 1-80 characters of [A-Za-z0-9_-]");
  }
  if (c.visibility_timeout.count() < 0 ||
      c.visibility_timeout.count() > sqs::kMaxVisibilitySeconds) {
    return Fail(ErrorCode::kInvalidArgument,
                "queue " + c.name + ": visibility timeout must be 0-43200 seconds");
  }
  bool has_dlq = !c.dead_letter_queue.empty();
  if (has_dlq != (c.max_receive_count != 0)) {
    return Fail(ErrorCode::kInvalidArgument,
                "queue " + c.name + ": max_receive_count and dead_letter_queue go together");
  }
  if (has_dlq && (c.max_receive_count < 1 || c.max_receive_count > 1000)) {
    return Fail(ErrorCode::kInvalidArgument,
                "queue " + c.name + ": max_receive_count must be 1-1000");
  }
  if (has_dlq && c.dead_letter_queue == c.name) {
    return Fail(ErrorCode::kInvalidArgument,
                "queue " + c.name + ": a queue cannot be its own dead-letter queue");
  }
  return InWriteTransaction("declare queue " + c.name, [&](Connection& conn) -> Status {
    if (has_dlq) {
      DRIPR_ASSIGN_OR_RETURN(auto q, conn.Prepare("SELECT 1 FROM bus_queues WHERE name=?1"));
      q.BindString(c.dead_letter_queue);
      DRIPR_ASSIGN_OR_RETURN(bool found, q.Step());
      if (!found) {
        return Fail(ErrorCode::kNotFound, "queue " + c.name + ": dead-letter queue \"" +
                                              c.dead_letter_queue + "\" is not declared");
      }
    }
    DRIPR_ASSIGN_OR_RETURN(
        auto st,
        conn.Prepare("INSERT INTO bus_queues(name, visibility_timeout_s, max_receive_count, "
                     "dlq_name, created_at) VALUES(?1, ?2, ?3, ?4, ?5) "
                     "ON CONFLICT(name) DO UPDATE SET visibility_timeout_s=excluded."
                     "visibility_timeout_s, max_receive_count=excluded.max_receive_count, "
                     "dlq_name=excluded.dlq_name"));
    st.BindString(c.name).BindInt(static_cast<int64_t>(c.visibility_timeout.count()));
    st.BindInt(static_cast<int64_t>(c.max_receive_count));
    if (has_dlq) {
      st.BindString(c.dead_letter_queue);
    } else {
      st.BindNull();
    }
    st.BindInt(NowMillis());
    return st.Run();
  });
}

Status EmbeddedBroker::DeclareTopic(const std::string& name) {
  if (!ValidName(name, 256)) {
    return Fail(ErrorCode::kInvalidArgument,
                "topic name \"" + name + "\": must be 1-256 characters of [A-Za-z0-9_-]");
  }
  return InWriteTransaction("declare topic " + name, [&](Connection& conn) -> Status {
    DRIPR_ASSIGN_OR_RETURN(
        auto st, conn.Prepare("INSERT OR IGNORE INTO bus_topics(name, created_at) VALUES(?1, ?2)"));
    st.BindString(name).BindInt(NowMillis());
    return st.Run();
  });
}

Status EmbeddedBroker::Subscribe(const EmbeddedSubscription& s) {
  auto policy = FilterPolicy::Parse(s.filter_policy, s.filter_scope);
  if (!policy) {
    return Fail(policy.error().Wrap("subscription " + s.topic + " -> " + s.queue));
  }
  return InWriteTransaction("subscribe " + s.queue, [&](Connection& conn) -> Status {
    DRIPR_ASSIGN_OR_RETURN(auto t, conn.Prepare("SELECT 1 FROM bus_topics WHERE name=?1"));
    t.BindString(s.topic);
    DRIPR_ASSIGN_OR_RETURN(bool topic_found, t.Step());
    if (!topic_found)
      return Fail(ErrorCode::kNotFound, "topic \"" + s.topic + "\" is not declared");
    DRIPR_ASSIGN_OR_RETURN(auto q, conn.Prepare("SELECT 1 FROM bus_queues WHERE name=?1"));
    q.BindString(s.queue);
    DRIPR_ASSIGN_OR_RETURN(bool queue_found, q.Step());
    if (!queue_found)
      return Fail(ErrorCode::kNotFound, "queue \"" + s.queue + "\" is not declared");
    DRIPR_ASSIGN_OR_RETURN(
        auto st, conn.Prepare("INSERT INTO bus_subscriptions(topic, queue, filter_policy, "
                              "filter_scope, raw_delivery) VALUES(?1, ?2, ?3, ?4, ?5) "
                              "ON CONFLICT(topic, queue) DO UPDATE SET filter_policy=excluded."
                              "filter_policy, filter_scope=excluded.filter_scope, "
                              "raw_delivery=excluded.raw_delivery"));
    st.BindString(s.topic).BindString(s.queue).BindString(s.filter_policy);
    st.BindString(ToString(s.filter_scope)).BindInt(int64_t{s.raw_delivery ? 1 : 0});
    return st.Run();
  });
}

Result<bool> EmbeddedBroker::HasTables() {
  bool found = false;
  DRIPR_TRY(WithConnection([&](Connection& conn) -> Status {
    DRIPR_ASSIGN_OR_RETURN(auto st, conn.Prepare("SELECT count(*) FROM sqlite_master WHERE "
                                                 "type='table' AND name IN ('bus_topics', "
                                                 "'bus_queues', 'bus_subscriptions', "
                                                 "'bus_messages')"));
    DRIPR_ASSIGN_OR_RETURN(bool row, st.Step());
    found = row && st.Int(0) == 4;
    return Ok();
  }));
  return found;
}

Result<EmbeddedQueueConfig> EmbeddedBroker::ReadQueueConfig(Connection& conn,
                                                            const std::string& name) {
  DRIPR_ASSIGN_OR_RETURN(auto st, conn.Prepare("SELECT visibility_timeout_s, max_receive_count, "
                                               "COALESCE(dlq_name, '') FROM bus_queues "
                                               "WHERE name=?1"));
  st.BindString(name);
  DRIPR_ASSIGN_OR_RETURN(bool found, st.Step());
  if (!found) return Fail(ErrorCode::kNotFound, "queue \"" + name + "\" is not declared");
  EmbeddedQueueConfig c;
  c.name = name;
  c.visibility_timeout = std::chrono::seconds(st.Int(0));
  c.max_receive_count = static_cast<int>(st.Int(1));
  c.dead_letter_queue = st.Text(2);
  return c;
}

Result<EmbeddedQueueConfig> EmbeddedBroker::GetQueueConfig(const std::string& name) {
  EmbeddedQueueConfig c;
  DRIPR_TRY(WithConnection([&](Connection& conn) -> Status {
    DRIPR_ASSIGN_OR_RETURN(c, ReadQueueConfig(conn, name));
    return Ok();
  }));
  return c;
}

Result<std::vector<EmbeddedQueueConfig>> EmbeddedBroker::ListQueues() {
  std::vector<EmbeddedQueueConfig> out;
  DRIPR_TRY(WithConnection([&](Connection& conn) -> Status {
    DRIPR_ASSIGN_OR_RETURN(auto st, conn.Prepare("SELECT name, visibility_timeout_s, "
                                                 "max_receive_count, COALESCE(dlq_name, '') "
                                                 "FROM bus_queues ORDER BY name"));
    while (true) {
      DRIPR_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      EmbeddedQueueConfig c;
      c.name = st.Text(0);
      c.visibility_timeout = std::chrono::seconds(st.Int(1));
      c.max_receive_count = static_cast<int>(st.Int(2));
      c.dead_letter_queue = st.Text(3);
      out.push_back(std::move(c));
    }
    return Ok();
  }));
  return out;
}

Result<std::vector<EmbeddedSubscription>> EmbeddedBroker::ListSubscriptions(
    const std::string& topic) {
  std::vector<EmbeddedSubscription> out;
  DRIPR_TRY(WithConnection([&](Connection& conn) -> Status {
    DRIPR_ASSIGN_OR_RETURN(auto rows, embedded::ReadSubscriptions(conn, topic));
    for (embedded::SubscriptionRow& row : rows) {
      EmbeddedSubscription s;
      s.topic = topic;
      s.queue = std::move(row.queue);
      s.filter_policy = std::move(row.filter_policy);
      s.filter_scope = ParseFilterScope(row.filter_scope).value_or(FilterScope::kMessageAttributes);
      s.raw_delivery = row.raw_delivery;
      out.push_back(std::move(s));
    }
    return Ok();
  }));
  return out;
}

Result<std::unique_ptr<EmbeddedQueue>> EmbeddedBroker::OpenQueue(const std::string& name) {
  DRIPR_TRY(GetQueueConfig(name));
  return std::unique_ptr<EmbeddedQueue>(new EmbeddedQueue(shared_from_this(), name));
}

Result<std::unique_ptr<EmbeddedTopic>> EmbeddedBroker::OpenTopic(const std::string& name) {
  DRIPR_TRY(WithConnection([&](Connection& conn) -> Status {
    DRIPR_ASSIGN_OR_RETURN(auto st, conn.Prepare("SELECT 1 FROM bus_topics WHERE name=?1"));
    st.BindString(name);
    DRIPR_ASSIGN_OR_RETURN(bool found, st.Step());
    if (!found) return Fail(ErrorCode::kNotFound, "topic \"" + name + "\" is not declared");
    return Ok();
  }));
  return std::unique_ptr<EmbeddedTopic>(new EmbeddedTopic(shared_from_this(), name));
}

Result<const FilterPolicy*> EmbeddedBroker::CachedPolicy(FilterScope scope,
                                                         const std::string& text) {
  std::string key = std::string(ToString(scope)) + "\n" + text;
  std::lock_guard lock(policy_mu_);
  auto it = policy_cache_.find(key);
  if (it == policy_cache_.end()) {
    DRIPR_ASSIGN_OR_RETURN(FilterPolicy p, FilterPolicy::Parse(text, scope));
    it = policy_cache_.emplace(std::move(key), std::move(p)).first;
  }
  return &it->second;
}

}  // namespace dripr
