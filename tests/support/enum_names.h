#pragma once
// NamesOf(values): the names ToString gives `values`, in order, separated by spaces, so that
// one assertion pins every name of an enum:
//   EXPECT_EQ(NamesOf({Action::kRedriven, Action::kSkipped}), "redriven skipped");

#include <initializer_list>
#include <string>

namespace dripr {

template <typename Values>
std::string NamesOf(const Values& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += ' ';
    out += ToString(v);
  }
  return out;
}

template <typename Enum>
std::string NamesOf(std::initializer_list<Enum> values) {
  return NamesOf<std::initializer_list<Enum>>(values);
}

}  // namespace dripr
