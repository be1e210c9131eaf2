#pragma once
// ResultRows<Derived>: the readers a networked backend's fully fetched result (pg::Rows,
// my::Rows) derives from its own. The backend gives size(), IsNull, Text, OptInt and OptReal
// (its wire format); the defaults for NULL are written here once.

#include <cstdint>

namespace dripr {

template <class Derived>
class ResultRows {
 public:
  bool empty() const { return self().size() == 0; }
  // NULL reads as 0.
  int64_t Int(int row, int col) const { return self().OptInt(row, col).value_or(0); }
  double Real(int row, int col) const { return self().OptReal(row, col).value_or(0); }

 protected:
  ResultRows() = default;

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace dripr
