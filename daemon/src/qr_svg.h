// A QR code as inline SVG (libqrencode), for the printable permission
// letter: a phone's camera opens the link without typing it. Only for text
// this node made (a link URL); no outside input reaches it.
#pragma once

#include <string>

#include "schakel/base/status.h"

namespace schakel::daemon {

// The SVG element for `text` (error correction M, 4 modules of quiet zone),
// `size_mm` wide when printed, with `label` as its accessible name.
Result<std::string> QrSvg(const std::string& text, int size_mm, const std::string& label);

}  // namespace schakel::daemon
