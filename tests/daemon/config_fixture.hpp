#pragma once
// What the config tests share: the smallest valid file, the design's example, parsing and
// errors as text.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.hpp"

namespace dirfeed::daemon::testing {

// The smallest valid file: one domain, lines 1-6; a test's own section follows from line 7.
inline constexpr char kOneDomain[] = R"(domains:
  - name: example.test
    controllers: [ldaps://dc1.example.test]
    bind:
      dn: svc@example.test
      password_file: /etc/dirfeed/pw
)";

// Every error, one "FILE:LINE: KEY: MESSAGE" line each.
inline std::string errors_text(const ConfigResult& result) {
  std::string text;
  for (const ConfigError& e : result.errors) text += e.to_string() + "\n";
  return text;
}

// DESIGN.md section 7, verbatim.
inline constexpr char kDesignExample[] = R"yaml(state_dir: /var/lib/dirfeed
log:
  level: info                    # trace | debug | info | warning | error
domains:
  - name: example.test           # DNS name of the domain (required)
    base_dn: DC=example,DC=test  # optional: derived from name
    netbios_name: EXAMPLE        # optional: read from the Partitions container
    controllers:                 # required, tried in order, failover on error
      - ldaps://dc1.example.test
      - ldaps://dc2.example.test
    tls:
      ca_file: /etc/dirfeed/ad-ca.pem
      verify: true               # default true
      start_tls: false           # for ldap:// URIs
    bind:
      method: simple             # simple | gssapi
      dn: svc-dirfeed@example.test
      password_file: /etc/dirfeed/example.test.password
    sync:
      strategy: dirsync          # dirsync | usn
      interval: 60s
      notifications: true        # use the change notification control
      page_size: 1000
      search_bases: []           # optional OU scopes; default: the whole domain
      user_filter: "(&(objectCategory=person)(objectClass=user))"
      group_filter: "(objectClass=group)"
      max_deletes: 500           # more deletes than this in one pass are held back
api:
  listen: 0.0.0.0:5000
  tls:                           # omit for plain HTTP (tests, behind a proxy)
    cert_file: /etc/dirfeed/tls.crt
    key_file: /etc/dirfeed/tls.key
  anonymous_read: true           # User ID API reads without auth, as that spec says
  users_file: /etc/dirfeed/api-users   # HTTP Basic users (hashed), written by `dirfeed api`
  keys_file: /etc/dirfeed/api-keys     # API keys (hashed), written by `dirfeed api`
  ip_mapping_timeout: 6h
feed:
  retention: 30d
)yaml";

inline ConfigResult parse(std::string_view yaml) { return parse_config(yaml, "test.yaml"); }

inline std::string all_errors(const ConfigResult& result) { return errors_text(result); }

// Every error of check_files, one line each.
inline std::string all_errors(const std::vector<ConfigError>& errors) {
  std::string text;
  for (const ConfigError& e : errors) text += e.to_string() + "\n";
  return text;
}

// `text` with the first `from` (which must be there) replaced by `to`.
inline std::string replace(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// Parses `yaml`, expects exactly one error, and returns it as "LINE: KEY: MESSAGE".
inline std::string one_error(std::string_view yaml) {
  const ConfigResult result = parse(yaml);
  EXPECT_FALSE(result.config.has_value());
  if (result.errors.size() != 1) {
    ADD_FAILURE() << "expected one error, got:\n" << all_errors(result);
    return "";
  }
  const ConfigError& e = result.errors.front();
  EXPECT_EQ(e.file, "test.yaml");
  return std::to_string(e.line) + ": " + e.key + ": " + e.message;
}

}  // namespace dirfeed::daemon::testing
