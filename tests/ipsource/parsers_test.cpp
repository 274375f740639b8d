// Parse profiles on real-looking records: Windows Security events as Winlogbeat (ECS JSON),
// NXLog to_json and NXLog key=value forward them, Samba's JSON authentication audit, regex.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "ipsource/fields.hpp"
#include "ipsource/parsers.hpp"
#include "ipsource/syslog.hpp"

namespace dirfeed::ipsource {
namespace {

using Kind = LogonEvent::Kind;

// Winlogbeat 8 (ECS), one 4624 network logon, as Logstash's json_lines or a file forwards it.
constexpr char kWinlogbeat4624[] =
    R"({"@timestamp":"2024-05-02T10:15:32.123Z","event":{"code":"4624","kind":"event",)"
    R"("provider":"Microsoft-Windows-Security-Auditing","action":"logged-in",)"
    R"("category":["authentication"],"type":["start"],"outcome":"success"},)"
    R"("winlog":{"channel":"Security","computer_name":"DC1.example.test","event_id":"4624",)"
    R"("provider_name":"Microsoft-Windows-Security-Auditing","record_id":123456,)"
    R"("event_data":{"SubjectUserSid":"S-1-0-0","SubjectUserName":"-","SubjectDomainName":"-",)"
    R"("SubjectLogonId":"0x0","TargetUserSid":"S-1-5-21-3623811015-3361044348-30300820-1013",)"
    R"("TargetUserName":"alice","TargetDomainName":"EXAMPLE","TargetLogonId":"0x8a3c21f",)"
    R"("LogonType":"3","LogonProcessName":"Kerberos","AuthenticationPackageName":"Kerberos",)"
    R"("WorkstationName":"-","LogonGuid":"{6a0f1f5e-2c34-5b9e-8f3a-1c2d3e4f5a6b}",)"
    R"("TransmittedServices":"-","LmPackageName":"-","KeyLength":"0","ProcessId":"0x0",)"
    R"("ProcessName":"-","IpAddress":"10.1.2.3","IpPort":"50123","ImpersonationLevel":"%%1833"},)"
    R"("logon":{"id":"0x8a3c21f","type":"Network"}},"host":{"name":"DC1.example.test"},)"
    R"("agent":{"type":"winlogbeat","version":"8.13.2"}})";

// NXLog im_msvistalog + to_json(), inside an RFC 5424 header (to_syslog_ietf).
constexpr char kNxlogJson4624[] =
    R"(<14>1 2024-05-02T10:15:32.000000+00:00 DC1.example.test Microsoft-Windows-Security-Auditing 636 - - )"
    R"({"EventTime":"2024-05-02 10:15:32","Hostname":"DC1.example.test","Keywords":-9214364837600034816,)"
    R"("EventType":"AUDIT_SUCCESS","SeverityValue":2,"Severity":"INFO","EventID":4624,)"
    R"("SourceName":"Microsoft-Windows-Security-Auditing","Version":2,"TaskValue":12544,)"
    R"("RecordNumber":987654,"ExecutionProcessID":636,"Channel":"Security",)"
    R"("Message":"An account was successfully logged on.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-5-18",)"
    R"("Category":"Logon","SubjectUserSid":"S-1-5-18","SubjectUserName":"DC1$",)"
    R"("SubjectDomainName":"EXAMPLE","SubjectLogonId":"0x3e7","TargetUserSid":"S-1-5-21-1-2-3-1104",)"
    R"("TargetUserName":"bob","TargetDomainName":"EXAMPLE","TargetLogonId":"0x1a2b3c",)"
    R"("LogonType":"10","LogonProcessName":"User32 ","AuthenticationPackageName":"Negotiate",)"
    R"("WorkstationName":"WS042","IpAddress":"::ffff:192.168.10.42","IpPort":"0",)"
    R"("EventReceivedTime":"2024-05-02 10:15:33","SourceModuleName":"eventlog",)"
    R"("SourceModuleType":"im_msvistalog"})";

// NXLog xm_kvp to_kvp(), inside an RFC 3164 header (to_syslog_bsd).
constexpr char kNxlogKv4624[] =
    R"(<14>May  2 10:15:32 DC1 Microsoft-Windows-Security-Auditing[636]: EventTime="2024-05-02 10:15:32" )"
    R"(Hostname=DC1.example.test EventID=4624 SourceName="Microsoft-Windows-Security-Auditing" )"
    R"(SubjectUserName=DC1$ SubjectDomainName=EXAMPLE TargetUserName=carol TargetDomainName=EXAMPLE )"
    R"(TargetLogonId=0x77aa LogonType=2 IpAddress=127.0.0.1 IpPort=0 )"
    R"(Message="An account was successfully logged on.")";

// Samba AD DC, auth_json_audit:3 (one simple bind over LDAPS), as rsyslog's imfile reads the
// log file and forwards it in RFC 5424 with octet counting.
constexpr char kSambaAuth[] =
    R"(<133>1 2024-05-02T10:15:32.123456+00:00 testhost samba - - - )"
    R"(  JSON Authentication: {"timestamp": "2024-05-02T10:15:32.120514+0000", "type": "Authentication", )"
    R"("Authentication": {"version": {"major": 1, "minor": 2}, "eventId": 4624, "logonId": "0", )"
    R"("logonType": 8, "status": "NT_STATUS_OK", "localAddress": "ipv4:127.0.0.11:636", )"
    R"("remoteAddress": "ipv4:127.0.0.21:57103", "serviceDescription": "LDAP", )"
    R"("authDescription": "simple bind", "clientDomain": null, )"
    R"("clientAccount": "CN=alice,CN=Users,DC=example,DC=test", "workstation": null, )"
    R"("becameAccount": "alice", "becameDomain": "EXAMPLE", )"
    R"("becameSid": "S-1-5-21-1-2-3-1105", "mappedAccount": "alice", "mappedDomain": "EXAMPLE", )"
    R"("netlogonComputer": null, "netlogonTrustAccount": null, "netlogonNegotiateFlags": "0x00000000", )"
    R"("netlogonSecureChannelType": 0, "netlogonTrustAccountSid": null, "passwordType": "Plaintext", )"
    R"("duration": 25132}})";

std::optional<LogonEvent> parse(Format format, std::string_view message,
                                MessageParser* parser = nullptr) {
  SourceOptions options;
  options.format = format;
  std::unique_ptr<MessageParser> own;
  if (parser == nullptr) {
    own = make_parser(options);
    parser = own.get();
  }
  return parser->parse(syslog_msg(message));
}

// Whether `event` was parsed as a `kind` of `user` in `domain` from `ip`; the failure names
// what was parsed instead.
::testing::AssertionResult parsed_as(const std::optional<LogonEvent>& event, Kind kind,
                                     const std::string& user, const std::string& domain,
                                     const std::string& ip) {
  if (!event) return ::testing::AssertionFailure() << "no event";
  if (event->kind == kind && event->user == user && event->domain == domain && event->ip == ip) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << (event->kind == Kind::kLogon ? "logon" : "logoff") << " of user \"" << event->user
         << "\" in domain \"" << event->domain << "\" from \"" << event->ip << "\"";
}

TEST(WindowsSecurityTest, WinlogbeatJson4624) {
  EXPECT_TRUE(parsed_as(parse(Format::kWindowsSecurity, kWinlogbeat4624), Kind::kLogon, "alice",
                        "EXAMPLE", "10.1.2.3"));
}

TEST(WindowsSecurityTest, NxlogJson4624) {
  auto event = parse(Format::kWindowsSecurity, kNxlogJson4624);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->user, "bob");
  EXPECT_EQ(event->domain, "EXAMPLE");
  EXPECT_EQ(event->ip, "::ffff:192.168.10.42");
}

TEST(WindowsSecurityTest, NxlogKeyValue4624) {
  auto event = parse(Format::kWindowsSecurity, kNxlogKv4624);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->user, "carol");
  EXPECT_EQ(event->ip, "127.0.0.1");
}

TEST(WindowsSecurityTest, LogonTypesOtherThan2_3_10_11AreNotLogons) {
  std::string service(kWinlogbeat4624);
  service.replace(service.find(R"("LogonType":"3")"), 15, R"("LogonType":"5")");
  EXPECT_FALSE(parse(Format::kWindowsSecurity, service).has_value()) << "5: a service";
  std::string unlock(kNxlogKv4624);
  unlock.replace(unlock.find("LogonType=2"), 11, "LogonType=7");
  EXPECT_FALSE(parse(Format::kWindowsSecurity, unlock).has_value()) << "7: an unlock";
  std::string no_ip(kWinlogbeat4624);
  no_ip.replace(no_ip.find("10.1.2.3"), 8, "-");
  EXPECT_FALSE(parse(Format::kWindowsSecurity, no_ip).has_value());
}

TEST(WindowsSecurityTest, KerberosTicketEvents) {
  const std::string tgt =
      R"({"EventID":4768,"TargetUserName":"alice","TargetDomainName":"EXAMPLE.TEST",)"
      R"("TargetSid":"S-1-5-21-1-2-3-1105","ServiceName":"krbtgt","TicketOptions":"0x40810010",)"
      R"("Status":"0x0","TicketEncryptionType":"0x12","PreAuthType":"2",)"
      R"("IpAddress":"::ffff:10.9.8.7","IpPort":"49711"})";
  auto event = parse(Format::kWindowsSecurity, tgt);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->user, "alice");
  EXPECT_EQ(event->domain, "EXAMPLE.TEST");
  EXPECT_EQ(event->ip, "::ffff:10.9.8.7");
  const std::string service_ticket =
      R"({"winlog":{"event_id":4769,"event_data":{"TargetUserName":"alice@EXAMPLE.TEST",)"
      R"("TargetDomainName":"EXAMPLE.TEST","ServiceName":"cifs/fs1","Status":"0x0",)"
      R"("IpAddress":"::ffff:10.9.8.7","IpPort":"49712"}}})";
  event = parse(Format::kWindowsSecurity, service_ticket);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->user, "alice@EXAMPLE.TEST");
  std::string failed = tgt;
  failed.replace(failed.find(R"("Status":"0x0")"), 14, R"("Status":"0x18")");
  EXPECT_FALSE(parse(Format::kWindowsSecurity, failed).has_value()) << "a bad password";
}

TEST(WindowsSecurityTest, LogoffTakesTheAddressOfItsLogonSession) {
  SourceOptions options;
  options.format = Format::kWindowsSecurity;
  std::unique_ptr<MessageParser> parser = make_parser(options);
  const std::string logoff =
      R"({"winlog":{"event_id":"4634","event_data":{"TargetUserSid":"S-1-5-21-1-2-3-1013",)"
      R"("TargetUserName":"alice","TargetDomainName":"EXAMPLE","TargetLogonId":"0x8a3c21f",)"
      R"("LogonType":"3"}}})";
  EXPECT_FALSE(parse(Format::kWindowsSecurity, logoff, parser.get()).has_value())
      << "a session it never saw: no address";
  ASSERT_TRUE(parse(Format::kWindowsSecurity, kWinlogbeat4624, parser.get()).has_value());
  auto event = parse(Format::kWindowsSecurity, logoff, parser.get());
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind, Kind::kLogoff);
  EXPECT_EQ(event->user, "alice");
  EXPECT_EQ(event->ip, "10.1.2.3");
  EXPECT_FALSE(parse(Format::kWindowsSecurity, logoff, parser.get()).has_value())
      << "the session ended";
  ASSERT_TRUE(parse(Format::kWindowsSecurity, kNxlogKv4624, parser.get()).has_value());
  event = parse(Format::kWindowsSecurity,
                "EventID=4647 TargetUserName=carol TargetDomainName=EXAMPLE TargetLogonId=0x77aa",
                parser.get());
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind, Kind::kLogoff);
  EXPECT_EQ(event->ip, "127.0.0.1");
}

TEST(WindowsSecurityTest, OtherRecordsAreNone) {
  EXPECT_FALSE(parse(Format::kWindowsSecurity, R"({"EventID":4625,"TargetUserName":"alice",)"
                                               R"("IpAddress":"10.1.2.3","LogonType":"3"})")
                   .has_value());
  EXPECT_FALSE(parse(Format::kWindowsSecurity, R"({"EventID":4672,"SubjectUserName":"alice",)"
                                               R"("SubjectLogonId":"0x4624"})")
                   .has_value())
      << "special privileges: 4624 in the text does not make it a logon";
  EXPECT_FALSE(parse(Format::kWindowsSecurity, "just some text").has_value());
  EXPECT_FALSE(parse(Format::kWindowsSecurity, "{\"EventID\": 4624, broken").has_value());
}

TEST(SambaAuthTest, SuccessfulAuthentication) {
  EXPECT_TRUE(parsed_as(parse(Format::kSambaAuthJson, kSambaAuth), Kind::kLogon, "alice", "EXAMPLE",
                        "127.0.0.21"));
}

TEST(SambaAuthTest, Ipv6AndFailuresAndOtherRecords) {
  std::string v6(kSambaAuth);
  v6.replace(v6.find("ipv4:127.0.0.21:57103"), 21, "ipv6:2001:db8::7:57103");
  auto event = parse(Format::kSambaAuthJson, v6);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->ip, "2001:db8::7");

  std::string failed(kSambaAuth);
  failed.replace(failed.find("NT_STATUS_OK"), 12, "NT_STATUS_WRONG_PASSWORD");
  failed.replace(failed.find("4624"), 4, "4625");
  EXPECT_FALSE(parse(Format::kSambaAuthJson, failed).has_value());
  EXPECT_FALSE(parse(Format::kSambaAuthJson,
                     R"(  JSON Authorization: {"type": "Authorization", "Authorization": {}})")
                   .has_value());
  EXPECT_FALSE(parse(Format::kSambaAuthJson,
                     "[2024/05/02 10:15:32.120514,  3] ../../auth/auth_log.c:760(log_json)")
                   .has_value())
      << "the debug header line before each record";
}

TEST(RegexTest, NamedGroupsLogonAndLogout) {
  SourceOptions options;
  options.format = Format::kRegex;
  options.regex = R"(Login OK: \[(?<user>[^\]]+)\] .* cli (?<ip>[0-9.]+))";
  options.logout_regex = R"(Acct-Stop user=(?<domain>\w+)\\(?<user>\S+) ip=(?<ip>\S+))";
  std::unique_ptr<MessageParser> parser = make_parser(options);
  EXPECT_TRUE(parsed_as(
      parser->parse(syslog_msg("<38>May  2 10:15:32 radius1 radiusd[1234]: Login OK: "
                               "[alice@example.test] (from client wifi port 0 cli 10.20.30.40)")),
      Kind::kLogon, "alice@example.test", "", "10.20.30.40"));
  auto event = parser->parse("Acct-Stop user=EXAMPLE\\bob ip=10.20.30.41");
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind, Kind::kLogoff);
  EXPECT_EQ(event->user, "bob");
  EXPECT_EQ(event->domain, "EXAMPLE");
  EXPECT_FALSE(parser->parse("Login incorrect: [alice]").has_value());
}

TEST(RegexTest, CheckRegexNamesTheProblem) {
  std::string error;
  EXPECT_TRUE(check_regex(R"((?<user>\S+) from (?<ip>\S+))", &error));
  EXPECT_FALSE(check_regex(R"((?<user>\S+) from (?<ip>\S+)", &error));
  EXPECT_EQ(error.find("is not a valid regular expression: "), 0u) << error;
  EXPECT_FALSE(check_regex(R"((?<user>\S+) from (\S+))", &error));
  EXPECT_EQ(error, "has no named group (?<ip>...)");
}

TEST(FieldsTest, JsonEscapesNestingAndKeyValue) {
  Fields fields;
  ASSERT_TRUE(parse_json_fields(
      R"(prefix {"a": {"b": "x\"\u00e9\ud83d\ude00", "n": -1.5e3, "t": true, "z": null},)"
      R"( "list": [1, {"c": "hidden"}], "d": "y"})",
      &fields));
  EXPECT_EQ(fields.get("a.b"), "x\"\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(fields.get("A.N"), "-1.5e3") << "case-insensitive paths";
  EXPECT_EQ(fields.get("a.t"), "true");
  EXPECT_EQ(fields.find("a.z"), nullptr);
  EXPECT_EQ(fields.find("list.c"), nullptr);
  EXPECT_EQ(fields.get("d"), "y");
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "{\"k\":";
  EXPECT_FALSE(parse_json_fields(deep + "1" + std::string(40, '}'), &fields));
  ASSERT_TRUE(parse_kv_fields(R"(a=1, b="two words";c='x\'y' d=)", &fields));
  EXPECT_EQ(fields.get("a"), "1");
  EXPECT_EQ(fields.get("b"), "two words");
  EXPECT_EQ(fields.get("c"), "x'y");
  EXPECT_EQ(fields.get("d"), "");
}

}  // namespace
}  // namespace dirfeed::ipsource
