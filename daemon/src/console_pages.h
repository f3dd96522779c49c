// Private to daemon/: the staff console's pages (docs/console.md), in Dutch.
//
// Pure functions from the service's typed results to whole HTML documents:
// server-rendered, no inline script or style (the CSP forbids both), a label
// for every field, tables with <th scope>, one shared stylesheet that also
// has print rules. Every text that comes from data is HTML-escaped here.
// The gate's reason codes are explained in Dutch (ReasonNl).
//
// Thread-safe (no state).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "groeidocument.h"
#include "schakel/service/consent_requests.h"
#include "schakel/service/results.h"
#include "schakel/store/records.h"
#include "schakel/store/users.h"

namespace schakel::daemon::console {

using Json = nlohmann::json;

// Who is looking, for the navigation and the forms' CSRF token.
struct Viewer {
  std::string name;
  store::Role role = store::Role::kStaff;
  std::string csrf;
  std::string node_id;  // the organisation's name ([node] name), or its node id
  std::string user_id;  // for what only a share's requester may do
  // Names instead of ids (Service::DisplayNames): partners, users.
  std::map<std::string, std::string> names;
  // The name for an id; the id itself when none is known.
  std::string Name(const std::string& id) const {
    auto it = names.find(id);
    return it == names.end() || it->second.empty() ? id : it->second;
  }
};

std::string Esc(std::string_view text);
// Helpers the page files share: the CSRF field of a form, a list of
// category names in Dutch (escaped; "geen" when empty), a form of one
// button that posts to `action`.
std::string CsrfField(const Viewer& v);
std::string CategoryList(const Json& list);
std::string CategoryList(consent::CategorySet set);
std::string PostButton(const Viewer& v, std::string_view action, std::string_view label,
                       const std::vector<std::pair<std::string, std::string>>& hidden = {});
// A table with a caption, column headers and rows of HTML (the first cell of
// a row is its header).
std::string Table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows,
                  std::string_view caption);
// <option>s for a <select>: (value, label) pairs; the purposes of the
// privacy protocol; a checkbox (name "cat_<category>") per category, ids
// prefixed with `prefix`, those in `checked` ticked (forms that share tick
// none: privacy by default), and, when `in_case` is an array, the ones not
// in it marked "(niet in dit dossier)".
std::string Options(const std::vector<std::pair<std::string, std::string>>& values, std::string_view selected);
std::string PurposeOptions(std::string_view selected);
std::string CategoryCheckboxes(const std::string& prefix, const Json& checked, const Json& in_case = nullptr);
std::string ReasonNl(std::string_view code);
std::string CategoryNl(std::string_view category);
std::string StateNl(std::string_view state);
// A notice (role status) or an error (role alert) paragraph; "" for no text.
std::string Message(std::string_view text, bool error);
std::string RoleNl(store::Role role);

// The frame around every signed-in page: header, navigation for the role,
// sign-out button, main content.
std::string Layout(const Viewer& v, std::string_view title, std::string_view content);

std::string SignInPage(std::string_view error);
std::string TotpPage(std::string_view csrf, std::string_view error);
// The start page: what the role can do, and what waits (`counts`).
std::string HomePage(const Viewer& v, const store::StartCounts& counts);
// An error page: `message` is shown escaped.
std::string ErrorPage(const Viewer* v, int status, std::string_view message);
// An error the service reported (its messages are English, for logs and
// the API): a Dutch explanation by status first, the service's message
// after it as the technical detail to pass on to IT.
std::string ServiceErrorPage(const Viewer& v, int status, std::string_view detail);

// Staff and coordinators.
// The cases list with the form for a new one (groeidocument.h); `draft` and
// `errors`: the form as posted, shown again.
std::string CasesPage(const Viewer& v, const std::vector<service::CaseListItem>& cases, std::string_view error,
                      const Json& draft = Json::object(), const groeidocument::FieldErrors& errors = {});
// A case: its summary in Dutch, the share and link forms, its versions and
// the form to edit it (`draft`, when not null: the form as posted, shown
// again with `errors`).
std::string CasePage(const Viewer& v, const service::CaseView& c, const std::vector<service::PartnerStatus>& partners,
                     const Json* draft = nullptr, const groeidocument::FieldErrors& errors = {});
// console_share_form.cpp: the share and dossier-link forms of a case page,
// as first shown (nothing chosen, nothing ticked) or as posted to "Toets per
// categorie": then filled in as posted and, with `check`, each category the
// case holds marked with whether it may go. `present`: the categories the case holds (names), for
// "(niet in dit dossier)"; null when unknown.
struct ShareFormState {
  std::string to;
  std::string purpose;
  Json checked = Json::array();
  std::map<std::string, std::string> reasons;  // a Meldcode report's, by category
  std::string justification;
  const service::CategoryCheck* check = nullptr;
};
struct LinkFormState {
  std::string for_name;
  std::string org_type = "ggd";
  std::string purpose;
  Json checked = Json::array();
  std::string days = "7";
  const service::CategoryCheck* check = nullptr;
};
// The names of the categories a case summary holds.
Json PresentCategories(const Json& summary);
std::string ShareForm(const Viewer& v, const std::string& case_id, const std::vector<service::PartnerStatus>& partners,
                      const Json& present, const ShareFormState& state);
std::string LinkForm(const Viewer& v, const std::string& case_id, const Json& present, const LinkFormState& state);
// What "Toets per categorie" answers with: the form again, checked.
std::string ShareCheckPage(const Viewer& v, const std::string& case_id,
                           const std::vector<service::PartnerStatus>& partners, const ShareFormState& state);
std::string LinkCheckPage(const Viewer& v, const std::string& case_id, const LinkFormState& state);
// What a share preview is about: the fields of the share form (or of the
// link form, `to` then naming the link's recipient).
struct SharePreviewRequest {
  std::string case_id;
  std::string to;
  std::string purpose;
  std::vector<std::string> categories;
  std::string justification;
  std::map<std::string, std::string> category_reasons;  // a Meldcode report's, by category
};
// The preview of a share: what will go, what is withheld and why (from
// `decision`, when the gate decided; may be null); a form to send it.
std::string SharePreviewPage(const Viewer& v, const SharePreviewRequest& request, bool permitted,
                             const consent::Decision* decision, std::string_view error);
std::string ShareSentPage(const Viewer& v, const service::ShareOutcome& sent);
// A new dossier link: its URL and access code, shown only this once.
std::string LinkCreatedPage(const Viewer& v, const service::LinkCreated& link);
std::string SharesPage(const Viewer& v, const std::vector<store::ShareRecord>& shares);
// One share; a pending Meldcode share with its justification (when the
// viewer may see it) and the forms to approve, reject or cancel it.
std::string SharePage(const Viewer& v, const service::ShareView& share);
// Received shares; one the viewer has not opened yet is marked "nieuw".
// The page of a received share, escaped for an attribute: /inbox/ID`suffix`
// ?van=SENDER (a message id is unique per sender only).
std::string InboxUrl(const store::InboxRecord& r, std::string_view suffix = "");
std::string InboxPage(const Viewer& v, const std::vector<service::InboxListItem>& inbox);
std::string InboxItemPage(const Viewer& v, const service::InboxView& item);
// console_student_pages.cpp: the register (coordinators) and the form that
// assigns a received share (coordinators; empty for others).
std::string StudentsPage(const Viewer& v, const std::vector<store::StudentRecord>& students, std::string_view message,
                         bool error);
std::string AssignForm(const Viewer& v, const store::InboxRecord& r);
// Coordinators: take a received share into the dossier on a legal basis
// (POST /inbox/ID/opnemen), or see that it was.
std::string AdoptForm(const Viewer& v, const store::InboxRecord& r);
// `requests`: the student's permission requests, shown to coordinators and
// auditors (null: none looked up).
std::string ConsentsPage(const Viewer& v, std::string_view student, const service::StudentConsents& consents,
                         std::string_view message, const std::vector<service::ConsentRequestView>* requests = nullptr);
// console_request_pages.cpp: the requests and (coordinators) the form that
// asks; the page that shows each link and code once, with the letters.
std::string ConsentRequestsSection(const Viewer& v, std::string_view student,
                                   const std::vector<service::ConsentRequestView>& requests);
std::string ConsentRequestMadePage(const Viewer& v, std::string_view student,
                                   const service::ConsentRequestCreated& made);

// Auditors.
std::string AuditPage(const Viewer& v, const std::map<std::string, std::string>& filter,
                      const service::AuditFound* found, std::string_view verify_result);
// The family's report (AVG art. 15) in Dutch, as on an inzage link
// (inzage_page.h), printable from the console.
std::string FamilyReportPage(const Viewer& v, const service::InzageReport& report);
// The subject access report as a Dutch table (an auditor's internal one
// names the users): times on the Amsterdam clock, names for ids, actions,
// categories, purposes and legal bases in words; a reason stays its code.
std::string SubjectReportPage(const Viewer& v, const audit::SubjectAccessReport& report);

// Admins (console_user_pages.cpp): users with buttons to disable, enable,
// remove and change the role; partners; status with expiring tokens.
std::string AdminPage(const Viewer& v, const std::vector<service::UserView>& users,
                      const std::vector<service::PartnerView>& partners, const service::NodeStatusView& status);
// Coordinators: roles waiting for a second person's confirmation.
std::string PendingGrantsPage(const Viewer& v, const std::vector<service::PendingGrant>& pending);

}  // namespace schakel::daemon::console
