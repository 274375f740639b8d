#pragma once
// From a source's syslog messages to IP mappings in the store: the parse profile, the
// source's filters (ignore_users, include/exclude_networks), the user an event names, and one
// store write per batch (DESIGN.md section 5: IP sources).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "changefeed/store.hpp"
#include "ipsource/options.hpp"
#include "ipsource/parsers.hpp"

namespace dirfeed::ipsource {

// What a source did since the daemon started. Written by the receiving and writer threads,
// read by anyone (relaxed atomics: each counter is exact, a snapshot of all is not). Every
// message received that records a logon or logoff ends up in exactly one of mapped,
// unknown_user, ignored and dropped.
struct SourceCounters {
  std::atomic<uint64_t> received{0};      // messages read (after allowed_senders)
  std::atomic<uint64_t> parsed{0};        // messages that are a logon or logoff
  std::atomic<uint64_t> mapped{0};        // events written: IPs mapped, renewed or unmapped
  std::atomic<uint64_t> unknown_user{0};  // events naming no user in the store
  std::atomic<uint64_t> ignored{0};       // events ignore_users or the networks leave out,
                                          // logoffs of an IP the user no longer has
  std::atomic<uint64_t> dropped{0};       // lost: messages too long or from a sender not
                                          // allowed, events of a full queue or a failed
                                          // store write
};

// A configured AD domain as users name it.
struct DomainName {
  std::string dns;      // lower case, e.g. example.test
  std::string netbios;  // e.g. EXAMPLE; empty: the one its poller stored in the domain's cursor
};

// Finds the AD user (any live user of the store) an account name names, ASCII
// case-insensitively: DOMAIN\sam (DOMAIN NetBIOS or DNS), a userPrincipalName as stored
// (whatever its suffix), sam@domain (a configured domain's DNS or NetBIOS name, or a Kerberos
// realm of it: the implicit UPN), or sam in `domain` (from the event, else the source's
// `domain`, else the only configured domain). Thread-safe.
class UserResolver {
 public:
  UserResolver(const changefeed::StoreReads& store, std::vector<DomainName> domains);
  // The user's GUID, or nullopt. `account` is set to the bare account name (for
  // ignore_users) even when no user is found.
  std::optional<std::string> resolve(std::string_view user, std::string_view domain,
                                     std::string_view source_domain, std::string* account) const;

 private:
  // The NetBIOS name of the configured domain `name` (DNS or NetBIOS), or "" when unknown.
  std::string netbios_of(std::string_view name) const;

  const changefeed::StoreReads& store_;
  std::vector<DomainName> domains_;
};

// One source's processing: add() on the receiving threads (concurrently: it is thread-safe),
// write() on the writer thread.
class Pipeline {
 public:
  // `lifetime_us`: how long a logon maps its IP (the source's timeout, or the API default).
  Pipeline(const SourceOptions& options, int64_t lifetime_us, const UserResolver& resolver,
           SourceCounters& counters);

  // Parses one syslog message (header included), resolves its user and appends its IP event
  // to *events, or counts why it has none. Thread-safe.
  void add(std::string_view message, std::vector<changefeed::IpEvent>* events);

  // Writes `events` in one store write and counts the outcome; clears `events`. One thread
  // at a time.
  void write(changefeed::ApiWrites& store, std::vector<changefeed::IpEvent>* events);

  const SourceOptions& options() const { return options_; }
  SourceCounters& counters() { return counters_; }

 private:
  bool ignored_user(const std::string& account) const;
  bool ignored_address(const Address& address) const;
  // resolver_.resolve through a cache of recent answers (found or not).
  std::optional<std::string> resolve(const LogonEvent& event, std::string* account);

  struct Resolved {
    std::optional<std::string> guid;
    std::string account;
    std::chrono::steady_clock::time_point until;
  };

  const SourceOptions options_;
  const int64_t lifetime_us_;
  const UserResolver& resolver_;
  SourceCounters& counters_;
  std::unique_ptr<MessageParser> parser_;
  std::mutex resolved_mutex_;
  std::unordered_map<std::string, Resolved> resolved_;  // user \0 domain -> answer; guarded
                                                        // by resolved_mutex_
};

// How long Pipeline trusts an answer of the store about a name (a user created or renamed in AD
// is found by name this much after its poll at the latest), and how many it keeps.
inline constexpr std::chrono::seconds kResolveCacheTtl{10};
inline constexpr size_t kResolveCacheEntries = 100'000;

}  // namespace dirfeed::ipsource
