#pragma once
// Test support for server-level tests: an HttpServer serving on threads of its own, for
// clients on real sockets.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <cstdint>
#include <future>
#include <thread>
#include <utility>
#include <vector>

#include "rest/http_server.hpp"

namespace dirfeed::rest::testing {

// An HttpServer bound at construction (127.0.0.1 port 0 unless `options` say otherwise) and
// started, its io_context run by `threads` threads of its own until destruction, which stops
// it and joins them. A work guard keeps the threads running while the server has nothing to
// do, so stop() may come before the destruction (which stops it again: stop() is idempotent).
class RunningServer {
 public:
  RunningServer(const ServerOptions& options, Handler handler, Screen screen = {}, int threads = 1)
      : server_(io_, options, std::move(handler), std::move(screen)) {
    server_.start();
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~RunningServer() {
    stop();
    work_.reset();
    for (std::thread& thread : threads_) thread.join();
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  // Stops the server (HttpServer::stop) on one of its threads, and returns once it has.
  void stop() {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      server_.stop();
      done.set_value();
    });
    done.get_future().wait();
  }

  uint16_t port() const { return server_.port(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  HttpServer server_;
  std::vector<std::thread> threads_;
};

}  // namespace dirfeed::rest::testing
