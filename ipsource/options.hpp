#pragma once
// What one IP source is configured to do (config section `ip_sources`, DESIGN.md section 7):
// plain options, filled by daemon/ from the YAML and checked there with the helpers below.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipsource/network.hpp"

namespace dirfeed::ipsource {

enum class Transport { kUdp, kTcp, kTls };
enum class Format { kRegex, kWindowsSecurity, kSambaAuthJson };

struct ListenerTls {
  std::string cert_file;       // PEM certificate chain, absolute path
  std::string key_file;        // PEM private key, absolute path
  std::string client_ca_file;  // empty: clients need no certificate; else they must present
                               // one signed by this CA
};

struct SourceOptions {
  std::string name;  // unique among the sources; labels metrics and logs
  Transport transport = Transport::kTcp;
  std::string host;   // address to listen on (IPv6 without brackets)
  uint16_t port = 0;  // 0: any free port (tests); the log says which
  ListenerTls tls;    // kTls only
  Format format = Format::kWindowsSecurity;
  std::string regex;         // kRegex: named groups `user` and `ip`, optional `domain`
  std::string logout_regex;  // kRegex, optional: the same groups; a match is a logoff
  std::string domain;        // the domain (DNS or NetBIOS name) of bare account names
  std::optional<std::chrono::seconds> timeout;  // mapping lifetime; none: api.ip_mapping_timeout
  std::vector<Network> include_networks;        // empty: every address
  std::vector<Network> exclude_networks;
  std::vector<std::string> ignore_users{"*$"};  // wildcards (* and ?), case-insensitive
  std::vector<Network> allowed_senders;         // empty: any sender
};

// "udp://ADDR:PORT", "tcp://ADDR:PORT", "tls://ADDR:PORT" (IPv6 as [ADDR]); ADDR must be an
// IP address. False when malformed.
bool parse_listen(std::string_view text, Transport* transport, std::string* host,
                  uint16_t* port);

// Whether `pattern` compiles (Perl syntax) and has the named groups `user` and `ip`; else false
// with the reason in *error ("is not a valid regular expression: ...", "has no named group
// (?<ip>...)").
bool check_regex(const std::string& pattern, std::string* error);

}  // namespace dirfeed::ipsource
