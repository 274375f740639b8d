// libFuzzer target: the IP sources' input path on arbitrary bytes. The first byte picks read
// sizes: a stream framed in those pieces must give exactly the messages it gives framed at once
// (RFC 6587 framing is independent of how TCP splits it), none over kMaxMessageSize. Each
// message then goes through syslog_msg and every parse profile (windows-security,
// samba-auth-json, regex); an event they return names a user and an address. Built and run by
// tests/fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ipsource/fields.hpp"
#include "ipsource/network.hpp"
#include "ipsource/parsers.hpp"
#include "ipsource/syslog.hpp"

namespace {

using namespace dirfeed::ipsource;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "ipsource_fuzz: %s\n", what);
  std::abort();
}

std::vector<std::string> frame(std::string_view stream, size_t piece, size_t* oversized) {
  StreamFramer framer;
  std::vector<std::string> messages;
  for (size_t i = 0; i < stream.size(); i += piece) {
    framer.feed(stream.substr(i, piece), [&](std::string_view m) { messages.emplace_back(m); });
  }
  *oversized = framer.oversized();
  return messages;
}

std::vector<std::unique_ptr<MessageParser>> parsers() {
  std::vector<std::unique_ptr<MessageParser>> list;
  SourceOptions options;
  for (Format format : {Format::kWindowsSecurity, Format::kSambaAuthJson, Format::kRegex}) {
    options.format = format;
    options.regex = R"((?:user|User)[=:] ?(?<user>[^ ,;]+).*?(?:ip|from)[=: ]+(?<ip>[0-9a-fA-F.:]+))";
    options.logout_regex = R"(logout (?<domain>\w+)\\(?<user>\S+) (?<ip>\S+))";
    list.push_back(make_parser(options));
  }
  return list;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static std::vector<std::unique_ptr<MessageParser>> profiles = parsers();
  const size_t piece = 1 + data[0] % 17;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  size_t whole_oversized = 0, split_oversized = 0;
  const std::vector<std::string> whole = frame(stream, stream.size() + 1, &whole_oversized);
  const std::vector<std::string> split = frame(stream, piece, &split_oversized);
  if (whole != split || whole_oversized != split_oversized) fail("framing depends on the split");

  for (const std::string& message : whole) {
    if (message.size() > kMaxMessageSize) fail("message over the limit");
    const std::string_view msg = syslog_msg(message);
    if (msg.size() > message.size()) fail("syslog_msg grew the message");
    for (auto& profile : profiles) {
      if (std::optional<LogonEvent> event = profile->parse(msg)) {
        if (event->user.empty() || event->ip.empty()) fail("an event without user or address");
      }
    }
    Fields fields;
    parse_kv_fields(msg, &fields);
    if (std::optional<Address> address = parse_address(msg)) {
      if (!parse_address(to_text(*address))) fail("an address that does not read back");
    }
    if (std::optional<Network> network = parse_network(msg)) {
      if (!network->contains(network->base)) fail("a network without its base");
    }
    wildcard_match(msg.substr(0, 64), msg);
  }
  return 0;
}
