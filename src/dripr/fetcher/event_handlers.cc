#include "dripr/fetcher/event_handlers.h"

#include <cmath>
#include <set>

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

// Step 1: an event to another status than WAITING_FOR_DATA is not this handler's.
std::optional<HandlerOutcome> Ignored(const StatusChangeEvent& ev) {
  if (ev.to_status == CampaignStatus::kWaitingForData) return std::nullopt;
  return HandlerOutcome::Done("ignored: event is to " + std::string(ToString(ev.to_status)),
                              ev.campaign_id);
}

// Steps 2–3 on what ReadForPart (or Store::LoadForParts) read for the event: an outcome when it
// must not be processed further (stale, retry, failure); otherwise fills `out`.
std::optional<HandlerOutcome> Check(const StatusChangeEvent& ev, DataPart part, int receive_count,
                                    HandlerContext& ctx, Result<PartInputs> in, Loaded& out) {
  const CampaignId& id = ev.campaign_id;
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

// Steps 1–3 shared by every handler, for one event. Returns an outcome when the event must not
// be processed further (ignored, stale, retry, failure); otherwise fills `out`.
std::optional<HandlerOutcome> Load(const StatusChangeEvent& ev, DataPart part, int receive_count,
                                   HandlerContext& ctx, Loaded& out) {
  if (auto ignored = Ignored(ev)) return ignored;
  return Check(ev, part, receive_count, ctx, ReadForPart(ctx, ev.campaign_id, part, out), out);
}

// What CompletePart's result `r` makes of a handled event.
HandlerOutcome Committed(const Result<TransitionOutcome>& r, const CampaignId& id,
                         const PartData& data, const std::string& summary) {
  if (!r) return FromStoreError(r.error(), "saving " + Part(data.part), id);
  if (!r->changed) return HandlerOutcome::Done("stale at commit: " + r->reason, id);
  std::string done = summary;
  if (r->campaign.status == CampaignStatus::kReadyToCreateEmail)
    done += "; campaign READY_TO_CREATE_EMAIL";
  return HandlerOutcome::Done(done, id);
}

HandlerOutcome Commit(HandlerContext& ctx, const Loaded& l, const PartData& data,
                      const std::string& summary) {
  return Committed(ctx.store.CompletePart(l.campaign.id, l.cycle, data), l.campaign.id, data,
                   summary);
}

// The provider's search for a listings or sales part.
Result<std::vector<PropertyRecord>> Search(HandlerContext& ctx, DataPart part,
                                           const SearchArea& area) {
  if (part == DataPart::kRecentSales) {
    return ctx.provider.RecentSales(area, ctx.options.recent_sale_days);
  }
  return ctx.provider.ActiveListings(area);
}

// Steps 4–5 for listings and sales, up to the commit: widen the radius until enough
// candidates, rank. An outcome when the event ends here (provider error, too few); otherwise
// `data` and `summary` are set.
std::optional<HandlerOutcome> FetchRank(DataPart part, HandlerContext& ctx, const Loaded& l,
                                        PartData& data, std::string& summary) {
  const auto& o = ctx.options;
  double radius = o.initial_radius_miles;
  std::vector<PropertyRecord> found;
  for (int attempt = 0;; ++attempt) {
    SearchArea area{l.scoring.subject, radius, l.campaign.zip_code};
    auto r = Search(ctx, part, area);
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
  data.part = part;
  data.records = Rank(found, l.scoring, o.weights, o.keep_results);
  summary = std::to_string(data.records.size()) + " of " + std::to_string(found.size()) + " " +
            Part(part) + " within " + Miles(radius) + " mi";
  return std::nullopt;
}

HandlerOutcome FetchRankCommit(const StatusChangeEvent& ev, DataPart part, int receive_count,
                               HandlerContext& ctx) {
  Loaded l;
  if (auto early = Load(ev, part, receive_count, ctx, l)) return *early;
  PartData data;
  std::string summary;
  if (auto early = FetchRank(part, ctx, l, data, summary)) return *early;
  return Commit(ctx, l, data, summary);
}

// An event that does not decode.
HandlerOutcome Malformed(const Error& e) {
  return HandlerOutcome::Failure("malformed event: " + e.message);
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
  return FetchRankCommit(event, DataPart::kActiveListings, receive_count, ctx);
}

HandlerOutcome HandleRecentSalesEvent(const StatusChangeEvent& event, int receive_count,
                                      HandlerContext& ctx) {
  return FetchRankCommit(event, DataPart::kRecentSales, receive_count, ctx);
}

PartEventHandler::PartEventHandler(DataPart part, Store& store, Provider& provider,
                                   const Clock& clock, FetchOptions options, Ticker* ticker)
    : part_(part),
      options_(std::move(options)),
      market_flights_(store, OrRealTicker(ticker), options_.market_flight),
      ctx_{store, provider, clock, options_, &market_flights_} {}

HandlerOutcome PartEventHandler::Handle(const ReceivedMessage& message) {
  auto ev = DecodeStatusChange(message.body);
  if (!ev) return Malformed(ev.error());
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

int PartBatchSize(DataPart part, bool store_batches, bool provider_cpu_only) {
  if (part == DataPart::kLocalMarketData || !store_batches || !provider_cpu_only) return 1;
  return sqs::kMaxBatchSize;
}

int PartEventHandler::MaxBatch() const {
  return PartBatchSize(part_, ctx_.store.BatchesParts(), ctx_.provider.CallsAreCpuOnly());
}

// Handle for each message, with the store's reads of all of them in one call (LoadForParts)
// and their commits in one (CompleteParts); each message keeps its own outcome.
std::vector<HandlerOutcome> PartEventHandler::HandleBatch(
    std::span<const ReceivedMessage> messages) {
  std::vector<HandlerOutcome> out(messages.size());
  if (part_ == DataPart::kLocalMarketData || messages.size() == 1) {
    for (size_t i = 0; i < messages.size(); ++i) out[i] = Handle(messages[i]);
    return out;
  }
  // Step 1 for each; the rest go on together.
  struct Item {
    size_t index;
    StatusChangeEvent event;
    Loaded loaded;
    PartData data;
    std::string summary;
  };
  std::vector<Item> items;
  std::vector<CampaignId> ids;
  // A campaign's second message in the batch (a duplicate delivery) is handled alone after the
  // batch, which has committed the first: it then reads as the duplicate it is, without a
  // provider call.
  std::set<std::string> seen;
  std::vector<size_t> after;
  for (size_t i = 0; i < messages.size(); ++i) {
    auto ev = DecodeStatusChange(messages[i].body);
    if (!ev) {
      out[i] = Malformed(ev.error());
    } else if (auto ignored = Ignored(*ev)) {
      out[i] = std::move(*ignored);
    } else if (!seen.insert(ev->campaign_id.str()).second) {
      after.push_back(i);
    } else {
      ids.push_back(ev->campaign_id);
      items.push_back(Item{.index = i, .event = std::move(*ev)});
    }
  }
  // Steps 2–5: the reads together, each checked, searched and ranked alone.
  std::vector<Result<PartInputs>> inputs = ctx_.store.LoadForParts(ids);
  std::vector<Item*> ready;
  for (size_t k = 0; k < items.size(); ++k) {
    Item& it = items[k];
    const int receive_count = messages[it.index].receive_count;
    Result<PartInputs> in = k < inputs.size() ? std::move(inputs[k])
                                              : Fail(ErrorCode::kInternal, "no read for campaign");
    if (auto early = Check(it.event, part_, receive_count, ctx_, std::move(in), it.loaded)) {
      out[it.index] = std::move(*early);
    } else if (auto end = FetchRank(part_, ctx_, it.loaded, it.data, it.summary)) {
      out[it.index] = std::move(*end);
    } else {
      ready.push_back(&it);
    }
  }
  // The commits together.
  std::vector<PartCompletion> completions;
  completions.reserve(ready.size());
  for (const Item* it : ready) {
    completions.push_back(PartCompletion{
        .id = it->loaded.campaign.id, .data_cycle = it->loaded.cycle, .data = &it->data});
  }
  std::vector<Result<TransitionOutcome>> committed = ctx_.store.CompleteParts(completions);
  for (size_t k = 0; k < ready.size(); ++k) {
    const Item& it = *ready[k];
    out[it.index] = Committed(
        k < committed.size() ? committed[k] : Fail(ErrorCode::kInternal, "no commit result"),
        it.loaded.campaign.id, it.data, it.summary);
  }
  for (size_t i : after) out[i] = Handle(messages[i]);
  return out;
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
