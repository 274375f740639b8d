// libFuzzer target: the JSON bodies of POST and PUT /api/uid/v1.0/user... through the real
// write handlers (rest/uid_write.cpp: parse_json, attribute types, inet_pton validation, GUID
// and NTLM identity checks) against a real store in a temp dir (RocksDB, uninstrumented, from
// the g++ build). The first input byte picks the endpoint, the rest is the body. Checks: no
// exception, only documented statuses (200, 400, 404, 409; never 500), JSON answers.
// Built and run by tests/fuzz/run.sh.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>

#include "changefeed/store.hpp"
#include "rest/api.hpp"
#include "rest/json.hpp"
#include "rest/uid_write.hpp"

namespace {

namespace http = boost::beast::http;
using namespace dirfeed::rest;

constexpr char kGuid[] = "d8e3d58f-fbc9-4ba9-8206-925c3083ed7d";
constexpr char kIdentity[] = "US1\\jdoe";

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "uid_body_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

class TickingClock final : public dirfeed::Clock {
 public:
  int64_t now_us() const override { return now_us_ += 1000; }

 private:
  mutable int64_t now_us_ = 1'700'000'000'000'000;
};

struct Fixture {
  Fixture() {
    std::string pattern = std::filesystem::temp_directory_path().string() + "/uid-body-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) fail("mkdtemp failed", pattern);
    dir = pattern;
    std::string error;
    store = dirfeed::changefeed::Store::open({dir + "/db"}, clock, &error);
    if (!store) fail("cannot open the store", error);
    context = std::make_unique<ApiContext>(
        ApiContext{*store, {{"example.test", "DC=example,DC=test", "EXAMPLE"}}});
    context->api_writes = store.get();
    // One API user, so PUTs also reach an existing user.
    Request request(http::verb::post, "/", 11);
    request.body() = std::string(R"({"NTLMIdentity": "US1\\jdoe", "dn": "CN=jdoe,DC=example,DC=test"})");
    const Response created = uid_create_user(Call{request, {{"guid", kGuid}}, {}}, *context);
    if (created.result() != http::status::ok) fail("cannot create the user", created.body());
  }
  ~Fixture() {
    context.reset();
    store.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  static Fixture& instance() {
    static Fixture fixture;
    return fixture;
  }

  std::string dir;
  TickingClock clock;
  std::unique_ptr<dirfeed::changefeed::Store> store;
  std::unique_ptr<ApiContext> context;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Fixture& fixture = Fixture::instance();
  const uint8_t which = data[0] % 6;
  const bool put = which >= 3;
  Request request(put ? http::verb::put : http::verb::post, "/", 11);
  request.body().assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  Call::Parameters path;
  switch (which) {
    case 0: case 3: path = {{"guid", kGuid}}; break;
    case 1: case 4: path = {{"identity", kIdentity}}; break;
    case 2: break;                                                  // POST /user
    case 5: path = {{"guid", "00000000-0000-0000-0000-000000000001"}}; break;  // unknown user
  }
  const Call call{request, std::move(path), {}};
  Response response;
  try {
    response = put ? uid_change_user(call, *fixture.context) : uid_create_user(call, *fixture.context);
  } catch (const std::exception& e) {
    fail("exception escaped a handler", e.what());
  }
  switch (response.result()) {
    case http::status::ok:
    case http::status::bad_request:
    case http::status::not_found:
    case http::status::conflict:
      break;
    default:
      fail("unexpected status", std::to_string(response.result_int()) + " " + response.body());
  }
  std::string error;
  if (!parse_json(response.body(), &error)) fail("response body is not JSON", error);
  return 0;
}
