#pragma once
// What dirfeed knows about each domain controller of one domain: the one view
// that the poller and the change notifier share, so a DC that refused one of
// them is not asked again by the other, and a DC in backoff is not tried by
// either until its backoff ends.
//
// A refused bind (wrong password or key, locked or expired account) is not a
// network fault: every retry is one more failed logon on the DC, and a lockout
// policy (commonly 5 to 10 bad attempts in 30 minutes) would lock the service
// account. Such a DC backs off for kCredentialBackoff at once, doubling up to
// kCredentialBackoffMax, and is retried at once when the password file (or the
// keytab, for a Kerberos bind) changes (refresh()).
//
// For a Kerberos bind (bind.method gssapi) it also holds the domain's Kerberos
// credentials, so that poller and notifier bind with the same tickets.
//
// Threading: every method may be called from any thread.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "ldap/directory.hpp"
#include "ldap/options.hpp"

namespace dirfeed::ldap {

// Backoff after the n-th consecutive failure of a DC: 5 s doubling, capped at 5
// min.
std::chrono::milliseconds network_backoff(int failures);

// The first backoff after a refused bind, and its cap (doubling in between):
// one failed logon per 30 minutes at most stays below any lockout threshold
// counted over 30 minutes.
inline constexpr std::chrono::minutes kCredentialBackoff{5};
inline constexpr std::chrono::minutes kCredentialBackoffMax{30};
std::chrono::milliseconds credential_backoff(int failures);

// When `error` is the bind's credential being refused or unusable, what it
// means in words: Error::credential_problem when set (a Kerberos bind), else,
// for the DC refusing a simple bind itself (LDAP 49 invalidCredentials; AD's
// data codes in the diagnostic, e.g. "data 52e"), words naming the account of
// `bind_dn` ("wrong password for svc-dirfeed", "account svc-dirfeed locked");
// else empty.
std::string credential_problem(const Error &error, const std::string &bind_dn);

// The account name in a bind DN: "svc-dirfeed" from "svc-dirfeed@example.test",
// "EXAMPLE\svc-dirfeed" or "CN=svc-dirfeed,OU=...".
std::string account_name(const std::string &bind_dn);

struct ControllerState {
  std::string uri;
  int failures = 0;           // consecutive failures (0: healthy)
  int64_t retry_after_us = 0; // not tried before this time (Clock::now_us)
  std::string last_error;
  std::string credential_problem; // non-empty: the last failure was a refused
                                  // bind (in words)
};

class ControllerHealth {
public:
  // `uris` in configured order; secret_file(bind) is watched for changes
  // (refresh()).
  ControllerHealth(std::vector<std::string> uris, BindOptions bind,
                   const Clock &clock);
  ~ControllerHealth();

  // Claims `uri` for one connect-and-bind attempt. False while the DC backs off;
  // while another attempt on it (the poller's or the notifier's) is under way,
  // false too, or with `wait` the end of that attempt is awaited and decides (a
  // refused bind then leaves the DC backing off: one failed logon, not two). The
  // claimer ends the claim with release(), after failed() when the attempt
  // failed (so that nobody slips in between).
  bool claim(const std::string &uri, bool wait = false);
  // Ends the caller's claim on `uri`; `bound`: the bind succeeded, which clears
  // a credential problem.
  void release(const std::string &uri, bool bound);
  // A pass on the DC succeeded: it is healthy again.
  void succeeded(const std::string &uri);
  // Records a failure of the DC; returns the backoff now in force.
  std::chrono::milliseconds failed(const std::string &uri, const Error &error);

  // Rereads the password file or keytab when some DC has a credential problem;
  // when its content changed since the problem was recorded, clears those
  // backoffs and returns true (the caller tries again at once).
  bool refresh();

  // The Kerberos credentials to bind with when bind.method is gssapi (give them
  // to Connection::open), else nullptr.
  KerberosCredentials *kerberos() const { return kerberos_.get(); }

  // Time until the earliest retry of a DC (zero when one may be tried now).
  std::chrono::milliseconds wait_time() const;
  bool any_credential_problem() const;
  std::vector<ControllerState> snapshot() const;
  const Clock &clock() const { return clock_; }

private:
  ControllerState *find(const std::string &uri);
  std::optional<size_t> secret_hash() const;

  const BindOptions bind_;
  const Clock &clock_;
  const std::unique_ptr<KerberosCredentials> kerberos_;
  mutable std::mutex mutex_; // guards the members below
  std::vector<ControllerState> states_;
  std::vector<bool> claimed_; // parallel to states_
  std::condition_variable released_; // signalled by release()
  std::optional<size_t>
      refused_secret_; // hash of the password file or keytab a DC refused
};

} // namespace dirfeed::ldap
