// The regex and samba-auth-json profiles, and make_parser; windows-security is in
// windows_security.cpp.
#include "ipsource/parsers.hpp"

#include <stdexcept>

#include <boost/regex.hpp>

#include "ipsource/fields.hpp"

namespace dirfeed::ipsource {

std::unique_ptr<MessageParser> make_windows_security_parser();  // windows_security.cpp

namespace {

bool has_group(const std::string& pattern, std::string_view name) {
  const std::string n(name);
  return pattern.find("(?<" + n + ">") != std::string::npos ||
         pattern.find("(?P<" + n + ">") != std::string::npos ||
         pattern.find("(?'" + n + "'") != std::string::npos;
}

class RegexParser final : public MessageParser {
 public:
  explicit RegexParser(const SourceOptions& options)
      : logon_(compile(options.regex)),
        logout_(options.logout_regex.empty() ? std::nullopt
                                             : std::optional(compile(options.logout_regex))) {}

  std::optional<LogonEvent> parse(std::string_view msg) override {
    msg = msg.substr(0, kMaxRegexInput);
    if (logout_) {
      if (auto event = match(*logout_, msg, LogonEvent::Kind::kLogoff)) return event;
    }
    return match(logon_, msg, LogonEvent::Kind::kLogon);
  }

 private:
  static boost::regex compile(const std::string& pattern) {
    std::string error;
    if (!check_regex(pattern, &error)) throw std::invalid_argument(error);
    return boost::regex(pattern, boost::regex::perl);
  }

  static std::optional<LogonEvent> match(const boost::regex& re, std::string_view msg,
                                         LogonEvent::Kind kind) {
    boost::match_results<std::string_view::const_iterator> m;
    try {
      if (!boost::regex_search(msg.begin(), msg.end(), m, re)) return std::nullopt;
    } catch (const std::runtime_error&) {  // matching too complex for this input
      return std::nullopt;
    }
    // An absent group (`domain` is optional) reads as unmatched: "".
    LogonEvent event{kind, m["user"].str(), m["domain"].str(), m["ip"].str()};
    if (event.user.empty() || event.ip.empty()) return std::nullopt;
    return event;
  }

  boost::regex logon_;
  std::optional<boost::regex> logout_;
};

// Samba AD DC JSON authentication audit ("auth_json_audit"): one record per authentication,
//   {"timestamp": ..., "type": "Authentication", "Authentication": {"eventId": 4624,
//    "status": "NT_STATUS_OK", "remoteAddress": "ipv4:10.1.2.3:50123", "clientAccount": ...,
//    "becameAccount": "alice", "becameDomain": "EXAMPLE", ...}}
// Successful ones only. The address is "ipv4:ADDR:PORT" or "ipv6:ADDR:PORT".
class SambaAuthParser final : public MessageParser {
 public:
  std::optional<LogonEvent> parse(std::string_view msg) override {
    Fields fields;
    if (!parse_json_fields(msg, &fields) || fields.get("type") != "Authentication") {
      return std::nullopt;
    }
    if (fields.get("Authentication.status") != "NT_STATUS_OK") return std::nullopt;
    const std::string_view event_id = fields.get("Authentication.eventId");
    if (!event_id.empty() && event_id != "4624") return std::nullopt;
    std::string_view address = fields.get("Authentication.remoteAddress");
    for (std::string_view family : {"ipv4:", "ipv6:"}) {
      if (address.starts_with(family)) address.remove_prefix(family.size());
    }
    const size_t port = address.rfind(':');
    if (port != std::string_view::npos) address = address.substr(0, port);
    if (address.starts_with("[") && address.ends_with("]")) {
      address = address.substr(1, address.size() - 2);
    }
    LogonEvent event;
    event.ip = std::string(address);
    event.user = std::string(fields.get("Authentication.becameAccount"));
    event.domain = std::string(fields.get("Authentication.becameDomain"));
    if (event.user.empty()) {
      event.user = std::string(fields.get("Authentication.clientAccount"));
      event.domain = std::string(fields.get("Authentication.clientDomain"));
    }
    if (event.user.empty() || event.ip.empty()) return std::nullopt;
    return event;
  }
};

}  // namespace

bool check_regex(const std::string& pattern, std::string* error) {
  try {
    boost::regex compiled(pattern, boost::regex::perl);
  } catch (const boost::regex_error& e) {
    *error = std::string("is not a valid regular expression: ") + e.what();
    return false;
  }
  for (std::string_view group : {"user", "ip"}) {
    if (!has_group(pattern, group)) {
      *error = "has no named group (?<" + std::string(group) + ">...)";
      return false;
    }
  }
  return true;
}

std::unique_ptr<MessageParser> make_parser(const SourceOptions& options) {
  switch (options.format) {
    case Format::kRegex: return std::make_unique<RegexParser>(options);
    case Format::kSambaAuthJson: return std::make_unique<SambaAuthParser>();
    case Format::kWindowsSecurity: return make_windows_security_parser();
  }
  return nullptr;
}

}  // namespace dirfeed::ipsource
