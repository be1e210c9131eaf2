// MaskUrlPassword: what `dripr config` and every message about DATABASE_URL show of it; the
// password hidden as both of its parsers (libpq, the MySQL URL parser) read it.

#include "dripr/core/url_password.h"

#include <gtest/gtest.h>

namespace dripr {
namespace {

TEST(MaskUrlPassword, HidesTheUserInfoPassword) {
  EXPECT_EQ(MaskUrlPassword("postgresql://u:pw@db:5432/x"), "postgresql://u:****@db:5432/x");
  EXPECT_EQ(MaskUrlPassword("postgresql://u@db/x"), "postgresql://u@db/x");
  EXPECT_EQ(MaskUrlPassword("postgresql://db/x"), "postgresql://db/x");
  EXPECT_EQ(MaskUrlPassword("sqlite:dripr.db"), "sqlite:dripr.db");
  EXPECT_EQ(MaskUrlPassword("mysql://app@db/d?socket=/run/a@b"),
            "mysql://app@db/d?socket=/run/a@b");
}

// It stopped at the first '/', '?' or '#' and, finding no '@' before it, showed the URL whole.
TEST(MaskUrlPassword, APasswordEndsAtTheLastAtSignBeforeTheHost) {
  EXPECT_EQ(MaskUrlPassword("postgresql://u:pa/ss@db/x"), "postgresql://u:****@db/x");
  EXPECT_EQ(MaskUrlPassword("postgresql://u:pa@ss@db/x"), "postgresql://u:****@db/x");
  EXPECT_EQ(MaskUrlPassword("postgresql://u:pa#ss@db/x"), "postgresql://u:****@db/x");
  // libpq reads a '?' before the '@' as part of the password.
  EXPECT_EQ(MaskUrlPassword("postgresql://u:pa?ss@db/x"), "postgresql://u:****@db/x");
}

TEST(MaskUrlPassword, HidesPasswordQueryParameters) {
  EXPECT_EQ(MaskUrlPassword("postgresql://u@db/x?password=hunter2"),
            "postgresql://u@db/x?password=****");
  EXPECT_EQ(MaskUrlPassword("postgresql://db/x?sslmode=require&password=hunter2&port=5"),
            "postgresql://db/x?sslmode=require&password=****&port=5");
  EXPECT_EQ(MaskUrlPassword("postgresql://u:a@db/x?pass%77ord=b&sslpassword=c&Password=d"),
            "postgresql://u:****@db/x?pass%77ord=****&sslpassword=****&Password=****");
  EXPECT_EQ(MaskUrlPassword("postgresql://u?x@db/x?password=hunter2"),
            "postgresql://u?x@db/x?password=****");
  EXPECT_EQ(MaskUrlPassword("postgresql://db/x?passwords=shown&password"),
            "postgresql://db/x?passwords=shown&password");
}

TEST(UrlPasswordSpan, IsThePasswordAsWritten) {
  const std::string url = "postgresql://u:p%40ss/w@db/x";
  auto span = UrlPasswordSpan(url);
  ASSERT_TRUE(span);
  EXPECT_EQ(url.substr(span->begin, span->end - span->begin), "p%40ss/w");
  EXPECT_FALSE(UrlPasswordSpan("postgresql://u@db/x"));
  EXPECT_FALSE(UrlPasswordSpan("postgresql://db:5432/x"));
  EXPECT_FALSE(UrlPasswordSpan("sqlite:a:b@c"));
}

}  // namespace
}  // namespace dripr
