#pragma once
// A child process for daemon-level tests: the real binary, started without a shell, its
// stdout and stderr in files, killed and reaped when the test ends (and when the test
// process dies: PR_SET_PDEATHSIG), plus small file, polling and loopback port helpers.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dirfeed::testing {

// The whole content of `path` ("" when it cannot be read).
inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Writes `content` to `path` (created or truncated) with permission bits `mode`.
inline void write_text(const std::string& path, const std::string& content, mode_t mode = 0644) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0 &&
            ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok) throw std::runtime_error("cannot write " + path);
}

// Lines of `text` that contain every one of `needles`.
inline std::vector<std::string> lines_with(const std::string& text,
                                           std::initializer_list<std::string_view> needles) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    bool all = true;
    for (std::string_view needle : needles) all = all && line.find(needle) != std::string::npos;
    if (all) out.push_back(line);
  }
  return out;
}

// Polls `condition` every few milliseconds until it holds (true) or `timeout` passes (false).
inline bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds every = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

// A TCP port on 127.0.0.1 that nothing listens on right now.
inline uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free loopback port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

// Whether something accepts TCP connections on 127.0.0.1:port.
inline bool loopback_port_open(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool open =
      fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  if (fd >= 0) ::close(fd);
  return open;
}

class Process {
 public:
  // Runs `argv` (argv[0] a path, not searched in PATH) with our environment, stdin from
  // /dev/null, stdout and stderr appended to the given files, default signal handling.
  // Throws std::runtime_error when it cannot be started.
  Process(std::vector<std::string> argv, const std::string& stdout_path,
          const std::string& stderr_path) {
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    int out = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int report[2] = {-1, -1};  // the child writes errno here when exec fails
    if (out < 0 || err < 0 || null < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
      int saved = errno;
      for (int fd : {out, err, null, report[0], report[1]}) {
        if (fd >= 0) ::close(fd);
      }
      throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(saved));
    }
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {  // only async-signal-safe calls from here on
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
      if (::dup2(null, 0) >= 0 && ::dup2(out, 1) >= 0 && ::dup2(err, 2) >= 0) {
        ::execv(args[0], args.data());
      }
      int code = errno;
      (void)!::write(report[1], &code, sizeof code);
      ::_exit(127);
    }
    int fork_errno = errno;
    for (int fd : {out, err, null, report[1]}) ::close(fd);
    if (pid_ < 0) {
      ::close(report[0]);
      throw std::runtime_error("fork: " + std::string(std::strerror(fork_errno)));
    }
    int code = 0;
    ssize_t got;
    while ((got = ::read(report[0], &code, sizeof code)) < 0 && errno == EINTR) {
    }
    ::close(report[0]);
    if (got > 0) {
      wait_for(std::chrono::seconds(5));
      throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(code));
    }
  }

  ~Process() {
    if (!status_) {
      signal(SIGKILL);
      wait_for(std::chrono::seconds(10));
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }

  void signal(int sig) {
    if (!status_) ::kill(pid_, sig);
  }

  // Whether it still runs (reaps it when it has exited).
  bool running() { return !poll(); }

  // Waits up to `timeout` for it to exit. Returns the exit code, or 128 + signal number when
  // a signal ended it; nullopt when it still runs.
  std::optional<int> wait_for(std::chrono::milliseconds timeout) {
    wait_until([this] { return poll(); }, timeout, std::chrono::milliseconds(5));
    return status_;
  }

 private:
  bool poll() {
    if (status_) return true;
    int wstatus = 0;
    pid_t r = ::waitpid(pid_, &wstatus, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    } else if (r < 0 && errno != EINTR) {
      status_ = -1;  // not our child any more: nothing to wait for
    }
    return status_.has_value();
  }

  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace dirfeed::testing
