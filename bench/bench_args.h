// The command line of the bench programs (docs/benchmarks.md), parsed strictly: bench
// arguments are outside input, so a bad one is a usage error (exit 2), never a silent
// default or a lax atoi. Standard library only, so that the bare-client-library baselines
// (sqlite_ceiling, pg_ceiling, skip_locked_poller) can use it without any dripr code.
//
//   int rows = 25;
//   bench::Args args;
//   args.Int("--rows", &rows, 1, 500);
//   if (std::string why = args.Parse(argc, argv); !why.empty())
//     return bench::UsageError("prog", why, kUsage);
//
// Options are `--name value`, `--name=value` and value-less switches (`--setup`). An unknown
// argument, a missing value, a switch given a value, an option given twice, a required option
// left out, a number that is not a whole decimal number in its range, or a choice not in its
// list is an error, with one line that names the option.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bench {

// A whole decimal number in [min, max] ("+5", " 5", "5x" and "" are not), else nullopt.
inline std::optional<int> ParseInt(std::string_view text, int min, int max) {
  int v = 0;
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || stop != end || v < min || v > max) return std::nullopt;
  return v;
}

enum class Need { kOptional, kRequired };

class Args {
 public:
  // Any text. An option not given keeps the value `*out` had (its default).
  void Text(std::string_view name, std::string* out, Need need = Need::kOptional) {
    options_.push_back({.name = name, .text = out, .need = need});
  }
  // One of `choices`.
  void Choice(std::string_view name, std::string* out, std::vector<std::string_view> choices,
              Need need = Need::kOptional) {
    options_.push_back({.name = name, .text = out, .choices = std::move(choices), .need = need});
  }
  // A whole number in [min, max].
  void Int(std::string_view name, int* out, int min, int max, Need need = Need::kOptional) {
    options_.push_back({.name = name, .number = out, .min = min, .max = max, .need = need});
  }
  // Whole numbers in [min, max], separated by commas ("25" or "18,25,10"); at least one.
  void IntList(std::string_view name, std::vector<int>* out, int min, int max,
               Need need = Need::kOptional) {
    options_.push_back({.name = name, .min = min, .max = max, .list = out, .need = need});
  }
  // A switch without a value: `*out` becomes true when it is given.
  void Flag(std::string_view name, bool* out) { options_.push_back({.name = name, .flag = out}); }

  // Reads argv[1..argc). Returns "" when every argument was understood, else one line saying
  // what is wrong (the outputs may then be partly written).
  std::string Parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string_view arg = argv[i];
      std::optional<std::string_view> value;
      if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
      Option* o = Find(arg);
      if (o == nullptr) return "unknown argument '" + std::string(argv[i]) + "'";
      if (o->seen) return std::string(arg) + " is given twice";
      o->seen = true;
      if (o->flag != nullptr) {
        if (value) return std::string(arg) + " takes no value";
        *o->flag = true;
        continue;
      }
      if (!value) {
        if (i + 1 >= argc) return std::string(arg) + " needs a value";
        value = argv[++i];
      }
      if (std::string why = o->Set(*value); !why.empty()) return why;
    }
    for (const Option& o : options_) {
      if (o.need == Need::kRequired && !o.seen) return std::string(o.name) + " is required";
    }
    return "";
  }

 private:
  struct Option {
    std::string_view name;
    std::string* text = nullptr;
    std::vector<std::string_view> choices;  // empty: any text
    int* number = nullptr;
    int min = 0;
    int max = 0;
    bool* flag = nullptr;
    std::vector<int>* list = nullptr;
    Need need = Need::kOptional;
    bool seen = false;

    // Stores `value`, or says why it cannot.
    std::string Set(std::string_view value) const {
      const std::string got =
          ", got '" + std::string(value.substr(0, 60)) + (value.size() > 60 ? "...'" : "'");
      if (number != nullptr) {
        const std::optional<int> n = ParseInt(value, min, max);
        if (!n) {
          return std::string(name) + " needs a whole number from " + std::to_string(min) + " to " +
                 std::to_string(max) + got;
        }
        *number = *n;
        return "";
      }
      if (list != nullptr) {
        std::vector<int> got_list;
        for (size_t start = 0;;) {
          const size_t comma = value.find(',', start);
          const std::optional<int> n = ParseInt(value.substr(start, comma - start), min, max);
          if (!n) {
            return std::string(name) + " needs whole numbers from " + std::to_string(min) + " to " +
                   std::to_string(max) + " separated by commas" + got;
          }
          got_list.push_back(*n);
          if (comma == std::string_view::npos) break;
          start = comma + 1;
        }
        *list = std::move(got_list);
        return "";
      }
      if (!choices.empty() && std::ranges::find(choices, value) == choices.end()) {
        std::string names;
        for (std::string_view c : choices) names += (names.empty() ? "" : " or ") + std::string(c);
        return std::string(name) + " must be " + names + got;
      }
      *text = value;
      return "";
    }
  };

  Option* Find(std::string_view name) {
    for (Option& o : options_) {
      if (o.name == name) return &o;
    }
    return nullptr;
  }

  std::vector<Option> options_;
};

// Prints "program: why" and the usage text to stderr; returns 2, the exit code of a usage
// error.
inline int UsageError(std::string_view program, std::string_view why, std::string_view usage) {
  std::fprintf(stderr, "%.*s: %.*s\n%.*s", static_cast<int>(program.size()), program.data(),
               static_cast<int>(why.size()), why.data(), static_cast<int>(usage.size()),
               usage.data());
  return 2;
}

}  // namespace bench
