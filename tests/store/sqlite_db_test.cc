// The SQLite layer (src/dripr/sqlite/): the one error mapping, the file checks done before a
// command opens a database, the removed/replaced-file guard of write transactions, and the
// integrity check.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "dripr/sqlite/db.h"

namespace dripr::sqlite {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class SqliteDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "dripr-sqlite-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string File(const std::string& name) const { return (dir_ / name).string(); }

  // A database with one table of `rows` rows of ~200 bytes.
  std::unique_ptr<Connection> MakeDb(const std::string& path, int rows) {
    auto c = Connection::Open(path, {});
    EXPECT_TRUE(c) << c.error().ToString();
    EXPECT_TRUE((*c)->Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"));
    EXPECT_TRUE(InWriteTransaction(**c, "fill", [&](Connection& conn) -> Status {
      for (int i = 0; i < rows; ++i) {
        DRIPR_ASSIGN_OR_RETURN(auto s, conn.Prepare("INSERT INTO t(v) VALUES (?)"));
        DRIPR_TRY(s.BindString(std::string(200, static_cast<char>('a' + i % 26))).Run());
      }
      return Ok();
    }));
    return std::move(*c);
  }

  fs::path dir_;
};

TEST(SqliteErrorMappingTest, EachClassOfFailureHasOneCode) {
  EXPECT_EQ(ToError(SQLITE_FULL, nullptr, "x").code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(ToError(SQLITE_READONLY, nullptr, "x").code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(ToError(SQLITE_READONLY_DBMOVED, nullptr, "x").code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(ToError(SQLITE_BUSY, nullptr, "x").code, ErrorCode::kUnavailable);
  EXPECT_EQ(ToError(SQLITE_LOCKED, nullptr, "x").code, ErrorCode::kUnavailable);
  EXPECT_EQ(ToError(SQLITE_IOERR_WRITE, nullptr, "x").code, ErrorCode::kUnavailable);
  EXPECT_EQ(ToError(SQLITE_CORRUPT, nullptr, "x").code, ErrorCode::kDataLoss);
  EXPECT_EQ(ToError(SQLITE_NOTADB, nullptr, "x").code, ErrorCode::kDataLoss);
  EXPECT_EQ(ToError(SQLITE_CONSTRAINT_UNIQUE, nullptr, "x").code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(ToError(SQLITE_CONSTRAINT_NOTNULL, nullptr, "x").code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(ToError(SQLITE_MISMATCH, nullptr, "x").code, ErrorCode::kInternal);
  EXPECT_TRUE(ToError(SQLITE_FULL, nullptr, "x").Retryable());
  EXPECT_FALSE(ToError(SQLITE_READONLY, nullptr, "x").Retryable());
  EXPECT_EQ(ToError(SQLITE_FULL, nullptr, "insert").message, "insert: database or disk is full");
}

// BindTextBorrowed stores the text as BindText would (empty is NULL), and a cached statement
// reused after its borrowed text is gone binds afresh, never reading the old buffer.
TEST_F(SqliteDbTest, BorrowedTextIsStoredAsBindTextWouldStoreIt) {
  auto c = MakeDb(File("borrow.db"), 0);
  ASSERT_TRUE(InWriteTransaction(*c, "borrow", [&](Connection& conn) -> Status {
    for (std::string v : {"first row's text", "", "x"}) {
      DRIPR_ASSIGN_OR_RETURN(auto s, conn.Prepare("INSERT INTO t(v) VALUES (?)"));
      DRIPR_TRY(s.BindTextBorrowed(v).Run());
      v.assign(v.size(), '#');  // the statement is done with it
    }
    return Ok();
  }));
  auto s = c->Prepare("SELECT v FROM t ORDER BY id");
  ASSERT_TRUE(s);
  std::vector<std::string> got;
  while (true) {
    auto row = s->Step();
    ASSERT_TRUE(row) << row.error().ToString();
    if (!*row) break;
    got.push_back(s->IsNull(0) ? "(null)" : s->Text(0));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"first row's text", "(null)", "x"}));
}

TEST_F(SqliteDbTest, CheckDatabaseFileNamesWhatCannotBeADatabase) {
  fs::create_directory(dir_ / "a-dir.db");
  std::ofstream(File("text.db")) << "certainly not an SQLite database, just text";
  std::ofstream(File("empty.db")).close();

  auto is_dir = CheckDatabaseFile(File("a-dir.db"), Access::kCreate, "DATABASE_URL");
  ASSERT_FALSE(is_dir);
  EXPECT_EQ(is_dir.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(is_dir.error().message,
            "DATABASE_URL: " + File("a-dir.db") + " is a directory, not a database file");

  auto text = CheckDatabaseFile(File("text.db"), Access::kExistingOnly, "DATABASE_URL");
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(text.error().message, HasSubstr("is not an SQLite database"));

  auto no_dir = CheckDatabaseFile(File("nope/x.db"), Access::kCreate, "DATABASE_URL");
  ASSERT_FALSE(no_dir);
  EXPECT_EQ(no_dir.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(no_dir.error().message, HasSubstr("directory " + File("nope") + " does not exist"));

  auto missing = CheckDatabaseFile(File("missing.db"), Access::kExistingOnly, "DATABASE_URL");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(missing.error().message,
              HasSubstr("no database there; create one with `dripr migrate`"));

  EXPECT_TRUE(CheckDatabaseFile(File("missing.db"), Access::kCreate, "DATABASE_URL"));
  EXPECT_TRUE(CheckDatabaseFile(File("empty.db"), Access::kCreate, "DATABASE_URL"));
  MakeDb(File("real.db"), 1);
  EXPECT_TRUE(CheckDatabaseFile(File("real.db"), Access::kExistingOnly, "DATABASE_URL"));
  EXPECT_FALSE(fs::exists(File("missing.db"))) << "a check must not create the file";
}

// Closing any descriptor of a file drops every POSIX lock the process holds on it; the check
// runs while the store already has the file open (the bus shares it), so it must not.
TEST_F(SqliteDbTest, CheckDatabaseFileKeepsTheLocksThisProcessHolds) {
  const std::string path = File("locked.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA journal_mode=DELETE; CREATE TABLE t(x); BEGIN IMMEDIATE",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);  // a RESERVED lock on the file itself (rollback-journal mode)
  ASSERT_TRUE(CheckDatabaseFile(path, Access::kCreate, "DATABASE_URL"));
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // another process must still see this one's RESERVED lock (byte 2^30+1)
    int fd = ::open(path.c_str(), O_RDONLY);
    struct flock probe {};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    probe.l_start = 1073741825;
    probe.l_len = 1;
    bool locked = fd >= 0 && fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
    _exit(locked ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the check released this process's lock on the file";
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
}

TEST_F(SqliteDbTest, RelativePathsAreResolvedAgainstTheCurrentDirectory) {
  EXPECT_EQ(AbsolutePath("x/../dripr.db"), (fs::current_path() / "dripr.db").string());
  EXPECT_EQ(AbsolutePath("/a/b.db"), "/a/b.db");
}

TEST_F(SqliteDbTest, OpenWithoutCreateLeavesAMissingFileMissing) {
  auto c = Connection::Open(File("missing.db"), {.create = false});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(fs::exists(File("missing.db")));
}

// Several processes starting at once on a new file (e2e.test_mysql_multi_fetcher's fetchers)
// all switch it to WAL; SQLite answers that switch's lock conflict with BUSY at once, without
// the busy handler, so Open retries it. Processes, not threads: SQLite's locks are per
// process. Each round forks openers that wait on one pipe and start when it closes.
TEST_F(SqliteDbTest, ConcurrentFirstOpensOfANewFileAllSucceed) {
  constexpr int kRounds = 40;
  constexpr int kOpeners = 4;
  int failed = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::string path = File("new-" + std::to_string(round) + ".db");
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    std::vector<pid_t> pids;
    for (int i = 0; i < kOpeners; ++i) {
      const pid_t pid = ::fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        ::close(go[1]);
        char byte;
        (void)!::read(go[0], &byte, 1);  // returns at EOF: every opener starts at once
        auto c = Connection::Open(path, {});
        if (!c) std::fprintf(stderr, "round %d: %s\n", round, c.error().ToString().c_str());
        ::_exit(c ? 0 : 1);
      }
      pids.push_back(pid);
    }
    ::close(go[0]);
    ::close(go[1]);
    for (pid_t pid : pids) {
      int status = 0;
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
      failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
  }
  EXPECT_EQ(failed, 0) << "opens failed (their errors are on stderr)";
  // And the files are in WAL mode, whoever switched them.
  auto c = Connection::Open(File("new-0.db"), {});
  ASSERT_TRUE(c);
  auto mode = (*c)->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode);
  ASSERT_TRUE(mode->Step().value_or(false));
  EXPECT_EQ(mode->Text(0), "wal");
}

TEST_F(SqliteDbTest, AWriteTransactionRefusesAFileThatWasRemoved) {
  auto c = MakeDb(File("a.db"), 1);
  ASSERT_TRUE(c->CheckFileIdentity());
  fs::remove(File("a.db"));
  auto tx = WriteTransaction::Begin(*c);
  ASSERT_FALSE(tx);
  EXPECT_EQ(tx.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(tx.error().message, HasSubstr("database file " + File("a.db") + " was removed"));
  EXPECT_FALSE(c->InTransaction()) << "the refused transaction is rolled back";
}

TEST_F(SqliteDbTest, AWriteTransactionRefusesAFileThatWasReplaced) {
  auto c = MakeDb(File("a.db"), 1);
  MakeDb(File("b.db"), 1);
  fs::rename(File("b.db"), File("a.db"));
  auto written = InWriteTransaction(*c, "insert", [](Connection& conn) -> Status {
    return conn.Exec("INSERT INTO t(v) VALUES ('lost')");
  });
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(written.error().message, HasSubstr("was replaced by another file"));
}

TEST_F(SqliteDbTest, APoolRefusesToMixConnectionsToTwoFiles) {
  ConnectionPool pool(File("a.db"), {});
  {
    auto first = pool.Acquire();
    ASSERT_TRUE(first);
    auto second = pool.Acquire();  // both held: the pool opens a second connection later
    ASSERT_TRUE(second);
  }
  MakeDb(File("b.db"), 1);
  {
    auto a = pool.Acquire();
    auto b = pool.Acquire();
    ASSERT_TRUE(a && b);
    fs::rename(File("b.db"), File("a.db"));
    auto third = pool.Acquire();  // no idle one left: opens the path anew
    ASSERT_FALSE(third);
    EXPECT_THAT(third.error().message, HasSubstr("was replaced by another file"));
  }
}

TEST_F(SqliteDbTest, QuickCheckFindsADamagedPage) {
  {
    auto c = MakeDb(File("a.db"), 2000);
    ASSERT_TRUE(c->QuickCheck());
    ASSERT_TRUE(c->Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  }
  // Scribble over a page in the middle of the table's b-tree (page size 4096).
  {
    std::fstream f(File("a.db"), std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f);
    f.seekp(4096 * 20);
    const std::string junk(4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto c = Connection::Open(File("a.db"), {});
  ASSERT_TRUE(c) << c.error().ToString();
  auto checked = (*c)->QuickCheck();
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, ErrorCode::kDataLoss);
  EXPECT_THAT(checked.error().message, HasSubstr("database " + File("a.db") + " is corrupt"));
  EXPECT_THAT(checked.error().message, HasSubstr("restore it from a backup"));
}

}  // namespace
}  // namespace dripr::sqlite
