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
//   NAME:sha256:HEX
//
// HEX is the lower-case SHA-256 of the whole key as the client sends it ("dfk_" and 43
// base64url characters for 32 random bytes). A fast hash is right here: keys are
// high-entropy, unlike passwords. The key itself is shown once (`dirfeed api add-key`) and
// never stored.
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
#include <vector>

#include "proto/guid.hpp"  // base64_encode / base64_decode

namespace dirfeed::rest {

inline constexpr int kPasswordIterations = 210000;
inline constexpr int kMinPasswordIterations = 1000;  // only tests write fewer than the default
inline constexpr std::string_view kKeyPrefix = "dfk_";

struct UserEntry {
  std::string name;
  int iterations = 0;
  std::string salt;  // raw bytes
  std::string hash;  // raw bytes (32)
};

struct KeyEntry {
  std::string name;
  std::string hash;  // lower-case hex SHA-256 of the key
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

// The users and keys the server checks requests against. Each check stats the files at most
// once per `recheck` (default 1 s) and reloads a file whose inode, size or mtime changed, so
// `dirfeed api ...` takes effect without a restart. Successful password checks are cached
// (keyed by HMAC-SHA256 of user and password under a per-process random key; the password is
// never kept), so clients sending Basic auth on every request pay PBKDF2 once; any reload of
// the users file and any failed check of a user drop that user's cached entries. At most one
// PBKDF2 runs at a time. Thread-safe.
class CredentialStore {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // Reports malformed lines and unreadable files ("file:line: message"); default: ignored.
  using Warn = std::function<void(const std::string&)>;

  CredentialStore(std::string users_file, std::string keys_file,
                  std::chrono::milliseconds recheck = std::chrono::seconds(1), Clock clock = {},
                  Warn warn = {});

  // Whether user:password is a valid Basic credential. Unknown users cost a PBKDF2 run too.
  bool check_password(std::string_view user, std::string_view password);
  // The name of the key, or nullopt when it is not a known key.
  std::optional<std::string> check_api_key(std::string_view key);

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
  void refresh_locked();
  static FileState stat_file(const std::string& path);
  std::string cache_key(std::string_view user, std::string_view password) const;

  const std::string users_file_;
  const std::string keys_file_;
  const std::chrono::milliseconds recheck_;
  const Clock clock_;
  const Warn warn_;
  const std::string cache_secret_;  // per-process random HMAC key
  const UserEntry dummy_;           // checked for unknown users (same cost as a known one)

  mutable std::mutex mutex_;
  // Held during each PBKDF2 run: a flood of wrong passwords costs at most one core, so the
  // pollers keep the other. Such a flood can still occupy the API's threads (waiting here);
  // there is no per-client limit.
  std::mutex pbkdf2_gate_;
  std::optional<std::chrono::steady_clock::time_point> last_check_;
  FileState users_state_;
  FileState keys_state_;
  std::unordered_map<std::string, UserEntry> users_;
  std::unordered_map<std::string, std::string> keys_;     // hash -> name
  std::unordered_map<std::string, std::string> cache_;    // HMAC -> user name
  uint64_t pbkdf2_runs_ = 0;
  uint64_t reloads_ = 0;
};

}  // namespace dirfeed::rest
