#include "ipsource/network.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/text.hpp"

namespace dirfeed::ipsource {

std::optional<Address> parse_address(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string copy(text.substr(0, text.find('%')));
  Address address;
  if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) return address;
  if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) != 1) return std::nullopt;
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(address.bytes.data(), kMappedPrefix, sizeof kMappedPrefix) == 0) {
    std::memmove(address.bytes.data(), address.bytes.data() + 12, 4);
    std::fill(address.bytes.begin() + 4, address.bytes.end(), 0);
    return address;
  }
  address.v6 = true;
  return address;
}

std::string to_text(const Address& address) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(address.v6 ? AF_INET6 : AF_INET, address.bytes.data(), text, sizeof text);
  return text;
}

bool Network::contains(const Address& address) const {
  if (address.v6 != base.v6) return false;
  const int full = prefix / 8;
  if (!std::equal(base.bytes.begin(), base.bytes.begin() + full, address.bytes.begin())) {
    return false;
  }
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (address.bytes[full] & mask) == base.bytes[full];
}

std::optional<Network> parse_network(std::string_view text) {
  const size_t slash = text.find('/');
  std::optional<Address> address = parse_address(text.substr(0, slash));
  if (!address || text.substr(0, slash).find('%') != std::string_view::npos) return std::nullopt;
  const int bits = address->v6 ? 128 : 32;
  Network network{*address, bits};
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    int prefix = -1;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        prefix < 0 || prefix > bits) {
      return std::nullopt;
    }
    network.prefix = prefix;
  }
  for (int bit = network.prefix; bit < 128; ++bit) {
    network.base.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  return network;
}

bool wildcard_match(std::string_view pattern, std::string_view text) {
  // Iterative glob matching with one backtrack point (the last `*`): linear in practice.
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() &&
        (pattern[p] == '?' || lower_char(pattern[p]) == lower_char(text[t]))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace dirfeed::ipsource
