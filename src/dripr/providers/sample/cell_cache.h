#pragma once
// The sample provider's cell cache (sample_provider.h): the homes of a 0.02-degree cell for one
// `today`, computed once and looked up by the hundreds per search. Layout chosen for those
// lookups (docs/decisions/performance.md, "Sample provider, second pass"):
//   - a Cell is one allocation: its header, then its listings, then its sales;
//   - a CellGeneration is an open-addressing table (linear probing, at most half full) whose
//     slots carry the key, the cell and what a search asks of it before reading it (how many
//     homes of each kind, how many sale days), so a lookup touches one slot and an empty
//     cell is never read; the generation owns its cells and frees them with itself, so a
//     hit costs no reference count;
//   - searches keep the generations they read alive with a CellLease (one reference count
//     per generation per search, not per cell).
// Not thread-safe: SampleProvider guards its generations with its cache mutex.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dripr/domain/types.h"

namespace dripr::sample {

// One home of a cell: where it is, the cosine of its latitude (for DistanceMilesCos, computed
// once instead of per search), its day and its index within the day.
struct CellHome {
  GeoPoint p;
  double cos_lat;
  int32_t day;
  int32_t k;
};

// What searches need of one cell for one `today`: how urban it is, its active listings and
// its sales of the last `sale_days` days. Immutable; made by Make or Copy, freed by Free (or
// by the generation that owns it).
class Cell {
 public:
  static Cell* Make(double urbanness, int sale_days, std::span<const CellHome> listings,
                    std::span<const CellHome> sales);
  static Cell* Copy(const Cell& cell);
  static void Free(Cell* cell);
  struct Deleter {
    void operator()(Cell* cell) const { Free(cell); }
  };

  double urbanness() const { return urbanness_; }
  int sale_days() const { return sale_days_; }
  std::span<const CellHome> listings() const { return {Homes(), n_listings_}; }
  std::span<const CellHome> sales() const { return {Homes() + n_listings_, n_sales_}; }

 private:
  Cell() = default;
  size_t Bytes() const;
  const CellHome* Homes() const { return reinterpret_cast<const CellHome*>(this + 1); }
  CellHome* Homes() { return reinterpret_cast<CellHome*>(this + 1); }

  double urbanness_ = 0;
  int32_t sale_days_ = 0;
  uint32_t n_listings_ = 0, n_sales_ = 0;
};
using CellPtr = std::unique_ptr<Cell, Cell::Deleter>;

// What a lookup answers: the cell (null: not cached) and its summary, read from the slot.
struct CellRef {
  const Cell* cell = nullptr;
  int32_t sale_days = 0;
  uint32_t n_listings = 0, n_sales = 0;
};

class CellGeneration {
 public:
  // Room for `max_cells` keys (the table has twice as many slots).
  explicit CellGeneration(size_t max_cells);
  ~CellGeneration();
  CellGeneration(const CellGeneration&) = delete;
  CellGeneration& operator=(const CellGeneration&) = delete;

  // Starts loading the slot Find(ci, cj, today) reads first (a search's lookups are cache
  // misses; issued a few lookups ahead, they overlap).
  void Prefetch(int64_t ci, int64_t cj, int64_t today) const {
    __builtin_prefetch(&slots_[Index(ci, cj, today)]);
  }
  // The cell under (ci, cj, today), or a null CellRef.
  CellRef Find(int64_t ci, int64_t cj, int64_t today) const;
  // Stores `cell` under the key and owns it; a cell already there stays owned (a search may
  // still read it) until the generation is freed. Requires !full() unless the key is present.
  const Cell* Put(int64_t ci, int64_t cj, int64_t today, CellPtr cell);
  bool full() const { return size_ >= max_cells_; }

 private:
  struct Slot {
    int64_t today;
    int32_t ci, cj;
    const Cell* cell;  // null: empty slot
    int32_t sale_days;
    uint32_t n_listings, n_sales;
  };
  size_t Index(int64_t ci, int64_t cj, int64_t today) const;

  size_t max_cells_;
  size_t size_ = 0;
  size_t mask_;
  std::vector<Slot> slots_;
  std::vector<Cell*> owned_;
};

// Keeps the generations a search reads alive until the search is done.
class CellLease {
 public:
  void Hold(const std::shared_ptr<CellGeneration>& generation);

 private:
  std::vector<std::shared_ptr<CellGeneration>> held_;
};

}  // namespace dripr::sample
