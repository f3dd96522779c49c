#include "schakel/mail/smtp.h"

#include <utility>  // before Asio (Boost 1.74 with GCC 12)

#include <sodium.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <vector>

#include "schakel/base/strings.h"
#include "schakel/crypto/tls_context.h"

namespace schakel::mail {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxLine = 1000;
constexpr int kMaxReplyLines = 32;

bool IsAsciiText(std::string_view s, bool multiline) {
  return std::all_of(s.begin(), s.end(), [&](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= 0x20 && u < 0x7f) || (multiline && c == '\n');
  });
}

// One SMTP exchange over a socket that becomes TLS after STARTTLS. Each step
// runs the io_context until it completes or the one deadline passes.
class Exchange {
 public:
  explicit Exchange(const SmtpSettings& s) : s_(s), deadline_(Clock::now() + s.timeout) {}

  Status Connect() {
    tcp::resolver resolver(io_);
    tcp::resolver::results_type endpoints;
    SCHAKEL_RETURN_IF_ERROR(Run("resolving the host", [&](auto done) {
      resolver.async_resolve(s_.host, std::to_string(s_.port),
                             [&, done](const boost::system::error_code& ec, tcp::resolver::results_type r) {
                               endpoints = std::move(r);
                               done(ec);
                             });
    }));
    return Run("connecting", [&](auto done) {
      asio::async_connect(socket_, endpoints,
                          [done](const boost::system::error_code& ec, const tcp::endpoint&) { done(ec); });
    });
  }

  // Reads one reply; kUnavailable unless its code is one of `want`.
  Result<std::vector<ReplyLine>> Expect(const char* step, std::initializer_list<int> want) {
    std::vector<ReplyLine> lines;
    while (true) {
      if (lines.size() >= static_cast<size_t>(kMaxReplyLines)) {
        return Status::Unavailable(Where() + step + ": the reply has more than 32 lines");
      }
      std::string line;
      SCHAKEL_RETURN_IF_ERROR(ReadLine(step, &line));
      auto parsed = ParseReplyLine(line);
      if (!parsed.ok()) return Status::Unavailable(Where() + step + ": not an SMTP reply: " + ShownAscii(line));
      lines.push_back(*parsed);
      if (parsed->last) break;
    }
    const int code = lines.back().code;
    if (std::find(want.begin(), want.end(), code) == want.end()) {
      return Status::Unavailable(Where() + step + ": the server answered " + std::to_string(code) + " " +
                                 ShownAscii(lines.back().text));
    }
    return lines;
  }

  Status Send(const char* step, std::string_view text) { return Write(step, asio::buffer(text.data(), text.size())); }
  Status Send(const char* step, const crypto::SecureBuffer& text) {
    return Write(step, asio::buffer(text.data(), text.size()));
  }

  Status StartTls() {
    auto ctx = crypto::MakeVerifyingClientSslCtx(s_.ca_file);
    if (!ctx.ok()) return Status::InvalidInput("notify: " + ctx.status().message());
    // Asio takes the SSL_CTX over (its native-handle constructor).
    tls_context_ = std::make_unique<ssl::context>(ctx->release());
    tls_ = std::make_unique<ssl::stream<tcp::socket&>>(socket_, *tls_context_);
    // The certificate must name the host we dialled (a name or an address).
    SCHAKEL_RETURN_IF_ERROR(crypto::ExpectServerName(tls_->native_handle(), s_.host));
    return Run("the TLS handshake (STARTTLS)", [&](auto done) {
      tls_->async_handshake(ssl::stream_base::client, [done](const boost::system::error_code& e) { done(e); });
    });
  }

  void Close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  std::string Where() const { return s_.host + ":" + std::to_string(s_.port) + ": "; }

  // Starts `start(done)` and runs until `done` is called or the deadline.
  template <typename Start>
  Status Run(const char* step, Start start) {
    std::optional<boost::system::error_code> result;
    start([&result](const boost::system::error_code& ec) { result = ec; });
    io_.restart();
    while (!result && Clock::now() < deadline_) {
      io_.run_one_until(deadline_);
    }
    if (!result) {
      Close();
      io_.restart();
      io_.run_for(std::chrono::milliseconds(200));
      return Status::Unavailable(Where() + step + ": no answer in time");
    }
    if (*result) return Status::Unavailable(Where() + step + ": " + result->message());
    return Status::Ok();
  }

  Status ReadLine(const char* step, std::string* line) {
    size_t n = 0;
    auto done_with = [&n](auto done) {
      return [&n, done](const boost::system::error_code& ec, size_t got) {
        n = got;
        done(ec);
      };
    };
    auto buffer = asio::dynamic_buffer(in_, kMaxLine + 2);
    Status st = tls_ ? Run(step, [&](auto done) { asio::async_read_until(*tls_, buffer, "\r\n", done_with(done)); })
                     : Run(step, [&](auto done) { asio::async_read_until(socket_, buffer, "\r\n", done_with(done)); });
    if (!st.ok()) return st;
    *line = in_.substr(0, n - 2);
    in_.erase(0, n);
    return Status::Ok();
  }

  template <typename Buffer>
  Status Write(const char* step, const Buffer& b) {
    auto done_with = [](auto done) { return [done](const boost::system::error_code& ec, size_t) { done(ec); }; };
    return tls_ ? Run(step, [&](auto done) { asio::async_write(*tls_, b, done_with(done)); })
                : Run(step, [&](auto done) { asio::async_write(socket_, b, done_with(done)); });
  }

  const SmtpSettings& s_;
  Clock::time_point deadline_;
  asio::io_context io_;
  tcp::socket socket_{io_};
  std::unique_ptr<ssl::context> tls_context_;
  std::unique_ptr<ssl::stream<tcp::socket&>> tls_;
  std::string in_;
};

bool Offers(const std::vector<ReplyLine>& ehlo, std::string_view keyword) {
  for (const auto& l : ehlo) {
    std::string word = l.text.substr(0, l.text.find(' '));
    std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::toupper(c); });
    if (word == keyword) return true;
  }
  return false;
}

// "AUTH PLAIN base64(\0user\0password)\r\n", built in guarded memory.
Result<crypto::SecureBuffer> AuthPlainLine(const std::string& user, const crypto::SecureBuffer& password) {
  crypto::SecureBuffer raw(user.size() + password.size() + 2);
  raw.data()[0] = 0;
  std::copy(user.begin(), user.end(), raw.data() + 1);
  raw.data()[user.size() + 1] = 0;
  std::copy(password.data(), password.data() + password.size(), raw.data() + user.size() + 2);
  const size_t b64 = sodium_base64_encoded_len(raw.size(), sodium_base64_VARIANT_ORIGINAL);
  const std::string_view prefix = "AUTH PLAIN ";
  crypto::SecureBuffer line(prefix.size() + b64 - 1 + 2);
  std::copy(prefix.begin(), prefix.end(), line.data());
  sodium_bin2base64(reinterpret_cast<char*>(line.data() + prefix.size()), b64, raw.data(), raw.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  line.data()[line.size() - 2] = '\r';
  line.data()[line.size() - 1] = '\n';
  return line;
}

Status CheckMail(const SmtpSettings& s, const Mail& m) {
  if (!IsPlainEmail(m.from) || !IsPlainEmail(m.to)) return Status::InvalidInput("mail: an address is not plain");
  if (!IsAsciiText(m.subject, false) || m.subject.size() > 200) {
    return Status::InvalidInput("mail: the subject must be one line of ASCII, at most 200 bytes");
  }
  if (!IsAsciiText(m.body, true) || m.body.size() > 64 * 1024) {
    return Status::InvalidInput("mail: the body must be ASCII text, at most 64 KiB");
  }
  if (!s.user.empty() && s.password == nullptr) return Status::InvalidInput("mail: AUTH without a password");
  if (s.host.empty() || !IsAsciiText(s.helo, false)) return Status::InvalidInput("mail: no SMTP host");
  return Status::Ok();
}

}  // namespace

Result<ReplyLine> ParseReplyLine(std::string_view line) {
  if (line.size() < 3 || line.size() > kMaxLine) return Status::InvalidInput("smtp reply: length");
  for (size_t i = 0; i < 3; ++i) {
    if (line[i] < '0' || line[i] > '9') return Status::InvalidInput("smtp reply: no code");
  }
  if (line[0] < '2' || line[0] > '5') return Status::InvalidInput("smtp reply: code out of range");
  ReplyLine r;
  r.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (line.size() == 3) {
    r.last = true;
    return r;
  }
  if (line[3] != ' ' && line[3] != '-') return Status::InvalidInput("smtp reply: separator");
  r.last = line[3] == ' ';
  r.text = std::string(line.substr(4));
  return r;
}

std::string FormatMessage(const Mail& mail, Instant date, std::string_view message_id) {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(date));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char when[64];
  std::strftime(when, sizeof when, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string out = "From: Schakel <" + mail.from + ">\r\nTo: <" + mail.to + ">\r\nSubject: " + mail.subject +
                    "\r\nDate: " + when + "\r\nMessage-ID: <" + std::string(message_id) +
                    ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
                    "Content-Transfer-Encoding: 7bit\r\nAuto-Submitted: auto-generated\r\n\r\n";
  size_t start = 0;
  while (start < mail.body.size()) {
    size_t nl = mail.body.find('\n', start);
    std::string_view line(mail.body.data() + start, (nl == std::string::npos ? mail.body.size() : nl) - start);
    if (!line.empty() && line.front() == '.') out += '.';
    out += line;
    out += "\r\n";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

// long-function: the SMTP dialogue in order, one step per line.
Status SendMail(const SmtpSettings& s, const Mail& mail) {
  SCHAKEL_RETURN_IF_ERROR(CheckMail(s, mail));
  crypto::EnsureInitialised();
  Exchange x(s);
  SCHAKEL_RETURN_IF_ERROR(x.Connect());
  SCHAKEL_RETURN_IF_ERROR(x.Expect("the greeting", {220}).status());
  SCHAKEL_RETURN_IF_ERROR(x.Send("EHLO", "EHLO " + s.helo + "\r\n"));
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<ReplyLine> ehlo, x.Expect("EHLO", {250}));
  if (!Offers(ehlo, "STARTTLS")) {
    x.Close();
    return Status::Unavailable(s.host + ":" + std::to_string(s.port) +
                               ": the server does not offer STARTTLS; Schakel sends no mail unencrypted");
  }
  SCHAKEL_RETURN_IF_ERROR(x.Send("STARTTLS", "STARTTLS\r\n"));
  SCHAKEL_RETURN_IF_ERROR(x.Expect("STARTTLS", {220}).status());
  SCHAKEL_RETURN_IF_ERROR(x.StartTls());
  SCHAKEL_RETURN_IF_ERROR(x.Send("EHLO after STARTTLS", "EHLO " + s.helo + "\r\n"));
  SCHAKEL_ASSIGN_OR_RETURN(ehlo, x.Expect("EHLO after STARTTLS", {250}));
  if (!s.user.empty()) {
    SCHAKEL_ASSIGN_OR_RETURN(crypto::SecureBuffer auth, AuthPlainLine(s.user, *s.password));
    SCHAKEL_RETURN_IF_ERROR(x.Send("AUTH", auth));
    SCHAKEL_RETURN_IF_ERROR(x.Expect("AUTH", {235}).status());
  }
  SCHAKEL_RETURN_IF_ERROR(x.Send("MAIL FROM", "MAIL FROM:<" + mail.from + ">\r\n"));
  SCHAKEL_RETURN_IF_ERROR(x.Expect("MAIL FROM", {250}).status());
  SCHAKEL_RETURN_IF_ERROR(x.Send("RCPT TO", "RCPT TO:<" + mail.to + ">\r\n"));
  SCHAKEL_RETURN_IF_ERROR(x.Expect("RCPT TO", {250, 251}).status());
  SCHAKEL_RETURN_IF_ERROR(x.Send("DATA", "DATA\r\n"));
  SCHAKEL_RETURN_IF_ERROR(x.Expect("DATA", {354}).status());
  const crypto::SecureBuffer id = crypto::SecureBuffer::Random(12);
  const std::string message = FormatMessage(mail, NowUtc(), ToHex(id.span()) + "@" + s.helo) + ".\r\n";
  SCHAKEL_RETURN_IF_ERROR(x.Send("the message", message));
  SCHAKEL_RETURN_IF_ERROR(x.Expect("the message", {250}).status());
  (void)x.Send("QUIT", "QUIT\r\n");
  x.Close();
  return Status::Ok();
}

}  // namespace schakel::mail
