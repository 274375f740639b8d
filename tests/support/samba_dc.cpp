#include "tests/support/samba_dc.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "core/text.hpp"
#include "ldap/options.hpp"

extern char** environ;

#ifndef DIRFEED_SOURCE_DIR
#error "DIRFEED_SOURCE_DIR must be defined (tests/support/CMakeLists.txt)"
#endif
#ifndef DIRFEED_BINARY_DIR
#error "DIRFEED_BINARY_DIR must be defined (tests/support/CMakeLists.txt)"
#endif

namespace dirfeed::testing {
namespace {

constexpr const char* kShowDeletedOid = "1.2.840.113556.1.4.417";
constexpr std::size_t kMaxDirLength = 75;  // as checked by samba-dc.sh

std::string script_path() { return std::string(DIRFEED_SOURCE_DIR) + "/tests/samba/samba-dc.sh"; }

struct Result {
  int status = -1;  // exit code, or 128 + signal
  std::string out;
  std::string err;
};

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// Runs argv[0] (searched in PATH) with argv, stdin from /dev/null, environment = ours with
// `env` overriding, and collects stdout and stderr. No shell is involved.
Result run(const std::vector<std::string>& argv,
           const std::vector<std::pair<std::string, std::string>>& env,
           std::chrono::seconds timeout) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool overridden = false;
    for (const auto& [k, v] : env) {
      if (entry.size() > k.size() && entry.substr(0, k.size()) == k && entry[k.size()] == '=') {
        overridden = true;
      }
    }
    if (!overridden) env_strings.emplace_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& s : args) argp.push_back(s.data());
  argp.push_back(nullptr);

  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) throw_errno("pipe2");
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    throw_errno("pipe2");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  // default signal dispositions and mask in the child (a test may block or ignore signals)
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argp[0], &actions, &attr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
  }

  Result result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  bool timed_out = false;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int n = poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[8192];
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  if (timed_out) kill(pid, SIGKILL);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    throw std::runtime_error(argv[0] + " did not finish within " +
                             std::to_string(timeout.count()) + " s; output so far:\n" +
                             result.out + result.err);
  }
  result.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  return result;
}

std::string join_command(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}

[[noreturn]] void fail(const std::string& message) {
  ADD_FAILURE() << message;
  throw std::runtime_error(message);
}

// One process at a time on this machine may run DCs named dc1.example.test (see header).
void hold_machine_lock() {
  static std::mutex mutex;
  static int fd = -1;
  std::lock_guard lock(mutex);
  if (fd >= 0) return;
  const char* path = "/run/lock/dirfeed-samba-dc.lock";
  std::error_code ec;
  std::filesystem::create_directories("/run/lock", ec);
  int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (f < 0) throw_errno(std::string("open ") + path);
  long timeout_s = 900;
  if (const char* t = std::getenv("DIRFEED_SAMBA_LOCK_TIMEOUT")) timeout_s = std::atol(t);
  const auto start = std::chrono::steady_clock::now();
  auto next_note = start;
  while (flock(f, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      close(f);
      throw_errno(std::string("flock ") + path);
    }
    std::string holder;
    {
      std::ifstream in(path);
      std::getline(in, holder);
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - start > std::chrono::seconds(timeout_s)) {
      close(f);
      throw std::runtime_error("another process still runs the test DC dc1.example.test after " +
                               std::to_string(timeout_s) + " s (" + path + ": " + holder + ")");
    }
    if (now >= next_note) {
      std::cerr << "[samba] waiting for " << path << ", held by: " << holder << std::endl;
      next_note = now + std::chrono::seconds(30);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::string self = "pid " + std::to_string(getpid());
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) self += " " + exe.string();
  self += "\n";
  if (ftruncate(f, 0) == 0 && write(f, self.data(), self.size()) < 0) {
    // informational only
  }
  fd = f;  // held until the process exits
}

void check_dir(const std::string& dir) {
  if (dir.empty() || dir.front() != '/') fail("SambaDc: dir must be an absolute path: '" + dir + "'");
  if (dir.size() > kMaxDirLength) {
    fail("SambaDc: dir is longer than " + std::to_string(kMaxDirLength) +
         " bytes, too long for Samba's unix sockets: " + dir);
  }
}

// Base64 (RFC 4648, with padding).
std::string base64(std::string_view in) {
  static constexpr char kTable[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  while (i + 2 < in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += kTable[v & 63];
    i += 3;
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// "attr: value" or, when the value is not LDIF-safe (RFC 2849), "attr:: base64".
std::string ldif_line(const std::string& attr, std::string_view value) {
  bool safe = value.empty() || (value.front() != ' ' && value.front() != ':' &&
                                value.front() != '<' && value.back() != ' ');
  for (unsigned char c : value) {
    if (c == '\0' || c == '\n' || c == '\r' || c >= 0x80) safe = false;
  }
  return safe ? attr + ": " + std::string(value) + "\n" : attr + ":: " + base64(value) + "\n";
}

// RFC 4514 escaping of an attribute value inside a DN.
std::string escape_rdn_value(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    bool special = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' ||
                   c == ';' || c == '=' || (i == 0 && (c == '#' || c == ' ')) ||
                   (i + 1 == v.size() && c == ' ');
    if (special) out += '\\';
    out += c;
  }
  return out;
}

// Removes ldapsearch's comment lines (referrals, paged-results notes) and empty records.
std::string strip_ldif_comments(const std::string& text) {
  std::vector<std::string> records;
  std::string current;
  std::istringstream in(text);
  std::string line;
  auto flush = [&] {
    if (!current.empty()) records.push_back(std::move(current));
    current.clear();
  };
  while (std::getline(in, line)) {
    if (line.empty()) {
      flush();
    } else if (line.front() != '#') {
      current += line;
      current += '\n';
    }
  }
  flush();
  std::string out;
  for (const auto& r : records) {
    if (!out.empty()) out += '\n';
    out += r;
  }
  return out;
}

std::string binary_name() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("unknown") : exe.filename().string();
}

}  // namespace

SambaDc::SambaDc(std::string dir, std::string ip, std::string realm)
    : dir_(std::move(dir)),
      ip_(std::move(ip)),
      realm_(upper(std::move(realm))),
      uri_("ldaps://dc1." + lower(realm_)) {}

SambaDc::~SambaDc() {
  if (!used_) return;
  try {
    Result r = run({"bash", script_path(), "stop", dir_},
                   {{"SAMBA_DC_OWNER_PID", std::to_string(getpid())}, {"SAMBA_DC_REALM", realm_}},
                   std::chrono::seconds(120));
    if (r.status != 0) std::cerr << "[samba] stopping " << dir_ << " failed:\n" << r.out << r.err;
  } catch (const std::exception& e) {
    std::cerr << "[samba] stopping " << dir_ << " failed: " << e.what() << std::endl;
  }
}

std::string run_checked(const std::vector<std::string>& argv,
                        const std::map<std::string, std::string>& env,
                        std::chrono::seconds timeout, bool samba_lock) {
  Result r;
  try {
    if (samba_lock) hold_machine_lock();
    r = run(argv, {env.begin(), env.end()}, timeout);
  } catch (const std::exception& e) {
    fail(join_command(argv) + ": " + e.what());
  }
  if (r.status != 0) {
    fail(join_command(argv) + " failed (exit " + std::to_string(r.status) + "):\n" + r.out + r.err);
  }
  return r.out;
}

void SambaDc::run_script(const char* command) {
  check_dir(dir_);
  used_ = true;
  std::vector<std::string> argv{"bash", script_path(), command, dir_};
  if (std::string_view(command) != "stop") {
    try {
      hold_machine_lock();
    } catch (const std::exception& e) {
      fail(std::string("SambaDc ") + command + ": " + e.what());
    }
    argv.push_back(ip_);
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::string options;
  for (const std::string& option : options_) options += option + "\n";
  Result r;
  try {
    r = run(argv,
            {{"SAMBA_DC_OWNER_PID", std::to_string(getpid())},
             {"SAMBA_DC_OPTIONS", options},
             {"SAMBA_DC_REALM", realm_}},
            std::chrono::seconds(300));
  } catch (const std::exception& e) {
    fail(std::string("SambaDc ") + command + " failed: " + e.what());
  }
  if (r.status != 0) {
    fail("SambaDc " + std::string(command) + " failed (exit " + std::to_string(r.status) +
         "): " + join_command(argv) + "\n" + r.out + r.err);
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0).count();
  std::cerr << "[samba] " << command << " " << dir_ << " took " << ms << " ms" << std::endl;
}

void SambaDc::reset() { run_script("reset"); }
void SambaDc::start() { run_script("start"); }
void SambaDc::stop() { run_script("stop"); }

std::string SambaDc::ca_file() const { return dir_ + "/private/tls/ca.pem"; }
std::string SambaDc::admin_dn() const { return "Administrator@" + domain(); }
std::string SambaDc::password_file() const { return dir_ + "/admin.password"; }
std::string SambaDc::domain() const { return lower(realm_); }
std::string SambaDc::netbios_name() const { return realm_.substr(0, realm_.find('.')); }
std::string SambaDc::base_dn() const { return ldap::base_dn_from_domain(domain()); }

std::string SambaDc::admin_password() const {
  std::ifstream in(password_file(), std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + password_file() + " (DC not started?)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int SambaDc::failed_logons() const {
  std::ifstream in(dir_ + "/samba.out");
  if (!in) throw std::runtime_error("cannot read " + dir_ + "/samba.out");
  int count = 0;
  std::string line;
  // Samba writes the record as '..."eventId": 4625, ...' (spacing as its JSON writer makes it)
  const std::regex failed("\"eventId\":\\s*4625\\b");
  while (std::getline(in, line)) {
    if (line.find("\"Authentication\"") != std::string::npos && std::regex_search(line, failed)) {
      ++count;
    }
  }
  return count;
}

void SambaDc::ldif(const std::string& text) const {
  char path[] = "/tmp/dirfeed-ldif-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) throw_errno("mkstemp");
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      close(fd);
      unlink(path);
      errno = saved;
      throw_errno("write LDIF temp file");
    }
    done += static_cast<std::size_t>(n);
  }
  close(fd);
  std::vector<std::string> argv{"ldapmodify", "-x", "-o", "nettimeout=10", "-H", uri_,
                                "-D", admin_dn(), "-y", password_file(), "-f", path};
  Result r;
  try {
    r = run(argv, {{"LDAPTLS_CACERT", ca_file()}, {"LDAPTLS_REQCERT", "demand"}},
            std::chrono::seconds(600));
  } catch (...) {
    unlink(path);
    throw;
  }
  unlink(path);
  if (r.status != 0) {
    throw std::runtime_error("ldapmodify failed (exit " + std::to_string(r.status) + "): " +
                             r.err + (r.out.empty() ? "" : "\nlast output: " +
                                                                r.out.substr(r.out.size() > 500 ? r.out.size() - 500 : 0)));
  }
}

std::string SambaDc::search(const std::string& base, const std::string& filter,
                            const std::vector<std::string>& attrs, bool show_deleted) const {
  std::vector<std::string> argv{"ldapsearch", "-LLL", "-x", "-o", "ldif-wrap=no", "-o",
                                "nettimeout=10", "-H", uri_, "-D", admin_dn(), "-y",
                                password_file(), "-b", base, "-s", "sub", "-E",
                                "pr=1000/noprompt"};
  if (show_deleted) {
    argv.push_back("-E");
    argv.push_back(std::string("!") + kShowDeletedOid);
  }
  argv.push_back("--");
  argv.push_back(filter);
  for (const auto& a : attrs) argv.push_back(a);
  Result r = run(argv, {{"LDAPTLS_CACERT", ca_file()}, {"LDAPTLS_REQCERT", "demand"}},
                 std::chrono::seconds(600));
  if (r.status != 0) {
    throw std::runtime_error("ldapsearch -b '" + base + "' '" + filter + "' failed (exit " +
                             std::to_string(r.status) + "): " + r.err);
  }
  return strip_ldif_comments(r.out);
}

void SambaDc::add_users(const std::string& ou_dn, const std::string& prefix, int count) const {
  if (count <= 0) return;
  const int width = std::max<int>(4, static_cast<int>(std::to_string(count).size()));
  std::string text;
  text.reserve(static_cast<std::size_t>(count) * 300);
  for (int i = 1; i <= count; ++i) {
    std::string number = std::to_string(i);
    std::string name = prefix + std::string(static_cast<std::size_t>(width) - number.size(), '0') + number;
    text += ldif_line("dn", "CN=" + escape_rdn_value(name) + "," + ou_dn);
    text += "changetype: add\nobjectClass: user\n";
    text += ldif_line("sAMAccountName", name);
    text += ldif_line("userPrincipalName", name + "@" + domain());
    text += ldif_line("givenName", name);
    text += "sn: Test\n";
    text += ldif_line("displayName", name + " Test");
    text += "userAccountControl: 544\n\n";
  }
  ldif(text);
}

std::string SambaDc::unicode_pwd(const std::string& password) {
  // UTF-8 -> UTF-16LE of "\"password\"" (BMP and surrogate pairs)
  std::string quoted = "\"" + password + "\"";
  std::string utf16;
  for (std::size_t i = 0; i < quoted.size();) {
    unsigned char c = static_cast<unsigned char>(quoted[i]);
    char32_t cp = 0;
    int len = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c >> 5) == 0x6) {
      cp = c & 0x1f;
      len = 2;
    } else if ((c >> 4) == 0xe) {
      cp = c & 0x0f;
      len = 3;
    } else if ((c >> 3) == 0x1e) {
      cp = c & 0x07;
      len = 4;
    } else {
      throw std::invalid_argument("unicode_pwd: password is not UTF-8");
    }
    if (i + static_cast<std::size_t>(len) > quoted.size()) {
      throw std::invalid_argument("unicode_pwd: password is not UTF-8");
    }
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(quoted[i + k]) & 0x3f);
    i += static_cast<std::size_t>(len);
    auto put = [&](char16_t u) {
      utf16 += static_cast<char>(u & 0xff);
      utf16 += static_cast<char>(u >> 8);
    };
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put(static_cast<char16_t>(0xd800 + (cp >> 10)));
      put(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      put(static_cast<char16_t>(cp));
    }
  }
  return base64(utf16);
}

SambaDc& shared_dc() {
  static std::mutex mutex;
  static std::string first_error;
  static bool ready = false;
  static SambaDc* dc = [] {
    std::string ip = "127.0.0.11";
    if (const char* e = std::getenv("DIRFEED_SAMBA_IP"); e != nullptr && *e != '\0') ip = e;
    const std::string name = binary_name();
    std::string dir = std::string(DIRFEED_BINARY_DIR) + "/samba/" + name;
    if (dir.size() > kMaxDirLength) {
      dir = "/tmp/dirfeed-samba/" + name.substr(0, 30) + "-" +
            std::to_string(std::hash<std::string>{}(dir) % 1000000007ULL);
    }
    // a function-local static: destroyed (DC stopped) at exit, after all tests
    static SambaDc instance(dir, ip);
    return &instance;
  }();
  std::lock_guard lock(mutex);
  if (!first_error.empty()) {
    fail("the shared Samba DC could not be started earlier in this process:\n" + first_error);
  }
  if (!ready) {
    try {
      dc->reset();
    } catch (const std::exception& e) {
      first_error = e.what();
      throw;
    }
    ready = true;
  }
  return *dc;
}

}  // namespace dirfeed::testing
