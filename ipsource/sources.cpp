#include "ipsource/sources.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/log/trivial.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include "ipsource/syslog.hpp"

namespace dirfeed::ipsource {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;

constexpr auto kHandshakeTimeout = std::chrono::seconds(10);  // TLS handshake of a new sender
constexpr size_t kReadSize = 64 * 1024;                       // bytes per stream read
constexpr size_t kDatagramsPerWake = 64;  // UDP datagrams read per wake-up (one queue push)

const char* scheme(Transport transport) {
  switch (transport) {
    case Transport::kUdp: return "udp";
    case Transport::kTcp: return "tcp";
    case Transport::kTls: return "tls";
  }
  return "";
}

std::string endpoint_text(Transport transport, const asio::ip::address& address, uint16_t port) {
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return std::string(scheme(transport)) + "://" + host + ":" + std::to_string(port);
}

}  // namespace

struct IpSources::Io {
  asio::io_context context;
};

// One source's socket(s): a UDP socket, or a TCP acceptor and its connections (TLS or not).
// Its handlers run on the io_context threads; stop() stops them before the listener goes, and
// the connections still pending then are destroyed with the io_context, after the listener.
class IpSources::Listener {
 public:
  Listener(IpSources& owner, size_t index, const SourceOptions& options, asio::io_context& io)
      : owner_(owner), index_(index), options_(options), io_(io), udp_(io), acceptor_(io),
        tls_(asio::ssl::context::tls_server) {}

  // Opens the socket; false with the reason logged.
  bool open() {
    boost::system::error_code error;
    const asio::ip::address address = asio::ip::make_address(options_.host, error);
    if (error) return fail("bad address " + options_.host, error);
    try {
      if (options_.transport == Transport::kTls) setup_tls();
    } catch (const boost::system::system_error& e) {
      BOOST_LOG_TRIVIAL(error) << "ip source " << options_.name << ": TLS files ("
                               << options_.tls.cert_file << ", " << options_.tls.key_file
                               << "): " << e.code().message();
      return false;
    }
    if (options_.transport == Transport::kUdp) {
      const udp::endpoint endpoint(address, options_.port);
      udp_.open(endpoint.protocol(), error);
      if (!error) {
        const int on = 1;  // recvmsg reports the kernel's drops (read_datagram)
        if (::setsockopt(udp_.native_handle(), SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on) != 0) {
          error.assign(errno, boost::system::system_category());
        }
      }
      if (!error) udp_.set_option(udp::socket::reuse_address(true), error);
      if (!error) {
        boost::system::error_code ignored;  // the kernel may cap it (net.core.rmem_max)
        udp_.set_option(asio::socket_base::receive_buffer_size(kUdpReceiveBuffer), ignored);
        udp_.bind(endpoint, error);
      }
      if (error) return fail("cannot listen", error);
      listen_ = endpoint_text(Transport::kUdp, address, udp_.local_endpoint().port());
    } else {
      const tcp::endpoint endpoint(address, options_.port);
      acceptor_.open(endpoint.protocol(), error);
      if (!error) acceptor_.set_option(tcp::acceptor::reuse_address(true), error);
      if (!error) acceptor_.bind(endpoint, error);
      if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
      if (error) return fail("cannot listen", error);
      listen_ = endpoint_text(options_.transport, address, acceptor_.local_endpoint().port());
    }
    BOOST_LOG_TRIVIAL(info) << "ip source " << options_.name << ": listening on " << listen_;
    return true;
  }

  void start() {
    if (options_.transport == Transport::kUdp) {
      receive_datagrams();
    } else {
      accept();
    }
  }

  const std::string& listen() const { return listen_; }

 private:
  bool fail(const std::string& what, const boost::system::error_code& error) {
    BOOST_LOG_TRIVIAL(error) << "ip source " << options_.name << ": " << what << " on "
                             << scheme(options_.transport) << "://" << options_.host << ":"
                             << options_.port << ": " << error.message();
    return false;
  }

  void setup_tls() {
    tls_.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    tls_.use_certificate_chain_file(options_.tls.cert_file);
    tls_.use_private_key_file(options_.tls.key_file, asio::ssl::context::pem);
    if (!options_.tls.client_ca_file.empty()) {
      tls_.load_verify_file(options_.tls.client_ca_file);
      tls_.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    }
  }

  bool allowed(const asio::ip::address& sender) const {
    if (options_.allowed_senders.empty()) return true;
    std::optional<Address> address = parse_address(sender.to_string());
    if (!address) return false;
    for (const Network& network : options_.allowed_senders) {
      if (network.contains(*address)) return true;
    }
    return false;
  }

  SourceCounters& counters() { return *owner_.counters_[index_]; }

  Pipeline& pipeline() { return *owner_.pipelines_[index_]; }

  // Waits until datagrams are there, reads them (up to kDatagramsPerWake) and queues their
  // events at once.
  void receive_datagrams() {
    udp_.async_wait(udp::socket::wait_read, [this](boost::system::error_code error) {
      if (error == asio::error::operation_aborted) return;
      if (!error) {
        size_t read = 0;
        while (read < kDatagramsPerWake && read_datagram()) ++read;
        owner_.queue_.push(index_, &events_);
      }
      receive_datagrams();
    });
  }

  // Reads one waiting datagram, counts it and parses it into events_; false when none is
  // waiting. recvmsg also says how many datagrams the kernel has dropped for this socket so
  // far, because its receive buffer was full (SO_RXQ_OVFL): those count as dropped.
  bool read_datagram() {
    sockaddr_storage from{};
    iovec data{datagram_.data(), datagram_.size()};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(uint32_t))> control;
    msghdr message{};
    message.msg_name = &from;
    message.msg_namelen = sizeof from;
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    const ssize_t size = ::recvmsg(udp_.native_handle(), &message, MSG_DONTWAIT);
    if (size < 0) return false;  // EAGAIN: none left; another error: the next wait says
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL) continue;
      uint32_t total = 0;
      std::memcpy(&total, CMSG_DATA(c), sizeof total);
      counters().dropped.fetch_add(static_cast<uint32_t>(total - kernel_dropped_),
                                   std::memory_order_relaxed);
      kernel_dropped_ = total;
    }
    udp::endpoint sender;
    const size_t length = std::min<size_t>(message.msg_namelen, sender.capacity());
    std::memcpy(sender.data(), &from, length);
    sender.resize(length);
    if (!allowed(sender.address())) {
      counters().dropped.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    counters().received.fetch_add(1, std::memory_order_relaxed);
    pipeline().add(std::string_view(datagram_.data(), static_cast<size_t>(size)), &events_);
    return true;
  }

  // A stream connection: plain TCP or TLS over it.
  template <class Stream>
  class Session : public std::enable_shared_from_this<Session<Stream>> {
   public:
    template <class... Args>
    Session(Listener& listener, Args&&... args)
        : listener_(listener), connections_(listener.connections_),
          stream_(std::forward<Args>(args)...) {}
    // May run after the listener is gone (when the io_context is destroyed).
    ~Session() { --*connections_; }

    Stream& stream() { return stream_; }

    void read() {
      stream_.async_read_some(
          asio::buffer(buffer_), [self = this->shared_from_this()](boost::system::error_code error,
                                                                   size_t size) {
            if (error) return;  // closed, reset or stopped: the session ends
            Listener& listener = self->listener_;
            SourceCounters& counters = listener.counters();
            Pipeline& pipeline = listener.pipeline();
            const size_t oversized = self->framer_.oversized();
            self->framer_.feed(std::string_view(self->buffer_.data(), size),
                               [&](std::string_view message) {
                                 counters.received.fetch_add(1, std::memory_order_relaxed);
                                 pipeline.add(message, &self->events_);
                               });
            counters.dropped.fetch_add(self->framer_.oversized() - oversized,
                                       std::memory_order_relaxed);
            listener.owner_.queue_.push(listener.index_, &self->events_);
            self->read();
          });
    }

   private:
    Listener& listener_;  // used by handlers, which only run while the listener lives
    std::shared_ptr<std::atomic<size_t>> connections_;
    Stream stream_;
    StreamFramer framer_;
    std::array<char, kReadSize> buffer_;
    std::vector<changefeed::IpEvent> events_;  // of the current read
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code error, tcp::socket socket) {
      if (error == asio::error::operation_aborted) return;
      if (!error) on_connection(std::move(socket));
      accept();
    });
  }

  void on_connection(tcp::socket socket) {
    boost::system::error_code error;
    const tcp::endpoint peer = socket.remote_endpoint(error);
    if (error) return;
    if (!allowed(peer.address()) || *connections_ >= kMaxConnections) {
      counters().dropped.fetch_add(1, std::memory_order_relaxed);
      BOOST_LOG_TRIVIAL(debug) << "ip source " << options_.name << ": connection from "
                               << peer.address().to_string() << " refused ("
                               << (*connections_ >= kMaxConnections ? "too many connections"
                                                                   : "not in allowed_senders")
                               << ")";
      return;  // closes it
    }
    ++*connections_;
    if (options_.transport == Transport::kTcp) {
      auto session = std::make_shared<Session<tcp::socket>>(*this, std::move(socket));
      session->read();
      return;
    }
    using TlsStream = asio::ssl::stream<tcp::socket>;
    auto session = std::make_shared<Session<TlsStream>>(*this, std::move(socket), tls_);
    auto timer = std::make_shared<asio::steady_timer>(io_, kHandshakeTimeout);
    timer->async_wait([session](boost::system::error_code error) {
      if (!error) session->stream().lowest_layer().close();
    });
    session->stream().async_handshake(
        asio::ssl::stream_base::server,
        [this, session, timer, peer](boost::system::error_code error) {
          timer->cancel();
          if (error) {
            BOOST_LOG_TRIVIAL(debug) << "ip source " << options_.name << ": TLS handshake with "
                                     << peer.address().to_string() << " failed: "
                                     << error.message();
            return;
          }
          session->read();
        });
  }

  IpSources& owner_;
  const size_t index_;
  const SourceOptions& options_;
  asio::io_context& io_;
  udp::socket udp_;
  std::array<char, 65536> datagram_;
  uint32_t kernel_dropped_ = 0;  // SO_RXQ_OVFL last read: datagrams the kernel dropped so far
  std::vector<changefeed::IpEvent> events_;  // of the datagrams of one wake-up
  tcp::acceptor acceptor_;
  asio::ssl::context tls_;
  std::shared_ptr<std::atomic<size_t>> connections_ =
      std::make_shared<std::atomic<size_t>>(0);
  std::string listen_;
};

IpSources::IpSources(std::vector<SourceOptions> sources, int64_t default_lifetime_us,
                     changefeed::Store& store, std::vector<DomainName> domains)
    : store_(store),
      resolver_(store, std::move(domains)),
      io_(std::make_unique<Io>()),
      queue_(kQueueEvents, [this](size_t source) {
        counters_[source]->dropped.fetch_add(1, std::memory_order_relaxed);
      }) {
  for (SourceOptions& options : sources) {
    counters_.push_back(std::make_unique<SourceCounters>());
    const int64_t lifetime_us =
        options.timeout ? std::chrono::duration_cast<std::chrono::microseconds>(*options.timeout)
                              .count()
                        : default_lifetime_us;
    pipelines_.push_back(
        std::make_unique<Pipeline>(options, lifetime_us, resolver_, *counters_.back()));
  }
  for (size_t i = 0; i < pipelines_.size(); ++i) {
    listeners_.push_back(
        std::make_unique<Listener>(*this, i, pipelines_[i]->options(), io_->context));
  }
}

IpSources::~IpSources() { stop(); }

bool IpSources::start() {
  bool ok = true;
  for (auto& listener : listeners_) ok = listener->open() && ok;
  if (!ok) return false;
  for (auto& listener : listeners_) listener->start();
  started_ = true;
  writer_ = std::thread([this] { write_loop(); });
  for (size_t i = 0; i < kReceiveThreads; ++i) {
    receive_threads_.emplace_back([this] { io_->context.run(); });
  }
  return true;
}

void IpSources::stop() {
  if (!started_) return;
  started_ = false;
  io_->context.stop();
  for (std::thread& thread : receive_threads_) thread.join();
  receive_threads_.clear();
  queue_.stop();
  writer_.join();
}

std::vector<SourceStatus> IpSources::status() const {
  std::vector<SourceStatus> result;
  for (size_t i = 0; i < pipelines_.size(); ++i) {
    const SourceCounters& c = *counters_[i];
    auto get = [](const std::atomic<uint64_t>& n) { return n.load(std::memory_order_relaxed); };
    result.push_back(SourceStatus{pipelines_[i]->options().name, listeners_[i]->listen(),
                                  get(c.received), get(c.parsed), get(c.mapped),
                                  get(c.unknown_user), get(c.ignored), get(c.dropped)});
  }
  return result;
}

void IpSources::write_loop() {
  std::vector<EventQueue::Entry> batch;
  std::vector<std::vector<changefeed::IpEvent>> events(pipelines_.size());
  while (queue_.take(kBatchEvents, &batch)) {
    for (EventQueue::Entry& entry : batch) events[entry.source].push_back(std::move(entry.event));
    batch.clear();
    for (size_t i = 0; i < pipelines_.size(); ++i) pipelines_[i]->write(store_, &events[i]);
  }
}

}  // namespace dirfeed::ipsource
