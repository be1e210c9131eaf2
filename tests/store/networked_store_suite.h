#pragma once
// The suite every client/server store runs (store/networked_store.h): retries of transient
// failures and not of permanent ones, the retry deadline, reconnecting after the server drops
// its sessions, a small pool under many threads, concurrent relays claiming with SKIP LOCKED,
// and part rows with awkward characters; and opening one (NetworkedOpenTest): an unreachable
// server, OpenStore's choice by URL scheme, an unmigrated database. postgres_store_test.cc and
// mysql_store_test.cc instantiate them, and the Store contract suite, with their server's
// NetworkedServer:
//
//   DRIPR_INSTANTIATE_NETWORKED_STORE_SUITES(Postgres, PostgresServer());
//
// A server's own tests derive a fixture from NetworkedStoreTest and instantiate it with
// INSTANTIATE_TEST_SUITE_P(Postgres, PostgresStoreTest, ::testing::Values(PostgresServer()),
// NetworkedServerName).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/store/store.h"
#include "support/store_contract.h"

namespace dripr {

// What a test may change of the store's options.
struct NetworkedTweak {
  const Clock* clock = nullptr;  // null: the system clock
  RequiredParts required;
  int pool_size = 0;                                  // 0: the default
  std::chrono::milliseconds retry_deadline{0};        // 0: the default
  std::chrono::milliseconds outbox_poll_interval{0};  // 0: the default
  Ticker* ticker = nullptr;                           // null: the real one
  Random* random = nullptr;                           // null: the real one
};

// How the suite reaches one kind of server.
struct NetworkedServer {
  std::string name;         // test-name suffix, e.g. "postgres"
  std::string skip_reason;  // non-empty: the server is not available and tests skip
  // A fresh, empty database, dropped when the returned owner goes; its URL in *url.
  std::function<std::shared_ptr<void>(std::string* url)> make_database;
  // A store on `url` (not migrated).
  std::function<StorePtr(const std::string& url, const NetworkedTweak& tweak)> open;
  // Runs `sql` on `url` from a plain client session, as another program would.
  std::function<Status(const std::string& url, const std::string& sql)> exec;
  // The first value of `sql` on `url` from a plain client session ("" on error or no row).
  std::function<std::string(const std::string& url, const std::string& sql)> query;
  // Makes the next `times` updates of campaigns fail with the server's error `code`.
  std::function<void(const std::string& url, const std::string& code, int times)> inject;
  // A query of how many injected updates ran so far.
  std::string injection_count_sql;
  // Drops every session of dripr on the database of `url` (as a server restart would).
  // Returns how many it dropped.
  std::function<int(const std::string& url)> drop_sessions;
  // A query, run on `url`, of how many sessions dripr has open on the database of `url`.
  std::function<std::string(const std::string& url)> sessions_sql;
  // Opens a store on `url` that gives up connecting after `connect_timeout`, or says why not.
  std::function<Result<StorePtr>(const std::string& url, std::chrono::seconds connect_timeout)>
      try_open;
  // The URL schemes OpenStore takes for this server ("mysql://", ...), the first the usual one.
  std::vector<std::string> schemes;
  // What the error says when nothing listens at the server's address (127.0.0.1:1).
  std::string refused_message;

  // Error codes `inject` takes: two transient kinds (retried) and a permanent one, and what
  // the permanent one reads as.
  struct Codes {
    std::string transient;
    std::string second_transient;
    std::string permanent;
    ErrorCode permanent_error = ErrorCode::kInternal;
  } codes;
};

// A store (PostgresStore, MysqlStore) on `url` with what `t` sets; null (and a test
// failure) when it cannot be opened.
template <class NetStore, class Options>
std::unique_ptr<NetStore> OpenTweaked(const std::string& url, const NetworkedTweak& t) {
  Options o;
  o.url = url;
  o.clock = t.clock != nullptr ? t.clock : &SystemClock::Instance();
  o.required_parts = t.required;
  o.ticker = t.ticker;
  o.random = t.random;
  if (t.pool_size > 0) o.pool_size = t.pool_size;
  if (t.retry_deadline.count() > 0) o.retry_deadline = t.retry_deadline;
  if (t.outbox_poll_interval.count() > 0) o.outbox_poll_interval = t.outbox_poll_interval;
  auto s = NetStore::Open(std::move(o));
  EXPECT_TRUE(s) << s.error().ToString();
  return s ? std::move(*s) : nullptr;
}

// NetworkedServer::try_open for a store type.
template <class NetStore, class Options>
Result<StorePtr> TryOpen(const std::string& url, std::chrono::seconds connect_timeout) {
  Options o;
  o.url = url;
  o.connect_timeout = connect_timeout;
  auto s = NetStore::Open(std::move(o));
  if (!s) return std::unexpected(s.error());
  return StorePtr(std::move(*s));
}

// A database created for one test on the server of `admin_url` and dropped (with
// `drop_options`) when the last owner goes.
class TempServerDatabase {
 public:
  using Exec = std::function<Status(const std::string& url, const std::string& sql)>;
  TempServerDatabase(std::string admin_url, Exec exec, std::string drop_options = "");
  ~TempServerDatabase();
  TempServerDatabase(const TempServerDatabase&) = delete;
  TempServerDatabase& operator=(const TempServerDatabase&) = delete;
  std::string Url() const;
  const std::string& name() const { return name_; }

 private:
  const std::string admin_url_;
  const Exec exec_;
  const std::string drop_options_;
  std::string name_;
};

// The database named by a server URL ("mysql://u:p@h:1/db?x=y" -> "db"), without asking the
// server (a session opened to ask would itself be counted among the sessions).
std::string DatabaseOf(const std::string& url);

// NetworkedServer::make_database for a TempServerDatabase type.
template <class TempDatabase>
std::shared_ptr<void> MakeTempDatabase(std::string* url) {
  auto db = std::make_shared<TempDatabase>();
  *url = db->Url();
  return db;
}

// The value of the environment variable `name` ("" when unset), e.g. a test server's URL.
std::string TestEnv(const char* name);

// A NetworkedServer named `name` with what follows from its store and database types
// (make_database, open, try_open); skipped with `skip_reason` when `admin_url` is empty. The
// caller fills in how to reach the server from a plain client session.
template <class NetStore, class Options, class TempDatabase>
NetworkedServer NetworkedServerFor(std::string name, const std::string& admin_url,
                                   std::string skip_reason) {
  NetworkedServer s;
  s.name = std::move(name);
  if (admin_url.empty()) s.skip_reason = std::move(skip_reason);
  s.make_database = MakeTempDatabase<TempDatabase>;
  s.open = [](const std::string& url, const NetworkedTweak& tweak) -> StorePtr {
    return OpenTweaked<NetStore, Options>(url, tweak);
  };
  s.try_open = TryOpen<NetStore, Options>;
  return s;
}

// The Store contract suite's database on `server` (support/store_contract.h).
StoreUnderTest ContractStoreOn(const NetworkedServer& server, const Clock* clock,
                               const RequiredParts& required);
// The Store contract suite's backend on `server`.
StoreBackend ContractBackendOn(const NetworkedServer& server);

std::string NetworkedServerName(const ::testing::TestParamInfo<NetworkedServer>& info);
void PrintTo(const NetworkedServer& server, std::ostream* os);

class NetworkedStoreTest : public ::testing::TestWithParam<NetworkedServer> {
 protected:
  void SetUp() override;
  StorePtr Open(const NetworkedTweak& tweak = {});
  std::string Query(const std::string& sql) { return GetParam().query(url_, sql); }
  Status Exec(const std::string& sql) { return GetParam().exec(url_, sql); }
  void InjectUpdateFailures(const std::string& code, int times) {
    GetParam().inject(url_, code, times);
  }
  int InjectionCalls() { return std::atoi(Query(GetParam().injection_count_sql).c_str()); }
  static NewCampaign Simple(const std::string& id);
  // Starts campaign "a" while its UPDATE fails `times` times with `code`: applied once.
  void ExpectRetriedAndAppliedOnce(const std::string& code, int times);

  std::shared_ptr<void> db_;
  std::string url_;
  StorePtr store_;
};

// Opening a store: needs no database of its own (a test that needs one makes it).
class NetworkedOpenTest : public ::testing::TestWithParam<NetworkedServer> {};

// The suites every networked store runs, on `server` (a NetworkedServer), named `prefix`.
#define DRIPR_INSTANTIATE_NETWORKED_STORE_SUITES(prefix, server)                  \
  INSTANTIATE_TEST_SUITE_P(prefix, StoreContractTest,                             \
                           ::testing::Values(::dripr::ContractBackendOn(server)), \
                           ::dripr::StoreBackendName);                            \
  INSTANTIATE_TEST_SUITE_P(prefix, NetworkedStoreTest, ::testing::Values(server), \
                           ::dripr::NetworkedServerName);                         \
  INSTANTIATE_TEST_SUITE_P(prefix, NetworkedOpenTest, ::testing::Values(server),  \
                           ::dripr::NetworkedServerName)

}  // namespace dripr
