#include "ldap/directory.hpp"

namespace dirfeed::ldap {

const Attribute* Entry::find(std::string_view name) const {
  for (const auto& attribute : attributes) {
    if (attribute.name == name) return &attribute;
  }
  return nullptr;
}

std::string_view Entry::first(std::string_view name) const {
  const Attribute* attribute = find(name);
  if (!attribute || attribute->values.empty()) return {};
  return attribute->values.front();
}

}  // namespace dirfeed::ldap
