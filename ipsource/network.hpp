#pragma once
// IP addresses and networks as IP sources compare them, and the account-name wildcards of
// `ignore_users`. Pure functions, any thread.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dirfeed::ipsource {

// An IPv4 or IPv6 address (IPv4 in the first 4 bytes).
struct Address {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
};

// Parses an address as senders write it: IPv4, IPv6, IPv4-mapped IPv6 (::ffff:10.1.2.3 is
// taken as 10.1.2.3) and an IPv6 scope suffix (%eth0, dropped). nullopt when it is none.
std::optional<Address> parse_address(std::string_view text);
// Canonical text (inet_ntop), as the store keeps mappings.
std::string to_text(const Address& address);

// A CIDR network such as 10.0.0.0/8 or 2001:db8::/32; a bare address is a /32 or /128.
struct Network {
  Address base;  // host bits cleared
  int prefix = 0;
  bool contains(const Address& address) const;
};
std::optional<Network> parse_network(std::string_view text);

// Wildcard match, ASCII case-insensitive: `*` any run of characters, `?` one character.
bool wildcard_match(std::string_view pattern, std::string_view text);

}  // namespace dirfeed::ipsource
