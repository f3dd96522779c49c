// The SMTP client (mail/smtp.h) against a local aiosmtpd server on loopback:
// a notice goes over STARTTLS with AUTH; no STARTTLS, a certificate that
// does not verify, a wrong password or a silent server end the exchange
// before anything is sent, with an error that names the step and never the
// password. And the pure parts: reply lines and the message format.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include <gtest/gtest.h>

#include "schakel/mail/smtp.h"
#include "smtp_support.h"
#include "test_support.h"

namespace schakel::mail {
namespace {

using testing::LocalSmtp;
using testing::TempDir;

Mail Notice() {
  return {"schakel@school.example", "j.bakker@wijkteam.example", "Er wacht iets", "Goedendag,\n.punt\n"};
}

TEST(SmtpReply, LinesAreParsedWithTheirCodeAndTheLastOneKnown) {
  auto more = ParseReplyLine("250-STARTTLS");
  ASSERT_TRUE(more.ok());
  EXPECT_EQ(more->code, 250);
  EXPECT_FALSE(more->last);
  EXPECT_EQ(more->text, "STARTTLS");
  auto last = ParseReplyLine("220 smtp.example ESMTP");
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->last);
  EXPECT_TRUE(ParseReplyLine("354").ok());
  for (const char* bad : {"", "25", "2x0 ok", "150 ok", "650 ok", "250_ok"})
    EXPECT_FALSE(ParseReplyLine(bad).ok()) << bad;
  EXPECT_FALSE(ParseReplyLine("250 " + std::string(1000, 'x')).ok());
}

TEST(SmtpMessage, HeadersCrlfAndDotStuffing) {
  const std::string m = FormatMessage(Notice(), *ParseInstant("2026-12-01T10:00:00Z"), "abc@schakel");
  EXPECT_NE(m.find("From: Schakel <schakel@school.example>\r\n"), std::string::npos);
  EXPECT_NE(m.find("To: <j.bakker@wijkteam.example>\r\n"), std::string::npos);
  EXPECT_NE(m.find("Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(m.find("Message-ID: <abc@schakel>\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\n\r\nGoedendag,\r\n..punt\r\n"), std::string::npos) << m;
}

class SmtpTest : public ::testing::Test {
 protected:
  SmtpSettings Settings(const LocalSmtp& server) {
    SmtpSettings s;
    s.host = "127.0.0.1";
    s.port = static_cast<uint16_t>(server.port());
    s.user = LocalSmtp::kUser;
    s.password = &password_;
    s.ca_file = server.ca_file();
    s.timeout = std::chrono::seconds(10);
    return s;
  }
  TempDir tmp_;
  crypto::SecureBuffer password_ = crypto::SecureBuffer::FromBytes(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(LocalSmtp::kPassword), std::string_view(LocalSmtp::kPassword).size()));
};

TEST_F(SmtpTest, ANoticeGoesOverStartTlsWithAuth) {
  LocalSmtp server(tmp_, /*tls=*/true);
  ASSERT_TRUE(server.ready()) << server.log();
  Status st = SendMail(Settings(server), Notice());
  ASSERT_TRUE(st.ok()) << st.message() << "\n" << server.log();
  ASSERT_TRUE(server.WaitFor(1, std::chrono::seconds(5)));
  auto got = server.Received();
  ASSERT_EQ(got.size(), 1U);
  EXPECT_TRUE(got[0].envelope["tls"].get<bool>());
  EXPECT_TRUE(got[0].envelope["auth"].get<bool>());
  EXPECT_EQ(got[0].envelope["to"][0], "j.bakker@wijkteam.example");
  EXPECT_NE(got[0].text.find("Subject: Er wacht iets"), std::string::npos);
}

TEST_F(SmtpTest, NothingIsSentWithoutStartTlsOrToAServerThatDoesNotVerify) {
  LocalSmtp plain(tmp_, /*tls=*/false);
  ASSERT_TRUE(plain.ready()) << plain.log();
  SmtpSettings s = Settings(plain);
  Status st = SendMail(s, Notice());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("does not offer STARTTLS"), std::string::npos) << st.message();
  EXPECT_TRUE(plain.Received().empty());

  LocalSmtp server(tmp_, /*tls=*/true);
  ASSERT_TRUE(server.ready()) << server.log();
  s = Settings(server);
  s.ca_file.clear();  // the system's CAs do not know the self-signed certificate
  st = SendMail(s, Notice());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("TLS handshake"), std::string::npos) << st.message();
  EXPECT_TRUE(server.Received().empty());
}

TEST_F(SmtpTest, AWrongPasswordIsRefusedAndNotShown) {
  LocalSmtp server(tmp_, /*tls=*/true);
  ASSERT_TRUE(server.ready()) << server.log();
  crypto::SecureBuffer wrong = crypto::SecureBuffer::FromBytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("verkeerd-wachtwoord"), 19));
  SmtpSettings s = Settings(server);
  s.password = &wrong;
  Status st = SendMail(s, Notice());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("AUTH"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("verkeerd"), std::string::npos);
  EXPECT_TRUE(server.Received().empty());
}

TEST_F(SmtpTest, ASilentServerEndsTheExchangeAtTheDeadline) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  SmtpSettings s;
  s.host = "127.0.0.1";
  s.port = ntohs(a.sin_port);
  s.timeout = std::chrono::milliseconds(800);
  const auto start = std::chrono::steady_clock::now();
  Status st = SendMail(s, Notice());
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no answer in time"), std::string::npos) << st.message();
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST(SmtpInput, AMailThatCannotBeSentAsItIsIsRefusedBeforeConnecting) {
  SmtpSettings s;
  s.host = "127.0.0.1";
  s.port = 9;  // nothing is dialled
  Mail m = Notice();
  m.to = "iemand <j@x.nl>";
  EXPECT_EQ(SendMail(s, m).code(), Code::kInvalidInput);
  m = Notice();
  m.subject = "twee\nregels";
  EXPECT_EQ(SendMail(s, m).code(), Code::kInvalidInput);
  m = Notice();
  m.body = "co\xc3\xb6rdinator";
  EXPECT_EQ(SendMail(s, m).code(), Code::kInvalidInput);
}

}  // namespace
}  // namespace schakel::mail
