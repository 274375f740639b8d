#pragma once
// A webhook receiver for tests and the benchmark: an HTTP/1.1 (or HTTPS) server on
// 127.0.0.1 (or another loopback address), any free port, one thread per connection (keep-alive), that records every request
// and answers with the status a test-given function picks. Plus the receiver's side of the
// signature check, computed here with OpenSSL (independently of rest/webhooks).
#include <arpa/inet.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace dirfeed::testing {

struct ReceivedRequest {
  std::string target;
  std::string body;                      // the exact bytes received
  std::optional<std::string> signature;  // BoxyHQ-Signature, when sent
  std::optional<std::string> ory_signature;  // Ory-Polis-Signature, when sent
  std::string content_type;
  std::string user_agent;
  std::string via;                       // the Via header a proxy adds, when one did
  unsigned answered = 0;                 // the status sent back (0: none, the connection broke)
  std::chrono::steady_clock::time_point at;  // when it was read
};

// Hex HMAC-SHA256 of `message` keyed by `key`.
inline std::string hmac_sha256_hex(const std::string& key, const std::string& message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  std::string hex;
  char pair[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(pair, sizeof pair, "%02x", digest[i]);
    hex += pair;
  }
  return hex;
}

// Whether `signature` ("t=<ms>,s=<hex>") is the HMAC of "<ms>.<body>" keyed by `secret`.
inline bool signature_valid(const std::string& signature, const std::string& body,
                            const std::string& secret) {
  const size_t comma = signature.find(",s=");
  if (!signature.starts_with("t=") || comma == std::string::npos) return false;
  const std::string t = signature.substr(2, comma - 2);
  return !t.empty() && signature.substr(comma + 3) == hmac_sha256_hex(secret, t + "." + body);
}

class WebhookReceiver {
 public:
  // Picks the status for the index-th request (from 0); may block to hold a request.
  using Answer = std::function<unsigned(const ReceivedRequest& request, size_t index)>;

  // `tls_cert` / `tls_key`: PEM files to serve HTTPS with; empty: plain HTTP. `keep_requests`
  // false: received() stays empty (only count() counts), for long runs. `address`: another
  // loopback address to listen on.
  explicit WebhookReceiver(Answer answer = {}, const std::string& tls_cert = "",
                           const std::string& tls_key = "", bool keep_requests = true,
                           const std::string& address = "127.0.0.1")
      : answer_(answer ? std::move(answer) : [](const ReceivedRequest&, size_t) { return 200u; }),
        keep_requests_(keep_requests),
        address_(address),
        acceptor_(io_, {boost::asio::ip::make_address(address), 0}) {
    if (!tls_cert.empty()) {
      tls_.emplace(boost::asio::ssl::context::tls_server);
      tls_->use_certificate_chain_file(tls_cert);
      tls_->use_private_key_file(tls_key, boost::asio::ssl::context::pem);
    }
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~WebhookReceiver() { stop(); }
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  // Stops accepting and breaks every open connection (a held request gets no answer).
  void stop() {
    if (stopping_.exchange(true)) return;
    {
      // Wakes the blocking accept.
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket poke(io);
      boost::system::error_code ignored;
      poke.connect({boost::asio::ip::make_address(address_), port_}, ignored);
    }
    accept_thread_.join();
    boost::system::error_code ignored;
    acceptor_.close(ignored);  // later connections are refused
    {
      std::lock_guard lock(mutex_);
      for (auto& socket : sockets_) ::shutdown(socket->native_handle(), SHUT_RDWR);
    }
    released_.notify_all();
    for (std::thread& thread : connection_threads_) thread.join();
  }

  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return std::string(tls_ ? "https" : "http") + "://" + address_ + ":" + std::to_string(port_) +
           path;
  }

  std::vector<ReceivedRequest> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  size_t count() const {
    std::lock_guard lock(mutex_);
    return count_;
  }
  // Waits until `n` requests have come (true) or `timeout` passes (false).
  bool wait_for_count(size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, timeout, [&] { return count_ >= n; });
  }
  size_t connections() const { return connections_; }

  // For an Answer that holds a request: blocks until release() or stop().
  void wait_released() {
    std::unique_lock lock(mutex_);
    released_.wait(lock, [&] { return released_flag_ || stopping_; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_flag_ = true;
    released_.notify_all();
  }

 private:
  void accept_loop() {
    while (true) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code error;
      acceptor_.accept(socket, error);
      if (stopping_) return;
      if (error) continue;
      ++connections_;
      auto s = std::make_shared<boost::asio::ip::tcp::socket>(std::move(socket));
      std::lock_guard lock(mutex_);
      sockets_.push_back(s);  // open until stop(), so stop() never shuts down a reused fd
      connection_threads_.emplace_back([this, s] {
            if (tls_) {
              boost::asio::ssl::stream<boost::asio::ip::tcp::socket&> stream(*s, *tls_);
              boost::system::error_code error;
              stream.handshake(boost::asio::ssl::stream_base::server, error);
              if (!error) serve(stream);
            } else {
              serve(*s);
            }
          });
    }
  }

  template <class Stream>
  void serve(Stream& stream) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    while (!stopping_) {
      http::request<http::string_body> request;
      boost::system::error_code error;
      http::read(stream, buffer, request, error);
      if (error) return;
      ReceivedRequest received;
      received.target = std::string(request.target());
      received.body = request.body();
      if (auto it = request.find("Ory-Polis-Signature"); it != request.end()) {
        received.ory_signature = std::string(it->value());
      }
      if (auto it = request.find("BoxyHQ-Signature"); it != request.end()) {
        received.signature = std::string(it->value());
      }
      received.content_type = std::string(request[http::field::content_type]);
      received.user_agent = std::string(request[http::field::user_agent]);
      received.via = std::string(request[http::field::via]);
      received.at = std::chrono::steady_clock::now();
      size_t index = 0;
      {
        std::lock_guard lock(mutex_);
        index = count_++;
        if (keep_requests_) received_.push_back(received);
      }
      arrived_.notify_all();
      const unsigned status = answer_(received, index);
      if (stopping_) return;
      http::response<http::string_body> response(static_cast<http::status>(status), 11);
      response.keep_alive(request.keep_alive());
      if (status != 204) {
        response.set(http::field::content_type, "application/json");
        response.body() = "{}";
      }
      response.prepare_payload();
      // Recorded before the write: the client may act on the response before write returns.
      set_answered(index, status);
      http::write(stream, response, error);
      if (error) {
        set_answered(index, 0);
        return;
      }
      if (!request.keep_alive()) return;
    }
  }

  void set_answered(size_t index, unsigned status) {
    if (!keep_requests_) return;
    std::lock_guard lock(mutex_);
    received_[index].answered = status;
  }

  Answer answer_;
  const bool keep_requests_;
  const std::string address_;
  boost::asio::io_context io_;
  std::optional<boost::asio::ssl::context> tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> connections_{0};
  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  std::condition_variable released_;
  bool released_flag_ = false;
  std::vector<ReceivedRequest> received_;
  size_t count_ = 0;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
  std::list<std::thread> connection_threads_;
  std::thread accept_thread_;
};

}  // namespace dirfeed::testing
