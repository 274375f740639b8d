#pragma once
// The HTTP proxy webhooks go through, for an egress that allows no direct connection out
// (rest/webhook_client.hpp sends through it). Either api.webhook_proxy names one proxy for
// every receiver, with api.webhook_no_proxy the hosts reached directly; or, without it, the
// environment does, as curl and most tools read it: HTTPS_PROXY / https_proxy for https://
// receivers, HTTP_PROXY / http_proxy for http:// ones, NO_PROXY / no_proxy for the hosts
// reached directly.
//
// A proxy URL is http://host[:port] (https:// for a proxy spoken to over TLS, verified as
// receivers are); a bare host[:port] means http://. Credentials in it are refused (proxy
// authentication is not supported).
//
// A no-proxy entry is "*" (every host), a host name that matches itself and every name under
// it (a leading "." is dropped: ".example.com" and "example.com" both match
// hooks.example.com), or an IP address or CIDR network that matches receivers written as an
// address in it. Case does not matter.
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace dirfeed::rest {

class WebhookProxy {
 public:
  WebhookProxy() = default;  // no proxy: every receiver directly

  // One proxy for every receiver (api.webhook_proxy), but those `no_proxy` lists. Invalid
  // when `url` is not a proxy URL (the message says why) or an entry is empty.
  static Result<WebhookProxy> configured(std::string_view url,
                                         const std::vector<std::string>& no_proxy);
  // From the variables above (`getenv` by default; tests pass their own). Invalid when a proxy
  // variable is set but not a proxy URL; the message names the variable.
  using Getenv = const char* (*)(const char*);
  static Result<WebhookProxy> from_environment(Getenv getenv);

  // The proxy URL (normalised, "http://host:port") to reach a receiver at `host` (a URL's
  // host: a name or an address, IPv6 without brackets) over https (`tls`) or http; "" to go
  // directly.
  const std::string& proxy_for(bool tls, std::string_view host) const;

  // What `dirfeed status` and the start-up log show: "none", or the proxies and exceptions.
  std::string describe() const;

 private:
  bool bypassed(std::string_view host) const;

  std::string https_proxy_;  // "": none
  std::string http_proxy_;
  std::vector<std::string> no_proxy_;  // lower case, leading "." dropped
};

}  // namespace dirfeed::rest
