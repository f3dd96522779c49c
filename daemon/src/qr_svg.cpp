#include "qr_svg.h"

#include <qrencode.h>

#include <memory>

#include "schakel/http/html.h"

namespace schakel::daemon {

Result<std::string> QrSvg(const std::string& text, int size_mm, const std::string& label) {
  constexpr size_t kMaxText = 1024;  // a link URL is ~80 characters
  if (text.empty() || text.size() > kMaxText) return Status::InvalidInput("QR code: text must be 1..1024 characters");
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1),
                                                     &QRcode_free);
  if (!qr) return Status::Internal("QR code: the text could not be encoded");
  constexpr int kQuiet = 4;
  const int n = qr->width;
  const int side = n + 2 * kQuiet;
  // One path: a 1x1 square per dark module.
  std::string path;
  path.reserve(static_cast<size_t>(n) * static_cast<size_t>(n) * 4);
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      if ((qr->data[y * n + x] & 1) == 0) continue;
      path += "M" + std::to_string(x + kQuiet) + " " + std::to_string(y + kQuiet) + "h1v1h-1z";
    }
  }
  const std::string s = std::to_string(side);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" role=\"img\" aria-label=\"" +
         http::html::Escape(label) + "\" width=\"" + std::to_string(size_mm) + "mm\" height=\"" +
         std::to_string(size_mm) + "mm\" viewBox=\"0 0 " + s + " " + s +
         "\" shape-rendering=\"crispEdges\"><rect width=\"" + s + "\" height=\"" + s +
         "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>";
}

}  // namespace schakel::daemon
