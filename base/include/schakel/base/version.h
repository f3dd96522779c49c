// The version of Schakel, from CMake's project(VERSION ...): the one place it
// is set, so `schakel --version`, `schakel status`, /metrics and the .deb agree.
#pragma once

#include <string_view>

namespace schakel {

inline constexpr std::string_view kVersion = SCHAKEL_VERSION;

}  // namespace schakel
