// Users and keys files: formats, hashing, atomic writes, and the CredentialStore's reloads and
// cache (rest/credentials.hpp).
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/base64.hpp"
#include "rest/credentials.hpp"
#include "tests/support/manual_clock.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::rest {
namespace {

// The name of a checked key (nullopt: refused).
std::optional<std::string> key_name(const std::optional<rest::KeyEntry>& entry) {
  return entry ? std::optional<std::string>(entry->name) : std::nullopt;
}


using dirfeed::testing::TempDir;
using namespace std::chrono_literals;

constexpr int kFast = kMinPasswordIterations;  // tests do not need the slow default

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(CredentialsTest, Base64) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("\xfb\xff", true), "-_8");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64_decode("Zm9vYg", /*padding_optional=*/true), "foob");
  EXPECT_EQ(base64_decode("YWxpY2U6czNjcmV0"), "alice:s3cret");
  EXPECT_EQ(base64_decode("Zm9v!"), std::nullopt);
  EXPECT_EQ(base64_decode("Z"), std::nullopt);
}

TEST(CredentialsTest, Names) {
  EXPECT_EQ(name_problem("alice"), "");
  EXPECT_EQ(name_problem("svc-proxy.1@example"), "");
  EXPECT_NE(name_problem(""), "");
  EXPECT_NE(name_problem("a:b"), "");
  EXPECT_NE(name_problem("a b"), "");
  EXPECT_NE(name_problem("a\tb"), "");
  EXPECT_NE(name_problem("a\nb"), "");
  EXPECT_NE(name_problem(std::string(129, 'x')), "");
}

TEST(CredentialsTest, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal(std::string("a\0c", 3), std::string("a\0d", 3)));
}

TEST(CredentialsTest, PasswordHashRoundTrip) {
  const UserEntry alice = hash_password("alice", "s3cret", kFast);
  EXPECT_EQ(alice.salt.size(), 16u);
  EXPECT_EQ(alice.hash.size(), 32u);
  EXPECT_TRUE(verify_password(alice, "s3cret"));
  EXPECT_FALSE(verify_password(alice, "s3cret "));
  EXPECT_FALSE(verify_password(alice, ""));
  // A fresh salt each time: same password, different hash.
  EXPECT_NE(hash_password("alice", "s3cret", kFast).hash, alice.hash);
  EXPECT_EQ(hash_password("x", "y").iterations, kPasswordIterations);
  EXPECT_GE(kPasswordIterations, 600000);  // OWASP 2023, PBKDF2-HMAC-SHA256

  const std::string text = format_users({alice, hash_password("bob", "pw", kFast + 1)});
  ParsedCredentials<UserEntry> parsed = parse_users(text);
  ASSERT_TRUE(parsed.errors.empty());
  ASSERT_EQ(parsed.entries.size(), 2u);
  EXPECT_EQ(parsed.entries[0].name, "alice");
  EXPECT_EQ(parsed.entries[0].iterations, kFast);
  EXPECT_EQ(parsed.entries[0].salt, alice.salt);
  EXPECT_EQ(parsed.entries[0].hash, alice.hash);
  EXPECT_EQ(parsed.entries[1].name, "bob");
  EXPECT_EQ(parsed.entries[1].iterations, kFast + 1);
  EXPECT_TRUE(verify_password(parsed.entries[1], "pw"));
  EXPECT_EQ(format_users(parsed.entries), text);
  EXPECT_TRUE(text.starts_with("alice:pbkdf2-sha256:100000:")) << text;
}

TEST(CredentialsTest, KnownPbkdf2Vector) {
  // PBKDF2-HMAC-SHA256("password", "salt", 4096, 32), the widely published test vector.
  const std::string hex = "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a";
  std::string hash;
  for (size_t i = 0; i < hex.size(); i += 2) {
    hash.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  const UserEntry entry{"u", 4096, "salt", hash};
  EXPECT_TRUE(verify_password(entry, "password"));
  EXPECT_FALSE(verify_password(entry, "Password"));
  // So few iterations are refused in a users file: the reader wants at least 100,000.
  const std::string line = "u:pbkdf2-sha256:4096:" + base64_encode("salt") + ":" +
                           base64_encode(hash) + "\n";
  ParsedCredentials<UserEntry> parsed = parse_users(line);
  EXPECT_TRUE(parsed.entries.empty());
  ASSERT_EQ(parsed.errors.size(), 1u);
  EXPECT_EQ(parsed.errors[0].message, "bad iteration count");
  const std::string at_minimum = format_users({hash_password("u", "pw", 100000)});
  EXPECT_EQ(parse_users(at_minimum).entries.size(), 1u);
  std::string below = at_minimum;
  below.replace(below.find(":100000:"), 8, ":99999:");
  EXPECT_EQ(parse_users(below).errors.size(), 1u);
}

TEST(CredentialsTest, ApiKeys) {
  const std::string key = generate_api_key();
  EXPECT_TRUE(key.starts_with("dfk_")) << key;
  EXPECT_EQ(key.size(), 4u + 43u) << key;
  EXPECT_EQ(key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                                  4),
            std::string::npos);
  EXPECT_NE(generate_api_key(), key);
  EXPECT_EQ(api_key_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::vector<KeyEntry> keys = {{"proxy", api_key_hash(key)}, {"sync", api_key_hash("x")}};
  const std::string text = format_keys(keys);
  EXPECT_EQ(text.find(key), std::string::npos);  // only the hash is stored
  ParsedCredentials<KeyEntry> parsed = parse_keys(text);
  ASSERT_TRUE(parsed.errors.empty());
  ASSERT_EQ(parsed.entries.size(), 2u);
  EXPECT_EQ(parsed.entries[0].name, "proxy");
  EXPECT_EQ(parsed.entries[0].hash, api_key_hash(key));
  EXPECT_EQ(format_keys(parsed.entries), text);
}

TEST(CredentialsTest, MalformedLinesAreReportedAndSkipped) {
  const UserEntry good = hash_password("good", "pw", kFast);
  const std::string good_line = format_users({good});
  const std::string salt = base64_encode(good.salt);
  const std::string hash = base64_encode(good.hash);
  const std::string users =
      "# comment\n"
      "\n" +
      good_line +                                               // 3
      "nofields\n"                                              // 4
      "x:md5:1000:" + salt + ":" + hash + "\n"                  // 5
      "y:pbkdf2-sha256:10:" + salt + ":" + hash + "\n"          // 6: too few iterations
      "z:pbkdf2-sha256:abc:" + salt + ":" + hash + "\n"         // 7
      "w:pbkdf2-sha256:1000:!!:" + hash + "\n"                  // 8
      "v:pbkdf2-sha256:1000:" + salt + ":" + salt + "\n"        // 9: hash of the wrong size
      "a b:pbkdf2-sha256:1000:" + salt + ":" + hash + "\n" +    // 10
      good_line;                                                // 11: duplicate
  ParsedCredentials<UserEntry> parsed = parse_users(users);
  ASSERT_EQ(parsed.entries.size(), 1u);
  EXPECT_EQ(parsed.entries[0].name, "good");
  std::vector<int> lines;
  for (const auto& e : parsed.errors) lines.push_back(e.line);
  EXPECT_EQ(lines, (std::vector<int>{4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(parsed.errors[0].message, "expected NAME:pbkdf2-sha256:ITERATIONS:SALT:HASH");
  EXPECT_EQ(parsed.errors[7].message, "duplicate user \"good\"");

  const std::string hex = api_key_hash("k");
  ParsedCredentials<KeyEntry> keys =
      parse_keys("k:sha256:" + hex + "\r\n"     // CRLF is fine
                 "k2:sha256:" + hex.substr(1) + "\n"
                 "k3:sha256:" + std::string(64, 'G') + "\n"
                 "k4:sha1:" + hex + "\n"
                 "k5\n");
  ASSERT_EQ(keys.entries.size(), 1u);
  EXPECT_EQ(keys.entries[0].name, "k");
  EXPECT_EQ(keys.errors.size(), 4u);
  EXPECT_EQ(keys.errors[0].line, 2);
}

TEST(CredentialsTest, AtomicWrite) {
  TempDir dir;
  const std::string path = dir.path() + "/users";
  EXPECT_EQ(read_credentials_file(path), std::nullopt);  // missing: no users, not an error
  write_file_atomically(path, "one\n");
  EXPECT_EQ(read_credentials_file(path), "one\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  const ino_t first = st.st_ino;
  write_file_atomically(path, "two\n");
  EXPECT_EQ(read_credentials_file(path), "two\n");
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_NE(st.st_ino, first);  // replaced by rename, not rewritten in place
  EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"users"});  // no temp file left
  EXPECT_THROW(write_file_atomically(dir.path() + "/missing/users", "x"), std::runtime_error);
  // A failed rename (the target is a directory) leaves no temp file either.
  std::filesystem::create_directory(dir.path() + "/adir");
  std::filesystem::create_directory(dir.path() + "/adir/sub");
  EXPECT_THROW(write_file_atomically(dir.path() + "/adir/sub", "x"), std::runtime_error);
  EXPECT_EQ(files_in(dir.path() + "/adir"), std::vector<std::string>{"sub"});
}

TEST(CredentialsTest, NewFileTakesTheGroupOfItsDirectory) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory another group";
  TempDir dir;
  const gid_t other = ::getegid() == 65534 ? 0 : 65534;  // nogroup, as /etc/dirfeed's dirfeed
  ASSERT_EQ(::chown(dir.path().c_str(), static_cast<uid_t>(-1), other), 0);
  const std::string path = dir.path() + "/users";
  write_file_atomically(path, "one\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, other);  // readable by the daemon's group, not only by root
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  // A replaced file keeps the owner and group it had, whatever the directory's.
  ASSERT_EQ(::chown(path.c_str(), static_cast<uid_t>(-1), ::getegid()), 0);
  write_file_atomically(path, "two\n");
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, ::getegid());
}

class CredentialStoreTest : public ::testing::Test {
 protected:
  CredentialStore make_store(std::chrono::milliseconds recheck = 0ms) {
    return CredentialStore(
        users_, keys_, recheck, monotonic_,
        [this](const std::string& w) { warnings_.push_back(w); }, kFast);
  }
  void write_users(const std::vector<UserEntry>& users) {
    write_file_atomically(users_, format_users(users));
  }

  TempDir dir_;
  const std::string users_ = dir_.path() + "/api-users";
  const std::string keys_ = dir_.path() + "/api-keys";
  dirfeed::testing::ManualMonotonicClock monotonic_;
  std::vector<std::string> warnings_;
};

TEST_F(CredentialStoreTest, MissingFilesMeanNoUsersAndNoKeys) {
  CredentialStore store = make_store();
  EXPECT_FALSE(store.check_password("alice", "pw"));
  EXPECT_EQ(store.check_api_key("dfk_x"), std::nullopt);
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(CredentialStoreTest, ChecksPasswordsAndCachesSuccesses) {
  write_users({hash_password("alice", "s3cret", kFast), hash_password("bob", "pw2", kFast)});
  CredentialStore store = make_store();
  EXPECT_TRUE(store.check_password("alice", "s3cret"));
  EXPECT_EQ(store.pbkdf2_runs(), 1u);
  EXPECT_TRUE(store.check_password("alice", "s3cret"));  // cached
  EXPECT_TRUE(store.check_password("alice", "s3cret"));
  EXPECT_EQ(store.pbkdf2_runs(), 1u);
  EXPECT_FALSE(store.check_password("alice", "wrong"));  // failures are never cached
  EXPECT_FALSE(store.check_password("alice", "wrong"));
  EXPECT_FALSE(store.check_password("bob", "s3cret"));   // another user's password
  EXPECT_FALSE(store.check_password("nobody", "s3cret"));  // unknown users cost PBKDF2 too
  EXPECT_EQ(store.pbkdf2_runs(), 5u);
  // A failed check leaves alice's cached success alone: a flood of wrong passwords for her
  // name cannot make her real client pay PBKDF2 again (or wait behind the flood).
  EXPECT_TRUE(store.check_password("alice", "s3cret"));
  EXPECT_EQ(store.pbkdf2_runs(), 5u);
  EXPECT_TRUE(store.check_password("bob", "pw2"));
  EXPECT_EQ(store.pbkdf2_runs(), 6u);
}

TEST_F(CredentialStoreTest, FailedLoginsAreLimitedPerClient) {
  write_users({hash_password("alice", "s3cret", kFast)});
  CredentialStore store = make_store();
  for (int i = 0; i < kLoginFailureBurst; ++i) {
    EXPECT_EQ(store.check_password("alice", "wrong", "192.0.2.1").result, LoginResult::kWrong);
  }
  const uint64_t runs = store.pbkdf2_runs();
  // The burst is spent: refused without PBKDF2, even with the right password, until a token
  // comes back.
  LoginCheck limited = store.check_password("alice", "s3cret", "192.0.2.1");
  EXPECT_EQ(limited.result, LoginResult::kLimited);
  EXPECT_EQ(limited.retry_after, kLoginFailureRefill);
  EXPECT_EQ(store.pbkdf2_runs(), runs);
  // Another client is not affected.
  EXPECT_TRUE(store.check_password("alice", "s3cret", "192.0.2.2"));
  // A cached success is answered even for the limited client: it costs no PBKDF2.
  EXPECT_TRUE(store.check_password("alice", "s3cret", "192.0.2.1"));
  monotonic_.advance(kLoginFailureRefill);
  EXPECT_EQ(store.check_password("alice", "wrong", "192.0.2.1").result, LoginResult::kWrong);
  EXPECT_EQ(store.check_password("alice", "wrong", "192.0.2.1").result, LoginResult::kLimited);
}

TEST_F(CredentialStoreTest, AWeakHashIsRehashedOnTheNextSuccessfulLogin) {
  write_users({hash_password("alice", "s3cret", kFast), hash_password("bob", "pw", kFast)});
  CredentialStore store(users_, keys_, 0ms, monotonic_,
                        [this](const std::string& w) { warnings_.push_back(w); });
  EXPECT_TRUE(store.check_password("alice", "s3cret"));
  ParsedCredentials<UserEntry> parsed = parse_users(*read_credentials_file(users_));
  ASSERT_EQ(parsed.entries.size(), 2u);
  EXPECT_EQ(parsed.entries[0].iterations, kPasswordIterations);
  EXPECT_TRUE(verify_password(parsed.entries[0], "s3cret"));
  EXPECT_EQ(parsed.entries[1].iterations, kFast);  // bob has not logged in
  EXPECT_TRUE(store.check_password("alice", "s3cret"));  // the re-hashed entry verifies
  EXPECT_FALSE(store.check_password("alice", "wrong"));
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(CredentialStoreTest, ReloadsAChangedFileAndDropsTheCache) {
  write_users({hash_password("alice", "old", kFast)});
  CredentialStore store = make_store(1s);
  EXPECT_TRUE(store.check_password("alice", "old"));
  const uint64_t reloads = store.reloads();

  write_users({hash_password("alice", "new", kFast), hash_password("carol", "c", kFast)});
  // Within a second of the last look the file is not looked at again.
  monotonic_.advance(500ms);
  EXPECT_TRUE(store.check_password("alice", "old"));
  EXPECT_FALSE(store.check_password("carol", "c"));
  EXPECT_EQ(store.reloads(), reloads);
  monotonic_.advance(1s);
  EXPECT_FALSE(store.check_password("alice", "old"));  // the cached success is gone
  EXPECT_TRUE(store.check_password("alice", "new"));
  EXPECT_TRUE(store.check_password("carol", "c"));
  EXPECT_EQ(store.reloads(), reloads + 1);

  // Unchanged file: no reload. Removed file: no users.
  monotonic_.advance(2s);
  EXPECT_TRUE(store.check_password("carol", "c"));
  EXPECT_EQ(store.reloads(), reloads + 1);
  std::filesystem::remove(users_);
  monotonic_.advance(2s);
  EXPECT_FALSE(store.check_password("carol", "c"));
  EXPECT_FALSE(store.check_password("alice", "new"));
}

TEST_F(CredentialStoreTest, ReportsMalformedLinesAndUsesTheRest) {
  dir_.write("api-users", "garbage\n" + format_users({hash_password("alice", "pw", kFast)}));
  CredentialStore store = make_store();
  EXPECT_TRUE(store.check_password("alice", "pw"));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_EQ(warnings_[0], users_ + ":1: expected NAME:pbkdf2-sha256:ITERATIONS:SALT:HASH "
                                   "(line skipped)");
}

TEST_F(CredentialStoreTest, ChecksApiKeysAndReloadsThem) {
  const std::string key = generate_api_key();
  write_file_atomically(keys_, format_keys({{"proxy", api_key_hash(key)}}));
  CredentialStore store = make_store(1s);
  EXPECT_EQ(key_name(store.check_api_key(key)), "proxy");
  EXPECT_EQ(store.check_api_key(key + "x"), std::nullopt);
  EXPECT_EQ(store.check_api_key(""), std::nullopt);
  write_file_atomically(keys_, format_keys({}));
  EXPECT_EQ(key_name(store.check_api_key(key)), "proxy");  // not looked at again yet
  monotonic_.advance(1s);
  EXPECT_EQ(store.check_api_key(key), std::nullopt);
}

}  // namespace
}  // namespace dirfeed::rest
