#include "dripr/core/thread_name.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <thread>

namespace dripr {
namespace {

// The kernel's view of the calling thread's name.
std::string ProcComm() {
  std::ifstream comm("/proc/thread-self/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

TEST(ThreadNameTest, JoinsRoleAndSubjectAndCutsToFifteenBytes) {
  EXPECT_EQ(ThreadName("outbox-relay"), "outbox-relay");
  EXPECT_EQ(ThreadName("work", "sales"), "work:sales");
  EXPECT_EQ(ThreadName("work", "local_market_data"), "work:local_mark");
  EXPECT_EQ(ThreadName("work", "local_market_data").size(), kMaxThreadNameBytes);
  EXPECT_EQ(ThreadName("a-role-longer-than-the-limit"), "a-role-longer-t");
  EXPECT_EQ(ThreadName(""), "");
}

TEST(ThreadNameTest, NamesTheCallingThreadOnlyAsTheKernelShowsIt) {
  const std::string before = ProcComm();
  std::string inside, long_name;
  std::thread([&] {
    NameThisThread("checkpointer");
    inside = ProcComm();
    NameThisThread(ThreadName("recv", "recent_sales_queue"));
    long_name = ProcComm();
  }).join();
  EXPECT_EQ(inside, "checkpointer");
  EXPECT_EQ(long_name, "recv:recent_sal");
  EXPECT_EQ(ProcComm(), before) << "naming another thread renamed this one";
}

}  // namespace
}  // namespace dripr
