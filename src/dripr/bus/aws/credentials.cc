#include "dripr/bus/aws/credentials.h"

#include <algorithm>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <sstream>

#include "dripr/core/log.h"
#include "dripr/core/text.h"
#include "dripr/core/time.h"

namespace dripr::aws {
namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

const Clock& ClockOf(const CredentialChainOptions& o) {
  return o.clock != nullptr ? *o.clock : SystemClock::Instance();
}

std::unexpected<Error> NotConfigured(std::string what) {
  return Fail(ErrorCode::kFailedPrecondition, std::move(what));
}

// Reads a whole file; nullopt when it cannot be opened.
std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string CredentialsFilePath(const AwsSettings& s) {
  if (!s.shared_credentials_file.empty()) return s.shared_credentials_file;
  return s.home + "/.aws/credentials";
}

std::string ConfigFilePath(const AwsSettings& s) {
  if (!s.config_file.empty()) return s.config_file;
  return s.home + "/.aws/config";
}

std::string ProfileName(const AwsSettings& s) {
  if (!s.profile.empty()) return s.profile;
  if (!s.default_profile.empty()) return s.default_profile;
  return "default";
}

// A shared file's section for `profile` (config files write "[profile NAME]" except for
// "default"); nullopt when the file or the section is missing.
Result<std::optional<std::map<std::string, std::string>>> LoadProfileSection(
    const std::string& path, const std::string& profile, bool config_file) {
  auto text = ReadFile(path);
  if (!text) return std::optional<std::map<std::string, std::string>>{};
  DRIPR_ASSIGN_OR_RETURN(IniFile ini, ParseIni(*text, path));
  std::vector<std::string> names;
  if (config_file) names.push_back("profile " + profile);
  names.push_back(profile);
  for (const auto& n : names) {
    if (auto it = ini.find(n); it != ini.end()) {
      return std::optional<std::map<std::string, std::string>>(it->second);
    }
  }
  return std::optional<std::map<std::string, std::string>>{};
}

// {AccessKeyId, SecretAccessKey, Token, Expiration} as IMDS and the container endpoint
// return them. Never echoes the document in errors: it holds the secret.
Result<Credentials> ParseJsonCredentials(std::string_view body, std::string source) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("AccessKeyId") || !j["AccessKeyId"].is_string() ||
      !j.contains("SecretAccessKey") || !j["SecretAccessKey"].is_string()) {
    return Fail(ErrorCode::kUnavailable, source + ": malformed credentials document");
  }
  if (j.contains("Code") && j["Code"].is_string() && j["Code"].get<std::string>() != "Success") {
    return Fail(ErrorCode::kUnavailable,
                source + ": credentials code " + Excerpt(j["Code"].get<std::string>(), 64));
  }
  Credentials c;
  c.access_key_id = j["AccessKeyId"].get<std::string>();
  c.secret_access_key = j["SecretAccessKey"].get<std::string>();
  if (j.contains("Token") && j["Token"].is_string())
    c.session_token = j["Token"].get<std::string>();
  if (j.contains("Expiration") && j["Expiration"].is_string()) {
    auto t = ParseIso8601(j["Expiration"].get<std::string>());
    if (!t) return Fail(ErrorCode::kUnavailable, source + ": bad Expiration: " + t.error().message);
    c.expiration = *t;
  }
  if (c.Empty()) {  // found by credentials_fuzz: an empty key was taken as credentials
    return Fail(ErrorCode::kUnavailable, source + ": empty AccessKeyId or SecretAccessKey");
  }
  c.source = std::move(source);
  return c;
}

Result<HttpResponse> SendExpectingOk(const HttpClientPtr& http, const HttpRequest& req,
                                     const std::string& source) {
  if (!http) return Fail(ErrorCode::kInternal, source + ": no HTTP client");
  auto res = http->Send(req);
  if (!res) return Fail(res.error().Wrap(source));
  if (res->status >= 200 && res->status < 300) return res;
  ErrorCode code = res->status >= 500 || res->status == 429   ? ErrorCode::kUnavailable
                   : res->status == 401 || res->status == 403 ? ErrorCode::kPermissionDenied
                   : res->status == 404                       ? ErrorCode::kNotFound
                                                              : ErrorCode::kInvalidArgument;
  return Fail(code, source + ": HTTP " + std::to_string(res->status));
}

class StaticProvider final : public CredentialsProvider {
 public:
  explicit StaticProvider(Credentials c) : creds_(std::move(c)) {}
  Result<Credentials> Get() override { return creds_; }

 private:
  const Credentials creds_;
};

// The default chain: picks a source on first use, caches temporary credentials and
// refreshes them `refresh_margin` before Expiration. If a refresh fails while the cached
// credentials are still valid, those are returned (and the failure logged).
class ChainProvider final : public CredentialsProvider {
 public:
  ChainProvider(AwsSettings settings, CredentialChainOptions o)
      : settings_(std::move(settings)), opts_(std::move(o)) {}

  Result<Credentials> Get() override {
    std::lock_guard lock(mu_);
    const SysTime now = ClockOf(opts_).Now();
    if (cached_ && (!cached_->expiration || now < *cached_->expiration - opts_.refresh_margin)) {
      return *cached_;
    }
    auto fresh = Resolve();
    if (!fresh) {
      if (cached_ && cached_->expiration && now < *cached_->expiration) {
        DRIPR_LOG_WARN("[aws] credentials refresh failed, using cached ones until expiry: {}",
                       fresh.error().ToString());
        return *cached_;
      }
      return fresh;
    }
    if (!cached_ || cached_->source != fresh->source) {
      DRIPR_LOG_INFO("[aws] using {}", fresh->ToString());
    }
    cached_ = *fresh;
    return *cached_;
  }

  void Invalidate() override {
    std::lock_guard lock(mu_);
    if (cached_ && cached_->expiration) cached_.reset();
  }

 private:
  Result<Credentials> Resolve() {
    using Source = Result<Credentials> (*)(const AwsSettings&, const CredentialChainOptions&);
    static constexpr Source kSources[] = {
        [](const AwsSettings& s, const CredentialChainOptions&) { return CredentialsFromEnv(s); },
        [](const AwsSettings& s, const CredentialChainOptions&) {
          return CredentialsFromProfile(s);
        },
        &CredentialsFromWebIdentity,
        &CredentialsFromContainer,
        &CredentialsFromImds,
    };
    std::string tried;
    for (size_t i = 0; i < std::size(kSources); ++i) {
      auto c = kSources[i](settings_, opts_);
      if (c) return c;
      if (i + 1 == std::size(kSources) && c.error().code != ErrorCode::kFailedPrecondition) {
        // IMDS is the fallback of last resort: off EC2 it is simply unreachable, so say
        // what else was tried. The code stays retryable (on EC2 it may be transient).
        return Fail(c.error().code,
                    "no AWS credentials found (" + tried + "; " + c.error().message + ")");
      }
      if (c.error().code != ErrorCode::kFailedPrecondition) return c;  // configured but failed
      tried += (tried.empty() ? "" : "; ") + c.error().message;
    }
    return Fail(ErrorCode::kFailedPrecondition, "no AWS credentials found (" + tried + ")");
  }

  const AwsSettings settings_;
  const CredentialChainOptions opts_;
  std::mutex mu_;
  std::optional<Credentials> cached_;  // guarded by mu_
};

}  // namespace

Result<IniFile> ParseIni(std::string_view text, std::string_view origin) {
  IniFile ini;
  std::string section;
  bool have_section = false;
  LineReader lines(text);
  for (std::string_view raw; lines.Next(raw);) {
    const int line_no = lines.number();
    std::string line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    auto where = [&] { return std::string(origin) + ":" + std::to_string(line_no); };
    if (line.front() == '[') {
      if (line.back() != ']') return Fail(ErrorCode::kInvalidArgument, where() + ": bad section");
      section = Trim(std::string_view(line).substr(1, line.size() - 2));
      have_section = true;
      ini[section];
      continue;
    }
    // Indented lines belong to a nested sub-section ("s3 =\n  max_concurrent_requests = 1").
    if (std::isspace(static_cast<unsigned char>(raw.front()))) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument, where() + ": expected key = value");
    }
    if (!have_section) {
      return Fail(ErrorCode::kInvalidArgument, where() + ": key outside a section");
    }
    ini[section][Lower(Trim(std::string_view(line).substr(0, eq)))] =
        Trim(std::string_view(line).substr(eq + 1));
  }
  return ini;
}

CredentialsProviderPtr NewStaticCredentialsProvider(Credentials creds) {
  return std::make_shared<StaticProvider>(std::move(creds));
}

CredentialsProviderPtr NewDefaultCredentialsChain(const AwsSettings& settings,
                                                  CredentialChainOptions options) {
  return std::make_shared<ChainProvider>(settings, std::move(options));
}

Result<Credentials> CredentialsFromEnv(const AwsSettings& s) {
  if (s.access_key_id.empty()) return NotConfigured("env: AWS_ACCESS_KEY_ID not set");
  if (s.secret_access_key.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "env: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  }
  return Credentials{.access_key_id = s.access_key_id,
                     .secret_access_key = s.secret_access_key,
                     .session_token = s.session_token,
                     .source = "env"};
}

Result<Credentials> CredentialsFromProfile(const AwsSettings& s) {
  const std::string profile = ProfileName(s);
  const std::string cred_path = CredentialsFilePath(s);
  const std::string config_path = ConfigFilePath(s);
  // The credentials file wins over the config file for the same profile.
  for (auto [path, is_config] : {std::pair{cred_path, false}, std::pair{config_path, true}}) {
    DRIPR_ASSIGN_OR_RETURN(auto section, LoadProfileSection(path, profile, is_config));
    if (!section) continue;
    auto id = section->find("aws_access_key_id");
    if (id == section->end() || id->second.empty()) continue;
    auto secret = section->find("aws_secret_access_key");
    if (secret == section->end() || secret->second.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  path + ": profile " + profile + " has aws_access_key_id but no secret");
    }
    Credentials c{.access_key_id = id->second,
                  .secret_access_key = secret->second,
                  .source = "profile " + profile + " (" + path + ")"};
    if (auto t = section->find("aws_session_token"); t != section->end()) {
      c.session_token = t->second;
    }
    return c;
  }
  return NotConfigured("shared files: no keys for profile " + profile);
}

Result<Credentials> CredentialsFromWebIdentity(const AwsSettings& s,
                                               const CredentialChainOptions& o) {
  const std::string& token_file = s.web_identity_token_file;
  const std::string& role_arn = s.role_arn;
  if (token_file.empty() || role_arn.empty()) {
    return NotConfigured("web identity: AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN not set");
  }
  auto token = ReadFile(token_file);
  if (!token) {
    return Fail(ErrorCode::kUnavailable, "web identity: cannot read token file " + token_file);
  }
  std::string endpoint = o.sts_endpoint;
  if (endpoint.empty()) {
    auto region = ResolveRegion(s);
    endpoint = ResolveEndpoint(s, "sts", region ? *region : "us-east-1");
  }
  const std::string session = !s.role_session_name.empty()
                                  ? s.role_session_name
                                  : "dripr-" + std::to_string(ToUnixMillis(ClockOf(o).Now()));
  HttpRequest req{.method = "POST",
                  .url = endpoint + "/",
                  .headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
                  .body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" +
                          UrlEncode(role_arn) + "&RoleSessionName=" + UrlEncode(session) +
                          "&WebIdentityToken=" + UrlEncode(Trim(*token)),
                  .connect_timeout = std::chrono::milliseconds(3000),
                  .timeout = std::chrono::milliseconds(10000)};
  const std::string source = "web identity (" + role_arn + ")";
  if (!o.http) return Fail(ErrorCode::kInternal, source + ": no HTTP client");
  auto res = o.http->Send(req);
  if (!res) return Fail(res.error().Wrap(source));
  pugi::xml_document doc;
  bool parsed = static_cast<bool>(doc.load_buffer(res->body.data(), res->body.size()));
  if (res->status < 200 || res->status >= 300) {
    pugi::xml_node err = doc.select_node("//Error").node();
    std::string code = err.child_value("Code");
    ErrorCode ec = res->status >= 500 || code == "Throttling" || code == "IDPCommunicationError"
                       ? ErrorCode::kUnavailable
                       : ErrorCode::kPermissionDenied;
    return Fail(ec, source + ": STS HTTP " + std::to_string(res->status) + " " + Excerpt(code, 64) +
                        ": " + Excerpt(err.child_value("Message"), 300));
  }
  pugi::xml_node c = doc.select_node("//AssumeRoleWithWebIdentityResult/Credentials").node();
  if (!parsed || !c || std::string_view(c.child_value("AccessKeyId")).empty() ||
      std::string_view(c.child_value("SecretAccessKey")).empty()) {
    return Fail(ErrorCode::kUnavailable, source + ": malformed STS reply");
  }
  Credentials out{.access_key_id = c.child_value("AccessKeyId"),
                  .secret_access_key = c.child_value("SecretAccessKey"),
                  .session_token = c.child_value("SessionToken"),
                  .source = source};
  if (auto t = ParseIso8601(c.child_value("Expiration")); t) {
    out.expiration = *t;
  } else {
    return Fail(ErrorCode::kUnavailable, source + ": bad Expiration in STS reply");
  }
  return out;
}

namespace {

// Four decimal numbers of 0-255, the first 127: an address in 127.0.0.0/8 as written, not a
// name that starts like one ("127.evil.example" is resolved by DNS).
bool IsLoopbackIpv4(std::string_view host) {
  if (!host.starts_with("127.")) return false;
  int parts = 0;
  for (;;) {
    const size_t dot = host.find('.');
    const std::string_view part = host.substr(0, dot);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(std::string(part)) > 255) {
      return false;
    }
    ++parts;
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
  }
  return parts == 4;
}

// Plain HTTP only to loopback or the ECS/EKS agent addresses (as the AWS SDKs require), https
// to any host. The host is read from the URL's authority as libcurl reads it: user-info is
// refused outright ("http://127.0.0.1@192.0.2.2/" goes to 192.0.2.2).
Status CheckContainerCredentialsUrl(std::string_view url) {
  auto bad = [](const std::string& why) {
    return Fail(ErrorCode::kInvalidArgument,
                "container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI " + why);
  };
  const size_t scheme_end = url.find("://");
  const std::string scheme =
      scheme_end == std::string_view::npos ? "" : Lower(std::string(url.substr(0, scheme_end)));
  if (scheme != "http" && scheme != "https") return bad("must be an http:// or https:// URL");
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return bad("must not hold user-info (user@host)");
  }
  if (scheme == "https") return {};
  // host[:port], the host an IPv6 literal in brackets or a name/IPv4 address.
  size_t host_end = authority.find(':');
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    host_end = close == std::string_view::npos ? authority.size() : close + 1;
  }
  const std::string host = Lower(std::string(authority.substr(0, host_end)));
  const bool allowed = host == "localhost" || IsLoopbackIpv4(host) || host == "[::1]" ||
                       host == "169.254.170.2" || host == "169.254.170.23" ||
                       host == "[fd00:ec2::23]";
  if (!allowed) {
    return bad("must be https or a loopback/ECS/EKS address, got host " + Excerpt(host, 100));
  }
  const std::string_view port = authority.substr(std::min(host_end, authority.size()));
  if (!port.empty() && (port[0] != ':' || !std::all_of(port.begin() + 1, port.end(), [](char c) {
                          return c >= '0' && c <= '9';
                        }))) {
    return bad("has a bad port: " + Excerpt(port, 100));
  }
  return {};
}

}  // namespace

Result<Credentials> CredentialsFromContainer(const AwsSettings& s,
                                             const CredentialChainOptions& o) {
  std::string url;
  if (const std::string& rel = s.container_credentials_relative_uri; !rel.empty()) {
    // A path on the agent's address: anything else would name another host ("@host/...").
    if (!rel.starts_with('/')) {
      return Fail(ErrorCode::kInvalidArgument,
                  "container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start "
                  "with /");
    }
    url = (o.container_endpoint.empty() ? "http://169.254.170.2" : o.container_endpoint) + rel;
  } else if (!s.container_credentials_full_uri.empty()) {
    url = s.container_credentials_full_uri;
    DRIPR_TRY(CheckContainerCredentialsUrl(url));
  } else {
    return NotConfigured("container: AWS_CONTAINER_CREDENTIALS_*_URI not set");
  }
  HttpRequest req{.method = "GET",
                  .url = url,
                  .connect_timeout = o.metadata_timeout,
                  .timeout = o.metadata_timeout * 2};
  std::string auth = s.container_authorization_token;
  if (const std::string& f = s.container_authorization_token_file; !f.empty()) {
    auto t = ReadFile(f);
    if (!t) return Fail(ErrorCode::kUnavailable, "container credentials: cannot read " + f);
    auth = Trim(*t);
  }
  if (!auth.empty()) req.headers.emplace_back("Authorization", auth);
  const std::string source = "container credentials";
  DRIPR_ASSIGN_OR_RETURN(auto res, SendExpectingOk(o.http, req, source));
  return ParseJsonCredentials(res.body, source);
}

Result<Credentials> CredentialsFromImds(const AwsSettings& s, const CredentialChainOptions& o) {
  if (s.ec2_metadata_disabled) return NotConfigured("IMDS: disabled by AWS_EC2_METADATA_DISABLED");
  std::string base = o.imds_endpoint;
  if (base.empty()) base = s.ec2_metadata_endpoint;
  if (base.empty()) base = "http://169.254.169.254";
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string source = "EC2 instance metadata";
  HttpRequest token_req{.method = "PUT",
                        .url = base + "/latest/api/token",
                        .headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}},
                        .connect_timeout = o.metadata_timeout,
                        .timeout = o.metadata_timeout * 2};
  DRIPR_ASSIGN_OR_RETURN(auto token, SendExpectingOk(o.http, token_req, source + " token"));
  const std::string path = base + "/latest/meta-data/iam/security-credentials/";
  HttpRequest role_req{.method = "GET",
                       .url = path,
                       .headers = {{"X-aws-ec2-metadata-token", token.body}},
                       .connect_timeout = o.metadata_timeout,
                       .timeout = o.metadata_timeout * 2};
  DRIPR_ASSIGN_OR_RETURN(auto role, SendExpectingOk(o.http, role_req, source + " role"));
  std::string role_name = Trim(std::string_view(role.body).substr(0, role.body.find('\n')));
  if (role_name.empty()) {
    return Fail(ErrorCode::kFailedPrecondition, source + ": no IAM role attached");
  }
  HttpRequest creds_req = role_req;
  creds_req.url = path + role_name;
  DRIPR_ASSIGN_OR_RETURN(auto creds, SendExpectingOk(o.http, creds_req, source + " credentials"));
  return ParseJsonCredentials(creds.body, source + " (role " + Excerpt(role_name, 64) + ")");
}

bool IsRegionName(std::string_view region) {
  return !region.empty() && region.size() <= 32 &&
         std::all_of(region.begin(), region.end(), [](char ch) {
           return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
         });
}

Result<std::string> ResolveRegion(const AwsSettings& s) {
  for (const std::string* r : {&s.region, &s.default_region}) {
    if (!r->empty()) return *r;
  }
  DRIPR_ASSIGN_OR_RETURN(auto section, LoadProfileSection(ConfigFilePath(s), ProfileName(s), true));
  if (section) {
    if (auto it = section->find("region"); it != section->end() && !it->second.empty()) {
      // A file other programs write: held to the same rule as AWS_REGION (config.cc).
      const std::string& region = it->second;
      if (!IsRegionName(region)) {
        return Fail(
            ErrorCode::kInvalidArgument,
            "region " + QuotedEcho(region) + " of the AWS profile is not an AWS region name");
      }
      return region;
    }
  }
  // A configuration error (exit 2), like any other missing setting.
  return Fail(ErrorCode::kInvalidArgument,
              "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or region in the profile)");
}

std::string ResolveEndpoint(const AwsSettings& s, std::string_view service,
                            std::string_view region) {
  std::string url;
  if (const std::string& e = s.ServiceEndpoint(service); !e.empty()) {
    url = e;
  } else if (!s.endpoint_url.empty()) {
    url = s.endpoint_url;
  } else {
    std::string suffix = region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    url = "https://" + std::string(service) + "." + std::string(region) + "." + suffix;
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace dripr::aws
