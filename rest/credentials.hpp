#pragma once
// API credentials (DESIGN.md sections 7-8): HTTP Basic users (api.users_file) and API keys
// (api.keys_file), their file formats, atomic writes, and the CredentialStore the server
// consults per request.
//
// Users file: text, one user per line, `#` comments and blank lines ignored:
//
//   NAME:pbkdf2-sha256:ITERATIONS:SALT_B64:HASH_B64
//
// PBKDF2-HMAC-SHA256 (OpenSSL PKCS5_PBKDF2_HMAC) over the UTF-8 password, a 16-byte random
// salt, a 32-byte derived key; base64 is standard with padding. New entries use
// kPasswordIterations; any count >= kMinPasswordIterations is accepted when reading.
//
// Keys file: text, one key per line, same comment rules:
//
//   NAME:sha256:HEX                             (a key for everything, as before scopes)
//   NAME:sha256:HEX:SCOPE:TENANTS:PRODUCTS
//
// HEX is the lower-case SHA-256 of the whole key as the client sends it ("dfk_" and 43
// base64url characters for 32 random bytes). A fast hash is right here: keys are
// high-entropy, unlike passwords. The key itself is shown once (`dirfeed api add-key`) and
// never stored. SCOPE is `all`, `changes` (the Directory Changes API only) or `dsync` (the
// Directory Sync API only); TENANTS and PRODUCTS are comma-separated lists (empty: any) of
// the Directory Sync tenants and products the key may see and manage, each value
// percent-encoded where it holds '%', ',' or a byte outside printable ASCII (tenants and
// products never hold ':').
//
// Names: non-empty, at most 128 bytes, no ':', no whitespace or control characters.
// Malformed lines are reported (file:line: message) and skipped; a missing file means no
// users or keys. Files are written atomically (temp file in the same directory, fsync,
// rename, mode 0640).
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/base64.hpp"

namespace dirfeed::rest {

// OWASP's 2023 figure for PBKDF2-HMAC-SHA256. Hashes with fewer (but at least the minimum)
// still verify, and are re-hashed with this count on their next successful login.
inline constexpr int kPasswordIterations = 600000;
inline constexpr int kMinPasswordIterations = 100000;  // fewer: the line is refused
inline constexpr std::string_view kKeyPrefix = "dfk_";

struct UserEntry {
  std::string name;
  int iterations = 0;
  std::string salt;  // raw bytes
  std::string hash;  // raw bytes (32)
};

// Which API a key opens (see the keys file above).
enum class KeyScope { kAll, kChanges, kDsync };

// "all", "changes", "dsync"; and back (nullopt for anything else).
std::string_view key_scope_name(KeyScope scope);
std::optional<KeyScope> parse_key_scope(std::string_view name);

struct KeyEntry {
  KeyEntry() = default;
  KeyEntry(std::string name, std::string hash, KeyScope scope = KeyScope::kAll,
           std::vector<std::string> tenants = {}, std::vector<std::string> products = {})
      : name(std::move(name)),
        hash(std::move(hash)),
        scope(scope),
        tenants(std::move(tenants)),
        products(std::move(products)) {}

  std::string name;
  std::string hash;  // lower-case hex SHA-256 of the key
  KeyScope scope = KeyScope::kAll;
  std::vector<std::string> tenants;   // empty: every tenant
  std::vector<std::string> products;  // empty: every product

  bool reads_changes() const { return scope != KeyScope::kDsync; }
  bool uses_dsync() const { return scope != KeyScope::kChanges; }
  // Whether the key may see and manage the Directory Sync directories of tenant/product.
  bool covers(std::string_view tenant, std::string_view product) const;
  // Whether it is limited to some tenants or products (so a list must name them).
  bool restricted() const { return !tenants.empty() || !products.empty(); }
};

// A line that could not be read: its number (from 1) and why.
struct CredentialFileError {
  int line = 0;
  std::string message;
};

template <typename Entry>
struct ParsedCredentials {
  std::vector<Entry> entries;
  std::vector<CredentialFileError> errors;
};

// "" when `name` is a valid user or key name, else why not.
std::string name_problem(std::string_view name);


// Secure random bytes (RAND_bytes); throws std::runtime_error when the RNG fails.
std::string random_bytes(size_t count);

// 16 random bytes laid out so that guid_to_string gives a version 4 UUID: the ids dirfeed
// assigns to pushed objects, directories and logged webhook events.
std::string new_uuid_guid();

// Equality of two byte strings without early exit (CRYPTO_memcmp; lengths are not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

// A new entry for `name` with a fresh random salt.
UserEntry hash_password(std::string_view name, std::string_view password,
                        int iterations = kPasswordIterations);
// Whether `password` matches (constant-time comparison of the derived keys).
bool verify_password(const UserEntry& entry, std::string_view password);

// A new API key: kKeyPrefix + base64url of 32 random bytes.
std::string generate_api_key();
// The stored form of a key: lower-case hex SHA-256.
std::string api_key_hash(std::string_view key);

ParsedCredentials<UserEntry> parse_users(std::string_view text);
std::string format_users(const std::vector<UserEntry>& users);
ParsedCredentials<KeyEntry> parse_keys(std::string_view text);
std::string format_keys(const std::vector<KeyEntry>& keys);

// Reads a whole file; nullopt when it does not exist. Throws std::runtime_error on other errors.
std::optional<std::string> read_credentials_file(const std::string& path);
// Replaces `path` atomically with `content` (temp file in the same directory, fsync, rename,
// fsync of the directory), permission bits `mode`, the owner and group of the file it
// replaces; a new file gets the group of its directory when the caller may give it (root, or
// a member). Throws std::runtime_error on failure and leaves no temp file behind.
void write_file_atomically(const std::string& path, std::string_view content, mode_t mode = 0640);

// Failed logins allowed per client address before it must wait (kLimited), and how often
// one more is allowed after that: 10 at once, then 10 a minute. IPv6 clients count by /64.
inline constexpr int kLoginFailureBurst = 10;
inline constexpr std::chrono::seconds kLoginFailureRefill{6};
// Client addresses whose failures are remembered; beyond, the ones that have waited enough
// are forgotten first, then all (memory stays bounded under a spread-out flood).
inline constexpr size_t kMaxLoginClients = 10000;
// PBKDF2 runs at once, on the calling (API) threads; a check that finds them all taken is
// kBusy at once instead of queueing, so a flood of wrong passwords never holds every API
// thread and health checks and cached logins are answered. Below the API's 4 threads.
inline constexpr int kMaxConcurrentPasswordHashes = 2;

// What a password check found.
enum class LoginResult {
  kOk,       // user and password match
  kWrong,    // they do not (or no such user)
  kLimited,  // too many failures from this client: try after retry_after
  kBusy,     // every hashing slot is taken: try again shortly
};
struct LoginCheck {
  LoginResult result = LoginResult::kWrong;
  std::chrono::seconds retry_after{0};  // kLimited, kBusy: when to try again
  explicit operator bool() const { return result == LoginResult::kOk; }
};

// The users and keys the server checks requests against. Each check stats the files at most
// once per `recheck` (default 1 s) and reloads a file whose inode, size or mtime changed, so
// `dirfeed api ...` takes effect without a restart. Successful password checks are cached
// (keyed by HMAC-SHA256 of user and password under a per-process random key; the password is
// never kept), so clients sending Basic auth on every request pay PBKDF2 once; a reload of
// the users file drops the cache, a failed check drops nothing (it cannot match another
// password's entry). Failed checks are limited per client address and PBKDF2 runs per
// kMaxConcurrentPasswordHashes (see above). A successful login with a hash of fewer than
// kPasswordIterations re-hashes it into the users file when this process may write it (a
// run by hand; not under the unit's read-only /etc: then `dirfeed api add-user` re-hashes).
// Thread-safe.
class CredentialStore {
 public:
  // Reports malformed lines and unreadable files ("file:line: message"); default: ignored.
  using Warn = std::function<void(const std::string&)>;

  // `clock` times the files' recheck and the failure allowance's refill (it must outlive
  // this). `rehash_below`: hashes of fewer iterations are re-hashed on a successful login
  // (tests lower it to keep their fast hashes).
  CredentialStore(std::string users_file, std::string keys_file,
                  std::chrono::milliseconds recheck = std::chrono::seconds(1),
                  const MonotonicClock& clock = steady_clock(), Warn warn = {},
                  int rehash_below = kPasswordIterations);

  // Whether user:password is a valid Basic credential, from `client` (an address, for the
  // failure limit; "" counts as one client). Unknown users cost a PBKDF2 run too.
  LoginCheck check_password(std::string_view user, std::string_view password,
                            std::string_view client = "");
  // The key's entry (name, scope, tenants, products), or nullopt when it is not a known key.
  std::optional<KeyEntry> check_api_key(std::string_view key);

  // Counters for tests and metrics.
  uint64_t pbkdf2_runs() const;
  uint64_t reloads() const;

 private:
  struct FileState {
    bool exists = false;
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileState&) const = default;
  };
  // Failed-login allowance of one client: kLoginFailureBurst tokens, one back per refill.
  struct Allowance {
    double tokens = kLoginFailureBurst;
    MonotonicClock::TimePoint updated;
  };
  void refresh_locked();
  static FileState stat_file(const std::string& path);
  std::string cache_key(std::string_view user, std::string_view password) const;
  // The client's allowance brought up to `now` (created full; the table bounded).
  Allowance& allowance_locked(const std::string& client, MonotonicClock::TimePoint now);
  // Re-hashes `entry` with kPasswordIterations in the users file, if it is still the one there.
  void rehash(const UserEntry& entry, std::string_view password);

  const std::string users_file_;
  const std::string keys_file_;
  const std::chrono::milliseconds recheck_;
  const MonotonicClock& clock_;
  const Warn warn_;
  const std::string cache_secret_;  // per-process random HMAC key
  const UserEntry dummy_;           // checked for unknown users (same cost as a known one)
  const int rehash_below_;

  mutable std::mutex mutex_;
  int hashing_ = 0;  // PBKDF2 runs under way (at most kMaxConcurrentPasswordHashes)
  std::optional<MonotonicClock::TimePoint> last_check_;
  FileState users_state_;
  FileState keys_state_;
  std::unordered_map<std::string, UserEntry> users_;
  std::unordered_map<std::string, KeyEntry> keys_;        // hash -> entry
  std::unordered_map<std::string, std::string> cache_;    // HMAC -> user name
  std::unordered_map<std::string, Allowance> clients_;    // client (IPv6: /64) -> allowance
  uint64_t pbkdf2_runs_ = 0;
  uint64_t reloads_ = 0;
};

}  // namespace dirfeed::rest
