#pragma once
// Runs the real `dripr` binary (DRIPR_BIN, set by ctest) as a child process in a fresh temp
// directory with a SQLite database of its own, for tests of argument parsing, output and exit
// codes.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "bus/temp_dir.h"
#include "support/ctest_env.h"

namespace dripr::testing {

struct DriprRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class DriprCli {
 public:
  DriprCli() : db_("sqlite:" + dir_.File("cli.db")) {}

  // `args` are passed as they are (each quoted for the shell); `stdin_text` is the child's
  // stdin. The environment is the test's plus DATABASE_URL, EVENT_BUS=embedded and
  // DATA_PROVIDER=sample.
  DriprRun Run(const std::vector<std::string>& args, const std::string& stdin_text = "") const {
    return RunIn("env DATABASE_URL=" + Quote(db_) +
                     " EVENT_BUS=embedded DATA_PROVIDER=sample DRIPR_LOG_LEVEL=warn",
                 args, stdin_text);
  }

  // As Run, in an environment of `vars` ("NAME=value") only, not even the test's.
  DriprRun RunInEnv(const std::vector<std::string>& vars,
                    const std::vector<std::string>& args) const {
    std::string prefix = "env -i";
    for (const auto& v : vars) prefix += " " + Quote(v);
    return RunIn(prefix, args, "");
  }

  std::string File(const std::string& name) const { return dir_.File(name); }
  // Sets (or overrides, e.g. EVENT_BUS=aws) a variable in the child's environment (RunInEnv's
  // too).
  void SetEnv(const std::string& name, const std::string& value) { env_.emplace_back(name, value); }

 private:
  DriprRun RunIn(const std::string& env_prefix, const std::vector<std::string>& args,
                 const std::string& stdin_text) const {
    const std::string bin = Binary();
    if (bin.empty()) {
      ADD_FAILURE() << "no dripr binary: set DRIPR_BIN";
      return {};
    }
    const std::string in = dir_.File("stdin"), out = dir_.File("stdout"), err = dir_.File("stderr");
    std::ofstream(in, std::ios::binary) << stdin_text;
    std::string cmd = env_prefix;
    for (const auto& [name, value] : env_) cmd += " " + Quote(name + "=" + value);
    cmd += " " + Quote(bin);
    for (const auto& a : args) cmd += " " + Quote(a);
    cmd += " <" + Quote(in) + " >" + Quote(out) + " 2>" + Quote(err);
    int status = std::system(cmd.c_str());
    DriprRun r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = Slurp(out);
    r.err = Slurp(err);
    return r;
  }

  // DRIPR_BIN (ctest sets it; a failure names it when it is missing).
  static std::string Binary() { return CtestEnv("DRIPR_BIN"); }
  static std::string Quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  }
  static std::string Slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  TempDir dir_;
  std::string db_;
  std::vector<std::pair<std::string, std::string>> env_;  // after the defaults: they win
};

}  // namespace dripr::testing
