// E-mail through the organisation's SMTP server (RFC 5321 submission with
// RFC 3207 STARTTLS and RFC 4616 AUTH PLAIN), for the notices that something
// waits in Schakel (docs/console.md "What is new").
//
// SendMail never sends in the clear: a server that does not offer STARTTLS,
// a certificate that does not verify against the trusted CAs (the system's,
// or `ca_file`) or does not name `host`, or TLS below 1.2 ends the exchange
// before any address or text is sent. The password is read from guarded
// memory and the AUTH line built there; neither appears in an error. The
// whole exchange has one deadline; replies are read with limits (a line at
// most 1,000 bytes, a reply at most 32 lines).
//
// Thread-safety: SendMail may run on any thread; it uses its own io_context.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "schakel/base/status.h"
#include "schakel/base/time.h"
#include "schakel/crypto/secure_buffer.h"

namespace schakel::mail {

struct SmtpSettings {
  std::string host;
  uint16_t port = 587;
  std::string user;                                // empty: no AUTH
  const crypto::SecureBuffer* password = nullptr;  // REQUIRES: set when `user` is
  std::string ca_file;                             // PEM CAs to trust; empty: the system's
  std::string helo = "schakel";                    // the EHLO name
  std::chrono::milliseconds timeout{20000};        // the whole exchange
};

struct Mail {
  std::string from;  // plain addresses (IsPlainEmail)
  std::string to;
  std::string subject;  // ASCII, one line
  std::string body;     // ASCII text; lines end in \n
};

// kInvalidInput for a mail that cannot be sent as it is (an address that is
// not plain, non-ASCII or multi-line subject, non-ASCII body); kUnavailable
// naming the step and the server's reply when the exchange fails.
Status SendMail(const SmtpSettings& settings, const Mail& mail);

// The message as DATA carries it: headers, a blank line, the body with CRLF
// line ends and dot-stuffing (a line starting with "." gets another). Pure.
std::string FormatMessage(const Mail& mail, Instant date, std::string_view message_id);

// One line of an SMTP reply ("250-PIPELINING", "220 ready"), without its
// CRLF: the code, whether it is the last line, the text. kInvalidInput for
// anything else (the fuzz target's parser).
struct ReplyLine {
  int code = 0;
  bool last = false;
  std::string text;
};
Result<ReplyLine> ParseReplyLine(std::string_view line);

}  // namespace schakel::mail
