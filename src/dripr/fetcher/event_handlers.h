#pragma once
// The three event handlers of the migration plan (handle_local_market_data_event,
// handle_active_listings_event, handle_recent_sales_event) and the MessageHandler that
// decodes a queue message and dispatches to one of them.
//
// Each handler: ignores events that are not → WAITING_FOR_DATA; acknowledges stale or
// duplicate events without effect; finds the location (property, or zip centroid); fetches
// from the provider outside any transaction; then one store transaction replaces the
// part's rows, marks it READY and does the fan-in.

#include <chrono>
#include <string>

#include "dripr/core/clock.h"
#include "dripr/domain/event.h"
#include "dripr/domain/scoring.h"
#include "dripr/fetcher/consumer.h"
#include "dripr/fetcher/market_flight.h"
#include "dripr/providers/provider.h"
#include "dripr/store/store.h"

namespace dripr {

struct FetchOptions {
  double initial_radius_miles = 1.0;
  double widening_factor = 2.0;
  int max_widenings = 3;     // radius tried: r, 2r, 4r, 8r
  size_t min_results = 10;   // fewer after the last widening is a failure
  size_t keep_results = 25;  // ranked rows stored per part
  int recent_sale_days = 90;
  std::chrono::seconds market_reuse{30 * 24 * 3600};
  MarketFlightOptions market_flight;  // DRIPR_MARKET_LEASE_SECONDS
  int unknown_campaign_attempts = 3;  // the row may not be visible yet: retry this often
  ScoringWeights weights;
};

struct HandlerContext {
  Store& store;
  Provider& provider;
  const Clock& clock;
  const FetchOptions& options;
  // Cluster-wide single flight for market data; null: none (each miss calls the provider).
  MarketFlights* market_flights = nullptr;
};

// Loaded and checked campaign for an event; set only when the event should be processed.
HandlerOutcome HandleLocalMarketDataEvent(const StatusChangeEvent& event, int receive_count,
                                          HandlerContext& ctx);
HandlerOutcome HandleActiveListingsEvent(const StatusChangeEvent& event, int receive_count,
                                         HandlerContext& ctx);
HandlerOutcome HandleRecentSalesEvent(const StatusChangeEvent& event, int receive_count,
                                      HandlerContext& ctx);

// Messages per call of a part's handler (MessageHandler::MaxBatch): up to sqs::kMaxBatchSize for
// the listings and sales parts when the store takes a batch in one round trip and one
// transaction (Store::BatchesParts) and the provider's calls cost only CPU
// (Provider::CallsAreCpuOnly: a batch's calls are made one after another); otherwise 1. The
// market part always 1: its single flight is a lease per zip (docs/decisions/consumer.md).
int PartBatchSize(DataPart part, bool store_batches, bool provider_cpu_only);

// MessageHandler for one part's queue: decodes (a malformed event is a failure), dispatches,
// and on failure puts the part and campaign in ERROR with the reason.
class PartEventHandler final : public MessageHandler {
 public:
  // `ticker` (null: the real one) paces the market handler's waits for another instance.
  PartEventHandler(DataPart part, Store& store, Provider& provider, const Clock& clock,
                   FetchOptions options, Ticker* ticker = nullptr);
  HandlerOutcome Handle(const ReceivedMessage& message) override;
  // PartBatchSize for this part, store and provider.
  int MaxBatch() const override;
  std::vector<HandlerOutcome> HandleBatch(std::span<const ReceivedMessage> messages) override;
  Status OnFailure(const ReceivedMessage& message, const std::string& reason) override;

 private:
  const DataPart part_;
  const FetchOptions options_;
  MarketFlights market_flights_;  // used by the local market data handler only
  HandlerContext ctx_;
};

}  // namespace dripr
