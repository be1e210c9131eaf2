// PostgresStore: the row update under the cluster-wide provider budget (table
// `provider_budget`, docs/decisions/cluster.md). The row is created when missing, then locked
// FOR UPDATE, so concurrent reservations from any process queue on it and each one sees the
// slot the previous one took.

#include "dripr/store/postgres/postgres_store.h"

namespace dripr {

Status PostgresStore::UpdateBudget(std::string_view what, const std::string& name,
                                   const BudgetDecision& decide) {
  return InTransaction(what, [&](pg::Connection& c) -> Status {
    // Lock the row; create it first when missing (next_at 0 = "free since 1970", which every
    // decision treats as now). Locking before inserting keeps the common case to one
    // exclusive lock: taking a shared one first (a duplicate-key insert) and upgrading it
    // deadlocks concurrent reservations.
    auto lock_row = [&]() {
      return c.Exec("SELECT next_at FROM provider_budget WHERE name = $1 FOR UPDATE",
                    pg::Params().Text(name));
    };
    DRIPR_ASSIGN_OR_RETURN(pg::Rows r, lock_row());
    if (r.empty()) {
      DRIPR_TRY(
          c.Exec("INSERT INTO provider_budget (name, next_at) VALUES ($1, 0)"
                 " ON CONFLICT (name) DO NOTHING",
                 pg::Params().Text(name)));
      DRIPR_ASSIGN_OR_RETURN(r, lock_row());
    }
    std::optional<int64_t> next_at;
    if (!r.empty()) next_at = r.Int(0, 0);
    std::optional<int64_t> updated = decide(next_at, Now());
    if (!updated) return Ok();
    DRIPR_TRY(c.Exec("UPDATE provider_budget SET next_at = $2 WHERE name = $1",
                     pg::Params().Text(name).Int(*updated)));
    return Ok();
  });
}

}  // namespace dripr
