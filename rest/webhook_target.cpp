#include "rest/webhook_target.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>

namespace dirfeed::rest {
namespace {

// Refused unless api.webhook_allowed_networks allows them (see the header). The first match
// names the reason, so the metadata addresses come before the ranges holding them.
struct RefusedNetwork {
  const char* network;
  bool metadata;  // a cloud metadata address: only an allowed network of it alone allows it
  const char* what;
};
constexpr RefusedNetwork kRefusedNetworks[] = {
    // Cloud instance metadata services, which hand out the machine's cloud credentials: the
    // addresses SSRF guides and payload lists name (metadata.google.internal and the like
    // resolve to the first).
    {"169.254.169.254", true,
     "a cloud metadata address (AWS, Azure, Google Cloud, Oracle Cloud, OpenStack, "
     "DigitalOcean)"},
    {"169.254.170.2", true, "a cloud metadata address (AWS ECS task credentials)"},
    {"fd00:ec2::254", true, "a cloud metadata address (AWS EC2 over IPv6)"},
    {"100.100.100.200", true, "a cloud metadata address (Alibaba Cloud)"},
    {"192.0.0.192", true, "a cloud metadata address (Oracle Cloud, older instances)"},
    {"168.63.129.16", true, "a cloud platform address (Azure WireServer)"},
    // This host and its link. 0.0.0.0 reaches this host on Linux.
    {"0.0.0.0/8", false, "an unspecified address"},
    {"127.0.0.0/8", false, "a loopback address"},
    {"169.254.0.0/16", false, "a link-local address"},
    {"224.0.0.0/4", false, "a multicast address"},
    {"255.255.255.255", false, "the broadcast address"},
    {"::/128", false, "the unspecified address"},
    {"::1/128", false, "a loopback address"},
    {"fe80::/10", false, "a link-local address"},
    {"ff00::/8", false, "a multicast address"},
};

struct Refused {
  IpNetwork network;
  bool metadata;
  std::string what;
};

const std::vector<Refused>& refused_networks() {
  static const std::vector<Refused> networks = [] {
    std::vector<Refused> parsed;
    for (const RefusedNetwork& entry : kRefusedNetworks) {
      std::string error;
      parsed.push_back({*IpNetwork::parse(entry.network, &error), entry.metadata, entry.what});
    }
    return parsed;
  }();
  return networks;
}

bool is_mapped_v4(const std::array<uint8_t, 16>& bytes) {
  static constexpr std::array<uint8_t, 12> kPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::equal(kPrefix.begin(), kPrefix.end(), bytes.begin());
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  const std::string copy(text);
  std::array<uint8_t, 4> v4_bytes{};
  if (inet_pton(AF_INET, copy.c_str(), v4_bytes.data()) == 1) return v4(v4_bytes);
  std::array<uint8_t, 16> v6_bytes{};
  if (inet_pton(AF_INET6, copy.c_str(), v6_bytes.data()) == 1) return v6(v6_bytes);
  return std::nullopt;
}

IpAddress IpAddress::v4(const std::array<uint8_t, 4>& bytes) {
  IpAddress address;
  std::copy(bytes.begin(), bytes.end(), address.bytes_.begin());
  return address;
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& bytes) {
  if (is_mapped_v4(bytes)) return v4({bytes[12], bytes[13], bytes[14], bytes[15]});
  IpAddress address;
  address.v4_ = false;
  address.bytes_ = bytes;
  return address;
}

std::optional<IpAddress> IpAddress::from_sockaddr(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    std::array<uint8_t, 4> bytes{};
    std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in*>(address)->sin_addr,
                bytes.size());
    return v4(bytes);
  }
  if (address->sa_family == AF_INET6) {
    std::array<uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr,
                bytes.size());
    return v6(bytes);
  }
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v4_ ? AF_INET : AF_INET6, bytes_.data(), text, sizeof text);
  return text;
}

std::optional<IpNetwork> IpNetwork::parse(std::string_view text, std::string* error) {
  const size_t slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  const std::optional<IpAddress> address = IpAddress::parse(address_text);
  if (!address) {
    *error = "\"" + std::string(text) +
             "\" is not a network (use CIDR notation such as 10.0.0.0/8 or fd00::/8)";
    return std::nullopt;
  }
  // An IPv4-mapped IPv6 network is the IPv4 network of its last 32 bits.
  const bool written_v6 = address_text.find(':') != std::string_view::npos;
  const unsigned written_bits = written_v6 ? 128 : 32;
  unsigned prefix = written_bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        prefix > written_bits) {
      *error = "\"" + std::string(text) + "\": the prefix length must be 0 to " +
               std::to_string(written_bits);
      return std::nullopt;
    }
  }
  if (written_v6 && address->is_v4()) {
    if (prefix < 96) {
      *error =
          "\"" + std::string(text) + "\": an IPv4-mapped network needs a prefix of at least 96";
      return std::nullopt;
    }
    prefix -= 96;
  }
  IpNetwork network;
  network.address_ = *address;
  network.prefix_ = prefix;
  // The network's address with the host bits cleared: must be the address written.
  std::array<uint8_t, 16> bytes{};
  std::copy(address->bytes(), address->bytes() + address->bits() / 8, bytes.begin());
  for (unsigned bit = prefix; bit < address->bits(); ++bit) {
    bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  const IpAddress base = address->is_v4() ? IpAddress::v4({bytes[0], bytes[1], bytes[2], bytes[3]})
                                          : IpAddress::v6(bytes);
  if (base != *address) {
    network.address_ = base;
    *error = "\"" + std::string(text) + "\" has bits set after the prefix (did you mean " +
             network.to_string() + "?)";
    return std::nullopt;
  }
  return network;
}

bool IpNetwork::contains(const IpAddress& address) const {
  if (address.is_v4() != address_.is_v4()) return false;
  const uint8_t* a = address.bytes();
  const uint8_t* n = address_.bytes();
  const unsigned whole = prefix_ / 8;
  if (!std::equal(n, n + whole, a)) return false;
  if (prefix_ % 8 == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff00u >> (prefix_ % 8));
  return (a[whole] & mask) == (n[whole] & mask);
}

std::string IpNetwork::to_string() const {
  return address_.to_string() + "/" + std::to_string(prefix_);
}

std::optional<std::string> WebhookTargetPolicy::refusal(const IpAddress& address) const {
  for (const Refused& refused : refused_networks()) {
    if (!refused.network.contains(address)) continue;
    const bool allowed = std::any_of(allowed_.begin(), allowed_.end(), [&](const IpNetwork& n) {
      return refused.metadata ? n.is_single_address() && n.address() == address
                              : n.contains(address);
    });
    if (allowed) return std::nullopt;
    return refused.what;
  }
  return std::nullopt;
}

std::string refusal_message(std::string_view host, const IpAddress& address,
                            std::string_view reason) {
  const std::string text = address.to_string();
  std::string message = IpAddress::parse(host) ? text + " is " + std::string(reason)
                                               : std::string(host) + " resolves to " + text +
                                                     ", " + std::string(reason);
  return message + ": webhooks are not sent there unless api.webhook_allowed_networks allows it";
}

std::string webhook_host_refusal(const std::string& host, const WebhookTargetPolicy& policy) {
  if (std::optional<IpAddress> literal = IpAddress::parse(host)) {
    const std::optional<std::string> reason = policy.refusal(*literal);
    return reason ? refusal_message(host, *literal, *reason) : "";
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return "";
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> results(found, freeaddrinfo);
  std::string first_refusal;
  for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    const std::optional<IpAddress> address = IpAddress::from_sockaddr(entry->ai_addr);
    if (!address) continue;
    const std::optional<std::string> reason = policy.refusal(*address);
    if (!reason) return "";  // one usable address: connections go there only
    if (first_refusal.empty()) first_refusal = refusal_message(host, *address, *reason);
  }
  return first_refusal;
}

}  // namespace dirfeed::rest
