// libFuzzer target: AWS error replies (JSON bodies from SQS, XML bodies from SNS, with the
// x-amzn-query-error header), as AwsCaller turns them into one error line
// (docs/decisions/fuzzing.md). Input: one byte choosing the status (4xx/5xx) and the service,
// then the body.
//
// Checked: an error always comes back (never a success), never kInternal, and its message is
// bounded and valid UTF-8 whatever the server sent.

#include <memory>

#include "dripr/bus/aws/sns_client.h"
#include "dripr/bus/aws/sqs_client.h"
#include "fuzz_aws.h"
#include "fuzz_support.h"

namespace {

class ErrorHttp : public dripr::HttpClient {
 public:
  ErrorHttp(int status, std::string body) : status_(status), body_(std::move(body)) {}
  dripr::Result<dripr::HttpResponse> Send(const dripr::HttpRequest&) override {
    dripr::HttpResponse res;
    res.status = status_;
    res.body = body_;
    // The legacy SQS code header and the request id echo part of the body too.
    res.headers = {{"x-amzn-query-error", body_.substr(0, 60)},
                   {"x-amzn-requestid", body_.substr(0, 40)}};
    return res;
  }

 private:
  int status_;
  std::string body_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dripr;
  if (size < 1) return 0;
  static constexpr int kStatuses[] = {400, 403, 404, 413, 429, 500, 502, 503};
  auto o = fuzz::FuzzClientOptions(
      std::make_shared<ErrorHttp>(kStatuses[(data[0] >> 1) % 8],
                                  std::string(reinterpret_cast<const char*>(data) + 1, size - 1)),
      "http://aws.invalid", /*max_attempts=*/2);
  if (data[0] & 1) {
    auto r = aws::SnsClient(o).Publish("arn:aws:sns:us-east-1:1:t", "{}");
    fuzz::Check(!r);
    fuzz::CheckError(r.error());
  } else {
    auto r = aws::SqsClient(o).SendMessage("http://aws.invalid/1/q", "{}");
    fuzz::Check(!r);
    fuzz::CheckError(r.error());
  }
  return 0;
}
