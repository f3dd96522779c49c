// Private: the schema, as an ordered list of migrations. A migration is never
// edited once released; changes come as a new one at the end.
#pragma once

#include <span>
#include <string_view>

namespace schakel::store {

std::span<const std::string_view> Migrations();

}  // namespace schakel::store
