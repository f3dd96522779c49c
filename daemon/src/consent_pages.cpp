#include "consent_pages.h"

#include <string>
#include <vector>

#include "inzage_page.h"
#include "schakel/base/log.h"
#include "schakel/base/strings.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/formats/form.h"
#include "schakel/http/html.h"

namespace schakel::daemon {
namespace {

namespace html = http::html;
using service::GrantPage;

std::string Paragraphs(const std::vector<std::string>& ps) {
  std::string o;
  for (const auto& p : ps) o += "<p>" + html::Escape(p) + "</p>\n";
  return o;
}

std::string LabelList(const std::vector<std::string>& categories) {
  std::string o = "<ul>";
  for (const auto& c : categories) o += "<li>" + html::Escape(consent::DutchCategoryLabel(c)) + "</li>";
  return o + "</ul>\n";
}

http::WebResponse ConsentCodeForm(int status, const std::string& token, const std::string& error) {
  static const CodeFormText kText{"Verzoek om toestemming",
                                  "U heeft een verzoek om toestemming ontvangen. Vul de toegangscode in die u apart "
                                  "heeft gekregen (op papier of per telefoon). Zonder de code is niets te zien.",
                                  "Verder"};
  return CodeFormPage(status, "/t/" + token, kText, error);
}

// The question: the texts, a checkbox per category (none ticked), the typed
// name, and yes or no.
http::WebResponse Question(int status, const std::string& token, const std::string& code, const GrantPage& page) {
  const service::GrantTexts t = service::TextsFor(page.content);
  const bool young = page.content.grantor_role == "jongere";
  std::string b = "<h1>" + html::Escape(t.title) + "</h1>\n" + Paragraphs(t.intro);
  if (!page.error.empty()) b += "<p class=\"error\" role=\"alert\" id=\"fout\">" + html::Escape(page.error) + "</p>\n";
  b += "<form method=\"post\" action=\"/t/" + html::Escape(token) + "\">\n" + html::Hidden("code", code) +
       html::Hidden("action", "answer");
  b += "<fieldset><legend>" + std::string(young ? "Waarvoor geef je toestemming?" : "Waarvoor geeft u toestemming?") +
       "</legend>\n";
  for (const auto& [name, text] : t.categories) {
    const std::string id = "cat_" + name;
    b += "<div class=\"keuze\"><input type=\"checkbox\" id=\"" + id + "\" name=\"" + id +
         "\" value=\"1\"> <label for=\"" + id + "\">" + html::Escape(text) + "</label></div>\n";
  }
  b += "</fieldset>\n";
  html::Field name;
  name.id = "name";
  name.label = young ? "Je naam (als handtekening)" : "Uw naam (als handtekening)";
  name.autocomplete = "name";
  name.maxlength = static_cast<int>(service::kMaxTypedName);
  name.required = true;
  b += html::Input(name);
  b += Paragraphs(t.after);
  b += "<p><button type=\"submit\" name=\"choice\" value=\"agree\">Ik geef toestemming voor wat ik heb "
       "aangevinkt</button></p>\n<p><button type=\"submit\" name=\"choice\" value=\"refuse\" "
       "class=\"secundair\">Ik geef geen toestemming</button></p>\n</form>\n";
  return PublicPage(status, "Toestemming", b);
}

// After a yes: what stands, and the way to withdraw all or some of it.
http::WebResponse Agreed(const std::string& token, const std::string& code, const GrantPage& page, bool just_now) {
  const bool young = page.content.grantor_role == "jongere";
  std::string b = just_now ? "<h1>Dank voor uw antwoord</h1>\n" : "<h1>Uw toestemming</h1>\n";
  if (page.kind == GrantPage::Kind::kNarrowed) {
    b = std::string("<h1>Toestemming aangepast</h1>\n<p class=\"notice\">") +
        (young ? "Je hebt een deel van je toestemming ingetrokken."
               : "U heeft een deel van uw toestemming ingetrokken.") +
        " Wat daarvan al gedeeld was, wordt bij de ontvangers verwijderd.</p>\n";
  }
  if (!page.error.empty()) b += "<p class=\"error\" role=\"alert\" id=\"fout\">" + html::Escape(page.error) + "</p>\n";
  b += std::string("<p>") + (young ? "Je geeft" : "U geeft") + " nu toestemming voor deze gegevens:</p>\n" +
       LabelList(page.agreed);
  b += young ? "<p>Bewaar deze link en de code. Daarmee kun je je toestemming later weer bekijken of intrekken.</p>\n"
             : "<p>Bewaar deze link en de code. Daarmee kunt u uw toestemming later weer bekijken of intrekken.</p>\n";
  if (just_now) return PublicPage(200, "Toestemming", b);
  const std::string open = "<form method=\"post\" action=\"/t/" + html::Escape(token) + "\">\n" +
                           html::Hidden("code", code) + html::Hidden("action", "withdraw");
  if (page.agreed.size() > 1) {
    b += "<h2>Een deel intrekken</h2>\n" + open + "<fieldset><legend>" +
         (young ? "Voor welke gegevens trek je je toestemming in?" : "Voor welke gegevens trekt u uw toestemming in?") +
         "</legend>\n";
    for (const auto& name : page.agreed) {
      const std::string id = "wcat_" + name;
      b += "<div class=\"keuze\"><input type=\"checkbox\" id=\"" + id + "\" name=\"" + id +
           "\" value=\"1\"> <label for=\"" + id + "\">" + html::Escape(consent::DutchCategoryLabel(name)) +
           "</label></div>\n";
    }
    b += "</fieldset>\n" + html::Hidden("scope", "some") + html::Submit("Intrekken voor wat ik heb aangevinkt") +
         "</form>\n<h2>Alles intrekken</h2>\n";
  }
  b += open + html::Hidden("scope", "all") +
       "<p>Intrekken betekent: er wordt niets meer gedeeld op grond van deze toestemming, en wat al gedeeld is "
       "wordt bij de ontvanger verwijderd.</p>\n" +
       html::Submit("Toestemming intrekken") + "</form>\n";
  return PublicPage(200, "Toestemming", b);
}

http::WebResponse Gone(const std::string& state) {
  std::string why;
  if (state == "locked") {
    why = "Deze link is geblokkeerd na te veel onjuiste toegangscodes. Neem contact op met de school voor een nieuwe.";
  } else if (state == "expired") {
    why = "Deze link is verlopen. Neem contact op met de school als u nog wilt antwoorden.";
  } else if (state == "agreed" || state == "refused") {
    why = "Op dit verzoek is al geantwoord. Uw antwoord is vastgelegd en niet gewijzigd.";
  } else if (state == "withdrawn") {
    why = "Deze toestemming is ingetrokken. Er wordt niets meer op grond van gedeeld.";
  } else if (state == "ended") {
    why = "De periode van deze toestemming is voorbij.";
  } else {
    why = "Dit kan met deze link niet (meer).";
  }
  return PublicPage(410, "Link niet meer geldig",
                    "<h1>Link niet meer geldig</h1>\n<p class=\"notice\">" + html::Escape(why) + "</p>\n");
}

// The answer as the form gave it.
service::GrantAnswer AnswerFrom(const std::map<std::string, std::string>& form) {
  service::GrantAnswer a;
  auto choice = form.find("choice");
  a.agree = choice != form.end() && choice->second == "agree";
  if (auto n = form.find("name"); n != form.end()) {
    const std::string& v = n->second;
    size_t b = v.find_first_not_of(' ');
    size_t e = v.find_last_not_of(' ');
    if (b != std::string::npos) a.typed_name = v.substr(b, e - b + 1);
  }
  for (const auto& [key, value] : form) {
    if (key.rfind("cat_", 0) == 0 && value == "1") a.categories.push_back(key.substr(4));
  }
  return a;
}

// The categories ticked on the management page; empty for "all". "some"
// with nothing ticked names an impossible category, so that the page asks
// again.
std::vector<std::string> WithdrawnFrom(const std::map<std::string, std::string>& form) {
  auto scope = form.find("scope");
  if (scope == form.end() || scope->second != "some") return {};
  std::vector<std::string> out;
  for (const auto& [key, value] : form) {
    if (key.rfind("wcat_", 0) == 0 && value == "1") out.push_back(key.substr(5));
  }
  if (out.empty()) out.emplace_back("-");
  return out;
}

http::WebResponse Render(const GrantPage& page, const std::string& token, const std::string& code) {
  switch (page.kind) {
    case GrantPage::Kind::kNotFound:
      return PublicNotFound();
    case GrantPage::Kind::kGone:
      return Gone(page.state);
    case GrantPage::Kind::kAskCode:
      return ConsentCodeForm(200, token, "");
    case GrantPage::Kind::kWrongCode:
      return ConsentCodeForm(403, token,
                             "Deze toegangscode is onjuist. U heeft nog " + std::to_string(page.attempts_left) +
                                 (page.attempts_left == 1 ? " poging." : " pogingen."));
    case GrantPage::Kind::kQuestion:
      return Question(200, token, code, page);
    case GrantPage::Kind::kInvalid:
      if (page.state == "agreed") {
        http::WebResponse again = Agreed(token, code, page, false);
        again.status = 400;
        return again;
      }
      return Question(400, token, code, page);
    case GrantPage::Kind::kAgreed:
    case GrantPage::Kind::kNarrowed:
      return Agreed(token, code, page, false);
    case GrantPage::Kind::kAnswered:
      if (page.state == "agreed") return Agreed(token, code, page, true);
      return PublicPage(200, "Antwoord vastgelegd",
                        "<h1>Antwoord vastgelegd</h1>\n<p>U gaf geen toestemming. Uw antwoord is vastgelegd; er "
                        "wordt op grond van dit verzoek niets gedeeld.</p>\n");
    case GrantPage::Kind::kWithdrawn:
      return PublicPage(200, "Toestemming ingetrokken",
                        "<h1>Toestemming ingetrokken</h1>\n<p>Uw toestemming is ingetrokken. Wat op grond daarvan "
                        "gedeeld was, wordt bij de ontvangers verwijderd.</p>\n");
  }
  return PublicPage(500, "Interne fout", "<h1>Interne fout</h1>\n<p class=\"error\">Probeer het later opnieuw.</p>\n");
}

// The inzage link's pages: the code form, or the report.
http::WebResponse RenderInzagePage(const service::InzagePage& page, const std::string& token) {
  using Kind = service::InzagePage::Kind;
  static const CodeFormText kText{"Inzage",
                                  "Met deze link ziet u wat er over uw kind (of over u) is gedeeld. Vul de "
                                  "toegangscode in die u apart heeft gekregen.",
                                  "Verder"};
  auto code_form = [&](int status, const std::string& error) {
    return CodeFormPage(status, "/i/" + token, kText, error);
  };
  switch (page.kind) {
    case Kind::kNotFound:
      return PublicNotFound();
    case Kind::kGone:
      return PublicPage(410, "Link niet meer geldig",
                        std::string("<h1>Link niet meer geldig</h1>\n<p class=\"notice\">") +
                            (page.state == "locked" ? "Deze link is geblokkeerd na te veel onjuiste toegangscodes."
                                                    : "Deze link is verlopen.") +
                            " Vraag de school om een nieuwe als u wilt zien wat er is gedeeld.</p>\n");
    case Kind::kAskCode:
      return code_form(200, "");
    case Kind::kWrongCode:
      return code_form(403, "Deze toegangscode is onjuist. U heeft nog " + std::to_string(page.attempts_left) +
                                (page.attempts_left == 1 ? " poging." : " pogingen."));
    case Kind::kReport:
      return PublicPage(200, "Inzage", RenderInzage(page.report));
  }
  return PublicNotFound();
}

}  // namespace

ConsentPages::ConsentPages(service::ConsentRequests& requests, http::RateLimiter& per_ip)
    : requests_(requests), per_ip_(per_ip) {}

http::WebResponse ConsentPages::HandleInzage(const http::WebRequest& req) {
  const std::string token = req.path.substr(3);
  if (!crypto::IsLinkTokenShape(token)) return PublicNotFound();
  if (auto refused = OnlyGetOrPost(req)) return *refused;
  Result<service::InzagePage> page = Status::Internal("not decided");
  if (req.method == "GET") {
    page = requests_.VisitInzage(token);
  } else {
    if (auto refused = CheckFormPost(req, per_ip_)) return *refused;
    formats::FormLimits limits;
    limits.max_body = 1024;
    limits.max_fields = 4;
    limits.max_value = 64;
    auto form = formats::ParseForm(req.body, limits);
    page = requests_.OpenInzage(token, form.ok() && form->count("code") ? form->at("code") : "");
  }
  if (!page.ok()) {
    LogError("inzage pages: " + page.status().message());
    return PublicPage(500, "Interne fout",
                      "<h1>Interne fout</h1>\n<p class=\"error\">Probeer het later opnieuw.</p>\n");
  }
  return RenderInzagePage(*page, token);
}

http::WebResponse ConsentPages::Handle(const http::WebRequest& req) {
  if (req.path.rfind("/i/", 0) == 0) return HandleInzage(req);
  constexpr std::string_view kPrefix = "/t/";
  if (req.path.compare(0, kPrefix.size(), kPrefix) != 0) return PublicNotFound();
  const std::string token = req.path.substr(kPrefix.size());
  if (!crypto::IsLinkTokenShape(token)) return PublicNotFound();
  if (auto refused = OnlyGetOrPost(req)) return *refused;
  Result<GrantPage> page = Status::Internal("not decided");
  std::string code;
  if (req.method == "GET") {
    page = requests_.Visit(token);
  } else {
    if (auto refused = CheckFormPost(req, per_ip_)) return *refused;
    formats::FormLimits limits;
    limits.max_body = 4096;
    limits.max_fields = 8 + consent::kCategoryCount;
    limits.max_value = service::kMaxTypedName * 4;
    auto form = formats::ParseForm(req.body, limits);
    if (!form.ok()) {
      return PublicPage(400, "Ongeldig formulier",
                        "<h1>Ongeldig formulier</h1>\n<p class=\"error\">Het formulier is niet goed aangekomen. Ga "
                        "terug en probeer het opnieuw.</p>\n");
    }
    auto typed = form->count("code") ? form->at("code") : "";
    if (auto normalised = crypto::NormaliseAccessCode(typed)) code = *normalised;
    const std::string action = form->count("action") ? form->at("action") : "";
    if (action == "answer") {
      page = requests_.Answer(token, typed, AnswerFrom(*form));
    } else if (action == "withdraw") {
      page = requests_.Withdraw(token, typed, WithdrawnFrom(*form));
    } else {
      page = requests_.Open(token, typed);
    }
  }
  if (!page.ok()) {
    LogError("consent pages: " + page.status().message());
    return PublicPage(500, "Interne fout",
                      "<h1>Interne fout</h1>\n<p class=\"error\">Interne fout. Probeer het later "
                      "opnieuw.</p>\n");
  }
  return Render(*page, token, code);
}

}  // namespace schakel::daemon
