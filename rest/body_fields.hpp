#pragma once
// Typed reads of the members of a JSON request body (the Directory Sync API's), remembering
// the first member of a wrong type as a message for the 400.
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rest/json.hpp"

namespace dirfeed::rest {

// Typed reads of a body's members. Absent and null members are nullopt; the first member of
// a wrong type is remembered in problem() (and is nullopt too).
class BodyFields {
 public:
  explicit BodyFields(const JsonValue& object) : object_(object) {}

  std::optional<std::string> string(std::string_view name) {
    const JsonValue* value = find(name);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) return fail(name, "a string");
    return value->text();
  }

  std::optional<bool> boolean(std::string_view name) {
    const JsonValue* value = find(name);
    if (value == nullptr) return std::nullopt;
    if (!value->is_bool()) return fail(name, "true or false");
    return value->as_bool();
  }

  std::optional<std::vector<std::string>> strings(std::string_view name) {
    const JsonValue* value = find(name);
    if (value == nullptr) return std::nullopt;
    if (!value->is_array()) return fail(name, "an array of strings");
    std::vector<std::string> list;
    for (const JsonValue& element : value->array()) {
      if (!element.is_string()) return fail(name, "an array of strings");
      list.push_back(element.text());
    }
    return list;
  }

  // A whole number 0..max written without sign, fraction or exponent.
  std::optional<uint32_t> count(std::string_view name, uint32_t max) {
    const JsonValue* value = find(name);
    if (value == nullptr) return std::nullopt;
    const std::string expected = "a whole number from 0 to " + std::to_string(max);
    if (!value->is_number()) return fail(name, expected);
    const std::string& text = value->text();
    uint32_t number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error != std::errc() || end != text.data() + text.size() || number > max) {
      return fail(name, expected);
    }
    return number;
  }

  const std::string& problem() const { return problem_; }

 private:
  const JsonValue* find(std::string_view name) const {
    const JsonValue* value = object_.find(name);
    return value == nullptr || value->is_null() ? nullptr : value;
  }

  // Remembers "`name` must be <expected>" (the first only); converts to any empty optional.
  std::nullopt_t fail(std::string_view name, std::string_view expected) {
    if (problem_.empty()) problem_ = std::string(name) + " must be " + std::string(expected);
    return std::nullopt;
  }

  const JsonValue& object_;
  std::string problem_;
};

}  // namespace dirfeed::rest
