// http/: HTML building blocks for the link pages and the staff
// console. Everything a page shows from data goes through HtmlEscape; the
// layout adds no inline script or style (the CSP forbids them) and links the
// one stylesheet, /static/schakel.css. Pages are Dutch (lang="nl"), start
// with a skip link to the main content, and label every form field.
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace schakel::http::html {

// Escapes & < > " ' so the result is safe as element text and inside a
// double- or single-quoted attribute value.
std::string Escape(std::string_view text);

struct Page {
  std::string title;                  // plain text, escaped by Layout
  std::string body_html;              // trusted HTML (built with Escape)
  std::string site_name = "Schakel";  // plain text in the header bar
};

// A complete HTML5 document: <!doctype html>, lang="nl", charset, viewport,
// <title>, the stylesheet, a skip link to <main id="inhoud">, the header
// bar, the body and a footer.
std::string Layout(const Page& page);

struct Field {
  std::string id;             // id and name of the input
  std::string label;          // plain text
  std::string hint;           // plain text under the label, optional
  std::string type = "text";  // text, password, email
  std::string value;          // plain text
  std::string autocomplete = "off";
  std::string inputmode;    // e.g. "text", "numeric"; empty: none
  std::string extra_class;  // e.g. "code"
  bool required = false;
  int maxlength = 0;  // 0: none
};

// <label for> + optional hint (aria-describedby) + <input>.
std::string Input(const Field& field);
// A hidden input.
std::string Hidden(std::string_view name, std::string_view value);
// <button type="submit">.
std::string Submit(std::string_view label);

}  // namespace schakel::http::html
