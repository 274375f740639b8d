#pragma once
// What the config tests share: the smallest valid file, and errors as text.
#include <string>

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

}  // namespace dirfeed::daemon::testing
