// JSON from outside, with limits: the reader lives in base/json.h (crypto/
// uses it too); formats/ names it as it always has.
#pragma once

#include "schakel/base/json.h"

namespace schakel::formats {

using schakel::Json;
using schakel::JsonLimits;
using schakel::ParseJsonLimited;
using Fields = schakel::JsonFields;

}  // namespace schakel::formats
