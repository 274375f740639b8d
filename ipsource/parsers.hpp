#pragma once
// Parse profiles: what a syslog MSG says about a logon (DESIGN.md section 5: IP sources).
// One parser per source, called by its receiving threads concurrently: parse() is
// thread-safe (the Windows one remembers logon sessions under a lock).
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ipsource/options.hpp"

namespace dirfeed::ipsource {

struct LogonEvent {
  enum class Kind { kLogon, kLogoff };
  Kind kind = Kind::kLogon;
  std::string user;    // as the record names it: sam, DOMAIN\sam, sam@suffix
  std::string domain;  // the record's domain of `user` (DNS, NetBIOS or Kerberos realm); may
                       // be empty
  std::string ip;      // as written (IPv4, IPv6, ::ffff:a.b.c.d)
};

class MessageParser {
 public:
  virtual ~MessageParser() = default;
  // The logon or logoff that one syslog MSG records; nullopt when it records neither (another
  // event, a failed logon, a record without an address, malformed text). Thread-safe.
  virtual std::optional<LogonEvent> parse(std::string_view msg) = 0;
};

// The parser of options.format. For kRegex the patterns must have passed check_regex (throws
// std::invalid_argument otherwise).
std::unique_ptr<MessageParser> make_parser(const SourceOptions& options);

// Longest MSG a regex is run on; longer ones are cut (a bound on matching time).
inline constexpr size_t kMaxRegexInput = 8 * 1024;
// Logon sessions the Windows parser remembers (logon ID -> address) to place a 4634/4647
// logoff, which carries no address; the oldest is forgotten first.
inline constexpr size_t kMaxLogonSessions = 65536;

}  // namespace dirfeed::ipsource
