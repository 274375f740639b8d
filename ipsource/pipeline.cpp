#include "ipsource/pipeline.hpp"

#include <boost/log/trivial.hpp>

#include "core/text.hpp"
#include "ipsource/syslog.hpp"

namespace dirfeed::ipsource {

UserResolver::UserResolver(const changefeed::StoreReads& store, std::vector<DomainName> domains)
    : store_(store), domains_(std::move(domains)) {}

std::string UserResolver::netbios_of(std::string_view name) const {
  for (const DomainName& domain : domains_) {
    std::string netbios = domain.netbios;
    if (netbios.empty()) {
      std::optional<pb::Cursor> cursor = store_.cursor(domain.dns);
      if (cursor) netbios = cursor->netbios_name();
    }
    if (iequals(name, domain.dns) || (!netbios.empty() && iequals(name, netbios))) return netbios;
  }
  return "";
}

std::optional<std::string> UserResolver::resolve(std::string_view user, std::string_view domain,
                                                 std::string_view source_domain,
                                                 std::string* account) const {
  std::string_view sam = user;
  std::string_view in = domain;
  bool upn = false;
  if (const size_t slash = user.find('\\'); slash != std::string_view::npos) {
    in = user.substr(0, slash);
    sam = user.substr(slash + 1);
  } else if (const size_t at = user.rfind('@'); at != std::string_view::npos) {
    sam = user.substr(0, at);
    in = user.substr(at + 1);
    upn = true;
  }
  *account = std::string(sam);
  if (sam.empty()) return std::nullopt;
  if (upn) {
    // A UPN as AD stores it (its suffix may be any UPN suffix of the forest), before the
    // implicit one, sam@domain.
    std::optional<pb::DirectoryObject> object = store_.object_by_upn(std::string(user));
    if (object && object->kind() == pb::USER) return object->guid();
  }
  std::string netbios;
  if (!in.empty()) {
    netbios = netbios_of(in);
  } else if (!source_domain.empty()) {
    netbios = netbios_of(source_domain);
  } else if (domains_.size() == 1) {
    netbios = netbios_of(domains_.front().dns);
  }
  if (netbios.empty()) return std::nullopt;
  std::optional<pb::DirectoryObject> object =
      store_.object_by_ntlm(netbios + "\\" + std::string(sam));
  if (!object || object->kind() != pb::USER) return std::nullopt;
  return object->guid();
}

Pipeline::Pipeline(const SourceOptions& options, int64_t lifetime_us,
                   const UserResolver& resolver, SourceCounters& counters)
    : options_(options),
      lifetime_us_(lifetime_us),
      resolver_(resolver),
      counters_(counters),
      parser_(make_parser(options)) {}

bool Pipeline::ignored_user(const std::string& account) const {
  for (const std::string& pattern : options_.ignore_users) {
    if (wildcard_match(pattern, account)) return true;
  }
  return false;
}

bool Pipeline::ignored_address(const Address& address) const {
  bool included = options_.include_networks.empty();
  for (const Network& network : options_.include_networks) {
    if (network.contains(address)) included = true;
  }
  if (!included) return true;
  for (const Network& network : options_.exclude_networks) {
    if (network.contains(address)) return true;
  }
  return false;
}

std::optional<std::string> Pipeline::resolve(const LogonEvent& event, std::string* account) {
  const auto now = std::chrono::steady_clock::now();
  std::string key = event.user + '\0' + event.domain;
  {
    std::lock_guard lock(resolved_mutex_);
    if (auto it = resolved_.find(key); it != resolved_.end() && it->second.until > now) {
      *account = it->second.account;
      return it->second.guid;
    }
  }
  // The store is read outside the lock: two threads may both miss and ask, both answers hold.
  Resolved entry;
  entry.guid = resolver_.resolve(event.user, event.domain, options_.domain, &entry.account);
  entry.until = now + kResolveCacheTtl;
  *account = entry.account;
  std::optional<std::string> guid = entry.guid;
  std::lock_guard lock(resolved_mutex_);
  if (resolved_.size() >= kResolveCacheEntries) resolved_.clear();
  resolved_.insert_or_assign(std::move(key), std::move(entry));
  return guid;
}

void Pipeline::add(std::string_view message, std::vector<changefeed::IpEvent>* events) {
  std::optional<LogonEvent> event = parser_->parse(syslog_msg(message));
  if (!event) return;
  counters_.parsed.fetch_add(1, std::memory_order_relaxed);
  std::optional<Address> address = parse_address(event->ip);
  std::string account;
  std::optional<std::string> guid = resolve(*event, &account);
  if (!address || ignored_address(*address) || ignored_user(account)) {
    counters_.ignored.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!guid) {
    counters_.unknown_user.fetch_add(1, std::memory_order_relaxed);
    BOOST_LOG_TRIVIAL(debug) << "ip source " << options_.name << ": unknown user \""
                             << event->user << "\" (domain \"" << event->domain << "\") at "
                             << event->ip;
    return;
  }
  const auto kind = event->kind == LogonEvent::Kind::kLogon ? changefeed::IpEvent::Kind::kLogon
                                                            : changefeed::IpEvent::Kind::kLogoff;
  events->push_back(changefeed::IpEvent{kind, std::move(*guid), to_text(*address), lifetime_us_});
}

void Pipeline::write(changefeed::ApiWrites& store, std::vector<changefeed::IpEvent>* events) {
  if (events->empty()) return;
  changefeed::IpEventStats stats;
  const Status status = store.apply_ip_events(*events, &stats);
  if (!status.is_ok()) {
    counters_.dropped.fetch_add(events->size(), std::memory_order_relaxed);
    BOOST_LOG_TRIVIAL(error) << "ip source " << options_.name << ": " << events->size()
                             << " events lost: " << status.message();
  } else {
    counters_.mapped.fetch_add(stats.mapped + stats.unmapped, std::memory_order_relaxed);
    // Skipped: a user deleted since it was resolved, or a logoff of an IP it lost.
    counters_.ignored.fetch_add(stats.skipped, std::memory_order_relaxed);
  }
  events->clear();
}

}  // namespace dirfeed::ipsource
