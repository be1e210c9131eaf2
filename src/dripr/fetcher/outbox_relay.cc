#include "dripr/fetcher/outbox_relay.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "dripr/core/log.h"
#include "dripr/core/thread_name.h"

namespace dripr {

OutboxRelay::OutboxRelay(Store& store, Topic& topic, OutboxRelayOptions options, Ticker* ticker,
                         Metrics* metrics)
    : store_(store),
      topic_(topic),
      options_(options),
      ticker_(OrRealTicker(ticker)),
      metrics_(metrics),
      published_metric_(CounterOf(metrics, kEventsPublished, {})) {}

OutboxRelay::~OutboxRelay() { Stop(); }

void OutboxRelay::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    NameThisThread("outbox-relay");
    Loop();
  });
}

void OutboxRelay::Stop() {
  {
    std::lock_guard lock(mu_);  // so a thread about to wait on cv_ cannot miss it
    stop_ = true;
  }
  cv_.notify_all();
  store_.NotifyOutbox();  // the thread may be in WaitForOutbox: it reads stop_ there
  if (thread_.joinable()) thread_.join();
}

Result<int> OutboxRelay::RunOnce() {
  int published = 0;
  auto count = [&] {
    published_ += published;
    published_metric_.Increment(static_cast<double>(published));
  };
  const void* key = store_.TransactionKey();
  if (key == nullptr || key != topic_.TransactionKey()) {
    auto r = Pass(published);
    count();
    if (!r) return Fail(r.error());
    return published;
  }
  // The topic writes the store's own database through the same connection (the embedded bus
  // on the store's SQLite file): claim, publish and mark in ONE transaction, so a row is
  // published exactly once; a failed publish undoes only its own writes (a savepoint) and
  // the pass commits what went before it. A failed commit leaves nothing claimed, published
  // or marked.
  Status pass = Ok();
  DRIPR_TRY(store_.InOneTransaction("outbox relay pass", [&]() -> Status {
    published = 0;
    pass = Pass(published);
    return Ok();
  }));
  count();
  if (!pass) return Fail(pass.error());
  return published;
}

Status OutboxRelay::Pass(int& published) {
  DRIPR_ASSIGN_OR_RETURN(auto rows, store_.ClaimOutbox(options_.batch_size, options_.claim_lease));
  if (rows.empty()) return Ok();
  std::vector<int64_t> done;
  std::vector<int64_t> failed;
  std::optional<Error> first_error;
  // Marked in small chunks as they go out: if the database is lost mid-batch, only the rows
  // since the last mark are published again after their lease (at-least-once either way).
  auto mark = [&]() -> Status {
    if (done.empty()) return Ok();
    DRIPR_TRY(store_.MarkPublished(done));
    published += static_cast<int>(done.size());
    done.clear();
    return Ok();
  };
  // A row no bus will ever take (unreadable as stored, or a message outside SQS's limits)
  // would hold up every row after it on every pass: it is set aside with its reason instead
  // (Store::SetAsideOutbox), after the rows before it are marked, and the pass goes on.
  auto set_aside = [&](const OutboxRow& row, const std::string& why) -> Status {
    DRIPR_TRY(mark());
    DRIPR_LOG_ERROR("outbox: row {} of campaign {} set aside unpublished: {}", row.id,
                    row.campaign_id.str(), why);
    DRIPR_TRY(store_.SetAsideOutbox(row.id, why));
    ++set_aside_;
    return Ok();
  };
  auto message = [](const OutboxRow& row) {
    OutgoingMessage m{row.body, {}};
    for (const auto& [k, v] : row.attributes) m.attributes[k] = v;
    return m;
  };
  // Published in chunks of mark_every (Topic::PublishBatch: one transaction each on the
  // embedded bus, instead of one per row), each chunk marked before the next goes out.
  const size_t chunk = static_cast<size_t>(std::max(1, options_.mark_every));
  size_t i = 0;
  while (i < rows.size()) {
    if (first_error) {  // keep order: nothing after a failure goes out in this pass
      failed.push_back(rows[i++].id);
      continue;
    }
    if (!rows[i].unreadable.empty()) {
      DRIPR_TRY(set_aside(rows[i], rows[i].unreadable));
      ++i;
      continue;
    }
    // The chunk: rows from i that every bus takes, up to `chunk` of them.
    std::vector<OutgoingMessage> ms;
    size_t end = i;
    std::optional<Error> refused;  // the first row's, when no bus would take it
    while (end < rows.size() && ms.size() < chunk && rows[end].unreadable.empty()) {
      OutgoingMessage m = message(rows[end]);
      if (auto valid = ValidateOutgoingMessage(m); !valid) {
        if (end == i) refused = valid.error();
        break;
      }
      ms.push_back(std::move(m));
      ++end;
    }
    if (refused) {
      DRIPR_TRY(set_aside(rows[i], refused->message));
      ++i;
      continue;
    }
    auto results = topic_.PublishBatch(ms);
    for (size_t j = i; j < end; ++j) {
      const size_t k = j - i;
      if (!first_error && k < results.size() && results[k]) {
        done.push_back(rows[j].id);
        continue;
      }
      if (!first_error) {
        first_error = k < results.size() ? results[k].error()
                                         : Error{ErrorCode::kInternal, "publish gave no result"};
      }
      failed.push_back(rows[j].id);
    }
    if (static_cast<int>(done.size()) >= options_.mark_every) DRIPR_TRY(mark());
    i = end;
  }
  DRIPR_TRY(mark());
  if (!failed.empty()) {
    // Every row of `rows` came from the one claim above.
    if (auto st = store_.ReleaseOutbox(failed, rows.front().claim_token); !st) {
      DRIPR_LOG_WARN("outbox: could not release rows: {}", st.error().ToString());
    }
  }
  if (first_error) return std::unexpected(first_error->Wrap("publishing to " + topic_.Name()));
  return Ok();
}

void OutboxRelay::Loop() {
  const HeartbeatRef heartbeat = HeartbeatOf(metrics_, "outbox relay", options_.max_silence);
  bool warned = false;
  while (!stop_) {
    heartbeat.Beat();
    auto n = RunOnce();
    if (!n) {
      if (!warned) DRIPR_LOG_WARN("outbox relay: {} (retrying)", n.error().ToString());
      warned = true;
      std::unique_lock lock(mu_);
      ticker_.WaitFor(lock, cv_, options_.error_backoff, [&] { return stop_.load(); });
      continue;
    }
    if (warned) DRIPR_LOG_INFO("outbox relay: publishing again");
    warned = false;
    if (*n > 0) {
      DRIPR_LOG_DEBUG("outbox relay: published {} events", *n);
      continue;  // there may be more
    }
    store_.WaitForOutbox(options_.idle_wait, [this] { return stop_.load(); });
  }
  heartbeat.Stop();
}

}  // namespace dripr
