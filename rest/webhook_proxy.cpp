#include "rest/webhook_proxy.hpp"

#include <algorithm>

#include "core/text.hpp"
#include "rest/webhook_client.hpp"
#include "rest/webhook_target.hpp"

namespace dirfeed::rest {
namespace {

// `text` as "scheme://host:port", or why it is not a proxy URL.
Result<std::string> proxy_url(std::string_view text) {
  const std::string with_scheme = text.find("://") == std::string_view::npos
                                      ? "http://" + std::string(text)
                                      : std::string(text);
  std::string error;
  const std::optional<WebhookUrl> url = WebhookUrl::parse(with_scheme, &error);
  if (!url) return Status::error(error, StatusCode::kInvalid);
  if (url->target != "/") {
    return Status::error("a proxy URL has no path or query", StatusCode::kInvalid);
  }
  const bool ipv6 = url->host.find(':') != std::string::npos;
  return std::string(url->tls ? "https://" : "http://") +
         (ipv6 ? "[" + url->host + "]" : url->host) + ":" + url->port;
}

// The no-proxy entry as bypassed() compares it; "" for none.
std::string no_proxy_entry(std::string_view text) {
  std::string entry = lower(trim(text));
  if (entry.starts_with('.')) entry.erase(0, 1);
  if (entry.starts_with('[') && entry.ends_with(']')) entry = entry.substr(1, entry.size() - 2);
  return entry;
}

}  // namespace

Result<WebhookProxy> WebhookProxy::configured(std::string_view url,
                                              const std::vector<std::string>& no_proxy) {
  Result<std::string> normalised = proxy_url(url);
  if (!normalised.is_ok()) return normalised.status();
  WebhookProxy proxy;
  proxy.https_proxy_ = proxy.http_proxy_ = *normalised;
  for (const std::string& text : no_proxy) {
    std::string entry = no_proxy_entry(text);
    if (entry.empty()) return Status::error("an empty no-proxy entry", StatusCode::kInvalid);
    proxy.no_proxy_.push_back(std::move(entry));
  }
  return proxy;
}

Result<WebhookProxy> WebhookProxy::from_environment(Getenv getenv) {
  // The upper-case name first, then the lower-case one; "" counts as unset.
  auto variable = [&](const char* upper,
                      const char* lower_name) -> std::pair<const char*, std::string> {
    for (const char* name : {upper, lower_name}) {
      const char* value = getenv(name);
      if (value != nullptr && *value != '\0') return {name, value};
    }
    return {nullptr, ""};
  };
  WebhookProxy proxy;
  for (auto [upper, lower_name, target] :
       {std::tuple{"HTTPS_PROXY", "https_proxy", &proxy.https_proxy_},
        std::tuple{"HTTP_PROXY", "http_proxy", &proxy.http_proxy_}}) {
    const auto [name, value] = variable(upper, lower_name);
    if (name == nullptr) continue;
    Result<std::string> normalised = proxy_url(value);
    if (!normalised.is_ok()) {
      return Status::error(std::string(name) + ": " + normalised.status().message(),
                           StatusCode::kInvalid);
    }
    *target = *normalised;
  }
  const auto [name, value] = variable("NO_PROXY", "no_proxy");
  if (name != nullptr) {
    for (std::string_view text : split(value, ',')) {
      if (std::string entry = no_proxy_entry(text); !entry.empty()) {
        proxy.no_proxy_.push_back(std::move(entry));
      }
    }
  }
  return proxy;
}

const std::string& WebhookProxy::proxy_for(bool tls, std::string_view host) const {
  static const std::string kDirect;
  const std::string& proxy = tls ? https_proxy_ : http_proxy_;
  return proxy.empty() || bypassed(host) ? kDirect : proxy;
}

bool WebhookProxy::bypassed(std::string_view host) const {
  const std::string name = lower(host);
  const std::optional<IpAddress> address = IpAddress::parse(name);
  return std::any_of(no_proxy_.begin(), no_proxy_.end(), [&](const std::string& entry) {
    if (entry == "*" || entry == name) return true;
    if (address) {
      std::string error;
      const std::optional<IpNetwork> network = IpNetwork::parse(entry, &error);
      return network && network->contains(*address);
    }
    return name.size() > entry.size() && name.ends_with(entry) &&
           name[name.size() - entry.size() - 1] == '.';
  });
}

std::string WebhookProxy::describe() const {
  if (https_proxy_.empty() && http_proxy_.empty()) return "none";
  std::string text;
  if (https_proxy_ == http_proxy_) {
    text = https_proxy_;
  } else {
    if (!https_proxy_.empty()) text = "https:// via " + https_proxy_;
    if (!http_proxy_.empty()) text += (text.empty() ? "" : ", ") + ("http:// via " + http_proxy_);
  }
  if (!no_proxy_.empty()) {
    text += " (not for";
    for (const std::string& entry : no_proxy_) text += " " + entry;
    text += ")";
  }
  return text;
}

}  // namespace dirfeed::rest
