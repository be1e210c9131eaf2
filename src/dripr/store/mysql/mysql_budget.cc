// MysqlStore: the row update under the cluster-wide provider budget (table `provider_budget`,
// docs/decisions/cluster.md). INSERT IGNORE creates the row when missing, SELECT … FOR UPDATE
// locks it, so concurrent reservations from any process queue on it and each one sees the
// slot the previous one took.

#include "dripr/store/mysql/mysql_store.h"

namespace dripr {

Status MysqlStore::UpdateBudget(std::string_view what, const std::string& name,
                                const BudgetDecision& decide) {
  return InTransaction(what, [&](my::Connection& c) -> Status {
    // Lock the row; create it first when missing (next_at 0 = "free since 1970", which every
    // decision treats as now). Locking before inserting keeps the common case to one
    // exclusive lock: taking a shared one first (a duplicate-key insert) and upgrading it
    // deadlocks concurrent reservations.
    auto lock_row = [&]() {
      return c.Exec("SELECT next_at FROM provider_budget WHERE name = ? FOR UPDATE",
                    my::Params().Text(name));
    };
    DRIPR_ASSIGN_OR_RETURN(my::Rows r, lock_row());
    if (r.empty()) {
      DRIPR_TRY(c.Exec("INSERT IGNORE INTO provider_budget (name, next_at) VALUES (?, 0)",
                       my::Params().Text(name)));
      DRIPR_ASSIGN_OR_RETURN(r, lock_row());
    }
    std::optional<int64_t> next_at;
    if (!r.empty()) next_at = r.Int(0, 0);
    std::optional<int64_t> updated = decide(next_at, Now());
    if (!updated) return Ok();
    DRIPR_TRY(c.Exec("UPDATE provider_budget SET next_at = ? WHERE name = ?",
                     my::Params().Int(*updated).Text(name)));
    return Ok();
  });
}

}  // namespace dripr
