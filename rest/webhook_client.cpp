#include "rest/webhook_client.hpp"

#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <mutex>

#include "core/file.hpp"
#include "core/text.hpp"

namespace dirfeed::rest {
namespace {

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct CurlTextDeleter {
  void operator()(char* text) const { curl_free(text); }
};

// A part of a parsed URL; nullopt when the URL has none.
std::optional<std::string> url_part(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, flags) != CURLUE_OK || text == nullptr) return std::nullopt;
  const std::unique_ptr<char, CurlTextDeleter> owned(text);
  return std::string(text);
}

// The number of PEM certificates in `pem`.
size_t certificate_count(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return 0;
  STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read_bio(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (infos == nullptr) return 0;
  size_t count = 0;
  for (int i = 0; i < sk_X509_INFO_num(infos); ++i) {
    if (sk_X509_INFO_value(infos, i)->x509 != nullptr) ++count;
  }
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  return count;
}

}  // namespace

std::optional<WebhookUrl> WebhookUrl::parse(std::string_view url, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<WebhookUrl> {
    *error = std::move(message);
    return std::nullopt;
  };
  if (std::any_of(url.begin(), url.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    return fail("a space or control character in the URL (percent-encode it)");
  }
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return fail("not an http:// or https:// URL");
  const std::string scheme = lower(url.substr(0, scheme_end));
  if (scheme != "https" && scheme != "http") {
    return fail("scheme " + scheme + " is not http or https");
  }
  // libcurl reads "http:///path" as host "path"; here an authority must come first.
  const std::string_view after_scheme = url.substr(scheme_end + 3);
  if (after_scheme.empty() || after_scheme.find_first_of("/?#") == 0) return fail("no host");
  const std::unique_ptr<CURLU, UrlDeleter> handle(curl_url());
  if (!handle) return fail("out of memory");
  const CURLUcode code = curl_url_set(handle.get(), CURLUPART_URL, std::string(url).c_str(), 0);
  switch (code) {
    case CURLUE_OK:
      break;
    case CURLUE_NO_HOST:
      return fail("no host");
    case CURLUE_BAD_PORT_NUMBER:
      return fail("bad port");
    default:
      return fail(curl_url_strerror(code));
  }
  if (url_part(handle.get(), CURLUPART_USER) || url_part(handle.get(), CURLUPART_PASSWORD)) {
    return fail("credentials in the URL are not supported");
  }
  WebhookUrl parsed;
  parsed.tls = scheme == "https";
  std::string host = url_part(handle.get(), CURLUPART_HOST).value_or("");
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  if (host.empty()) return fail("no host");
  parsed.host = std::move(host);
  parsed.port = url_part(handle.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT).value_or("");
  if (parsed.port == "0") return fail("bad port 0");
  parsed.target = url_part(handle.get(), CURLUPART_PATH).value_or("/");
  if (parsed.target.empty()) parsed.target = "/";
  if (std::optional<std::string> query = url_part(handle.get(), CURLUPART_QUERY)) {
    parsed.target += "?" + *query;
  }
  curl_url_set(handle.get(), CURLUPART_FRAGMENT, nullptr, 0);
  parsed.text = url_part(handle.get(), CURLUPART_URL).value_or("");
  if (parsed.text.empty()) return fail("not a URL libcurl can send to");
  return parsed;
}

std::string redact_url(std::string_view url) {
  std::string out(url.substr(0, url.find('#')));
  const size_t scheme_end = out.find("://");
  const size_t authority_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const size_t authority_end = std::min(out.find_first_of("/?", authority_start), out.size());
  const size_t at = out.rfind('@', authority_end);
  if (at != std::string::npos && at >= authority_start) {
    out.replace(authority_start, at - authority_start, "...");
  }
  if (const size_t query = out.find('?'); query != std::string::npos) {
    out.replace(query + 1, std::string::npos, "...");
  }
  return out;
}

ClientContext::ClientContext(ClientOptions options) : options_(std::move(options)) {
  init_curl_once();
  if (options_.ca_file.empty()) return;
  Result<std::string> pem = read_file(options_.ca_file);
  if (!pem.is_ok()) {
    setup_error_ = "cannot load CA file: " + pem.status().message();
  } else if (certificate_count(*pem) == 0) {
    setup_error_ = "cannot load CA file " + options_.ca_file + ": no PEM certificate in it";
  } else {
    ca_pem_ = std::move(*pem);
  }
}

// One libcurl easy handle driven by a multi handle of its own, which keeps the connection (to
// the receiver, or to the proxy) between posts, and lets abort() wake the post in flight
// (curl_multi_wakeup is the one call that may come from another thread).
class WebhookClient::Impl {
 public:
  explicit Impl(std::shared_ptr<const ClientContext> context)
      : context_(std::move(context)),
        options_(context_->options()),
        multi_(curl_multi_init()),
        easy_(curl_easy_init()) {
    if (multi_ == nullptr || easy_ == nullptr) return;
    // What every post shares. Certificate and host verification are libcurl's defaults, set
    // here all the same so that they are visibly on.
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy_, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(easy_, CURLOPT_USERAGENT, "dirfeed");
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(easy_, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(easy_, CURLOPT_PROXY_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    curl_easy_setopt(easy_, CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy_, CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
    if (!context_->ca_pem().empty()) {
      // Only these CAs: no CA directory besides the blob (libcurl would add its default one).
      curl_blob blob{const_cast<char*>(context_->ca_pem().data()), context_->ca_pem().size(),
                     CURL_BLOB_NOCOPY};
      curl_easy_setopt(easy_, CURLOPT_CAINFO_BLOB, &blob);
      curl_easy_setopt(easy_, CURLOPT_CAPATH, nullptr);
      curl_easy_setopt(easy_, CURLOPT_PROXY_CAINFO_BLOB, &blob);
      curl_easy_setopt(easy_, CURLOPT_PROXY_CAPATH, nullptr);
    }
    // The proxy is chosen per post (options_.proxy); libcurl must not read the environment.
    curl_easy_setopt(easy_, CURLOPT_NOPROXY, "");
    curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_buffer_);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Impl::on_body);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_OPENSOCKETFUNCTION, &Impl::open_socket);
    curl_easy_setopt(easy_, CURLOPT_OPENSOCKETDATA, this);
  }

  ~Impl() {
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
  }

  PostResult post(const WebhookUrl& url, const std::string& body, const std::string& signature) {
    if (aborted_) return aborted();
    if (multi_ == nullptr || easy_ == nullptr) return {.error = "libcurl: cannot start"};
    if (url.tls && !context_->setup_error().empty()) return {.error = context_->setup_error()};
    const std::string& proxy = options_.proxy.proxy_for(url.tls, url.host);
    if (!proxy.empty()) {
      if (std::string refusal = webhook_host_refusal(url.host, options_.targets);
          !refusal.empty()) {
        return {.error = "refused: " + refusal};
      }
    }
    transfer_ = Transfer();
    transfer_.url = &url;
    transfer_.proxied = !proxy.empty();
    error_buffer_[0] = '\0';
    const std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(
        request_headers(signature), curl_slist_free_all);
    curl_easy_setopt(easy_, CURLOPT_URL, url.text.c_str());
    curl_easy_setopt(easy_, CURLOPT_PROXY, proxy.c_str());
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));

    const CURLcode code = perform();
    if (aborted_) return aborted();
    return result_of(code, url);
  }

  void abort() {
    aborted_ = true;
    if (multi_ != nullptr) curl_multi_wakeup(multi_);
  }

 private:
  // What one post's callbacks see and leave.
  struct Transfer {
    const WebhookUrl* url = nullptr;
    bool proxied = false;    // connections go to the proxy
    size_t body_bytes = 0;   // of the response
    bool too_large = false;  // the response body passed options_.response_limit
    size_t connections = 0;  // sockets opened (to allowed addresses)
    std::string refusal;     // the first address refused, as refusal_message words it
  };

  static PostResult aborted() { return {.error = "aborted", .aborted = true}; }

  static curl_slist* request_headers(const std::string& signature) {
    curl_slist* list = nullptr;
    list = curl_slist_append(list, "Content-Type: application/json");
    list = curl_slist_append(list, "Accept:");  // none, as before libcurl
    list = curl_slist_append(list, "Expect:");  // no 100-continue round trip for large bodies
    if (!signature.empty()) {
      // Both names the reference signs with (Ory Polis is its new name).
      list = curl_slist_append(list, ("BoxyHQ-Signature: " + signature).c_str());
      list = curl_slist_append(list, ("Ory-Polis-Signature: " + signature).c_str());
    }
    return list;
  }

  // Runs the transfer until it ends or abort(); the libcurl result (CURLE_ABORTED_BY_CALLBACK
  // after abort()).
  CURLcode perform() {
    if (curl_multi_add_handle(multi_, easy_) != CURLM_OK) return CURLE_FAILED_INIT;
    CURLcode code = CURLE_ABORTED_BY_CALLBACK;
    int running = 1;
    while (!aborted_) {
      if (curl_multi_perform(multi_, &running) != CURLM_OK) break;
      int queued = 0;
      if (CURLMsg* message = curl_multi_info_read(multi_, &queued);
          message != nullptr && message->msg == CURLMSG_DONE) {
        code = message->data.result;
        break;
      }
      if (aborted_ || curl_multi_poll(multi_, nullptr, 0, 1000, nullptr) != CURLM_OK) break;
    }
    curl_multi_remove_handle(multi_, easy_);
    return code;
  }

  PostResult result_of(CURLcode code, const WebhookUrl& url) const {
    const std::string detail = error_buffer_[0] != '\0' ? error_buffer_ : curl_easy_strerror(code);
    switch (code) {
      case CURLE_OK: {
        long status = 0;
        curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
        PostResult result;
        result.status = static_cast<unsigned>(status);
        if (!result.ok()) result.error = "HTTP " + std::to_string(result.status);
        return result;
      }
      case CURLE_OPERATION_TIMEDOUT:
        return {.error = "timeout after " + std::to_string(options_.timeout.count()) + " ms"};
      case CURLE_COULDNT_RESOLVE_HOST:
        return {.error = "resolve " + url.host + ": " + detail};
      case CURLE_COULDNT_RESOLVE_PROXY:
        return {.error = "resolve proxy: " + detail};
      case CURLE_COULDNT_CONNECT:
        if (transfer_.connections == 0 && !transfer_.refusal.empty()) {
          return {.error = "refused: " + transfer_.refusal};
        }
        return {.error = "connect: " + detail};
      case CURLE_PEER_FAILED_VERIFICATION:
        return {.error = "TLS handshake: certificate verify failed (" + detail + ")"};
      case CURLE_SSL_CONNECT_ERROR:
        return {.error = "TLS handshake: " + detail};
      case CURLE_WRITE_ERROR:
        if (transfer_.too_large) {
          return {.error = "read: response body over " + std::to_string(options_.response_limit) +
                           " bytes"};
        }
        return {.error = "read: " + detail};
      default:
        return {.error = detail};
    }
  }

  // CURLOPT_WRITEFUNCTION: counts the response body (dropped) against the limit.
  static size_t on_body(char*, size_t size, size_t count, void* data) {
    Impl& self = *static_cast<Impl*>(data);
    self.transfer_.body_bytes += size * count;
    if (self.transfer_.body_bytes > self.options_.response_limit) {
      self.transfer_.too_large = true;
      return 0;  // fails the transfer (CURLE_WRITE_ERROR)
    }
    return size * count;
  }

  // CURLOPT_OPENSOCKETFUNCTION: opens the socket for each address libcurl tries, unless the
  // address policy refuses it (a connection straight to the receiver), so that no byte goes to
  // a refused address; libcurl then tries the receiver's next address.
  static curl_socket_t open_socket(void* data, curlsocktype, curl_sockaddr* address) {
    Impl& self = *static_cast<Impl*>(data);
    if (!self.transfer_.proxied) {
      const std::optional<IpAddress> ip = IpAddress::from_sockaddr(&address->addr);
      if (!ip) return CURL_SOCKET_BAD;
      if (std::optional<std::string> reason = self.options_.targets.refusal(*ip)) {
        if (self.transfer_.refusal.empty()) {
          self.transfer_.refusal = refusal_message(self.transfer_.url->host, *ip, *reason);
        }
        return CURL_SOCKET_BAD;
      }
    }
    ++self.transfer_.connections;
    return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  }

  const std::shared_ptr<const ClientContext> context_;  // keeps options_ valid
  const ClientOptions& options_;
  CURLM* const multi_;
  CURL* const easy_;
  char error_buffer_[CURL_ERROR_SIZE] = {};
  Transfer transfer_;
  std::atomic<bool> aborted_{false};
};

WebhookClient::WebhookClient(std::shared_ptr<const ClientContext> context)
    : impl_(std::make_unique<Impl>(std::move(context))) {}

WebhookClient::WebhookClient(ClientOptions options)
    : WebhookClient(std::make_shared<const ClientContext>(std::move(options))) {}

WebhookClient::~WebhookClient() = default;

PostResult WebhookClient::post(const WebhookUrl& url, const std::string& body,
                               const std::string& signature) {
  return impl_->post(url, body, signature);
}

void WebhookClient::abort() { impl_->abort(); }

}  // namespace dirfeed::rest
