#pragma once
// Names of enum values, both ways, from one table per enum (docs/decisions/code-structure.md
// "Enum names"): the table is the single place a name is written; ToString and Parse are the
// same two lookups for every enum.

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace dripr {

template <class E>
struct EnumName {
  E value{};
  std::string_view name;
};

// The table of an enum whose values are 0..N-1, each listed once under a distinct name:
//   constexpr auto kNames = EnumNames<Color>({{Color::kRed, "red"}, {Color::kBlue, "blue"}});
// A table that misses or repeats a value or a name does not compile.
template <class E, size_t N>
consteval std::array<EnumName<E>, N> EnumNames(const EnumName<E> (&entries)[N]) {
  std::array<EnumName<E>, N> table{};
  for (size_t i = 0; i < N; ++i) {
    if (static_cast<size_t>(entries[i].value) >= N) throw "enum name table: value out of range";
    for (size_t j = 0; j < i; ++j) {
      if (entries[j].value == entries[i].value) throw "enum name table: value listed twice";
      if (entries[j].name == entries[i].name) throw "enum name table: name listed twice";
    }
    table[i] = entries[i];
  }
  return table;
}

// The name of `value`, or `fallback` for a value the table does not list.
template <class E, size_t N>
constexpr std::string_view NameOf(const std::array<EnumName<E>, N>& table, E value,
                                  std::string_view fallback) {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return fallback;
}

// The value whose name is exactly `name` (case-sensitive), or nullopt.
template <class E, size_t N>
constexpr std::optional<E> ValueOf(const std::array<EnumName<E>, N>& table, std::string_view name) {
  for (const auto& entry : table) {
    if (entry.name == name) return entry.value;
  }
  return std::nullopt;
}

}  // namespace dripr
