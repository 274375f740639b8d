#pragma once
// Syslog transport and headers: RFC 6587 framing of a TCP or TLS stream (octet counting and
// LF-terminated, chosen per message as rsyslog and syslog-ng do), and the MSG part of an RFC
// 5424 or RFC 3164 message. Not thread-safe: one StreamFramer per connection.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace dirfeed::ipsource {

// Longest message accepted; longer ones are dropped and counted (a logon event is a few KiB).
inline constexpr size_t kMaxMessageSize = 64 * 1024;

class StreamFramer {
 public:
  using Sink = std::function<void(std::string_view message)>;

  // Consumes the next bytes of the stream (any split: a message may span calls) and calls
  // `sink` once per complete message, without its frame (length prefix, LF, trailing CR). A
  // message that starts with digits and a space is octet-counted ("LEN SP MSG"), any other is
  // LF-terminated. Messages over kMaxMessageSize are skipped and counted in oversized().
  void feed(std::string_view bytes, const Sink& sink);

  size_t oversized() const { return oversized_; }

 private:
  std::string buffer_;
  size_t skip_ = 0;          // bytes of an oversized octet-counted message still to skip
  bool skip_line_ = false;   // dropping an oversized LF-terminated message up to its LF
  size_t oversized_ = 0;
};

// The MSG of one syslog message: after <PRI> and an RFC 5424 header (VERSION TIMESTAMP
// HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA, BOM dropped) or an RFC 3164 one (TIMESTAMP
// HOSTNAME TAG:); the whole text, less <PRI>, when neither header is recognised.
std::string_view syslog_msg(std::string_view message);

}  // namespace dirfeed::ipsource
