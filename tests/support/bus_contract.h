#pragma once
// Contract tests for the Topic/Queue interfaces (bus/bus.h). Every backend runs the same
// tests: the embedded bus (tests/bus/embedded_bus_test.cc) and SQS/SNS on moto_server.
//
// To run them against a backend, give a factory that builds a fresh, empty setup per test:
//
//   INSTANTIATE_TEST_SUITE_P(
//       Embedded, BusContractTest,
//       ::testing::Values(BusContractParam{"envelope", MakeEnvelopeSetup},
//                         BusContractParam{"raw", MakeRawSetup}),
//       BusContractName);
//
// (Pass BusContractName: it names the instances and makes the linker keep this suite.)
//
// Timing assumptions are SQS-compatible: visibility timeouts in whole seconds (1 s is the
// shortest used) and long-poll waits of a few seconds. No test bounds how fast a long poll
// wakes (B1 in `make bench` measures it; the embedded bus's WakeupTest asserts its causes).

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "dripr/bus/bus.h"
#include "dripr/core/error.h"

namespace dripr::testing {

struct BusContractSetup {
  // Keeps the backend alive (and cleans up, e.g. a temp dir); destroyed last.
  std::shared_ptr<void> owner;
  // `topic` delivers to `work` through one subscription with the body filter
  // {"payload":{"to_status":["WAITING_FOR_DATA"]}} (FilterPolicyScope MessageBody), and
  // only there; SNS envelope delivery unless `raw_delivery`.
  TopicPtr topic;
  QueuePtr work;              // empty; redrive to `dlq` after `max_receive_count` receives
  QueuePtr dlq;               // empty
  int max_receive_count = 3;  // at least 3
  bool raw_delivery = false;
};

struct BusContractParam {
  std::string name;  // instance name suffix, [A-Za-z0-9_]
  std::function<Result<BusContractSetup>()> make;
};

// Names instances after BusContractParam::name.
std::string BusContractName(const ::testing::TestParamInfo<BusContractParam>& info);

class BusContractTest : public ::testing::TestWithParam<BusContractParam> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Receives until `n` messages arrived or `timeout` passed (long polls of <= 1 s), with
  // the queue's default visibility. Fails the test on a receive error.
  std::vector<ReceivedMessage> ReceiveN(
      Queue& q, size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Receives one message (as ReceiveN) into *got and expects it to be message `id` with
  // `body`; call inside ASSERT_NO_FATAL_FAILURE.
  void ReceiveTheMessage(Queue& q, const std::string& id, const std::string& body,
                         ReceivedMessage* got);

  BusContractSetup s_;
};

}  // namespace dripr::testing
