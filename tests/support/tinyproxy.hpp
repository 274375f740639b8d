#pragma once
// A real HTTP proxy for tests: Debian's tinyproxy (/usr/bin/tinyproxy) on 127.0.0.1, any free
// port, in the foreground, allowing only 127.0.0.1 as a client, its log (every request and
// CONNECT it serves) in `dir`/tinyproxy.log. Forwards http:// requests (adding a Via header)
// and tunnels https:// ones with CONNECT to any port.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "tests/support/process.hpp"

namespace dirfeed::testing {

inline constexpr char kTinyproxyBinary[] = "/usr/bin/tinyproxy";

class Tinyproxy {
 public:
  explicit Tinyproxy(std::string dir) : dir_(std::move(dir)), port_(free_loopback_port()) {
    std::filesystem::create_directories(dir_);
    write_text(dir_ + "/tinyproxy.conf", "Port " + std::to_string(port_) +
                                             "\n"
                                             "Listen 127.0.0.1\n"
                                             "Timeout 30\n"
                                             "LogFile \"" +
                                             log_path() +
                                             "\"\n"
                                             "LogLevel Info\n"
                                             "MaxClients 20\n"
                                             "Allow 127.0.0.1\n");
    process_ = std::make_unique<Process>(
        std::vector<std::string>{kTinyproxyBinary, "-d", "-c", dir_ + "/tinyproxy.conf"},
        dir_ + "/stdout.log", dir_ + "/stdout.log");
    if (!wait_until([&] { return loopback_port_open(port_); }, std::chrono::seconds(20))) {
      throw std::runtime_error("tinyproxy did not listen on port " + std::to_string(port_) +
                               "; see " + dir_);
    }
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }
  std::string log_path() const { return dir_ + "/tinyproxy.log"; }
  // The log's lines naming the requests it served ("Request (file descriptor 5): GET
  // http://127.0.0.1:9/ HTTP/1.1", "... CONNECT 127.0.0.1:9 HTTP/1.1").
  std::vector<std::string> requests() const {
    return lines_with(read_text(log_path()), {"Request (file descriptor"});
  }

 private:
  std::string dir_;
  uint16_t port_;
  std::unique_ptr<Process> process_;
};

}  // namespace dirfeed::testing
