#include "publish/jetstream.hpp"

#include <boost/log/trivial.hpp>
#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/secret_file.hpp"
#include "proto/names.hpp"

namespace dirfeed::publish {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// How long one wait for PubAcks lasts before abort() is looked at again.
constexpr milliseconds kAckWaitSlice{100};
constexpr std::string_view kMsgIdHeader = "Nats-Msg-Id";

// "what failed: <libnats' text>", with the library's last error detail when it has one.
std::string nats_error(std::string_view what, natsStatus status) {
  std::string message = std::string(what) + ": " + natsStatus_GetText(status);
  natsStatus last = NATS_OK;
  if (const char* detail = nats_GetLastError(&last); detail != nullptr && *detail != '\0') {
    message += " (" + std::string(detail) + ")";
  }
  return message;
}

// The sequence of a message id "<store id>-<sequence>"; 0 when it is not one.
uint64_t sequence_of(std::string_view msg_id) {
  const size_t dash = msg_id.rfind('-');
  if (dash == std::string_view::npos) return 0;
  uint64_t sequence = 0;
  const char* begin = msg_id.data() + dash + 1;
  const char* end = msg_id.data() + msg_id.size();
  const auto [last, ec] = std::from_chars(begin, end, sequence);
  return ec == std::errc() && last == end ? sequence : 0;
}

}  // namespace

bool wants_tls(const NatsOptions& options) {
  return !options.ca_file.empty() ||
         std::any_of(options.servers.begin(), options.servers.end(),
                     [](const std::string& url) { return url.rfind("tls://", 0) == 0; });
}

std::string feed_subject(const std::string& prefix, const pb::Change& change) {
  std::string domain = change.domain();
  for (char& c : domain) {
    if (c == '.' || c == '*' || c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      c = '_';
    }
  }
  if (domain.empty()) domain = "_";
  std::string subject = prefix;
  subject.append(".").append(domain).append(".").append(kind_name(change.kind()));
  subject.append(".").append(change_type_name(change.type()));
  return subject;
}

class JetStreamSink::Impl {
 public:
  Impl(NatsOptions options, std::string store_id, Renderer render)
      : options_(std::move(options)), store_id_(std::move(store_id)), render_(std::move(render)) {}

  ~Impl() { disconnect(); }

  changefeed::Delivery deliver(const std::vector<pb::Change>& entries) {
    changefeed::Delivery delivery;
    if (aborted_) {
      delivery.aborted = true;
      return delivery;
    }
    if (!connected(&delivery.error)) return delivery;
    {
      std::lock_guard lock(mutex_);
      acked_.clear();
      refused_.clear();
      duplicates_ = 0;
    }
    size_t sent = 0;
    std::string previous_id;  // of the message published before this one in the batch
    for (const pb::Change& entry : entries) {
      if (aborted_) break;
      std::string msg_id = store_id_ + "-" + std::to_string(entry.sequence());
      if (std::string error = publish(entry, msg_id, previous_id); !error.empty()) {
        delivery.error = std::move(error);
        break;
      }
      previous_id = std::move(msg_id);
      ++sent;
    }
    if (std::string error = await_acks(); delivery.error.empty()) delivery.error = error;
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < sent; ++i) {
      const uint64_t sequence = entries[i].sequence();
      if (acked_.count(sequence) == 0) {
        if (delivery.error.empty()) {
          auto refused = refused_.find(sequence);
          delivery.error = refused != refused_.end()
                               ? refused->second
                               : "no PubAck for sequence " + std::to_string(sequence);
        }
        break;
      }
      delivery.confirmed_through = sequence;
      ++delivery.delivered;
    }
    // Stopped: nothing is recorded; what was acknowledged goes again after a restart and the
    // stream drops it as a duplicate.
    delivery.aborted = aborted_;
    if (delivery.error.empty() && sent < entries.size()) delivery.error = "stopped";
    if (duplicates_ > 0) {
      BOOST_LOG_TRIVIAL(info) << "nats: " << duplicates_ << " of " << sent
                              << " entries were in stream " << options_.stream
                              << " already (published again after a failure; dropped there)";
    }
    return delivery;
  }

  void abort() { aborted_ = true; }

 private:
  // Whether there is an open connection with the stream in place (connecting when needed).
  bool connected(std::string* error) {
    if (connection_ != nullptr && !natsConnection_IsClosed(connection_)) return true;
    disconnect();
    if (!connect(error) || !ensure_stream(error)) {
      disconnect();
      return false;
    }
    return true;
  }

  bool connect(std::string* error) {
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    std::vector<const char*> urls;
    for (const std::string& url : options_.servers) urls.push_back(url.c_str());
    if (s == NATS_OK) s = natsOptions_SetServers(opts, urls.data(), static_cast<int>(urls.size()));
    if (s == NATS_OK) s = natsOptions_SetName(opts, "dirfeed");
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, options_.connect_timeout.count());
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);  // while open: forever
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 500);
    if (s == NATS_OK && wants_tls(options_)) {
      s = natsOptions_SetSecure(opts, true);
      const std::string& ca = options_.ca_file.empty() ? kSystemCaFile : options_.ca_file;
      if (s == NATS_OK) s = natsOptions_LoadCATrustedCertificates(opts, ca.c_str());
      // libnats checks the certificate's host name only when it is told which.
      if (s == NATS_OK && !options_.tls_server_name.empty()) {
        s = natsOptions_SetExpectedHostname(opts, options_.tls_server_name.c_str());
      }
    }
    if (s == NATS_OK && !options_.cert_file.empty()) {
      s = natsOptions_LoadCertificatesChain(opts, options_.cert_file.c_str(),
                                            options_.key_file.c_str());
    }
    if (s == NATS_OK && !options_.credentials_file.empty()) {
      s = natsOptions_SetUserCredentialsFromFiles(opts, options_.credentials_file.c_str(),
                                                  nullptr);
    }
    if (s == NATS_OK && !options_.user.empty()) {
      const Result<std::string> password = read_secret_file(options_.password_file);
      if (!password.is_ok()) {
        natsOptions_Destroy(opts);
        *error = "nats: " + password.status().message();
        return false;
      }
      s = natsOptions_SetUserInfo(opts, options_.user.c_str(), password->c_str());
    }
    if (s != NATS_OK) {
      *error = nats_error("nats: options", s);
      natsOptions_Destroy(opts);
      return false;
    }
    s = natsConnection_Connect(&connection_, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) {
      *error = nats_error("nats: connecting to " + server_list(), s);
      return false;
    }
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = options_.ack_timeout.count();
    js_options.PublishAsync.MaxPending = static_cast<int64_t>(options_.max_pending);
    js_options.PublishAsync.StallWait = options_.ack_timeout.count();
    js_options.PublishAsync.AckHandler = &Impl::on_ack;
    js_options.PublishAsync.AckHandlerClosure = this;
    s = natsConnection_JetStream(&js_, connection_, &js_options);
    if (s != NATS_OK) {
      *error = nats_error("nats: JetStream context", s);
      return false;
    }
    char url[256] = "";
    natsConnection_GetConnectedUrl(connection_, url, sizeof url);
    BOOST_LOG_TRIVIAL(info) << "nats: connected to " << url;
    return true;
  }

  bool ensure_stream(std::string* error) {
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&info, js_, options_.stream.c_str(), nullptr, &code);
    if (s == NATS_OK) {
      jsStreamInfo_Destroy(info);
      return true;
    }
    if (s != NATS_NOT_FOUND) {
      *error = nats_error("nats: looking up stream " + options_.stream, s);
      return false;
    }
    const std::string subjects = options_.subject_prefix + ".>";
    const char* subject_list[] = {subjects.c_str()};
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = options_.stream.c_str();
    config.Subjects = subject_list;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    config.Replicas = options_.replicas;
    config.MaxAge = std::chrono::nanoseconds(options_.max_age).count();
    config.Duplicates = std::chrono::nanoseconds(options_.duplicate_window).count();
    s = js_AddStream(&info, js_, &config, nullptr, &code);
    if (s != NATS_OK) {
      *error = nats_error("nats: creating stream " + options_.stream, s);
      return false;
    }
    jsStreamInfo_Destroy(info);
    BOOST_LOG_TRIVIAL(info) << "nats: created stream " << options_.stream << " (subjects "
                            << subjects << ", file storage, replicas " << options_.replicas
                            << ")";
    return true;
  }

  void disconnect() {
    if (js_ != nullptr) jsCtx_Destroy(js_);
    js_ = nullptr;
    if (connection_ != nullptr) natsConnection_Destroy(connection_);
    connection_ = nullptr;
  }

  // Publishes the entry as message `msg_id`; "" when it is on its way (its PubAck comes to
  // on_ack), else why not. With `previous_id` (the message published before it in this
  // batch), the stream stores it only right after that one (Nats-Expected-Last-Msg-Id): when
  // a message of the window fails, the stream refuses every later one instead of storing it
  // ahead, so the stream's order stays the feed's. A message the stream has already (within
  // its duplicate window) is acknowledged as a duplicate before that check, so a batch sent
  // again after a failure goes through. The first message of a batch follows the last
  // confirmed one: what came after that, if anything, reached the stream in order.
  std::string publish(const pb::Change& entry, const std::string& msg_id,
                      const std::string& previous_id) {
    const std::string subject = feed_subject(options_.subject_prefix, entry);
    const std::string body = render_(entry);
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, body.data(),
                                  static_cast<int>(body.size()));
    jsPubOptions pub_options;
    jsPubOptions_Init(&pub_options);
    pub_options.MsgId = msg_id.c_str();
    if (!previous_id.empty()) pub_options.ExpectLastMsgId = previous_id.c_str();
    if (s == NATS_OK) s = js_PublishMsgAsync(js_, &msg, &pub_options);
    natsMsg_Destroy(msg);  // nullptr when the library took it
    if (s != NATS_OK) return nats_error("nats: publishing sequence " + std::to_string(entry.sequence()), s);
    return "";
  }

  // Waits for the PubAcks of everything published, at most ack_timeout (or until abort());
  // what is still pending then is dropped (published again in a later batch). "" when all came.
  std::string await_acks() {
    const auto deadline = SteadyClock::now() + options_.ack_timeout;
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = kAckWaitSlice.count();
    natsStatus s = NATS_TIMEOUT;
    while (s == NATS_TIMEOUT && !aborted_ && SteadyClock::now() < deadline) {
      s = js_PublishAsyncComplete(js_, &wait);
    }
    if (s == NATS_OK) return "";
    natsMsgList pending;
    if (js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK) natsMsgList_Destroy(&pending);
    if (aborted_) return "stopped";
    return s == NATS_TIMEOUT ? "nats: no PubAck within " +
                                   std::to_string(options_.ack_timeout.count()) + " ms"
                             : nats_error("nats: waiting for PubAcks", s);
  }

  // libnats' thread: one PubAck (or refusal) of a message of ours.
  static void on_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* refusal, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    const char* msg_id = nullptr;
    uint64_t sequence = 0;
    if (natsMsgHeader_Get(msg, kMsgIdHeader.data(), &msg_id) == NATS_OK && msg_id != nullptr) {
      sequence = sequence_of(msg_id);
    }
    if (sequence != 0) {
      std::lock_guard lock(self->mutex_);
      if (ack != nullptr) {
        self->acked_.insert(sequence);
        if (ack->Duplicate) ++self->duplicates_;
      } else if (refusal != nullptr) {
        self->refused_.emplace(
            sequence, "nats: sequence " + std::to_string(sequence) + " refused: " +
                          (refusal->ErrText != nullptr ? refusal->ErrText
                                                       : natsStatus_GetText(refusal->Err)));
      }
    }
    natsMsg_Destroy(msg);
  }

  std::string server_list() const {
    std::string list;
    for (const std::string& url : options_.servers) list += (list.empty() ? "" : ",") + url;
    return list;
  }

  const NatsOptions options_;
  const std::string store_id_;
  const Renderer render_;
  std::atomic<bool> aborted_{false};
  natsConnection* connection_ = nullptr;  // the consumer's thread only
  jsCtx* js_ = nullptr;
  std::mutex mutex_;
  std::unordered_set<uint64_t> acked_;                 // mutex_: of this batch
  size_t duplicates_ = 0;                              // mutex_: of this batch
  std::unordered_map<uint64_t, std::string> refused_;  // mutex_: sequence -> why
};

JetStreamSink::JetStreamSink(NatsOptions options, std::string store_id, Renderer render)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(store_id), std::move(render))) {}

JetStreamSink::~JetStreamSink() = default;

changefeed::Delivery JetStreamSink::deliver(const std::vector<pb::Change>& entries) {
  return impl_->deliver(entries);
}

void JetStreamSink::abort() { impl_->abort(); }

}  // namespace dirfeed::publish
