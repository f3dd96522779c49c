#include "schakel/http/html.h"

namespace schakel::http::html {

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string Layout(const Page& page) {
  std::string o;
  o += "<!doctype html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n";
  o += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  o += "<meta name=\"referrer\" content=\"no-referrer\">\n";
  o += "<meta name=\"robots\" content=\"noindex, nofollow\">\n";
  o += "<title>" + Escape(page.title) + "</title>\n";
  o += "<link rel=\"stylesheet\" href=\"/static/schakel.css\">\n</head>\n<body>\n";
  o += "<a class=\"skip\" href=\"#inhoud\">Naar de inhoud</a>\n";
  o += "<header class=\"site\"><span class=\"brand\">" + Escape(page.site_name) + "</span></header>\n";
  o += "<main id=\"inhoud\" tabindex=\"-1\">\n" + page.body_html + "\n</main>\n";
  o += "<footer class=\"site\"><p>Vertrouwelijk. Deel deze pagina niet.</p></footer>\n";
  o += "</body>\n</html>\n";
  return o;
}

std::string Input(const Field& f) {
  std::string o;
  o += "<label for=\"" + Escape(f.id) + "\">" + Escape(f.label) + "</label>\n";
  std::string described;
  if (!f.hint.empty()) {
    o += "<p class=\"hint\" id=\"" + Escape(f.id) + "-hint\">" + Escape(f.hint) + "</p>\n";
    described = " aria-describedby=\"" + Escape(f.id) + "-hint\"";
  }
  o += "<input type=\"" + Escape(f.type) + "\" id=\"" + Escape(f.id) + "\" name=\"" + Escape(f.id) + "\"";
  if (!f.value.empty()) o += " value=\"" + Escape(f.value) + "\"";
  o += " autocomplete=\"" + Escape(f.autocomplete) + "\"";
  if (!f.inputmode.empty()) o += " inputmode=\"" + Escape(f.inputmode) + "\"";
  if (!f.extra_class.empty()) o += " class=\"" + Escape(f.extra_class) + "\"";
  if (f.maxlength > 0) o += " maxlength=\"" + std::to_string(f.maxlength) + "\"";
  if (f.required) o += " required";
  o += " spellcheck=\"false\"" + described + ">\n";
  return o;
}

std::string Hidden(std::string_view name, std::string_view value) {
  return "<input type=\"hidden\" name=\"" + Escape(name) + "\" value=\"" + Escape(value) + "\">\n";
}

std::string Submit(std::string_view label) { return "<button type=\"submit\">" + Escape(label) + "</button>\n"; }

}  // namespace schakel::http::html
