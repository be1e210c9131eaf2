// EmbeddedBus: the pipeline's layout on an EmbeddedBroker.
#include "dripr/bus/embedded/embedded_bus.h"

#include <algorithm>

namespace dripr {

Result<std::unique_ptr<EmbeddedBus>> EmbeddedBus::Open(const std::string& path,
                                                       const BusNames& names,
                                                       const EmbeddedBusOptions& options) {
  DRIPR_ASSIGN_OR_RETURN(auto broker, EmbeddedBroker::Open(path, options.broker));
  return Create(std::move(broker), names, options);
}

Result<std::unique_ptr<EmbeddedBus>> EmbeddedBus::Create(std::shared_ptr<EmbeddedBroker> broker,
                                                         const BusNames& names,
                                                         const EmbeddedBusOptions& options) {
  std::unique_ptr<EmbeddedBus> bus(new EmbeddedBus());
  bus->broker_ = std::move(broker);
  EmbeddedBroker& b = *bus->broker_;
  if (!options.declare) {
    DRIPR_ASSIGN_OR_RETURN(bool tables, b.HasTables());
    if (!tables) return Fail(ErrorCode::kNotFound, "no bus tables");
  } else {
    DRIPR_TRY(b.DeclareTopic(names.campaign_events_topic));
  }
  DRIPR_ASSIGN_OR_RETURN(bus->topic_, b.OpenTopic(names.campaign_events_topic));
  for (DataPart part : kAllDataParts) {
    const int i = static_cast<int>(part);
    const std::string work = names.WorkQueue(part);
    const std::string dlq = names.DeadLetterQueue(part);
    if (!options.declare) {
      DRIPR_ASSIGN_OR_RETURN(bus->work_[i], b.OpenQueue(work));
      DRIPR_ASSIGN_OR_RETURN(bus->dlq_[i], b.OpenQueue(dlq));
      continue;
    }
    DRIPR_TRY(b.DeclareQueue({.name = dlq, .visibility_timeout = options.visibility_timeout}));
    // Never lowered by a process declaring a smaller count (a CLI run with a smaller
    // DRIPR_MAX_ATTEMPTS than the fetcher's): the broker would then move messages to the DLQ
    // before the fetcher's engine gives up on them and records why.
    int max_receives = options.max_receive_count;
    if (auto declared = b.GetQueueConfig(work)) {
      max_receives = std::max(max_receives, declared->max_receive_count);
    } else if (declared.error().code != ErrorCode::kNotFound) {
      return Fail(declared.error());
    }
    DRIPR_TRY(b.DeclareQueue({.name = work,
                              .visibility_timeout = options.visibility_timeout,
                              .max_receive_count = max_receives,
                              .dead_letter_queue = dlq}));
    DRIPR_TRY(b.Subscribe({.topic = names.campaign_events_topic,
                           .queue = work,
                           .filter_policy = std::string(kWaitingForDataFilter),
                           .filter_scope = FilterScope::kMessageBody,
                           .raw_delivery = options.raw_delivery}));
    DRIPR_ASSIGN_OR_RETURN(bus->work_[i], b.OpenQueue(work));
    DRIPR_ASSIGN_OR_RETURN(bus->dlq_[i], b.OpenQueue(dlq));
  }
  return bus;
}

}  // namespace dripr
