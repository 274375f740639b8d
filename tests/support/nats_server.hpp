#pragma once
// Real nats-server processes for tests (Debian's nats-server, /usr/sbin/nats-server): one
// server or a cluster of three on loopback, JetStream on, each store in a directory of the
// test's; and a small reader of what a stream holds, through libnats.
#include <signal.h>
#include <unistd.h>

#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace dirfeed::testing {

inline constexpr char kNatsServerBinary[] = "/usr/sbin/nats-server";

// One nats-server with JetStream, its store in `dir`/store, log in `dir`/server.log. With
// `routes` (the cluster ports of the others) it joins cluster "dirfeed-test" on cluster_port.
// `extra` goes on its command line as it is (e.g. --tls ..., --user ... --pass ...).
class NatsServer {
 public:
  NatsServer(std::string dir, std::string name = "n1", uint16_t port = free_loopback_port(),
             uint16_t cluster_port = 0, std::vector<uint16_t> routes = {},
             std::vector<std::string> extra = {})
      : dir_(std::move(dir)),
        name_(std::move(name)),
        port_(port),
        cluster_port_(cluster_port),
        routes_(std::move(routes)),
        extra_(std::move(extra)) {
    std::filesystem::create_directories(dir_);
    start();
  }

  // Starts it again (on the same port and store) after stop() or kill().
  void start() {
    std::vector<std::string> argv = {kNatsServerBinary,    "-a", "127.0.0.1",
                                     "-p", std::to_string(port_), "-js",
                                     "-sd", dir_ + "/store", "--server_name", name_};
    if (cluster_port_ != 0) {
      argv.insert(argv.end(), {"--cluster_name", "dirfeed-test", "--cluster",
                               "nats://127.0.0.1:" + std::to_string(cluster_port_)});
      std::string list;
      for (uint16_t route : routes_) {
        list += (list.empty() ? "" : ",") + std::string("nats://127.0.0.1:") +
                std::to_string(route);
      }
      if (!list.empty()) argv.insert(argv.end(), {"--routes", list});
    }
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    process_ = std::make_unique<Process>(argv, dir_ + "/server.log", dir_ + "/server.log");
    if (!wait_until([&] { return loopback_port_open(port_); }, std::chrono::seconds(20))) {
      throw std::runtime_error("nats-server " + name_ + " did not listen on port " +
                               std::to_string(port_) + "; see " + dir_ + "/server.log");
    }
  }

  void stop() {  // SIGTERM, and waits for it to exit
    process_->signal(SIGTERM);
    process_->wait_for(std::chrono::seconds(20));
  }
  void kill() {  // SIGKILL
    process_->signal(SIGKILL);
    process_->wait_for(std::chrono::seconds(20));
  }

  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }
  const std::string& log_path() const { return log_; }

 private:
  std::string dir_;
  std::string name_;
  uint16_t port_;
  uint16_t cluster_port_;
  std::vector<uint16_t> routes_;
  std::vector<std::string> extra_;
  std::string log_ = dir_ + "/server.log";
  std::unique_ptr<Process> process_;
};

// Three servers in one cluster on loopback, each with its store under `dir`/nK.
class NatsCluster {
 public:
  explicit NatsCluster(const std::string& dir) {
    std::vector<uint16_t> ports, cluster_ports;
    for (int i = 0; i < 3; ++i) {
      ports.push_back(free_loopback_port());
      cluster_ports.push_back(free_loopback_port());
    }
    for (int i = 0; i < 3; ++i) {
      std::vector<uint16_t> routes;
      for (int j = 0; j < 3; ++j) {
        if (j != i) routes.push_back(cluster_ports[j]);
      }
      servers_.push_back(std::make_unique<NatsServer>(dir + "/n" + std::to_string(i + 1),
                                                      "n" + std::to_string(i + 1), ports[i],
                                                      cluster_ports[i], routes));
    }
  }

  NatsServer& server(size_t i) { return *servers_.at(i); }
  std::vector<std::string> urls() const {
    std::vector<std::string> urls;
    for (const auto& server : servers_) urls.push_back(server->url());
    return urls;
  }

 private:
  std::vector<std::unique_ptr<NatsServer>> servers_;
};

// One message as the stream stores it.
struct StreamMessage {
  uint64_t stream_sequence = 0;
  std::string subject;
  std::string msg_id;  // the Nats-Msg-Id header
  std::string data;
};

// Reads a stream through libnats (a connection of its own to `urls`).
class StreamReader {
 public:
  explicit StreamReader(const std::vector<std::string>& urls) {
    natsOptions* opts = nullptr;
    std::vector<const char*> servers;
    for (const std::string& url : urls) servers.push_back(url.c_str());
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK) s = natsConnection_Connect(&connection_, opts);
    natsOptions_Destroy(opts);
    if (s == NATS_OK) s = natsConnection_JetStream(&js_, connection_, nullptr);
    if (s != NATS_OK) {
      throw std::runtime_error(std::string("StreamReader: ") + natsStatus_GetText(s));
    }
  }
  ~StreamReader() {
    if (js_ != nullptr) jsCtx_Destroy(js_);
    if (connection_ != nullptr) natsConnection_Destroy(connection_);
  }
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;

  // The stream's info (nullptr when it is absent or cannot be read now); caller destroys it
  // with jsStreamInfo_Destroy.
  jsStreamInfo* info(const std::string& stream) {
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    return js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, &code) == NATS_OK ? info
                                                                                  : nullptr;
  }

  // Makes the stream refuse messages over `bytes` (its max_msg_size); false when it cannot.
  bool limit_message_size(const std::string& stream, int32_t bytes) {
    jsStreamInfo* si = info(stream);
    if (si == nullptr) return false;
    si->Config->MaxMsgSize = bytes;
    jsStreamInfo* updated = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    const natsStatus s = js_UpdateStream(&updated, js_, si->Config, nullptr, &code);
    jsStreamInfo_Destroy(si);
    if (updated != nullptr) jsStreamInfo_Destroy(updated);
    return s == NATS_OK;
  }

  // How many messages the stream holds (nullopt: it cannot be read now).
  std::optional<uint64_t> count(const std::string& stream) {
    jsStreamInfo* si = info(stream);
    if (si == nullptr) return std::nullopt;
    const uint64_t messages = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    return messages;
  }

  // Every message of the stream, oldest first.
  std::vector<StreamMessage> messages(const std::string& stream) {
    std::vector<StreamMessage> out;
    jsStreamInfo* si = info(stream);
    if (si == nullptr) return out;
    const uint64_t first = si->State.FirstSeq, last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    for (uint64_t seq = first; seq != 0 && seq <= last; ++seq) {
      natsMsg* msg = nullptr;
      jsErrCode code = static_cast<jsErrCode>(0);
      if (js_GetMsg(&msg, js_, stream.c_str(), seq, nullptr, &code) != NATS_OK) continue;
      StreamMessage m;
      m.stream_sequence = seq;
      m.subject = natsMsg_GetSubject(msg);
      m.data.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
      const char* id = nullptr;
      if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) m.msg_id = id;
      natsMsg_Destroy(msg);
      out.push_back(std::move(m));
    }
    return out;
  }

 private:
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
};

}  // namespace dirfeed::testing
