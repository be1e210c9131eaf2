#pragma once
// A fixture on an EmbeddedBroker in a temporary directory, for the embedded bus's own tests
// and the consumer engine's: the broker alone, or with the queue "work" and its dead-letter
// queue "work-dlq".

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "bus/temp_dir.h"
#include "dripr/bus/embedded/embedded_bus.h"

namespace dripr::testing {

class BrokerFixture : public ::testing::Test {
 protected:
  void TearDown() override {
    work_.reset();
    dlq_.reset();
    broker_.reset();
  }

  // Opens broker_ on `file` in dir_ (call from SetUp inside ASSERT_NO_FATAL_FAILURE).
  void OpenBroker(const std::string& file, const EmbeddedBrokerOptions& options = {}) {
    auto b = EmbeddedBroker::Open(dir_.File(file), options);
    ASSERT_TRUE(b) << b.error().ToString();
    broker_ = *b;
  }
  // Opens broker_ on "bus.db", declares "work-dlq" and "work" (`visibility`; dead-lettered
  // after 50 receives) and opens them as dlq_ and work_.
  void OpenWorkQueues(std::chrono::seconds visibility, const EmbeddedBrokerOptions& options = {}) {
    ASSERT_NO_FATAL_FAILURE(OpenBroker("bus.db", options));
    ASSERT_TRUE(broker_->DeclareQueue({"work-dlq", std::chrono::seconds(30), 0, ""}));
    ASSERT_TRUE(broker_->DeclareQueue({"work", visibility, 50, "work-dlq"}));
    work_ = std::move(*broker_->OpenQueue("work"));
    dlq_ = std::move(*broker_->OpenQueue("work-dlq"));
  }

  TempDir dir_;
  std::shared_ptr<EmbeddedBroker> broker_;
  std::unique_ptr<EmbeddedQueue> work_, dlq_;
};

}  // namespace dripr::testing
