#include "dripr/fetcher/reconciler.h"

#include <unistd.h>

#include <algorithm>

#include "dripr/core/clock.h"
#include "dripr/core/ids.h"
#include "dripr/core/log.h"
#include "dripr/core/stop.h"
#include "dripr/core/thread_name.h"

namespace dripr {
namespace {

std::string DefaultHolder() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "unknown") + "/" + std::to_string(getpid()) + "/" +
         NewUuid().substr(0, 8);
}

std::string Describe(const ReconcileItem& item, const ReconcileSettings& s) {
  const Campaign& b = item.before;
  switch (item.action) {
    case ReconcileAction::kRepublish:
      return "data cycle " + std::to_string(b.data_cycle) + " event published again (" +
             std::to_string(b.republish_count + 1) + " of " + std::to_string(s.max_republish) +
             "); waiting for: " + UnfinishedParts(b);
    case ReconcileAction::kFailStuck:
      return "ERROR after " + std::to_string(b.republish_count) +
             " republishes; waiting for: " + UnfinishedParts(b);
    case ReconcileAction::kRestart:
      return "ERROR -> DORMANT (restart " + std::to_string(b.restart_count + 1) + " of " +
             std::to_string(s.max_restarts) + "); was: " + b.error_text;
  }
  return "";
}

}  // namespace

Reconciler::Reconciler(Store& store, const Clock& clock, Ticker& ticker, ReconcilerOptions options)
    : store_(store), clock_(clock), ticker_(ticker), options_(std::move(options)) {
  if (options_.holder.empty()) options_.holder = DefaultHolder();
  if (options_.lease_ttl.count() <= 0) {
    options_.lease_ttl = std::max(std::chrono::seconds(2), 2 * options_.settings.interval);
  }
}

Reconciler::~Reconciler() { Stop(); }

Result<bool> Reconciler::Lease() {
  auto held =
      store_.AcquireLease(std::string(kReconcilerLeaseName), options_.holder, options_.lease_ttl);
  if (!held) return held;
  if (*held != holding_) {
    if (*held) {
      DRIPR_LOG_INFO("reconciler: this instance ({}) now runs the reconciler", options_.holder);
    } else {
      DRIPR_LOG_WARN("reconciler: lease lost by {}; another instance runs the reconciler",
                     options_.holder);
    }
  }
  holding_ = *held;
  if (*held) leased_at_ = ticker_.Now();
  return held;
}

Result<ReconcilePass> Reconciler::RunOnce(bool dry_run) {
  const ReconcileSettings& s = options_.settings;
  ReconcilePass pass;
  pass.started_at = clock_.Now();
  pass.dry_run = dry_run;
  if (options_.use_lease && !dry_run) {
    DRIPR_ASSIGN_OR_RETURN(bool held, Lease());
    if (!held) {
      pass.acted = false;
      return pass;
    }
  }
  const SysTime now = clock_.Now();
  std::optional<SysTime> errored_before;
  if (s.restart_errored_after.count() > 0) errored_before = now - s.restart_errored_after;
  DRIPR_ASSIGN_OR_RETURN(auto candidates,
                         store_.FindReconcileCandidates(now - s.stuck_after, errored_before,
                                                        s.max_restarts, options_.max_per_pass));
  for (const Campaign& c : candidates) {
    auto action = DecideReconcile(c, now, s);
    if (!action) continue;  // e.g. moved between the query and now
    ReconcileItem item;
    item.campaign_id = c.id;
    item.action = *action;
    item.before = item.after = c;
    if (dry_run) {
      item.note = "would: " + Describe(item, s);
      pass.items.push_back(std::move(item));
      continue;
    }
    // A long pass renews the lease halfway through its ttl; a lost lease ends the pass.
    if (options_.use_lease && ticker_.Now() - leased_at_ > options_.lease_ttl / 2) {
      DRIPR_ASSIGN_OR_RETURN(bool held, Lease());
      if (!held) {
        pass.lease_lost = true;
        break;
      }
    }
    DRIPR_ASSIGN_OR_RETURN(auto outcome, store_.ReconcileCampaign(c.id, *action, s));
    item.after = outcome.campaign;
    item.applied = outcome.changed;
    if (outcome.changed) {
      item.note = Describe(item, s);
      ++pass.counts[static_cast<size_t>(*action)];
      DRIPR_LOG_INFO("reconciler: campaign={} action={} {}", c.id, ToString(*action), item.note);
    } else {
      item.note = "skipped: " + outcome.reason;
      DRIPR_LOG_DEBUG("reconciler: campaign={} action={} {}", c.id, ToString(*action), item.note);
    }
    pass.items.push_back(std::move(item));
  }
  return pass;
}

void Reconciler::Start() {
  if (thread_.joinable() || options_.settings.interval.count() <= 0) return;
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] {
    NameThisThread("reconciler");
    Loop();
  });
}

void Reconciler::Stop() {
  StopAndJoin(mu_, stop_, cv_, thread_);
  if (holding_) {
    if (auto r = store_.ReleaseLease(std::string(kReconcilerLeaseName), options_.holder); !r) {
      DRIPR_LOG_WARN("reconciler: releasing the lease: {}", r.error().ToString());
    }
    holding_ = false;
  }
}

std::optional<ReconcilerLastPass> Reconciler::LastPass() const {
  std::lock_guard lock(last_mu_);
  return last_;
}

void Reconciler::Loop() {
  while (true) {
    ReconcilerLastPass last;
    last.at = clock_.Now();
    auto pass = RunOnce(false);
    if (!pass) {
      DRIPR_LOG_WARN("reconciler: pass failed: {}", pass.error().ToString());
      last.ok = false;
      last.error = pass.error().ToString();
    } else {
      last.at = pass->started_at;
      last.acted = pass->acted;
      last.lease_lost = pass->lease_lost;
      last.looked_at = static_cast<int64_t>(pass->items.size());
      last.counts = pass->counts;
      if (pass->acted && options_.on_pass) options_.on_pass(*pass);
    }
    {
      std::lock_guard lock(last_mu_);
      last_ = std::move(last);
    }
    std::unique_lock lock(mu_);
    if (ticker_.WaitFor(lock, cv_, options_.settings.interval, [this] { return stop_; })) return;
  }
}

}  // namespace dripr
