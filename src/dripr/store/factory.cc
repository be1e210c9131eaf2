// OpenStore: the one place that maps DATABASE_URL to a Store backend (docs/contracts.md §4).

#include <algorithm>

#include "dripr/core/text.h"
#include "dripr/store/mysql/mysql_store.h"
#include "dripr/store/postgres/pg_conn.h"
#include "dripr/store/postgres/postgres_store.h"
#include "dripr/store/redact.h"
#include "dripr/store/sqlite/sqlite_store.h"
#include "dripr/store/store.h"

namespace dripr {

namespace {

// "sqlite:PATH"; "sqlite://PATH" and "sqlite:///abs/path" are accepted too.
std::string SqlitePath(std::string_view rest) {
  if (rest.starts_with("//")) rest.remove_prefix(2);
  return std::string(rest);
}

template <class StorePtrT>
Result<StorePtr> Opened(Result<StorePtrT> store) {
  if (!store) return Fail(store.error().Wrap("DATABASE_URL"));
  return StorePtr(std::move(*store));
}

// PostgreSQL and MySQL/MariaDB take the same options from the URL.
template <class NetworkedStore, class NetworkedOptions>
Result<StorePtr> OpenNetworked(const StoreOptions& options) {
  return Opened(NetworkedStore::Open(NetworkedOptions{.url = options.database_url,
                                                      .required_parts = options.required_parts,
                                                      .clock = options.clock,
                                                      .ticker = options.ticker,
                                                      .random = options.random,
                                                      .pool_size = options.pool_size,
                                                      .retry_deadline = options.retry_deadline}));
}

}  // namespace

int DefaultPoolSize(const std::string& database_url, unsigned cores) {
  constexpr int kRemote = 8;
  if (!database_url.starts_with("postgresql://") && !database_url.starts_with("postgres://")) {
    return kRemote;
  }
  const auto hosts = pg::UrlHosts(database_url);
  if (!hosts) return kRemote;  // opening it will say what is wrong
  const auto on_this_machine = [](const std::string& h) {
    return h.empty() || h.starts_with("/") || h.starts_with("@") || h == "localhost" ||
           h.starts_with("127.") || h == "::1" || h == "[::1]";
  };
  if (!std::all_of(hosts->begin(), hosts->end(), on_this_machine)) return kRemote;
  return std::clamp(static_cast<int>(cores) + 1, 2, kRemote);
}

Result<StorePtr> OpenStore(const StoreOptions& options) {
  const std::string& url = options.database_url;
  if (url.starts_with("sqlite:")) {
    SqliteStoreOptions o;
    o.path = SqlitePath(std::string_view(url).substr(7));
    o.required_parts = options.required_parts;
    o.clock = options.clock;
    o.ticker = options.ticker;
    o.create = options.create;
    o.quick_check = options.quick_check;
    return Opened(SqliteStore::Open(std::move(o)));
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return OpenNetworked<PostgresStore, PostgresStoreOptions>(options);
  }
  if (url.starts_with("mysql://") || url.starts_with("mariadb://")) {
    return OpenNetworked<MysqlStore, MysqlStoreOptions>(options);
  }
  // Echo only the scheme: the rest of a URL may hold a password.
  std::string scheme = url.substr(0, url.find(':'));
  return Fail(ErrorCode::kInvalidArgument,
              "DATABASE_URL: unsupported scheme \"" + std::string(TruncateUtf8(scheme, 32)) +
                  "\" (expected sqlite:PATH, postgresql://... or mysql://...)");
}

}  // namespace dripr
