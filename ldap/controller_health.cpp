#include "ldap/controller_health.hpp"

#include <ldap.h>

#include <algorithm>
#include <cctype>
#include <functional>

#include "core/backoff.hpp"
#include "core/secret_file.hpp"
#include "core/text.hpp"
#include "ldap/kerberos.hpp"

namespace dirfeed::ldap {
namespace {

using std::chrono::milliseconds;

int64_t to_us(milliseconds delay) {
  return std::chrono::duration_cast<std::chrono::microseconds>(delay).count();
}

// AD's reason for a refused bind: "..., data 52e, v4563" in the diagnostic
// (Samba sends the same text). Lower-case hex digits after "data ", or empty.
std::string ad_data_code(const std::string &message) {
  size_t at = message.find("data ");
  if (at == std::string::npos)
    return {};
  std::string code;
  for (size_t i = at + 5; i < message.size() &&
                          std::isxdigit(static_cast<unsigned char>(message[i]));
       ++i) {
    code += lower_char(message[i]);
  }
  return code;
}

ControllerState fresh_state(std::string uri) {
  ControllerState state;
  state.uri = std::move(uri);
  return state;
}

} // namespace

milliseconds network_backoff(int failures) {
  using namespace std::chrono;
  return doubling_delay(static_cast<uint32_t>(std::max(failures, 0)), seconds(5), minutes(5));
}

milliseconds credential_backoff(int failures) {
  return doubling_delay(static_cast<uint32_t>(std::max(failures, 0)), kCredentialBackoff,
                        kCredentialBackoffMax);
}

std::string account_name(const std::string &bind_dn) {
  std::string name = bind_dn;
  if (size_t at = name.find('@'); at != std::string::npos)
    name.resize(at);
  const bool dn = name.size() > 3 && (name.compare(0, 3, "CN=") == 0 ||
                                      name.compare(0, 3, "cn=") == 0);
  if (size_t slash = name.find('\\'); !dn && slash != std::string::npos)
    name.erase(0, slash + 1);
  if (dn) {
    name.erase(0, 3);
    // the first RDN's value ends at an unescaped comma
    for (size_t i = 0; i < name.size(); ++i) {
      if (name[i] == '\\') {
        ++i;
      } else if (name[i] == ',') {
        name.resize(i);
        break;
      }
    }
  }
  return name;
}

std::string credential_problem(const Error &error, const std::string &bind_dn) {
  if (!error.credential_problem.empty())
    return error.credential_problem;
  if (error.code != LDAP_INVALID_CREDENTIALS)
    return {};
  const std::string account = account_name(bind_dn);
  const std::string code = ad_data_code(error.message);
  if (code == "52e")
    return "wrong password for " + account;
  if (code == "525")
    return "no account " + account;
  if (code == "775")
    return "account " + account + " locked";
  if (code == "532")
    return "password of " + account + " expired";
  if (code == "773")
    return "password of " + account + " must be changed";
  if (code == "533")
    return "account " + account + " disabled";
  if (code == "701")
    return "account " + account + " expired";
  if (code == "530" || code == "531")
    return "account " + account + " may not log on now or here";
  return "bind as " + account + " refused (invalid credentials)";
}

ControllerHealth::ControllerHealth(std::vector<std::string> uris,
                                   BindOptions bind, const Clock &clock)
    : bind_(std::move(bind)), clock_(clock),
      kerberos_(bind_.method == BindMethod::kGssapi
                    ? std::make_unique<KerberosCredentials>(
                          bind_.principal, bind_.keytab, clock)
                    : nullptr) {
  for (auto &uri : uris)
    states_.push_back(fresh_state(std::move(uri)));
  claimed_.assign(states_.size(), false);
}

ControllerHealth::~ControllerHealth() = default;

ControllerState *ControllerHealth::find(const std::string &uri) {
  for (auto &state : states_) {
    if (state.uri == uri)
      return &state;
  }
  return nullptr;
}

bool ControllerHealth::claim(const std::string &uri, bool wait) {
  std::unique_lock lock(mutex_);
  ControllerState *state = find(uri);
  if (!state)
    return false;
  size_t index = static_cast<size_t>(state - states_.data());
  if (wait)
    released_.wait(lock, [&] { return !claimed_[index]; });
  if (claimed_[index] || state->retry_after_us > clock_.now_us())
    return false;
  claimed_[index] = true;
  return true;
}

void ControllerHealth::release(const std::string &uri, bool bound) {
  std::lock_guard lock(mutex_);
  ControllerState *state = find(uri);
  if (!state)
    return;
  claimed_[static_cast<size_t>(state - states_.data())] = false;
  released_.notify_all();
  if (bound && !state->credential_problem.empty()) {
    state->credential_problem.clear();
    state->failures = 0;
    state->retry_after_us = 0;
  }
}

void ControllerHealth::succeeded(const std::string &uri) {
  std::lock_guard lock(mutex_);
  ControllerState *state = find(uri);
  if (!state)
    return;
  *state = fresh_state(state->uri);
}

milliseconds ControllerHealth::failed(const std::string &uri,
                                      const Error &error) {
  std::string problem = credential_problem(error, bind_account(bind_));
  std::optional<size_t> secret = problem.empty() ? std::nullopt : secret_hash();
  std::lock_guard lock(mutex_);
  ControllerState *state = find(uri);
  if (!state)
    return {};
  // A network failure after a refused bind does not make the DC's count start
  // over.
  ++state->failures;
  milliseconds delay = problem.empty() ? network_backoff(state->failures)
                                       : credential_backoff(state->failures);
  if (!problem.empty()) {
    state->credential_problem = problem;
    refused_secret_ = secret;
  }
  state->retry_after_us = clock_.now_us() + to_us(delay);
  state->last_error = error.message;
  return delay;
}

std::optional<size_t> ControllerHealth::secret_hash() const {
  const Result<std::string> secret = read_secret_file(secret_file(bind_));
  if (!secret.is_ok())
    return std::nullopt;
  return std::hash<std::string>()(*secret);
}

bool ControllerHealth::refresh() {
  if (!any_credential_problem())
    return false;
  std::optional<size_t> secret = secret_hash();
  std::lock_guard lock(mutex_);
  if (secret == refused_secret_)
    return false;
  bool cleared = false;
  for (auto &state : states_) {
    if (state.credential_problem.empty())
      continue;
    state = fresh_state(state.uri);
    cleared = true;
  }
  return cleared;
}

milliseconds ControllerHealth::wait_time() const {
  std::lock_guard lock(mutex_);
  int64_t now = clock_.now_us();
  int64_t earliest = INT64_MAX;
  for (const auto &state : states_)
    earliest = std::min(earliest, state.retry_after_us);
  if (states_.empty() || earliest <= now)
    return milliseconds(0);
  // rounded up, so that waiting this long makes the DC ready
  return milliseconds((earliest - now + 999) / 1000);
}

bool ControllerHealth::any_credential_problem() const {
  std::lock_guard lock(mutex_);
  return std::any_of(states_.begin(), states_.end(),
                     [](const ControllerState &state) {
                       return !state.credential_problem.empty();
                     });
}

std::vector<ControllerState> ControllerHealth::snapshot() const {
  std::lock_guard lock(mutex_);
  return states_;
}

} // namespace dirfeed::ldap
