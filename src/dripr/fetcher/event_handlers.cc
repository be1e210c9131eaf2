#include "dripr/fetcher/event_handlers.h"

#include <cmath>

#include "dripr/core/log.h"

namespace dripr {
namespace {

std::string Part(DataPart p) { return std::string(ToString(p)); }

std::string Miles(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", r);
  return buf;
}

// Classifies a provider error into the engine's verdicts (docs/contracts.md §5): transient
// ones are retried as attempts, the others are failures.
HandlerOutcome FromError(const Error& e, const std::string& what, const CampaignId& campaign) {
  if (e.Retryable()) return HandlerOutcome::Retry(what + ": " + e.ToString(), campaign);
  return HandlerOutcome::Failure(what + ": " + e.ToString(), campaign);
}

// A store error. What the stores map connection loss, a restarting server, a busy SQLite
// file and lock timeouts/deadlocks to (kUnavailable, kAborted), still failing after the
// store's own retries (DRIPR_DB_RETRY_SECONDS), is an outage of the pipeline, not a problem
// of this message: the engine runs it again in place without using an attempt
// (docs/decisions/consumer.md). Anything else is classified as a provider error is.
bool StoreOutage(const Error& e) {
  return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kAborted;
}

HandlerOutcome FromStoreError(const Error& e, const std::string& what, const CampaignId& campaign) {
  if (StoreOutage(e)) return HandlerOutcome::Unavailable(what + ": " + e.ToString(), campaign);
  return FromError(e, what, campaign);
}

// A provider error. The cluster's request budget lives in the store (fetcher/cluster_budget.h),
// so a store outage can come back from the provider too: a transient provider error is checked
// against the store (one read), and is the store's outage when the store is down as well.
HandlerOutcome FromProviderError(HandlerContext& ctx, const Error& e, const std::string& what,
                                 const CampaignId& campaign) {
  if (e.Retryable()) {
    if (auto alive = ctx.store.GetCampaign(campaign); !alive && StoreOutage(alive.error())) {
      return HandlerOutcome::Unavailable(
          what + ": " + e.ToString() + "; the store too: " + alive.error().ToString(), campaign);
    }
  }
  return FromError(e, what, campaign);
}

struct Loaded {
  Campaign campaign;
  int64_t cycle = 0;
  ScoringContext scoring;
  // The market part, read with the campaign: the zip's data within the reuse window, or the
  // zip's flight when this handler took its lease (released if the handler stops early).
  std::optional<MarketData> stored_market;
  std::unique_ptr<MarketFlights::Flight> flight;
};

// One store call: for listings and sales the campaign row, its property and its zip's
// centroid (one statement); for the market part the campaign row and its zip's stored market
// data (it needs no location), and without data the zip's lease (MarketFlights::Load: one
// round trip on PostgreSQL).
Result<PartInputs> ReadForPart(HandlerContext& ctx, const CampaignId& id, DataPart part,
                               Loaded& out) {
  if (part != DataPart::kLocalMarketData) return ctx.store.LoadForPart(id);
  PartInputs in;
  if (ctx.market_flights != nullptr) {
    DRIPR_ASSIGN_OR_RETURN(MarketFlights::Loaded m,
                           ctx.market_flights->Load(id, ctx.options.market_reuse));
    out.stored_market = std::move(m.turn.stored);
    out.flight = std::move(m.turn.flight);
    in.campaign = std::move(m.campaign);
    return in;
  }
  DRIPR_ASSIGN_OR_RETURN(MarketInputs m, ctx.store.LoadForMarket(id, ctx.options.market_reuse));
  out.stored_market = std::move(m.stored);
  in.campaign = std::move(m.campaign);
  return in;
}

// Steps 1–3 shared by every handler. Returns an outcome when the event must not be
// processed further (ignored, stale, retry, failure); otherwise fills `out`.
std::optional<HandlerOutcome> Load(const StatusChangeEvent& ev, DataPart part, int receive_count,
                                   HandlerContext& ctx, Loaded& out) {
  const CampaignId& id = ev.campaign_id;
  if (ev.to_status != CampaignStatus::kWaitingForData) {
    return HandlerOutcome::Done("ignored: event is to " + std::string(ToString(ev.to_status)), id);
  }
  auto in = ReadForPart(ctx, id, part, out);
  if (!in) {
    if (in.error().code == ErrorCode::kNotFound) {
      if (receive_count < ctx.options.unknown_campaign_attempts) {
        return HandlerOutcome::Retry("campaign not found (yet)", id);
      }
      return HandlerOutcome::Failure("unknown campaign " + id.str(), id);
    }
    return FromStoreError(in.error(), "loading campaign", id);
  }
  const Campaign& c = in->campaign;
  if (c.status != CampaignStatus::kWaitingForData) {
    return HandlerOutcome::Done("stale: campaign is " + std::string(ToString(c.status)), id);
  }
  if (ev.data_cycle && *ev.data_cycle != c.data_cycle) {
    return HandlerOutcome::Done("stale: event for data cycle " + std::to_string(*ev.data_cycle) +
                                    ", campaign is in " + std::to_string(c.data_cycle),
                                id);
  }
  if (c.part(part) != PartStatus::kWaitingForData) {
    return HandlerOutcome::Done(
        "duplicate: " + Part(part) + " is " + std::string(ToString(c.part(part))), id);
  }
  out.campaign = c;
  out.cycle = c.data_cycle;
  out.scoring.zip_code = c.zip_code;
  out.scoring.now = ctx.clock.Now();
  if (part == DataPart::kLocalMarketData) return std::nullopt;  // needs no location

  if (in->property) {
    out.scoring.subject = in->property->location;
    out.scoring.subject_value = in->property->current_value;
    return std::nullopt;
  }
  if (!in->zip_centroid) {
    return HandlerOutcome::Failure(
        "no coordinates for zip " + c.zip_code + " (no-address campaign and zip not in zip_codes)",
        id);
  }
  out.scoring.subject = *in->zip_centroid;
  return std::nullopt;
}

HandlerOutcome Commit(HandlerContext& ctx, const Loaded& l, const PartData& data,
                      const std::string& summary) {
  const CampaignId& id = l.campaign.id;
  auto r = ctx.store.CompletePart(id, l.cycle, data);
  if (!r) return FromStoreError(r.error(), "saving " + Part(data.part), id);
  if (!r->changed) return HandlerOutcome::Done("stale at commit: " + r->reason, id);
  std::string done = summary;
  if (r->campaign.status == CampaignStatus::kReadyToCreateEmail)
    done += "; campaign READY_TO_CREATE_EMAIL";
  return HandlerOutcome::Done(done, id);
}

// Steps 4–5 for listings and sales: widen the radius until enough candidates, rank, commit.
template <class Fetch>
HandlerOutcome FetchRankCommit(const StatusChangeEvent& ev, DataPart part, int receive_count,
                               HandlerContext& ctx, Fetch fetch) {
  Loaded l;
  if (auto early = Load(ev, part, receive_count, ctx, l)) return *early;
  const auto& o = ctx.options;
  double radius = o.initial_radius_miles;
  std::vector<PropertyRecord> found;
  for (int attempt = 0;; ++attempt) {
    SearchArea area{l.scoring.subject, radius, l.campaign.zip_code};
    auto r = fetch(area);
    if (!r) return FromProviderError(ctx, r.error(), "fetching " + Part(part), l.campaign.id);
    found = std::move(*r);
    if (found.size() >= o.min_results) break;
    if (attempt >= o.max_widenings) {
      return HandlerOutcome::Failure("only " + std::to_string(found.size()) + " " + Part(part) +
                                         " within " + Miles(radius) + " miles (need " +
                                         std::to_string(o.min_results) + ")",
                                     l.campaign.id);
    }
    radius *= o.widening_factor;
  }
  PartData data;
  data.part = part;
  data.records = Rank(found, l.scoring, o.weights, o.keep_results);
  return Commit(ctx, l, data,
                std::to_string(data.records.size()) + " of " + std::to_string(found.size()) + " " +
                    Part(part) + " within " + Miles(radius) + " mi");
}

}  // namespace

HandlerOutcome HandleLocalMarketDataEvent(const StatusChangeEvent& event, int receive_count,
                                          HandlerContext& ctx) {
  Loaded l;
  if (auto early = Load(event, DataPart::kLocalMarketData, receive_count, ctx, l)) return *early;
  const std::string& zip = l.campaign.zip_code;
  PartData data;
  data.part = DataPart::kLocalMarketData;
  // Held until the commit below has stored the data and released it (or failed): the other
  // callers for this zip, in any instance, wait for it instead of calling the provider. Load
  // read the stored data with the campaign and took the lease when there was none; neither
  // means another caller holds the lease, and Begin waits for its data (or its lease).
  std::unique_ptr<MarketFlights::Flight> flight = std::move(l.flight);
  std::optional<MarketData> cached = std::move(l.stored_market);
  if (!cached && !flight && ctx.market_flights != nullptr) {
    auto turn = ctx.market_flights->Begin(zip, ctx.options.market_reuse);
    // Begin's own give-up (another caller still fetching) is kDeadlineExceeded: an attempt.
    if (!turn) return FromStoreError(turn.error(), "waiting for market data", l.campaign.id);
    cached = std::move(turn->stored);
    flight = std::move(turn->flight);
  }
  std::string summary;
  if (cached) {
    summary = "market data for " + zip + " reused";  // younger than the reuse window
  } else {
    auto fresh = ctx.provider.Market(zip);
    if (!fresh) {
      if (fresh.error().code == ErrorCode::kNotFound) {
        return HandlerOutcome::Failure("no market data for zip " + zip, l.campaign.id);
      }
      return FromProviderError(ctx, fresh.error(), "fetching market data", l.campaign.id);
    }
    fresh->zip_code = zip;
    fresh->created_at = ctx.clock.Now();
    data.market = std::move(*fresh);
    summary = "market data for " + zip + " fetched";
  }
  // The lease goes with the data: one transaction stores the row and releases the lease. Done
  // is Commit's verdict exactly when CompletePart succeeded (changed or stale), and then the
  // lease row is gone; otherwise the flight releases it on its own.
  if (flight) data.release_lease = flight->ReleaseInCommit();
  HandlerOutcome out = Commit(ctx, l, data, summary);
  if (flight && out.verdict == Verdict::kDone) flight->Released();
  return out;
}

HandlerOutcome HandleActiveListingsEvent(const StatusChangeEvent& event, int receive_count,
                                         HandlerContext& ctx) {
  return FetchRankCommit(event, DataPart::kActiveListings, receive_count, ctx,
                         [&](const SearchArea& a) { return ctx.provider.ActiveListings(a); });
}

HandlerOutcome HandleRecentSalesEvent(const StatusChangeEvent& event, int receive_count,
                                      HandlerContext& ctx) {
  return FetchRankCommit(event, DataPart::kRecentSales, receive_count, ctx,
                         [&](const SearchArea& a) {
                           return ctx.provider.RecentSales(a, ctx.options.recent_sale_days);
                         });
}

PartEventHandler::PartEventHandler(DataPart part, Store& store, Provider& provider,
                                   const Clock& clock, FetchOptions options, Ticker* ticker)
    : part_(part),
      options_(std::move(options)),
      market_flights_(store, OrRealTicker(ticker), options_.market_flight),
      ctx_{store, provider, clock, options_, &market_flights_} {}

HandlerOutcome PartEventHandler::Handle(const ReceivedMessage& message) {
  auto ev = DecodeStatusChange(message.body);
  if (!ev) return HandlerOutcome::Failure("malformed event: " + ev.error().message);
  switch (part_) {
    case DataPart::kLocalMarketData:
      return HandleLocalMarketDataEvent(*ev, message.receive_count, ctx_);
    case DataPart::kActiveListings:
      return HandleActiveListingsEvent(*ev, message.receive_count, ctx_);
    case DataPart::kRecentSales:
      return HandleRecentSalesEvent(*ev, message.receive_count, ctx_);
  }
  return HandlerOutcome::Failure("unknown data part");
}

Status PartEventHandler::OnFailure(const ReceivedMessage& message, const std::string& reason) {
  auto ev = DecodeStatusChange(message.body);
  if (!ev) return Ok();  // no campaign to mark: the DLQ copy carries the reason
  auto r =
      ctx_.store.FailCampaign(ev->campaign_id, part_, ev->data_cycle, Part(part_) + ": " + reason);
  if (!r) {
    if (r.error().code == ErrorCode::kNotFound) return Ok();  // unknown campaign
    return std::unexpected(r.error());
  }
  if (!r->changed) {
    DRIPR_LOG_INFO("campaign {} not moved to ERROR: {}", ev->campaign_id, r->reason);
  }
  return Ok();
}

}  // namespace dripr
