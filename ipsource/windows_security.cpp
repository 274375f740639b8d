// The windows-security profile: Windows Security log events as Winlogbeat (ECS JSON: winlog.*)
// and NXLog (to_json: flat JSON; xm_kvp: key=value) forward them.
//   4624 an account logged on: logon types 2 (interactive), 3 (network), 10 (remote
//        interactive), 11 (cached interactive), with TargetUserName, TargetDomainName,
//        TargetLogonId, IpAddress
//   4768 a Kerberos TGT was requested, 4769 a service ticket: TargetUserName (4769:
//        user@REALM), TargetDomainName, IpAddress (::ffff:a.b.c.d), Status 0x0 on success
//   4634 an account logged off, 4647 user-initiated logoff: TargetLogonId and no address;
//        the address is the one of that logon session's 4624, when this parser saw it.
#include <algorithm>
#include <array>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "ipsource/fields.hpp"
#include "ipsource/parsers.hpp"

namespace dirfeed::ipsource {
namespace {

// Field `name` of the event data, in Winlogbeat's (winlog.event_data.X), nested (event_data.X)
// or NXLog's (X) place; "" when absent.
std::string_view data(const Fields& fields, std::string_view name) {
  static constexpr std::string_view kWinlogbeat = "winlog.event_data.";
  std::array<char, 64> path;  // kWinlogbeat + the longest name read here, with room to spare
  if (kWinlogbeat.size() + name.size() > path.size()) return fields.get(name);
  std::copy(kWinlogbeat.begin(), kWinlogbeat.end(), path.begin());
  std::copy(name.begin(), name.end(), path.begin() + kWinlogbeat.size());
  const std::string_view winlogbeat(path.data(), kWinlogbeat.size() + name.size());
  if (const std::string* v = fields.find(winlogbeat)) return *v;
  if (const std::string* v = fields.find(winlogbeat.substr(std::string_view("winlog.").size()))) {
    return *v;
  }
  return fields.get(name);
}

std::string_view event_id(const Fields& fields) {
  for (std::string_view path : {"winlog.event_id", "EventID", "event.code", "event_id"}) {
    if (const std::string* v = fields.find(path)) return *v;
  }
  return {};
}

bool no_value(std::string_view value) { return value.empty() || value == "-"; }

// Whether `msg` has one of the event IDs read here as text: a cheap test before parsing, as a
// DC forwards many other events.
bool names_an_event_read_here(std::string_view msg) {
  for (size_t i = msg.find('4'); i != std::string_view::npos && i + 4 <= msg.size();
       i = msg.find('4', i + 1)) {
    const std::string_view id = msg.substr(i, 4);
    if (id == "4624" || id == "4634" || id == "4647" || id == "4768" || id == "4769") return true;
  }
  return false;
}

class WindowsSecurityParser final : public MessageParser {
 public:
  std::optional<LogonEvent> parse(std::string_view msg) override {
    if (!names_an_event_read_here(msg)) return std::nullopt;
    Fields fields;
    if (!parse_json_fields(msg, &fields) && !parse_kv_fields(msg, &fields)) return std::nullopt;
    const std::string_view id = event_id(fields);
    LogonEvent event;
    event.user = std::string(data(fields, "TargetUserName"));
    event.domain = std::string(data(fields, "TargetDomainName"));
    event.ip = std::string(data(fields, "IpAddress"));
    const std::string logon_id(data(fields, "TargetLogonId"));

    if (id == "4624") {
      const std::string_view type = data(fields, "LogonType");
      if (type != "2" && type != "3" && type != "10" && type != "11") return std::nullopt;
      if (no_value(event.user) || no_value(event.ip)) return std::nullopt;
      if (!logon_id.empty()) remember(logon_id, event.ip);
      return event;
    }
    if (id == "4768" || id == "4769") {
      const std::string_view status = data(fields, "Status");
      if (!status.empty() && status != "0x0" && status != "0") return std::nullopt;
      if (no_value(event.user) || no_value(event.ip)) return std::nullopt;
      return event;
    }
    if (id == "4634" || id == "4647") {
      if (no_value(event.user)) return std::nullopt;
      std::lock_guard lock(mutex_);
      auto session = sessions_.find(logon_id);
      if (session == sessions_.end()) return std::nullopt;
      event.kind = LogonEvent::Kind::kLogoff;
      event.ip = session->second;
      sessions_.erase(session);  // its order_ entry goes when it reaches the front
      return event;
    }
    return std::nullopt;
  }

 private:
  void remember(const std::string& logon_id, const std::string& ip) {
    std::lock_guard lock(mutex_);
    if (sessions_.insert_or_assign(logon_id, ip).second) order_.push_back(logon_id);
    while (order_.size() > kMaxLogonSessions) {
      sessions_.erase(order_.front());
      order_.pop_front();
    }
  }

  std::mutex mutex_;
  std::unordered_map<std::string, std::string> sessions_;  // logon ID -> address; guarded
  std::deque<std::string> order_;  // logon IDs, oldest first; guarded by mutex_
};

}  // namespace

std::unique_ptr<MessageParser> make_windows_security_parser() {
  return std::make_unique<WindowsSecurityParser>();
}

}  // namespace dirfeed::ipsource
