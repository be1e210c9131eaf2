#include "dripr/providers/sample/cell_cache.h"

#include <algorithm>
#include <bit>
#include <memory>
#include <new>

#include "dripr/providers/sample/geography.h"

namespace dripr::sample {

Cell* Cell::Make(double urbanness, int sale_days, std::span<const CellHome> listings,
                 std::span<const CellHome> sales) {
  static_assert(sizeof(Cell) % alignof(CellHome) == 0 && alignof(Cell) >= alignof(CellHome));
  static_assert(std::is_trivially_copyable_v<CellHome>);
  void* raw = ::operator new(sizeof(Cell) + (listings.size() + sales.size()) * sizeof(CellHome));
  Cell* cell = new (raw) Cell;
  cell->urbanness_ = urbanness;
  cell->sale_days_ = sale_days;
  cell->n_listings_ = static_cast<uint32_t>(listings.size());
  cell->n_sales_ = static_cast<uint32_t>(sales.size());
  CellHome* homes = cell->Homes();
  std::uninitialized_copy(listings.begin(), listings.end(), homes);
  std::uninitialized_copy(sales.begin(), sales.end(), homes + listings.size());
  return cell;
}

Cell* Cell::Copy(const Cell& cell) {
  return Make(cell.urbanness_, cell.sale_days_, cell.listings(), cell.sales());
}

void Cell::Free(Cell* cell) {
  if (cell == nullptr) return;
  cell->~Cell();  // trivial, as are the homes'
  ::operator delete(static_cast<void*>(cell));
}

CellGeneration::CellGeneration(size_t max_cells)
    : max_cells_(max_cells),
      mask_(std::bit_ceil(2 * std::max<size_t>(max_cells, 1)) - 1),
      slots_(mask_ + 1, Slot{0, 0, 0, nullptr, 0, 0, 0}) {
  owned_.reserve(max_cells);
}

CellGeneration::~CellGeneration() {
  for (Cell* cell : owned_) Cell::Free(cell);
}

size_t CellGeneration::Index(int64_t ci, int64_t cj, int64_t today) const {
  // Eight neighbours of a row (cj / 8 alike) take eight consecutive slots, from one
  // multiply-mix of the rest of the key: a search reads a row's cells from a cache line or
  // two instead of one line each.
  const uint64_t block =
      Mix(static_cast<uint64_t>(ci) * 0x9e3779b97f4a7c15ULL ^
          static_cast<uint64_t>(cj >> 3) * 0xc2b2ae3d27d4eb4fULL ^ static_cast<uint64_t>(today));
  return static_cast<size_t>((block << 3) + static_cast<uint64_t>(cj & 7)) & mask_;
}

// Cell indexes fit in 32 bits: searches stay within 85 degrees of latitude and reach at most
// 180 degrees of longitude past +-180 (|cj| <= 18,001 at 0.02 degrees).
CellRef CellGeneration::Find(int64_t ci, int64_t cj, int64_t today) const {
  for (size_t i = Index(ci, cj, today);; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.cell == nullptr) return {};
    if (s.ci == ci && s.cj == cj && s.today == today) {
      return {s.cell, s.sale_days, s.n_listings, s.n_sales};
    }
  }
}

const Cell* CellGeneration::Put(int64_t ci, int64_t cj, int64_t today, CellPtr cell) {
  const Cell* c = cell.get();
  owned_.push_back(cell.release());
  for (size_t i = Index(ci, cj, today);; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.cell == nullptr) {
      ++size_;
    } else if (s.ci != ci || s.cj != cj || s.today != today) {
      continue;
    }
    s = {today,
         static_cast<int32_t>(ci),
         static_cast<int32_t>(cj),
         c,
         c->sale_days(),
         static_cast<uint32_t>(c->listings().size()),
         static_cast<uint32_t>(c->sales().size())};
    return c;
  }
}

void CellLease::Hold(const std::shared_ptr<CellGeneration>& generation) {
  if (!generation) return;
  for (const auto& g : held_) {
    if (g == generation) return;
  }
  held_.push_back(generation);
}

}  // namespace dripr::sample
