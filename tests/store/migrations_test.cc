// Databases in the field ran versions 1..kLatestSchemaVersion with exactly the SQL of the
// release that shipped them. The SQL each dialect runs for a shipped version must never change
// (a change is a new version): pinned here by a 64-bit FNV-1a hash of the text.

#include "dripr/store/migrations/migrations.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace dripr {
namespace {

uint64_t Fnv1a(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3;
  }
  return h;
}

struct Shipped {
  std::string_view dialect;
  std::span<const Migration> list;
  std::array<uint64_t, 4> hashes;  // versions 1..4 as released
};

TEST(Migrations, ShippedVersionsRunTheSqlTheyAlwaysRan) {
  const Shipped shipped[] = {
      {"sqlite",
       SqliteMigrations(),
       {0xc63772520365bb64, 0xe7a926091c53a211, 0x942c763fa58b814b, 0xd1aa498b6b8b7d32}},
      {"postgres",
       PostgresMigrations(),
       {0x1d62b77a7719ef2a, 0xf6d258965f0054ff, 0xe33c5ef63baebdb1, 0xd1aa498b6b8b7d32}},
      {"mysql",
       MysqlMigrations(),
       {0x3114306a5f463524, 0xc54c66884b068239, 0xa9c9a57432186fbe, 0xd1aa498b6b8b7d32}},
  };
  for (const Shipped& d : shipped) {
    ASSERT_GE(d.list.size(), d.hashes.size()) << d.dialect;
    for (size_t i = 0; i < d.hashes.size(); ++i) {
      EXPECT_EQ(d.list[i].version, static_cast<int>(i) + 1) << d.dialect;
      EXPECT_EQ(Fnv1a(d.list[i].sql), d.hashes[i])
          << d.dialect << " migration " << d.list[i].version << " (" << d.list[i].name
          << ") changed: add a new version instead";
    }
  }
}

TEST(Migrations, EveryDialectNamesTheVersionsAlike) {
  EXPECT_EQ(SqliteMigrations()[0].name, "campaigns, parts, market data, zip codes, outbox");
  EXPECT_EQ(MysqlMigrations()[3].name, "campaign paging indexes for the dashboard");
  EXPECT_EQ(PostgresMigrations()[3].sql, kPagingIndexesSql);
  EXPECT_EQ(SqliteMigrations().size(), static_cast<size_t>(kLatestSchemaVersion));
}

}  // namespace
}  // namespace dripr
