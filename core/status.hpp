#pragma once
// The one way dirfeed code reports a failure that is not a bug: a Status (ok, or a code and a
// message saying what failed, fit for a log line or an API answer) or a Result<T> (a value, or
// the Status of why there is none). Exceptions are for start-up and config time only.
#include <optional>
#include <string>
#include <utility>

namespace dirfeed {

// What kind of failure a Status reports, for callers that act on it (retry, 4xx or 5xx).
enum class StatusCode {
  kOk,
  kInvalid,      // the input is wrong: retrying the same input cannot help
  kNotFound,     // what was named is not there
  kUnavailable,  // a file, server or service could not be reached or read: a retry may help
  kInternal,     // anything else (a store write failed, a library call failed)
};

class [[nodiscard]] Status {
 public:
  static Status ok() { return Status(); }
  static Status error(std::string message, StatusCode code = StatusCode::kInternal) {
    return Status(code, std::move(message));
  }
  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // "" when ok.
  const std::string& message() const { return message_; }

 private:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value, or the failed Status of why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit, as `return value;`
  // `status` must be an error.
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit, as `return error;`

  bool is_ok() const { return value_.has_value(); }
  // Status::ok() when there is a value.
  const Status& status() const { return status_; }
  // Only when is_ok().
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_ = Status::ok();
};

}  // namespace dirfeed
