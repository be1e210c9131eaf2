#include "dripr/fetcher/config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <map>

#include "dripr/bus/aws/credentials.h"
#include "dripr/core/cpus.h"
#include "dripr/core/enum_names.h"
#include "dripr/core/text.h"
#include "dripr/store/store.h"

namespace dripr {

Result<OpsAddress> OpsAddress::Parse(const std::string& text) {
  OpsAddress a;
  if (text == "off") {
    a.enabled = false;
    return a;
  }
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kInvalidArgument,
                "DRIPR_OPS_ADDR must be host:port (port 0-65535, 0 = any free port) or off, got " +
                    QuotedEcho(text) + " (" + std::string(why) + ")");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return bad("no port");
  std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return bad("write IPv6 addresses as [addr]:port");
  }
  if (host.empty()) return bad("no host");
  for (char ch : host) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == ':')) {
      return bad("bad host");
    }
  }
  int value = -1;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 0 ||
      value > 65535) {
    return bad("bad port");
  }
  a.host = std::move(host);
  a.port = value;
  return a;
}

std::optional<std::string> SqlitePath(const std::string& url) {
  if (url.starts_with("sqlite://")) return url.substr(9);
  if (url.starts_with("sqlite:")) return url.substr(7);
  return std::nullopt;
}

namespace {

constexpr auto kBusNames =
    EnumNames<BusKind>({{BusKind::kEmbedded, "embedded"}, {BusKind::kAws, "aws"}});
constexpr auto kProviderNames = EnumNames<ProviderKind>(
    {{ProviderKind::kSample, "sample"}, {ProviderKind::kRentCast, "rentcast"}});

// Variables of the AWS layer (bus/aws/credentials.cc, aws_bus.cc, infra.cc), recorded for
// `dripr config` and parsed into AppConfig::aws (bus/aws/aws_settings.h).
struct AwsVar {
  const char* name;
  const char* default_text;
  SettingMask mask;
};
constexpr AwsVar kAwsVars[] = {
    {"SNS_CAMPAIGN_EVENTS_TOPIC_ARN", "(aws: required)", SettingMask::kNone},
    {"SQS_LOCAL_MARKET_UPDATES_QUEUE_URL", "(aws: required)", SettingMask::kNone},
    {"SQS_ACTIVE_LISTINGS_QUEUE_URL", "(aws: required)", SettingMask::kNone},
    {"SQS_RECENT_SALES_QUEUE_URL", "(aws: required)", SettingMask::kNone},
    {"SQS_LOCAL_MARKET_UPDATES_DLQ_URL", "(from the queue's RedrivePolicy)", SettingMask::kNone},
    {"SQS_ACTIVE_LISTINGS_DLQ_URL", "(from the queue's RedrivePolicy)", SettingMask::kNone},
    {"SQS_RECENT_SALES_DLQ_URL", "(from the queue's RedrivePolicy)", SettingMask::kNone},
    {"AWS_REGION", "(AWS_DEFAULT_REGION, the profile, else the topic ARN's)", SettingMask::kNone},
    {"AWS_DEFAULT_REGION", "(none)", SettingMask::kNone},
    {"AWS_ENDPOINT_URL", "(the AWS endpoints)", SettingMask::kNone},
    {"AWS_ENDPOINT_URL_SNS", "(AWS_ENDPOINT_URL)", SettingMask::kNone},
    {"AWS_ENDPOINT_URL_SQS", "(AWS_ENDPOINT_URL)", SettingMask::kNone},
    {"AWS_ENDPOINT_URL_STS", "(AWS_ENDPOINT_URL)", SettingMask::kNone},
    {"AWS_ACCESS_KEY_ID", "(the credential chain)", SettingMask::kNone},
    {"AWS_SECRET_ACCESS_KEY", "(the credential chain)", SettingMask::kSecret},
    {"AWS_SESSION_TOKEN", "(none)", SettingMask::kSecret},
    {"AWS_PROFILE", "(AWS_DEFAULT_PROFILE, else default)", SettingMask::kNone},
    {"AWS_DEFAULT_PROFILE", "default", SettingMask::kNone},
    {"AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials", SettingMask::kNone},
    {"AWS_CONFIG_FILE", "~/.aws/config", SettingMask::kNone},
    {"AWS_WEB_IDENTITY_TOKEN_FILE", "(none)", SettingMask::kNone},
    {"AWS_ROLE_ARN", "(none)", SettingMask::kNone},
    {"AWS_ROLE_SESSION_NAME", "dripr-(unix ms)", SettingMask::kNone},
    {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "(none)", SettingMask::kNone},
    {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "(none)", SettingMask::kNone},
    {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "(none)", SettingMask::kSecret},
    {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "(none)", SettingMask::kNone},
    {"AWS_EC2_METADATA_DISABLED", "false", SettingMask::kNone},
    {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254", SettingMask::kNone},
};

Status ParseDatabase(const Env& env, SettingsReader& r, AppConfig& c) {
  // Set but empty is an error, not the default: an unset variable and a blank one written by
  // a template mean different things.
  if (auto url = env.Get("DATABASE_URL"); url && url->empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "DATABASE_URL is set but empty (unset it for the default sqlite:dripr.db)");
  }
  c.database_url = r.TextOr("DATABASE_URL", "sqlite:dripr.db", SettingMask::kUrlPassword);
  if (auto p = SqlitePath(c.database_url)) {
    if (p->empty()) return Fail(ErrorCode::kInvalidArgument, "DATABASE_URL: sqlite: needs a path");
  } else if (!c.database_url.starts_with("postgresql://") &&
             !c.database_url.starts_with("postgres://") &&
             !c.database_url.starts_with("mysql://") && !c.database_url.starts_with("mariadb://")) {
    return Fail(ErrorCode::kInvalidArgument,
                "DATABASE_URL must start with sqlite:, postgresql:// or mysql://");
  }
  const std::string pool_default = std::to_string(DefaultPoolSize(c.database_url, UsableCores()));
  DRIPR_ASSIGN_OR_RETURN(auto pool, r.Int("DRIPR_DB_POOL_SIZE", pool_default, 1, 100));
  c.db_pool_size = static_cast<int>(pool);
  DRIPR_ASSIGN_OR_RETURN(auto db_retry, r.Int("DRIPR_DB_RETRY_SECONDS", "15", 0, 3600));
  c.db_retry = std::chrono::seconds(db_retry);
  return Ok();
}

Status ParseBus(SettingsReader& r, AppConfig& c) {
  DRIPR_ASSIGN_OR_RETURN(c.bus, r.Choice("EVENT_BUS", "embedded", kBusNames));
  const std::string bus_file = SqlitePath(c.database_url).value_or("dripr-bus.db");
  auto path = r.Text("EMBEDDED_BUS_PATH", "the SQLite database file", SettingMask::kNone, bus_file);
  c.embedded_bus_path = path.value_or(bus_file);
  return Ok();
}

Status ParseConsumer(SettingsReader& r, AppConfig& c) {
  auto& k = c.consumer;
  // Long polls are cheap on the embedded bus: short waits make shutdown prompt there. At least
  // 1 s: with 0 an empty queue answers at once and every receive loop would spin (on SQS, a
  // paid short poll after another).
  DRIPR_ASSIGN_OR_RETURN(
      auto wait, r.IntWithDefault("DRIPR_RECEIVE_WAIT_SECONDS", c.bus == BusKind::kAws ? 20 : 1,
                                  "20 (aws), 1 (embedded)", 1, sqs::kMaxWaitSeconds));
  k.wait_time = std::chrono::seconds(wait);
  DRIPR_ASSIGN_OR_RETURN(auto in_flight, r.Int("DRIPR_MAX_IN_FLIGHT", "16", 1, 256));
  k.max_in_flight = static_cast<int>(in_flight);
  DRIPR_ASSIGN_OR_RETURN(auto loops, r.Int("DRIPR_RECEIVE_LOOPS", "2", 1, 16));
  k.receive_loops = static_cast<int>(loops);
  DRIPR_ASSIGN_OR_RETURN(
      auto vis, r.Int("DRIPR_VISIBILITY_TIMEOUT_SECONDS", "30", 2, sqs::kMaxVisibilitySeconds));
  k.visibility_timeout = std::chrono::seconds(vis);
  DRIPR_ASSIGN_OR_RETURN(auto attempts, r.Int("DRIPR_MAX_ATTEMPTS", "4", 1, 100));
  k.max_attempts = static_cast<int>(attempts);
  DRIPR_ASSIGN_OR_RETURN(auto base_ms, r.Int("DRIPR_RETRY_BASE_MS", "1000", 1, 600000));
  k.backoff_base = std::chrono::milliseconds(base_ms);
  DRIPR_ASSIGN_OR_RETURN(auto shutdown, r.Int("DRIPR_SHUTDOWN_DEADLINE_SECONDS", "25", 1, 3600));
  k.shutdown_deadline = std::chrono::seconds(shutdown);
  return Ok();
}

Status ParseFetchAndReconcile(SettingsReader& r, AppConfig& c) {
  const std::string all_parts = "local_market_data,active_listings,recent_sales";
  auto parts_text = r.TextOr("DRIPR_REQUIRED_PARTS", all_parts);
  auto parts = RequiredParts::Parse(parts_text);
  if (!parts) {
    return Fail(ErrorCode::kInvalidArgument, "DRIPR_REQUIRED_PARTS must list " + all_parts +
                                                 " (comma-separated), got " +
                                                 QuotedEcho(parts_text));
  }
  c.required_parts = *parts;

  auto& f = c.fetch;
  DRIPR_ASSIGN_OR_RETURN(f.initial_radius_miles,
                         r.Double("DRIPR_INITIAL_RADIUS_MILES", "1", 0.1, 100));
  DRIPR_ASSIGN_OR_RETURN(auto widenings, r.Int("DRIPR_MAX_WIDENINGS", "3", 0, 10));
  f.max_widenings = static_cast<int>(widenings);
  DRIPR_ASSIGN_OR_RETURN(auto min_results, r.Int("DRIPR_MIN_RESULTS", "10", 1, 500));
  f.min_results = static_cast<size_t>(min_results);
  DRIPR_ASSIGN_OR_RETURN(auto keep, r.Int("DRIPR_KEEP_RESULTS", "25", 1, 500));
  f.keep_results = static_cast<size_t>(keep);
  DRIPR_ASSIGN_OR_RETURN(auto reuse_days, r.Int("DRIPR_MARKET_REUSE_DAYS", "30", 0, 365));
  f.market_reuse = std::chrono::seconds(reuse_days * 24 * 3600);
  DRIPR_ASSIGN_OR_RETURN(auto market_lease, r.Int("DRIPR_MARKET_LEASE_SECONDS", "10", 2, 600));
  f.market_flight.lease_ttl = std::chrono::seconds(market_lease);

  auto& rc = c.reconcile;
  constexpr long long kWeek = 7 * 24 * 3600;
  DRIPR_ASSIGN_OR_RETURN(auto interval,
                         r.Int("DRIPR_RECONCILE_INTERVAL_SECONDS", "60", 0, 24 * 3600));
  rc.interval = std::chrono::seconds(interval);
  DRIPR_ASSIGN_OR_RETURN(auto stuck, r.Int("DRIPR_STUCK_AFTER_SECONDS", "900", 1, kWeek));
  rc.stuck_after = std::chrono::seconds(stuck);
  DRIPR_ASSIGN_OR_RETURN(auto republish, r.Int("DRIPR_MAX_REPUBLISH", "3", 0, 100));
  rc.max_republish = static_cast<int>(republish);
  DRIPR_ASSIGN_OR_RETURN(auto restart_after,
                         r.Int("DRIPR_RESTART_ERRORED_AFTER_SECONDS", "21600", 0, 4 * kWeek));
  rc.restart_errored_after = std::chrono::seconds(restart_after);
  DRIPR_ASSIGN_OR_RETURN(auto restarts, r.Int("DRIPR_MAX_RESTARTS", "3", 0, 100));
  rc.max_restarts = static_cast<int>(restarts);
  return Ok();
}

Status ParseLogsAndOps(SettingsReader& r, AppConfig& c) {
  DRIPR_ASSIGN_OR_RETURN(c.log_level, r.Choice("DRIPR_LOG_LEVEL", "info",
                                               {"trace", "debug", "info", "warn", "error", "off"}));
  const bool tty = isatty(STDERR_FILENO) == 1;
  auto format = r.Text("DRIPR_LOG_FORMAT", "text on a terminal, else json", SettingMask::kNone,
                       tty ? "text" : "json");
  DRIPR_ASSIGN_OR_RETURN(c.log_format, ParseLogFormat(format, tty));
  DRIPR_ASSIGN_OR_RETURN(c.ops, OpsAddress::Parse(r.TextOr("DRIPR_OPS_ADDR", "127.0.0.1:9464")));
  c.ops.token = r.Text("DRIPR_OPS_TOKEN", "(none)", SettingMask::kSecret).value_or("");
  return Ok();
}

// zip_codes.csv in $DRIPR_DATA_DIR or the first of `data_dirs` that has it; "" none.
std::string FindZipCsv(const std::optional<std::string>& data_dir,
                       const std::vector<std::string>& data_dirs) {
  namespace fs = std::filesystem;
  std::vector<std::string> candidates;
  if (data_dir) candidates.push_back(*data_dir);
  candidates.insert(candidates.end(), data_dirs.begin(), data_dirs.end());
  std::error_code ec;
  for (const auto& dir : candidates) {
    if (dir.empty()) continue;
    auto p = fs::path(dir) / "zip_codes.csv";
    if (fs::exists(p, ec)) return p.string();
  }
  return "";
}

Status ParseProviders(SettingsReader& r, const std::vector<std::string>& data_dirs, AppConfig& c) {
  DRIPR_ASSIGN_OR_RETURN(c.provider, r.Choice("DATA_PROVIDER", "sample", kProviderNames));

  auto data_dir = r.Text("DRIPR_DATA_DIR", "data/ of the source tree, else ../share/dripr");
  c.zip_csv_path = FindZipCsv(data_dir, data_dirs);
  if (!data_dir)
    r.SetShownValue("DRIPR_DATA_DIR", std::filesystem::path(c.zip_csv_path).parent_path().string());

  auto& s = c.sample;
  const std::string sparse = r.Text("DRIPR_SAMPLE_SPARSE_ZIPS", "(none)").value_or("");
  size_t start = 0;
  while (start <= sparse.size()) {
    size_t comma = sparse.find(',', start);
    if (comma == std::string::npos) comma = sparse.size();
    std::string item = sparse.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) {
      bool digits = item.size() <= 5 && std::all_of(item.begin(), item.end(),
                                                    [](char ch) { return ch >= '0' && ch <= '9'; });
      if (!digits) {
        return Fail(ErrorCode::kInvalidArgument,
                    "DRIPR_SAMPLE_SPARSE_ZIPS: " + QuotedEcho(item) +
                        " is not a zip code or zip prefix (1 to 5 digits)");
      }
      s.sparse_zip_prefixes.push_back(item);
    }
    start = comma + 1;
  }
  DRIPR_ASSIGN_OR_RETURN(long long ms, r.Int("DRIPR_SAMPLE_LATENCY_MS", "0", 0, 60000));
  s.latency = std::chrono::milliseconds(ms);
  auto csv = r.Text("DRIPR_SAMPLE_ZIP_CSV", "$DRIPR_DATA_DIR/zip_codes.csv", SettingMask::kNone,
                    c.zip_csv_path);
  // Loaded when the provider opens (OpenProvider): most commands never need it.
  s.zip_csv_path = csv.value_or(c.zip_csv_path);
  s.zip_csv_variable = csv ? "DRIPR_SAMPLE_ZIP_CSV" : "DRIPR_DATA_DIR";

  auto& o = c.rentcast;
  // Required only when the provider opens (OpenRentCastProvider): commands that never fetch
  // run without it.
  auto key = r.Text("RENTCAST_API_KEY", "(rentcast: required)", SettingMask::kSecret);
  o.api_key = key.value_or("");
  o.base_url = r.TextOr("RENTCAST_BASE_URL", "https://api.rentcast.io/v1");
  while (!o.base_url.empty() && o.base_url.back() == '/') o.base_url.pop_back();
  if (!o.base_url.starts_with("http://") && !o.base_url.starts_with("https://")) {
    return Fail(
        ErrorCode::kInvalidArgument,
        "RENTCAST_BASE_URL must start with http:// or https://, got " + QuotedEcho(o.base_url));
  }
  DRIPR_ASSIGN_OR_RETURN(o.max_rps, r.Double("RENTCAST_MAX_RPS", "5", 0.01, 1000));
  DRIPR_ASSIGN_OR_RETURN(auto page_size, r.Int("RENTCAST_PAGE_SIZE", "500", 1, 500));
  DRIPR_ASSIGN_OR_RETURN(auto max_pages, r.Int("RENTCAST_MAX_PAGES", "5", 1, 100));
  DRIPR_ASSIGN_OR_RETURN(auto attempts, r.Int("RENTCAST_MAX_ATTEMPTS", "5", 1, 20));
  DRIPR_ASSIGN_OR_RETURN(auto backoff, r.Int("RENTCAST_BACKOFF_INITIAL_MS", "250", 1, 60000));
  DRIPR_ASSIGN_OR_RETURN(auto timeout, r.Int("RENTCAST_TIMEOUT_SECONDS", "15", 1, 600));
  DRIPR_ASSIGN_OR_RETURN(auto deadline, r.Int("RENTCAST_DEADLINE_SECONDS", "60", 1, 3600));
  o.page_size = static_cast<int>(page_size);
  o.max_pages = static_cast<int>(max_pages);
  o.max_attempts = static_cast<int>(attempts);
  o.backoff_initial = std::chrono::milliseconds(backoff);
  o.backoff_max = std::max(o.backoff_max, o.backoff_initial);
  o.request_timeout = std::chrono::seconds(timeout);
  o.deadline = std::chrono::seconds(deadline);
  return Ok();
}

// AWS_REGION and AWS_DEFAULT_REGION: an AWS region name (aws::IsRegionName).
Status CheckRegion(std::string_view name, const std::string& region) {
  if (aws::IsRegionName(region)) return Ok();
  return Fail(ErrorCode::kInvalidArgument,
              std::string(name) + ": " + QuotedEcho(region) +
                  " is not an AWS region name (lowercase letters, digits and '-', e.g. us-east-1)");
}

// An endpoint override: http(s)://host[:port][/path], no user-info.
Status CheckEndpoint(std::string_view name, const std::string& url) {
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kInvalidArgument, std::string(name) + ": " + std::string(why) +
                                                 " (http://host:port or https://host)");
  };
  std::string lower(url.substr(0, std::min<size_t>(url.size(), 8)));
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  size_t start;
  if (lower.starts_with("https://")) {
    start = 8;
  } else if (lower.starts_with("http://")) {
    start = 7;
  } else {
    return bad("must start with http:// or https://");
  }
  const std::string_view authority =
      std::string_view(url).substr(start, url.find_first_of("/?#", start) - start);
  if (authority.empty()) return bad("has no host");
  if (authority.find('@') != std::string_view::npos) return bad("must not hold user-info ('@')");
  return Ok();
}

Status ParseAws(const Env& env, SettingsReader& r, AppConfig& c) {
  std::map<std::string, std::string, std::less<>> vars;  // set, non-empty values
  for (const auto& v : kAwsVars) {
    if (auto value = r.Text(v.name, v.default_text, v.mask)) vars[v.name] = *value;
  }
  auto take = [&](std::string_view name, std::string& field) {
    if (auto it = vars.find(name); it != vars.end()) field = it->second;
  };
  aws::AwsSettings& a = c.aws;
  take("SNS_CAMPAIGN_EVENTS_TOPIC_ARN", a.topic_arn);
  for (size_t i = 0; i < 3; ++i) {
    take(aws::kQueueUrlVars[i], a.work_queue_urls[i]);
    take(aws::kDlqUrlVars[i], a.dlq_urls[i]);
  }
  take("AWS_REGION", a.region);
  take("AWS_DEFAULT_REGION", a.default_region);
  take("AWS_ENDPOINT_URL", a.endpoint_url);
  take("AWS_ENDPOINT_URL_SNS", a.endpoint_url_sns);
  take("AWS_ENDPOINT_URL_SQS", a.endpoint_url_sqs);
  take("AWS_ENDPOINT_URL_STS", a.endpoint_url_sts);
  take("AWS_ACCESS_KEY_ID", a.access_key_id);
  take("AWS_SECRET_ACCESS_KEY", a.secret_access_key);
  take("AWS_SESSION_TOKEN", a.session_token);
  take("AWS_PROFILE", a.profile);
  take("AWS_DEFAULT_PROFILE", a.default_profile);
  take("AWS_SHARED_CREDENTIALS_FILE", a.shared_credentials_file);
  take("AWS_CONFIG_FILE", a.config_file);
  take("AWS_WEB_IDENTITY_TOKEN_FILE", a.web_identity_token_file);
  take("AWS_ROLE_ARN", a.role_arn);
  take("AWS_ROLE_SESSION_NAME", a.role_session_name);
  take("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", a.container_credentials_relative_uri);
  take("AWS_CONTAINER_CREDENTIALS_FULL_URI", a.container_credentials_full_uri);
  take("AWS_CONTAINER_AUTHORIZATION_TOKEN", a.container_authorization_token);
  take("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", a.container_authorization_token_file);
  take("AWS_EC2_METADATA_SERVICE_ENDPOINT", a.ec2_metadata_endpoint);
  std::string disabled;
  take("AWS_EC2_METADATA_DISABLED", disabled);
  // As the AWS SDKs: "true" in any case disables it; any other value does not.
  std::transform(disabled.begin(), disabled.end(), disabled.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  a.ec2_metadata_disabled = disabled == "true";
  // ~/.aws: HOME is not one of dripr's settings (not listed by `dripr config`).
  a.home = env.GetOr("HOME", "");
  if (!a.region.empty()) DRIPR_TRY(CheckRegion("AWS_REGION", a.region));
  if (!a.default_region.empty()) DRIPR_TRY(CheckRegion("AWS_DEFAULT_REGION", a.default_region));
  for (const auto& [name, url] :
       {std::pair<std::string_view, const std::string&>{"AWS_ENDPOINT_URL", a.endpoint_url},
        {"AWS_ENDPOINT_URL_SNS", a.endpoint_url_sns},
        {"AWS_ENDPOINT_URL_SQS", a.endpoint_url_sqs},
        {"AWS_ENDPOINT_URL_STS", a.endpoint_url_sts}}) {
    if (!url.empty()) DRIPR_TRY(CheckEndpoint(name, url));
  }
  return Ok();
}

}  // namespace

SettingOrigin AppConfig::OriginOf(std::string_view name) const {
  for (const auto& row : settings) {
    if (row.name == name) return row.origin;
  }
  return SettingOrigin::kDefault;
}

Result<AppConfig> LoadConfig(const Env& env, const std::vector<std::string>& data_dirs) {
  DRIPR_TRY(env.CheckUtf8());
  AppConfig c;
  SettingsReader r(env);
  DRIPR_TRY(ParseDatabase(env, r, c));
  DRIPR_TRY(ParseBus(r, c));
  DRIPR_TRY(ParseConsumer(r, c));
  DRIPR_TRY(ParseFetchAndReconcile(r, c));
  DRIPR_TRY(ParseLogsAndOps(r, c));
  DRIPR_TRY(ParseProviders(r, data_dirs, c));
  DRIPR_TRY(ParseAws(env, r, c));
  c.settings = r.rows();
  return c;
}

}  // namespace dripr
