#include "ipsource/options.hpp"

#include <charconv>

namespace dirfeed::ipsource {

bool parse_listen(std::string_view text, Transport* transport, std::string* host,
                  uint16_t* port) {
  const size_t colon_slashes = text.find("://");
  if (colon_slashes == std::string_view::npos) return false;
  const std::string_view scheme = text.substr(0, colon_slashes);
  if (scheme == "udp") {
    *transport = Transport::kUdp;
  } else if (scheme == "tcp") {
    *transport = Transport::kTcp;
  } else if (scheme == "tls") {
    *transport = Transport::kTls;
  } else {
    return false;
  }
  std::string_view rest = text.substr(colon_slashes + 3);
  std::string_view address;
  std::string_view digits;
  if (rest.starts_with("[")) {
    const size_t close = rest.find("]:");
    if (close == std::string_view::npos) return false;
    address = rest.substr(1, close - 1);
    digits = rest.substr(close + 2);
    std::optional<Address> parsed = parse_address(address);
    if (!parsed || !parsed->v6) return false;
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return false;
    address = rest.substr(0, colon);
    digits = rest.substr(colon + 1);
    std::optional<Address> parsed = parse_address(address);
    if (!parsed || parsed->v6) return false;
  }
  if (address.find('%') != std::string_view::npos) return false;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      value > 65535) {
    return false;
  }
  *host = std::string(address);
  *port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace dirfeed::ipsource
