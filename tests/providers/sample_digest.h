// A digest of the sample provider's answers (docs/decisions/performance.md, "Sample provider,
// second pass"): every field of every answer, doubles by their bits, so that two builds that
// give the same digest answered the same bytes. Used by sample_digest_test (a pinned value)
// and bench/sample_provider_bench (its --mode check, a wider sweep).
#pragma once

#include <bit>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/core/time.h"
#include "dripr/providers/sample/sample_provider.h"

namespace dripr::sample_digest {

// FNV-1a over the answers.
struct Digest {
  uint64_t h = 0xcbf29ce484222325ULL;
  uint64_t records = 0, searches = 0;
  void Bytes(const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
  }
  void Add(const std::string& s) {
    Add(static_cast<uint64_t>(s.size()));
    Bytes(s.data(), s.size());
  }
  void Add(uint64_t v) { Bytes(&v, sizeof v); }
  void Add(double d) { Add(std::bit_cast<uint64_t>(d)); }
  template <class T>
  void Add(const std::optional<T>& v) {
    Add(uint64_t{v.has_value()});
    if (v) Add(static_cast<std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>>(*v));
  }
  void Add(const PropertyRecord& r) {
    ++records;
    for (const std::string* s : {&r.source_id, &r.formatted_address, &r.address_line1, &r.city,
                                 &r.state, &r.zip_code, &r.property_type, &r.event_date}) {
      Add(*s);
    }
    Add(uint64_t{r.location.has_value()});
    if (r.location) {
      Add(r.location->lat);
      Add(r.location->lng);
    }
    Add(r.bedrooms);
    Add(r.bathrooms);
    Add(r.square_footage);
    Add(r.price);
    Add(r.days_on_market);
  }
  void Add(const Result<std::vector<PropertyRecord>>& r) {
    ++searches;
    Add(uint64_t{r.has_value()});
    if (!r) {
      Add(r.error().message);
      return;
    }
    Add(static_cast<uint64_t>(r->size()));
    for (const PropertyRecord& rec : *r) Add(rec);
  }
  void Add(const Result<MarketData>& m) {
    Add(uint64_t{m.has_value()});
    if (!m) {
      Add(m.error().message);
      return;
    }
    Add(m->zip_code);
    for (const MarketMonth* month : {&m->current, &m->previous}) {
      Add(month->month);
      Add(month->average_price);
      Add(month->average_price_per_sqft);
      Add(month->average_days_on_market);
      Add(month->total_listings);
    }
  }
};

// A sweep: `n` centres spread over `zips` (off their centroids by a varying fraction of a
// cell) and a few far-off places (southern hemisphere, the date line, 85 degrees), radii
// 0.3-8 miles widening and narrowing (25 and 12.5 every 50th centre when `wide`), both kinds,
// sales windows 1-3650 days, four `today`s (a leap day among them), with and without the
// centroid table and with sparse zips; errors are hashed too.
inline void Sweep(const std::shared_ptr<const ZipCentroids>& zips, int n, bool wide, Digest& d) {
  struct Place {
    GeoPoint p;
    std::string zip;
  };
  std::vector<Place> places;
  const double step = static_cast<double>(zips->size()) / n;
  for (int i = 0; i < n; ++i) {
    auto [zip, at] = zips->At(static_cast<size_t>(i * step) % zips->size());
    // Off the centroid by a varying fraction of a cell, so that centres fall anywhere in one.
    places.push_back({{at.lat + 0.0037 * (i % 7), at.lng - 0.0053 * (i % 5)}, zip});
  }
  for (const Place& far : std::initializer_list<Place>{{{-33.8688, 151.2093}, "20000"},
                                                       {{64.8378, -147.7164}, "99701"},
                                                       {{84.95, 10.0}, "99999"},
                                                       {{-84.99, 179.99}, "00000"},
                                                       {{0.0, 0.0}, "00501"},
                                                       {{51.5072, -0.1276}, "not-a-zip"},
                                                       {{21.3069, -157.8583}, "96813"},
                                                       {{19.7, -155.08}, "96720"}}) {
    places.push_back(far);
  }
  const char* days[] = {"2026-11-29T12:00:00Z", "2026-12-02T00:00:00Z", "2024-02-29T23:59:59Z",
                        "2025-01-01T00:00:01Z"};
  const int windows[] = {90, 180, 7, 365, 1, 30, 3650};
  for (const char* today : days) {
    ManualClock clock(*ParseIso8601(today));
    for (int variant = 0; variant < 3; ++variant) {
      SampleProviderOptions o;
      if (variant != 1) o.zips = zips;
      if (variant == 2) o.sparse_zip_prefixes = {"0", "55", "941"};
      SampleProvider p(clock, o);
      for (size_t i = 0; i < places.size(); ++i) {
        const Place& at = places[i];
        const int window = windows[i % std::size(windows)];
        if (i % 4 == 3) {  // narrowing, odd radii
          for (double miles : {8.0, 5.5, 3.0, 0.3}) {
            d.Add(p.RecentSales({at.p, miles, at.zip}, window));
            d.Add(p.ActiveListings({at.p, miles, at.zip}));
          }
        } else {
          for (double miles : {1.0, 2.0, 4.0, 8.0}) {
            d.Add(p.ActiveListings({at.p, miles, at.zip}));
            d.Add(p.RecentSales({at.p, miles, at.zip}, window));
          }
        }
        if (wide && i % 50 == 0) {
          d.Add(p.ActiveListings({at.p, 25, at.zip}));
          d.Add(p.RecentSales({at.p, 12.5, at.zip}, 90));
        }
        d.Add(p.Market(at.zip));
      }
      // Bad input answers too.
      d.Add(p.ActiveListings({{91, 0}, 1, "02139"}));
      d.Add(p.ActiveListings({{42, -71}, 0, "02139"}));
      d.Add(p.RecentSales({{42, -71}, 1, "02139"}, 0));
      d.Add(p.RecentSales({{89, -71}, 1, "02139"}, 90));
      d.Add(p.Market("abc"));
    }
  }
}

}  // namespace dripr::sample_digest
