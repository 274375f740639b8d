// IP mappings from a real DC's logons: the Samba AD DC with its JSON authentication audit on,
// rsyslog following its log with imfile and forwarding over TCP (RFC 5424, octet counting) to
// the real `dirfeed` binary's samba-auth-json source, as an admin would set it up. A simple
// bind from 127.0.0.21 maps that address to the user in the User ID API within 2 s (ip-add);
// a second user's bind from the same address moves it. A VPN-style line naming a user by a UPN
// whose suffix is not the domain's name (set on the Samba user) maps too.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ldap.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>

#include "tests/integration/daemon_client.hpp"

namespace dirfeed::testing {
namespace {

using namespace std::chrono_literals;
namespace http = boost::beast::http;

constexpr char kPassword[] = "Logon!Pass1";
constexpr char kClientAddress[] = "127.0.0.21";  // the logons' source, not the DC's address

// A simple bind over LDAPS as `upn`, the client socket bound to `source` (what a user's
// machine at that address does). Returns libldap's result code.
int bind_from(const SambaDc& dc, const std::string& source, const std::string& upn) {
  LDAP* ld = nullptr;
  if (ldap_initialize(&ld, dc.uri().c_str()) != LDAP_SUCCESS) return LDAP_OTHER;
  const int version = LDAP_VERSION3;
  ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
  ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, dc.ca_file().c_str());
  const int require = LDAP_OPT_X_TLS_DEMAND;
  ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require);
  const int new_context = 0;
  ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &new_context);
  ldap_set_option(ld, LDAP_OPT_SOCKET_BIND_ADDRESSES, source.c_str());
  berval credentials{static_cast<ber_len_t>(std::strlen(kPassword)), const_cast<char*>(kPassword)};
  const int rc =
      ldap_sasl_bind_s(ld, upn.c_str(), LDAP_SASL_SIMPLE, &credentials, nullptr, nullptr, nullptr);
  ldap_unbind_ext_s(ld, nullptr, nullptr);
  return rc;
}

std::string add_user_ldif(const std::string& name, const std::string& upn = "") {
  return "dn: CN=" + name + ",CN=Users,DC=example,DC=test\nchangetype: add\nobjectClass: user\n"
         "sAMAccountName: " + name + "\nuserPrincipalName: " +
         (upn.empty() ? name + "@example.test" : upn) + "\n"
         "unicodePwd:: " + SambaDc::unicode_pwd(kPassword) + "\nuserAccountControl: 512\n\n";
}

// Sends one UDP datagram to 127.0.0.1:port.
void send_udp(uint16_t port, const std::string& text) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&to),
                     sizeof to),
            static_cast<ssize_t>(text.size()));
  ::close(fd);
}

TEST(IpSourcesIntegrationTest, SambaLogonsReachTheUserIdApiThroughRsyslog) {
  SambaDc& dc = shared_dc();
  dc.set_options({"log level=1 auth_json_audit:3"});
  dc.reset();
  dc.ldif(add_user_ldif("ipalice") + add_user_ldif("ipbob") +
          add_user_ldif("ipcarol", "Carol.Jones@corp.example.com"));

  TempDir dir;
  const std::string log = dir.path() + "/dirfeed.log";
  const std::string config = write_config(dir, dc, {.log_level = "debug"});
  write_text(config, read_text(config) +
                         "ip_sources:\n"
                         "  - name: samba-dc\n"
                         "    listen: tcp://127.0.0.1:0\n"
                         "    format: samba-auth-json\n"
                         "    allowed_senders: [127.0.0.0/8]\n"
                         "  - name: vpn\n"
                         "    listen: udp://127.0.0.1:0\n"
                         "    format: regex\n"
                         "    regex: 'login user=(?<user>\\S+) ip=(?<ip>\\S+)'\n");
  std::optional<Process> daemon;
  const uint16_t api_port = start(daemon, config, log);
  ASSERT_NE(api_port, 0) << read_text(log);
  std::smatch match;
  const std::string logged = read_text(log);
  ASSERT_TRUE(std::regex_search(logged, match, std::regex(
      "ip source samba-dc: listening on tcp://127\\.0\\.0\\.1:(\\d+)"))) << logged;
  const std::string source_port = match[1].str();
  ASSERT_TRUE(std::regex_search(logged, match, std::regex(
      "ip source vpn: listening on udp://127\\.0\\.0\\.1:(\\d+)"))) << logged;
  const auto vpn_port = static_cast<uint16_t>(std::stoi(match[1].str()));

  // rsyslog as a plain process with its own config and work directory.
  std::filesystem::create_directories(dir.path() + "/rsyslog");
  const std::string rsyslog_conf = dir.path() + "/rsyslog.conf";
  write_text(rsyslog_conf,
             "global(workDirectory=\"" + dir.path() + "/rsyslog\")\n"
             "module(load=\"imfile\")\n"
             "input(type=\"imfile\" file=\"" + dc.dir() + "/samba.out\" tag=\"samba\")\n"
             "action(type=\"omfwd\" target=\"127.0.0.1\" port=\"" + source_port + "\"\n"
             "       protocol=\"tcp\" tcp_framing=\"octet-counted\"\n"
             "       template=\"RSYSLOG_SyslogProtocol23Format\")\n");
  const std::string rsyslog_log = dir.path() + "/rsyslog.log";
  Process rsyslog({"/usr/sbin/rsyslogd", "-n", "-f", rsyslog_conf, "-i",
                   dir.path() + "/rsyslog.pid"},
                  rsyslog_log, rsyslog_log);

  const std::string alice = "/api/uid/v1.0/user/ntlm-identity/EXAMPLE%5Cipalice";
  const std::string bob = "/api/uid/v1.0/user/ntlm-identity/EXAMPLE%5Cipbob";
  const std::string mapped = std::string(R"("ipv4_addresses":[")") + kClientAddress + "\"]";
  auto body = [&](const std::string& target) {
    return call(api_port, http::verb::get, target).body;
  };
  // rsyslog's first read of the file may take a moment after its start: the first logon is
  // repeated until it shows, the 2 s budget is measured on the second user's logon.
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_EQ(bind_from(dc, kClientAddress, "ipalice@example.test"), LDAP_SUCCESS);
        return wait_until([&] { return body(alice).find(mapped) != std::string::npos; }, 1s);
      },
      20s))
      << body(alice) << "\n--- rsyslog:\n" << read_text(rsyslog_log) << "\n--- dirfeed:\n"
      << read_text(log);
  EXPECT_NE(body(alice).find(R"("changetype":"ip-add")"), std::string::npos) << body(alice);

  const auto logon = std::chrono::steady_clock::now();
  ASSERT_EQ(bind_from(dc, kClientAddress, "ipbob@example.test"), LDAP_SUCCESS);
  EXPECT_TRUE(wait_until([&] { return body(bob).find(mapped) != std::string::npos; }, 2s))
      << body(bob);
  const auto visible = std::chrono::steady_clock::now() - logon;
  std::cerr << "[ip sources] logon to visible in the API: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(visible).count() << " ms\n";
  EXPECT_NE(body(bob).find(R"("changetype":"ip-add")"), std::string::npos) << body(bob);
  EXPECT_EQ(body(alice).find(kClientAddress), std::string::npos)
      << "one user per IP: the address left the first user\n" << body(alice);
  EXPECT_NE(body(alice).find(R"("changetype":"ip-delete")"), std::string::npos) << body(alice);

  // The DC stores ipcarol's UPN with the suffix corp.example.com (an AD UPN suffix, not the
  // domain's name): a line naming that UPN, in any case, maps the user it belongs to.
  const std::string carol = "/api/uid/v1.0/user/ntlm-identity/EXAMPLE%5Cipcarol";
  send_udp(vpn_port, "<134>May  2 10:15:32 vpn1 vpnd: login user=carol.jones@CORP.EXAMPLE.COM "
                     "ip=127.0.0.23");
  EXPECT_TRUE(wait_until(
      [&] { return body(carol).find(R"("ipv4_addresses":["127.0.0.23"])") != std::string::npos; },
      2s))
      << body(carol) << "\n--- dirfeed:\n" << read_text(log);

  const Reply metrics = call(api_port, http::verb::get, "/metrics");
  EXPECT_NE(metrics.body.find("dirfeed_ip_source_received_total{source=\"samba-dc\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace dirfeed::testing
