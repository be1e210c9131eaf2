// fake_rentcast: the fake RentCast API server as a program (support/fake_rentcast.h).
//
//   fake_rentcast [--host 127.0.0.1] [--port 0] [--api-key KEY] [--empty-as-array]
//                 [--fixed-count N] [--odd-fraction X] [--today YYYY-MM-DD]
//                 [--zip-data data/zip_codes.csv] [--keep-alive-seconds 1] [--threads 128]
//                 [--chaos seed=N,5xx=P,429=P,timeout=P,malformed=P[,timeout_ms=MS]
//                 [,retry_after=S]] [--fault kind[:count[:latency_ms[:retry_after]]]]...
//
// --chaos: seeded probabilistic faults (FakeChaos in support/fake_rentcast.h); GET /__stats
// counts the requests per injected kind, path and status.
//
// Prints "listening on PORT" on stdout once it accepts connections; SIGINT/SIGTERM stop it
// (exit 0). Usage errors exit 2.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "support/fake_rentcast.h"

namespace {

int Usage(const std::string& why) {
  std::cerr << "fake_rentcast: " << why
            << "\nusage: fake_rentcast [--host H] [--port N] [--api-key K] [--empty-as-array]"
               " [--fixed-count N] [--odd-fraction X] [--today YYYY-MM-DD] [--zip-data CSV]"
               " [--keep-alive-seconds N] [--threads N] [--chaos SPEC]"
               " [--fault kind[:count[:latency_ms[:retry_after]]]]...\n";
  return 2;
}

bool ToInt(const std::string& s, int& out) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0') return false;
  out = static_cast<int>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using dripr::fake::FakeRentCastConfig;
  FakeRentCastConfig config;
  config.keep_alive_seconds = 1;
  std::string host = "127.0.0.1";
  int port = 0;
  std::vector<dripr::fake::FakeFault> faults;
  std::optional<dripr::fake::FakeChaos> chaos;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--empty-as-array") {
      config.empty_as_404 = false;
    } else if (a == "--empty-as-404") {
      config.empty_as_404 = true;
    } else if (!value(v)) {
      return Usage(a == "-h" || a == "--help" ? "help" : "missing value or unknown flag " + a);
    } else if (a == "--host") {
      host = v;
    } else if (a == "--port") {
      if (!ToInt(v, port) || port < 0 || port > 65535) return Usage("bad --port " + v);
    } else if (a == "--api-key") {
      config.api_key = v;
    } else if (a == "--fixed-count") {
      if (!ToInt(v, config.world.fixed_count)) return Usage("bad --fixed-count " + v);
    } else if (a == "--odd-fraction") {
      config.world.odd_fraction = std::atof(v.c_str());
    } else if (a == "--today") {
      config.world.today = v;
    } else if (a == "--keep-alive-seconds") {
      if (!ToInt(v, config.keep_alive_seconds)) return Usage("bad --keep-alive-seconds " + v);
    } else if (a == "--threads") {
      if (!ToInt(v, config.threads) || config.threads < 1 || config.threads > 4096) {
        return Usage("bad --threads " + v + " (1..4096)");
      }
    } else if (a == "--chaos") {
      auto c = dripr::fake::ParseFakeChaos(v);
      if (!c) return Usage(c.error().message);
      chaos = *c;
    } else if (a == "--zip-data") {
      config.zip_centroids_csv = v;
    } else if (a == "--fault") {
      auto f = dripr::fake::ParseFakeFault(v);
      if (!f) return Usage(f.error().message);
      faults.push_back(*f);
    } else {
      return Usage("unknown flag " + a);
    }
  }

  // Block the stop signals before any thread starts, then wait for them here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  dripr::fake::FakeRentCastServer server(config);
  for (auto& f : faults) server.AddFault(f);
  if (chaos) server.SetChaos(*chaos);
  auto bound = server.Start(host, port);
  if (!bound) {
    std::cerr << "fake_rentcast: " << bound.error().ToString() << "\n";
    return 1;
  }
  std::cout << "listening on " << *bound << std::endl;

  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.Stop();
  return 0;
}
