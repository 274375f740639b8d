// Syslog framing (RFC 6587 octet counting and LF, split anywhere, oversized messages) and
// headers (RFC 5424, RFC 3164), networks and wildcards.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ipsource/network.hpp"
#include "ipsource/options.hpp"
#include "ipsource/syslog.hpp"

namespace dirfeed::ipsource {
namespace {

using Strings = std::vector<std::string>;

Strings frame(StreamFramer& framer, const Strings& chunks) {
  Strings messages;
  for (const std::string& chunk : chunks) {
    framer.feed(chunk, [&](std::string_view m) { messages.emplace_back(m); });
  }
  return messages;
}

TEST(StreamFramerTest, OctetCountingSplitAcrossReads) {
  const std::string one = "<13>1 2024-05-02T10:15:32Z dc1 samba - - - hello world";
  const std::string two = "<13>1 2024-05-02T10:15:33Z dc1 samba - - - second\nwith LF";
  const std::string stream =
      std::to_string(one.size()) + " " + one + std::to_string(two.size()) + " " + two;
  // Every split point, also inside the length and right after it.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    StreamFramer framer;
    EXPECT_EQ(frame(framer, {stream.substr(0, cut), stream.substr(cut)}), (Strings{one, two}))
        << "cut at " << cut;
  }
  StreamFramer bytewise;
  Strings chunks;
  for (char c : stream) chunks.emplace_back(1, c);
  EXPECT_EQ(frame(bytewise, chunks), (Strings{one, two}));
}

TEST(StreamFramerTest, LfFramingWithCrLfAndEmptyLines) {
  StreamFramer framer;
  EXPECT_EQ(frame(framer, {"<13>Jan  5 10:00:00 host a: one\r\n\n<13>Jan  5 10:00:01 ho",
                           "st a: two\n<13>partial"}),
            (Strings{"<13>Jan  5 10:00:00 host a: one", "<13>Jan  5 10:00:01 host a: two"}));
  EXPECT_EQ(frame(framer, {" end\n"}), Strings{"<13>partial end"});
}

TEST(StreamFramerTest, MixedFramingPerMessage) {
  StreamFramer framer;
  EXPECT_EQ(frame(framer, {"5 hello{\"json\":1}\n3 abc"}),
            (Strings{"hello", "{\"json\":1}", "abc"}));
}

TEST(StreamFramerTest, OversizedMessagesAreDroppedAndCounted) {
  StreamFramer framer;
  const std::string big(kMaxMessageSize + 1, 'x');
  Strings got = frame(framer, {std::to_string(big.size()) + " " + big.substr(0, 1000),
                               big.substr(1000), "2 ok"});
  EXPECT_EQ(got, Strings{"ok"});
  EXPECT_EQ(framer.oversized(), 1u);
  // LF framing: an endless line is dropped up to its LF, across reads.
  got = frame(framer, {big, big, "tail\nnext\n"});
  EXPECT_EQ(got, Strings{"next"});
  EXPECT_EQ(framer.oversized(), 2u);
  const std::string at_limit(kMaxMessageSize, 'y');
  got = frame(framer, {at_limit + "\n"});
  ASSERT_EQ(got.size(), 1u) << "exactly the limit is accepted";
}

TEST(SyslogMsgTest, Rfc5424) {
  EXPECT_EQ(syslog_msg("<13>1 2024-05-02T10:15:32.123456+02:00 dc1.example.test samba 1234 "
                       "- - {\"type\": \"Authentication\"}"),
            "{\"type\": \"Authentication\"}");
  EXPECT_EQ(syslog_msg("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                       "[exampleSDID@32473 iut=\"3\" eventSource=\"App\\]lication\"]"
                       "[second x=\"y\"] \xEF\xBB\xBF" "An application event"),
            "An application event");
  EXPECT_EQ(syslog_msg("<13>1 - - - - - -\n"), "");
}

TEST(SyslogMsgTest, Rfc3164) {
  EXPECT_EQ(syslog_msg("<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed"),
            "'su root' failed");
  EXPECT_EQ(syslog_msg("<13>May  2 10:15:32 dc1 samba:   JSON Authentication: {}"),
            "  JSON Authentication: {}");
  EXPECT_EQ(syslog_msg("<13>May  2 10:15:32 dc1 no tag here"), "no tag here");
}

TEST(SyslogMsgTest, NoHeader) {
  EXPECT_EQ(syslog_msg("{\"EventID\": 4624}"), "{\"EventID\": 4624}");
  EXPECT_EQ(syslog_msg("<13>{\"EventID\": 4624}\r\n"), "{\"EventID\": 4624}");
}

TEST(NetworkTest, AddressesNetworksAndWildcards) {
  EXPECT_EQ(to_text(*parse_address("::ffff:10.1.2.3")), "10.1.2.3");
  EXPECT_EQ(to_text(*parse_address("2001:DB8:0::1")), "2001:db8::1");
  EXPECT_EQ(to_text(*parse_address("fe80::1%eth0")), "fe80::1");
  EXPECT_FALSE(parse_address("-").has_value());
  EXPECT_FALSE(parse_address("10.1.2").has_value());

  const Network ten = *parse_network("10.0.0.0/8");
  EXPECT_TRUE(ten.contains(*parse_address("10.255.0.1")));
  EXPECT_FALSE(ten.contains(*parse_address("11.0.0.1")));
  EXPECT_FALSE(ten.contains(*parse_address("::a00:1"))) << "families never mix";
  const Network odd = *parse_network("192.168.1.130/25");
  EXPECT_TRUE(odd.contains(*parse_address("192.168.1.200")));
  EXPECT_FALSE(odd.contains(*parse_address("192.168.1.127")));
  EXPECT_TRUE(parse_network("2001:db8::/32")->contains(*parse_address("2001:db8:ffff::1")));
  EXPECT_TRUE(parse_network("127.0.0.21")->contains(*parse_address("127.0.0.21")));
  EXPECT_FALSE(parse_network("127.0.0.21")->contains(*parse_address("127.0.0.22")));
  EXPECT_TRUE(parse_network("0.0.0.0/0")->contains(*parse_address("8.8.8.8")));
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10/8", "::/129", "x", "10.0.0.0/8x"}) {
    EXPECT_FALSE(parse_network(bad).has_value()) << bad;
  }

  EXPECT_TRUE(wildcard_match("*$", "DC1$"));
  EXPECT_FALSE(wildcard_match("*$", "alice"));
  EXPECT_TRUE(wildcard_match("svc-*", "SVC-Backup"));
  EXPECT_TRUE(wildcard_match("a?c*", "abcdef"));
  EXPECT_FALSE(wildcard_match("a?c", "ac"));
  EXPECT_TRUE(wildcard_match("*", ""));
}

TEST(ListenTest, ParsesSchemesAndAddresses) {
  Transport transport{};
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(parse_listen("udp://0.0.0.0:514", &transport, &host, &port));
  EXPECT_EQ(transport, Transport::kUdp);
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 514);
  ASSERT_TRUE(parse_listen("tls://[::]:6514", &transport, &host, &port));
  EXPECT_EQ(transport, Transport::kTls);
  EXPECT_EQ(host, "::");
  ASSERT_TRUE(parse_listen("tcp://127.0.0.1:0", &transport, &host, &port));
  for (const char* bad : {"tcp://host.example:514", "http://1.2.3.4:80", "tcp://1.2.3.4",
                          "tcp://::1:514", "udp://1.2.3.4:65536", "1.2.3.4:514"}) {
    EXPECT_FALSE(parse_listen(bad, &transport, &host, &port)) << bad;
  }
}

}  // namespace
}  // namespace dirfeed::ipsource
