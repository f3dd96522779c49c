// html:: escaping and layout; RateLimiter windows, eviction and threads.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "schakel/base/clock.h"
#include "schakel/http/html.h"
#include "schakel/http/rate_limiter.h"

namespace schakel::http {
namespace {

TEST(Html, EscapesTextAndAttributes) {
  EXPECT_EQ(html::Escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;");
  EXPECT_EQ(html::Escape("Sanne de Vries"), "Sanne de Vries");
  EXPECT_EQ(html::Escape(""), "");
}

TEST(Html, LayoutIsDutchLinksTheStylesheetAndHasNoInlineScriptOrStyle) {
  html::Page p;
  p.title = "Dossier <1>";
  p.body_html = "<h1>Kop</h1>";
  std::string page = html::Layout(p);
  EXPECT_NE(page.find("<html lang=\"nl\">"), std::string::npos);
  EXPECT_NE(page.find("<title>Dossier &lt;1&gt;</title>"), std::string::npos);
  EXPECT_NE(page.find("<link rel=\"stylesheet\" href=\"/static/schakel.css\">"), std::string::npos);
  EXPECT_NE(page.find("href=\"#inhoud\""), std::string::npos);
  EXPECT_NE(page.find("<main id=\"inhoud\""), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("<style"), std::string::npos);
  EXPECT_EQ(page.find("style=\""), std::string::npos);
}

TEST(Html, InputHasALabelForItAndEscapesValues) {
  html::Field f;
  f.id = "code";
  f.label = "Toegangscode";
  f.hint = "10 tekens";
  f.value = "\"><script>";
  f.inputmode = "text";
  f.maxlength = 11;
  f.required = true;
  std::string in = html::Input(f);
  EXPECT_NE(in.find("<label for=\"code\">Toegangscode</label>"), std::string::npos);
  EXPECT_NE(in.find("id=\"code\" name=\"code\""), std::string::npos);
  EXPECT_NE(in.find("aria-describedby=\"code-hint\""), std::string::npos);
  EXPECT_NE(in.find("autocomplete=\"off\""), std::string::npos);
  EXPECT_NE(in.find("inputmode=\"text\""), std::string::npos);
  EXPECT_NE(in.find("maxlength=\"11\""), std::string::npos);
  EXPECT_NE(in.find("value=\"&quot;&gt;&lt;script&gt;\""), std::string::npos);
  EXPECT_EQ(in.find("<script>"), std::string::npos);
  EXPECT_EQ(html::Hidden("a\"", "<b>"), "<input type=\"hidden\" name=\"a&quot;\" value=\"&lt;b&gt;\">\n");
}

TEST(RateLimiter, LimitsPerKeyWithinTheWindow) {
  ManualClock clock(Instant{std::chrono::milliseconds{1'000'000'000'000}});
  RateLimiter rl(clock, {.max_attempts = 3, .window = std::chrono::minutes(10), .max_keys = 100});
  EXPECT_TRUE(rl.Allow("a"));
  EXPECT_TRUE(rl.Allow("a"));
  EXPECT_TRUE(rl.Allow("a"));
  EXPECT_FALSE(rl.Allow("a"));
  EXPECT_FALSE(rl.WouldAllow("a"));
  EXPECT_TRUE(rl.Allow("b"));  // other keys are separate
  clock.Advance(std::chrono::minutes(5));
  EXPECT_FALSE(rl.Allow("a"));
  clock.Advance(std::chrono::minutes(5));  // the first three fall out of the window
  EXPECT_TRUE(rl.WouldAllow("a"));
  EXPECT_TRUE(rl.Allow("a"));
  rl.Reset("a");
  EXPECT_TRUE(rl.Allow("a"));
  EXPECT_TRUE(rl.Allow("a"));
  EXPECT_TRUE(rl.Allow("a"));
  EXPECT_FALSE(rl.Allow("a"));
}

TEST(RateLimiter, MemoryIsBoundedByEvictingTheLeastRecentKey) {
  ManualClock clock(Instant{std::chrono::milliseconds{1'000'000'000'000}});
  RateLimiter rl(clock, {.max_attempts = 1, .window = std::chrono::hours(1), .max_keys = 3});
  EXPECT_TRUE(rl.Allow("a"));
  EXPECT_TRUE(rl.Allow("b"));
  EXPECT_TRUE(rl.Allow("c"));
  EXPECT_FALSE(rl.Allow("a"));  // touches a: now b is the oldest
  EXPECT_TRUE(rl.Allow("d"));   // evicts b
  EXPECT_EQ(rl.tracked_keys(), 3u);
  EXPECT_FALSE(rl.Allow("a"));  // a was kept
  EXPECT_TRUE(rl.Allow("b"));   // b was forgotten
  for (int i = 0; i < 1000; ++i) (void)rl.Allow("k" + std::to_string(i));
  EXPECT_EQ(rl.tracked_keys(), 3u);
}

TEST(RateLimiter, CountsExactlyUnderConcurrency) {
  ManualClock clock(Instant{std::chrono::milliseconds{1'000'000'000'000}});
  RateLimiter rl(clock, {.max_attempts = 100, .window = std::chrono::hours(1), .max_keys = 10});
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (rl.Allow("ip")) allowed.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 100);
}

}  // namespace
}  // namespace schakel::http
