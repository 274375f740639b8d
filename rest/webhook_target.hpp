#pragma once
// Where webhooks may be sent (issue 10): the guard against a directory's webhook_url making
// dirfeed send requests to this host, its link, or a cloud metadata service (server-side
// request forgery). The check is on the address connected to, after DNS resolution: at create
// and PATCH (rest/dsync_api.hpp answers 400) and again at each connection (rest/
// webhook_client.hpp refuses it before any byte is sent), so a name that resolves to a
// refused address later (DNS rebinding) is refused too.
//
// Refused by default (kRefusedNetworks in the .cpp): loopback (127.0.0.0/8, ::1), link-local
// (169.254.0.0/16, fe80::/10), multicast (224.0.0.0/4, ff00::/8), unspecified (0.0.0.0/8,
// ::), the IPv4 broadcast address, the IPv4-mapped IPv6 forms of all of them
// (::ffff:127.0.0.1 is 127.0.0.1), and the cloud metadata addresses. Private networks
// (RFC 1918, fc00::/7) are allowed: on-premises receivers live there.
//
// api.webhook_allowed_networks allows networks back (e.g. 127.0.0.0/8 for a receiver on this
// host). A cloud metadata address stays refused unless an allowed network is that address
// alone (/32 or /128), so allowing 169.254.0.0/16 or 0.0.0.0/0 does not open it.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sockaddr;

namespace dirfeed::rest {

// An IPv4 or IPv6 address. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is held as the IPv4
// address it maps, since a connection to it reaches that address.
class IpAddress {
 public:
  // A dotted IPv4 or an IPv6 literal (no brackets, no zone); nullopt when `text` is neither.
  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress v4(const std::array<uint8_t, 4>& bytes);
  static IpAddress v6(const std::array<uint8_t, 16>& bytes);  // mapped ones become IPv4
  // The address of an AF_INET or AF_INET6 socket address; nullopt for other families.
  static std::optional<IpAddress> from_sockaddr(const sockaddr* address);

  bool is_v4() const { return v4_; }
  // The address's bytes: 4 for IPv4, 16 for IPv6, in network order.
  const uint8_t* bytes() const { return bytes_.data(); }
  unsigned bits() const { return v4_ ? 32 : 128; }
  std::string to_string() const;
  bool operator==(const IpAddress&) const = default;

 private:
  bool v4_ = true;
  std::array<uint8_t, 16> bytes_{};
};

// A network in CIDR notation: an address and a prefix length.
class IpNetwork {
 public:
  // "10.0.0.0/8", "fd00::/8", "::ffff:10.0.0.0/104" (the IPv4 network 10.0.0.0/8), or one
  // address alone (/32 or /128). nullopt and *error when `text` is not one, or has bits set
  // after the prefix ("10.0.0.1/8": the error names 10.0.0.0/8).
  static std::optional<IpNetwork> parse(std::string_view text, std::string* error);

  bool contains(const IpAddress& address) const;
  bool is_single_address() const { return prefix_ == address_.bits(); }
  const IpAddress& address() const { return address_; }
  std::string to_string() const;  // "10.0.0.0/8"

 private:
  IpAddress address_;
  unsigned prefix_ = 0;
};

// The default refusals above, less the networks an admin allowed. Immutable; thread-safe.
class WebhookTargetPolicy {
 public:
  WebhookTargetPolicy() = default;  // the default refusals, nothing allowed back
  explicit WebhookTargetPolicy(std::vector<IpNetwork> allowed) : allowed_(std::move(allowed)) {}

  // nullopt when webhooks may be sent to `address`; else what it is ("a loopback address").
  std::optional<std::string> refusal(const IpAddress& address) const;

  const std::vector<IpNetwork>& allowed() const { return allowed_; }

 private:
  std::vector<IpNetwork> allowed_;
};

// The message for a refused connection to `address`, which `host` (a URL's host: a name or a
// literal) gave, refused as `reason` (WebhookTargetPolicy::refusal): "127.0.0.1 is a loopback
// address ..." or "localhost resolves to 127.0.0.1, a loopback address ...", naming the key
// that can allow it.
std::string refusal_message(std::string_view host, const IpAddress& address,
                            std::string_view reason);

// Why webhooks to `host` are refused, "" when they are not: a literal that `policy` refuses,
// or a name whose addresses (system resolver, blocking up to its timeout) are all refused. A
// name that does not resolve now is not refused here: it may be set up later, and each
// connection is checked anyway.
std::string webhook_host_refusal(const std::string& host, const WebhookTargetPolicy& policy);

}  // namespace dirfeed::rest
