#include "rest/credentials.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/base64.hpp"
#include "core/file.hpp"
#include "core/text.hpp"
#include "rest/router.hpp"  // percent_decode

namespace dirfeed::rest {
namespace {

constexpr size_t kMaxNameLength = 128;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr size_t kMaxCacheEntries = 4096;


bool is_lower_hex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string pbkdf2(std::string_view password, std::string_view salt, int iterations) {
  std::string out(kHashBytes, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(out.size()),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    throw std::runtime_error("PKCS5_PBKDF2_HMAC failed");
  }
  return out;
}

// The lines of `text` without comments and blank lines, with their numbers.
template <typename Parse>
void for_each_line(std::string_view text, Parse parse) {
  int number = 0;
  for (std::string_view line : split(text, '\n')) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    parse(number, line);
  }
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::string name_problem(std::string_view name) {
  if (name.empty()) return "the name is empty";
  if (name.size() > kMaxNameLength) return "the name is longer than 128 bytes";
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == ':') return "the name contains ':'";
    if (byte <= 0x20 || byte == 0x7f) return "the name contains whitespace or control characters";
  }
  return "";
}

std::string random_bytes(size_t count) {
  std::string out(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

std::string new_uuid_guid() {
  std::string bytes = random_bytes(16);
  // guid_to_string shows wire byte 7 as the UUID's seventh byte (the version) and byte 8 as
  // its ninth (the variant).
  bytes[7] = static_cast<char>((bytes[7] & 0x0f) | 0x40);
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);
  return bytes;
}


bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

UserEntry hash_password(std::string_view name, std::string_view password, int iterations) {
  UserEntry entry;
  entry.name = std::string(name);
  entry.iterations = iterations;
  entry.salt = random_bytes(kSaltBytes);
  entry.hash = pbkdf2(password, entry.salt, iterations);
  return entry;
}

bool verify_password(const UserEntry& entry, std::string_view password) {
  return constant_time_equal(pbkdf2(password, entry.salt, entry.iterations), entry.hash);
}

std::string generate_api_key() {
  return std::string(kKeyPrefix) + base64_encode(random_bytes(32), true);
}

std::string api_key_hash(std::string_view key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  return to_hex({reinterpret_cast<const char*>(digest), sizeof digest});
}

ParsedCredentials<UserEntry> parse_users(std::string_view text) {
  ParsedCredentials<UserEntry> result;
  for_each_line(text, [&](int number, std::string_view line) {
    auto fail = [&](std::string message) {
      result.errors.push_back({number, std::move(message)});
    };
    const std::vector<std::string_view> fields = split(line, ':');
    if (fields.size() != 5) {
      return fail("expected NAME:pbkdf2-sha256:ITERATIONS:SALT:HASH");
    }
    if (std::string problem = name_problem(fields[0]); !problem.empty()) return fail(problem);
    if (fields[1] != "pbkdf2-sha256") {
      return fail("unknown hash scheme \"" + std::string(fields[1]) + "\"");
    }
    int iterations = 0;
    for (char c : fields[2]) {
      if (c < '0' || c > '9' || iterations > 100'000'000) return fail("bad iteration count");
      iterations = iterations * 10 + (c - '0');
    }
    if (iterations < kMinPasswordIterations) return fail("bad iteration count");
    std::optional<std::string> salt = base64_decode(fields[3]);
    std::optional<std::string> hash = base64_decode(fields[4]);
    if (!salt || salt->empty()) return fail("bad salt");
    if (!hash || hash->size() != kHashBytes) return fail("bad hash");
    for (const UserEntry& e : result.entries) {
      if (e.name == fields[0]) return fail("duplicate user \"" + e.name + "\"");
    }
    result.entries.push_back({std::string(fields[0]), iterations, std::move(*salt),
                              std::move(*hash)});
  });
  return result;
}

std::string format_users(const std::vector<UserEntry>& users) {
  std::string out;
  for (const UserEntry& e : users) {
    out += e.name + ":pbkdf2-sha256:" + std::to_string(e.iterations) + ":" +
           base64_encode(e.salt) + ":" + base64_encode(e.hash) + "\n";
  }
  return out;
}

std::string_view key_scope_name(KeyScope scope) {
  switch (scope) {
    case KeyScope::kChanges: return "changes";
    case KeyScope::kDsync: return "dsync";
    case KeyScope::kAll: break;
  }
  return "all";
}

std::optional<KeyScope> parse_key_scope(std::string_view name) {
  for (KeyScope scope : {KeyScope::kAll, KeyScope::kChanges, KeyScope::kDsync}) {
    if (name == key_scope_name(scope)) return scope;
  }
  return std::nullopt;
}

bool KeyEntry::covers(std::string_view tenant, std::string_view product) const {
  const auto allows = [](const std::vector<std::string>& allowed, std::string_view value) {
    return allowed.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end();
  };
  return allows(tenants, tenant) && allows(products, product);
}

namespace {

// A tenants or products field: values percent-encoded where they hold '%', ',' or a byte
// outside printable ASCII, joined by ','.
std::string format_values(const std::vector<std::string>& values) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const std::string& value : values) {
    if (!out.empty()) out.push_back(',');
    for (char c : value) {
      const auto byte = static_cast<unsigned char>(c);
      if (c == '%' || c == ',' || c == ':' || byte <= 0x20 || byte >= 0x7f) {
        out.push_back('%');
        out.push_back(kHex[byte >> 4]);
        out.push_back(kHex[byte & 0xf]);
      } else {
        out.push_back(c);
      }
    }
  }
  return out;
}

std::optional<std::vector<std::string>> parse_values(std::string_view field) {
  std::vector<std::string> values;
  if (field.empty()) return values;
  for (std::string_view part : split(field, ',')) {
    std::optional<std::string> value = percent_decode(part, /*plus_is_space=*/false);
    if (!value || value->empty()) return std::nullopt;
    values.push_back(std::move(*value));
  }
  return values;
}

}  // namespace

ParsedCredentials<KeyEntry> parse_keys(std::string_view text) {
  ParsedCredentials<KeyEntry> result;
  for_each_line(text, [&](int number, std::string_view line) {
    auto fail = [&](std::string message) {
      result.errors.push_back({number, std::move(message)});
    };
    const std::vector<std::string_view> fields = split(line, ':');
    if (fields.size() != 3 && fields.size() != 6) {
      return fail("expected NAME:sha256:HEX or NAME:sha256:HEX:SCOPE:TENANTS:PRODUCTS");
    }
    if (std::string problem = name_problem(fields[0]); !problem.empty()) return fail(problem);
    if (fields[1] != "sha256") {
      return fail("unknown hash scheme \"" + std::string(fields[1]) + "\"");
    }
    if (fields[2].size() != 64 || !is_lower_hex(fields[2])) return fail("bad hash");
    for (const KeyEntry& e : result.entries) {
      if (e.name == fields[0]) return fail("duplicate key \"" + e.name + "\"");
    }
    KeyEntry entry;
    entry.name = std::string(fields[0]);
    entry.hash = std::string(fields[2]);
    if (fields.size() == 6) {
      std::optional<KeyScope> scope = parse_key_scope(fields[3]);
      if (!scope) return fail("unknown scope \"" + std::string(fields[3]) + "\"");
      std::optional<std::vector<std::string>> tenants = parse_values(fields[4]);
      std::optional<std::vector<std::string>> products = parse_values(fields[5]);
      if (!tenants) return fail("bad tenants");
      if (!products) return fail("bad products");
      entry.scope = *scope;
      entry.tenants = std::move(*tenants);
      entry.products = std::move(*products);
    }
    result.entries.push_back(std::move(entry));
  });
  return result;
}

std::string format_keys(const std::vector<KeyEntry>& keys) {
  std::string out;
  for (const KeyEntry& e : keys) {
    out += e.name + ":sha256:" + e.hash;
    // A key for everything keeps the short form older dirfeeds read.
    if (e.scope != KeyScope::kAll || e.restricted()) {
      out += ":" + std::string(key_scope_name(e.scope)) + ":" + format_values(e.tenants) + ":" +
             format_values(e.products);
    }
    out += "\n";
  }
  return out;
}

std::optional<std::string> read_credentials_file(const std::string& path) {
  Result<std::string> content = read_file(path);
  if (content.is_ok()) return std::move(*content);
  if (content.status().code() == StatusCode::kNotFound) return std::nullopt;
  throw std::runtime_error(content.status().message());
}

void write_file_atomically(const std::string& path, std::string_view content, mode_t mode) {
  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  std::string temp = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) throw std::runtime_error("cannot create a temp file in " + dir.string() + ": " +
                                       errno_text());
  bool ok = ::fchmod(fd, mode) == 0;
  // Keep the owner and group of the file replaced (e.g. root:dirfeed, so the daemon can read).
  // A new file takes the group of its directory: made by root in /etc/dirfeed (root:dirfeed,
  // from the package's tmpfiles snippet) it is readable by the daemon's group.
  struct stat existing {};
  struct stat parent {};
  if (ok && ::stat(path.c_str(), &existing) == 0) {
    if (existing.st_uid != ::geteuid() || existing.st_gid != ::getegid()) {
      ok = ::fchown(fd, existing.st_uid, existing.st_gid) == 0;
    }
  } else if (ok && ::stat(dir.c_str(), &parent) == 0 && parent.st_gid != ::getegid()) {
    // Not fatal: a user outside the directory's group keeps its own (the CLI warns).
    (void)::fchown(fd, static_cast<uid_t>(-1), parent.st_gid);
  }
  size_t written = 0;
  while (ok && written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ok = ::close(fd) == 0 && ok;
  if (ok && ::rename(temp.c_str(), path.c_str()) == 0) {
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      ::fsync(dir_fd);
      ::close(dir_fd);
    }
    return;
  }
  const std::string reason = std::strerror(ok ? errno : saved);
  ::unlink(temp.c_str());
  throw std::runtime_error("cannot write " + path + ": " + reason);
}

CredentialStore::CredentialStore(std::string users_file, std::string keys_file,
                                 std::chrono::milliseconds recheck, const MonotonicClock& clock,
                                 Warn warn, int rehash_below)
    : users_file_(std::move(users_file)),
      keys_file_(std::move(keys_file)),
      recheck_(recheck),
      clock_(clock),
      warn_(std::move(warn)),
      cache_secret_(random_bytes(32)),
      dummy_(hash_password("", random_bytes(16))),
      rehash_below_(rehash_below) {}

CredentialStore::FileState CredentialStore::stat_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {true, st.st_dev, st.st_ino, st.st_size,
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

void CredentialStore::refresh_locked() {
  const auto now = clock_.now();
  if (last_check_ && now - *last_check_ < recheck_) return;
  last_check_ = now;
  auto report = [&](const std::string& file, const std::vector<CredentialFileError>& errors) {
    if (!warn_) return;
    for (const auto& e : errors) {
      warn_(file + ":" + std::to_string(e.line) + ": " + e.message + " (line skipped)");
    }
  };
  if (FileState state = stat_file(users_file_); state != users_state_) {
    users_state_ = state;
    ++reloads_;
    users_.clear();
    cache_.clear();  // a changed file may have changed or removed any user
    try {
      if (std::optional<std::string> text = read_credentials_file(users_file_)) {
        ParsedCredentials<UserEntry> parsed = parse_users(*text);
        report(users_file_, parsed.errors);
        for (UserEntry& e : parsed.entries) users_[e.name] = std::move(e);
      }
    } catch (const std::exception& e) {
      if (warn_) warn_(e.what());
    }
  }
  if (FileState state = stat_file(keys_file_); state != keys_state_) {
    keys_state_ = state;
    ++reloads_;
    keys_.clear();
    try {
      if (std::optional<std::string> text = read_credentials_file(keys_file_)) {
        ParsedCredentials<KeyEntry> parsed = parse_keys(*text);
        report(keys_file_, parsed.errors);
        for (KeyEntry& e : parsed.entries) keys_[e.hash] = std::move(e);
      }
    } catch (const std::exception& e) {
      if (warn_) warn_(e.what());
    }
  }
}

std::string CredentialStore::cache_key(std::string_view user, std::string_view password) const {
  std::string message;
  message.reserve(user.size() + password.size() + 1);
  message.append(user).push_back('\0');
  message.append(password);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), cache_secret_.data(), static_cast<int>(cache_secret_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  OPENSSL_cleanse(message.data(), message.size());
  return std::string(reinterpret_cast<const char*>(digest), length);
}

CredentialStore::Allowance& CredentialStore::allowance_locked(const std::string& client,
                                                              MonotonicClock::TimePoint now) {
  auto it = clients_.find(client);
  if (it == clients_.end()) {
    if (clients_.size() >= kMaxLoginClients) {
      std::erase_if(clients_, [&](const auto& item) {
        return item.second.tokens + (now - item.second.updated) / kLoginFailureRefill >=
               kLoginFailureBurst;
      });
      if (clients_.size() >= kMaxLoginClients) clients_.clear();
    }
    it = clients_.emplace(client, Allowance{kLoginFailureBurst, now}).first;
  }
  Allowance& allowance = it->second;
  const double refilled = std::chrono::duration<double>(now - allowance.updated) /
                          std::chrono::duration<double>(kLoginFailureRefill);
  allowance.tokens = std::min<double>(kLoginFailureBurst, allowance.tokens + refilled);
  allowance.updated = now;
  return allowance;
}

LoginCheck CredentialStore::check_password(std::string_view user, std::string_view password,
                                           std::string_view client) {
  const std::string key = cache_key(user, password);
  const std::string client_key(client);
  UserEntry entry;
  bool known = false;
  {
    std::lock_guard lock(mutex_);
    refresh_locked();
    if (auto it = cache_.find(key); it != cache_.end() && it->second == user) {
      return {LoginResult::kOk};
    }
    const auto now = clock_.now();
    const Allowance& allowance = allowance_locked(client_key, now);
    if (allowance.tokens < 1) {
      const auto wait = std::chrono::duration<double>(kLoginFailureRefill) * (1 - allowance.tokens);
      return {LoginResult::kLimited,
              std::chrono::seconds(static_cast<int64_t>(std::ceil(wait.count())))};
    }
    if (hashing_ >= kMaxConcurrentPasswordHashes) {
      return {LoginResult::kBusy, std::chrono::seconds(1)};
    }
    ++hashing_;
    if (auto it = users_.find(std::string(user)); it != users_.end()) {
      entry = it->second;
      known = true;
    }
    ++pbkdf2_runs_;
  }
  // PBKDF2 outside the lock, in one of the hashing slots; unknown users cost the same.
  bool ok = false;
  try {
    ok = verify_password(known ? entry : dummy_, password) && known;
  } catch (...) {
    std::lock_guard lock(mutex_);
    --hashing_;
    throw;
  }
  {
    std::lock_guard lock(mutex_);
    --hashing_;
    if (!ok) {
      allowance_locked(client_key, clock_.now()).tokens -= 1;
      return {LoginResult::kWrong};
    }
    // Cache only if the entry is still the one verified (no reload in between).
    auto it = users_.find(entry.name);
    if (it == users_.end() || it->second.hash != entry.hash || it->second.salt != entry.salt) {
      return {LoginResult::kOk};
    }
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_[key] = entry.name;
  }
  if (entry.iterations < rehash_below_) rehash(entry, password);
  return {LoginResult::kOk};
}

void CredentialStore::rehash(const UserEntry& entry, std::string_view password) {
  const std::filesystem::path file(users_file_);
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
  if (::access(users_file_.c_str(), W_OK) != 0 || ::access(dir.c_str(), W_OK) != 0) {
    if (warn_) {
      warn_(users_file_ + ": " + entry.name + "'s password hash has " +
            std::to_string(entry.iterations) + " PBKDF2 iterations (new ones have " +
            std::to_string(kPasswordIterations) +
            ") and this process may not rewrite the file; `dirfeed api add-user --user " +
            entry.name + "` re-hashes it");
    }
    return;
  }
  const UserEntry stronger = hash_password(entry.name, password);
  std::lock_guard lock(mutex_);
  try {
    std::optional<std::string> text = read_credentials_file(users_file_);
    if (!text) return;
    ParsedCredentials<UserEntry> parsed = parse_users(*text);
    if (!parsed.errors.empty()) return;  // never rewrite away lines an admin must fix
    bool replaced = false;
    for (UserEntry& e : parsed.entries) {
      if (e.name == entry.name && e.salt == entry.salt && e.hash == entry.hash) {
        e = stronger;
        replaced = true;
      }
    }
    if (replaced) write_file_atomically(users_file_, format_users(parsed.entries));
  } catch (const std::exception& e) {
    if (warn_) warn_(e.what());
  }
}

std::optional<KeyEntry> CredentialStore::check_api_key(std::string_view key) {
  const std::string hash = api_key_hash(key);
  std::lock_guard lock(mutex_);
  refresh_locked();
  // Lookup by hash of a high-entropy key: the map lookup reveals nothing useful about other
  // keys; compare in constant time anyway.
  auto it = keys_.find(hash);
  if (it == keys_.end() || !constant_time_equal(it->first, hash)) return std::nullopt;
  return it->second;
}

uint64_t CredentialStore::pbkdf2_runs() const {
  std::lock_guard lock(mutex_);
  return pbkdf2_runs_;
}

uint64_t CredentialStore::reloads() const {
  std::lock_guard lock(mutex_);
  return reloads_;
}

}  // namespace dirfeed::rest
