// DefaultPoolSize: a PostgreSQL server on this machine gets one connection more than the cores
// (2..8); a remote one, a URL libpq cannot parse and every other backend get 8.

#include <gtest/gtest.h>

#include <string>

#include "dripr/store/store.h"

namespace dripr {
namespace {

TEST(DefaultPoolSizeTest, APostgresServerOnThisMachineGetsOneMoreThanTheCores) {
  for (const std::string url :
       {"postgresql://u:pw@localhost/db", "postgresql://u@127.0.0.1:5432/db",
        "postgres://u@127.1.2.3/db", "postgresql://u@[::1]:5432/db", "postgresql:///db",
        "postgresql://u@/db?host=/var/run/postgresql", "postgresql://u@localhost,127.0.0.1/db"}) {
    EXPECT_EQ(DefaultPoolSize(url, 2), 3) << url;
  }
}

TEST(DefaultPoolSizeTest, OnThisMachineItStaysBetweenTwoAndEight) {
  EXPECT_EQ(DefaultPoolSize("postgresql://u@localhost/db", 1), 2);
  EXPECT_EQ(DefaultPoolSize("postgresql://u@localhost/db", 4), 5);
  EXPECT_EQ(DefaultPoolSize("postgresql://u@localhost/db", 64), 8);
}

TEST(DefaultPoolSizeTest, ARemoteServerOrAnyOtherBackendGetsEight) {
  for (const std::string url :
       {"postgresql://u@db.example.com/db", "postgresql://u@10.0.0.5:5432/db",
        "postgresql://u@localhost,db.example.com/db",
        "postgresql://u@localhost/db?host=db.internal",
        "postgresql://u@localhost/db?hostaddr=10.1.2.3", "mysql://u@localhost/db",
        "mariadb://u@127.0.0.1/db", "sqlite:dripr.db", "postgresql://u@localhost/db?nonsense=1"}) {
    EXPECT_EQ(DefaultPoolSize(url, 2), 8) << url;
  }
}

}  // namespace
}  // namespace dripr
