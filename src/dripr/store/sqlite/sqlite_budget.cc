// SqliteStore: the row update under the cluster-wide provider budget (table `provider_budget`,
// docs/decisions/cluster.md). BEGIN IMMEDIATE holds the database's write lock, so the read
// and the write of a budget's row cannot interleave with another process's.

#include "dripr/store/sqlite/sqlite_store.h"

namespace dripr {

Status SqliteStore::UpdateBudget(std::string_view what, const std::string& name,
                                 const BudgetDecision& decide) {
  return InWriteTransaction(what, [&](sqlite::Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(auto read,
                           c.Prepare("SELECT next_at FROM provider_budget WHERE name = ?"));
    read.BindText(name);
    DRIPR_ASSIGN_OR_RETURN(bool row, read.Step());
    std::optional<int64_t> next_at;
    if (row) next_at = read.Int(0);
    std::optional<int64_t> updated = decide(next_at, Now());
    if (!updated) return Ok();
    DRIPR_ASSIGN_OR_RETURN(auto write, c.Prepare("INSERT INTO provider_budget (name, next_at)"
                                                 " VALUES (?1, ?2) ON CONFLICT (name)"
                                                 " DO UPDATE SET next_at = excluded.next_at"));
    write.BindText(name).BindInt(*updated);
    return write.Run();
  });
}

}  // namespace dripr
