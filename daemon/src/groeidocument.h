// Private to daemon/: the groeidocument (case summary, CONTRACT.md "Case
// summary") as people read and edit it, in Dutch (docs/console.md,
// "Het groeidocument").
//
// One label table (FieldLabelNl) names every field the contract's summary
// has; the console's dossier and inbox pages and the dossier link page all
// render a summary with RenderSummaryNl, so a reader meets the same Dutch
// words everywhere and never a JSON key. Dates in a summary are written as a
// Dutch reader writes them ("10 december 2026").
//
// The console edits a summary through GroeidocumentForm: a field per item of
// the contract, textareas (multi-line) where text is long, lists (signalen,
// belemmerende en beschermende factoren, al geprobeerd, ouders/verzorgers,
// acties) as rows with "Regel toevoegen" and "Verwijderen" buttons that work
// without script (they post the form back, which is shown again, nothing
// saved). GroeidocumentFromForm reads the posted fields back into a summary
// with limits, and names each problem in Dutch beside its field. Keys the
// form does not show (written through the API) are kept as they are.
//
// Thread-safe (no state).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace schakel::daemon::groeidocument {

using Json = nlohmann::json;

// The Dutch label of a summary key ("unauthorised_hours_4w" -> "Ongeoorloofd
// verzuim (uren in 4 weken)"), or of a category; the key itself when the
// table has none (tests/daemon/groeidocument_test.cpp checks that every key
// of the example cases has one).
std::string FieldLabelNl(std::string_view key);
// Every key the label table knows, for the test that compares what a page
// shows with the table.
std::vector<std::string> KnownLabels();

// The summary's categories, each a <section> with an <h2> (or `heading`
// level given) and a definition list of Dutch labels; HTML-escaped.
std::string RenderSummaryNl(const Json& summary, const char* heading = "h2");

// Field name -> Dutch message shown beside that field.
using FieldErrors = std::map<std::string, std::string>;

// The form fields of `summary` (HTML, no <form> element: the caller wraps
// it with its action and CSRF field). `is_new`: the student number and birth
// date are fields; otherwise they are shown and kept. Field errors are shown
// beside their fields, with a count at the top.
std::string GroeidocumentForm(const Json& summary, bool is_new, const FieldErrors& errors);

// The fields whose values may hold line breaks (the textareas).
const std::vector<std::string_view>& MultilineFields();
// Most rows a list in the form holds.
inline constexpr int kMaxRows = 30;

struct FormReading {
  Json summary;        // `base` with what the form says
  FieldErrors errors;  // empty when the form is fine
  // A "Regel toevoegen" or "Verwijderen" press: show the form again with
  // `summary` (rows changed), save nothing.
  bool redisplay = false;
};

// Reads a posted groeidocument form. `base` is the stored summary (an
// object; empty for a new case): metadata and keys the form does not show
// are kept. Text is at most 200 characters per line field and 10,000 per
// textarea; numbers and dates are checked; a BSN must pass the elfproef.
FormReading GroeidocumentFromForm(const std::map<std::string, std::string>& form, const Json& base, bool is_new);

}  // namespace schakel::daemon::groeidocument
