#pragma once
// The NATS JetStream sink (publish.nats in the config, README "NATS JetStream"): every feed
// entry one message in a JetStream stream, for a changefeed::FeedConsumer.
//
// Messages: subject "<subject_prefix>.<domain>.<kind>.<type>" (feed_subject), body as the
// renderer given makes it (daemon/ passes the Directory Changes API's shape), header
// Nats-Msg-Id "<store id>-<sequence>". The stream drops a message whose id it saw within its
// duplicate window, so an entry published again after a failure or a crash (its PubAck was
// not seen, so the cursor did not move) is stored once.
//
// deliver() publishes the batch asynchronously (at most max_pending acks outstanding, so the
// rate is not one round trip per entry) and confirms the longest run of entries, from the
// first, whose PubAck came (a duplicate's too): a message refused or not acknowledged within
// ack_timeout ends the run, and the error names it.
//
// Connection: made at the first deliver() and again after it closed; libnats reconnects by
// itself (any server of `servers`, the cluster's others as it learns them) while it is open.
// On each connect the stream is looked up and created when absent: subjects
// "<subject_prefix>.>", file storage, `replicas`, MaxAge `max_age` (0: no age limit) and the
// duplicate window; an existing stream is used as it is (its own settings win).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "changefeed/feed_consumer.hpp"
#include "dirfeed.pb.h"

namespace dirfeed::publish {

struct NatsOptions {
  std::vector<std::string> servers;             // nats:// or tls:// URLs, at least one
  std::string stream = "DIRFEED";
  std::string subject_prefix = "dirfeed";       // tokens of [A-Za-z0-9_-], dot-separated
  int replicas = 1;                             // for a stream it creates: 1..5
  std::chrono::seconds max_age{0};              // for a stream it creates; 0: none
  std::chrono::seconds duplicate_window{std::chrono::minutes(2)};  // likewise
  // TLS (any tls:// server, or ca_file set): the servers' certificates are checked against
  // ca_file (default: the system's bundle, kSystemCaFile) and against tls_server_name (the
  // name they must carry; the config sets it, from the servers' common host name when it is
  // not given).
  std::string ca_file;
  std::string tls_server_name;
  std::string cert_file;                        // client certificate (with key_file)
  std::string key_file;
  std::string credentials_file;                 // a NATS .creds file (JWT + nkey seed)
  std::string user;                             // user/password auth: the password is read
  std::string password_file;                    // from this file at each connect
  size_t max_pending = 1000;                    // PubAcks outstanding at most
  std::chrono::milliseconds ack_timeout{10'000};  // for the acks of one batch
  std::chrono::milliseconds connect_timeout{2'000};
};

// The CA bundle of Debian's ca-certificates, used when publish.nats.tls.ca_file is not set.
inline constexpr char kSystemCaFile[] = "/etc/ssl/certs/ca-certificates.crt";

// Whether these options ask for TLS (a tls:// server or a CA file).
bool wants_tls(const NatsOptions& options);

// "<prefix>.<domain>.<kind>.<type>": kind user|group|membership, type
// add|modify|delete|ip-add|ip-delete, the domain with '.', '*', '>' and white space made '_'
// (one subject token; "_" when empty).
std::string feed_subject(const std::string& prefix, const pb::Change& change);

class JetStreamSink final : public changefeed::FeedSink {
 public:
  // The message body of an entry (JSON); called on the consumer's thread.
  using Renderer = std::function<std::string(const pb::Change&)>;

  // `store_id`: the first part of every message id (Store::store_id()).
  JetStreamSink(NatsOptions options, std::string store_id, Renderer render);
  ~JetStreamSink() override;

  changefeed::Delivery deliver(const std::vector<pb::Change>& entries) override;
  void abort() override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dirfeed::publish
