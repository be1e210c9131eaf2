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

namespace enum_names_internal {

// Whether V is one of its enum's named enumerators. g++ and clang show a non-type template
// argument in __PRETTY_FUNCTION__ by its enumerator's name when it has one ("V = ns::E::kRed")
// and as a cast when it has none ("V = (ns::E)3"): the compile-time test the tables need to
// see a value appended to an enum (magic_enum rests on the same property of both compilers).
// For enums with a fixed underlying type (every `enum class`), where any value is valid.
template <auto V>
consteval bool IsEnumerator() {
  const std::string_view f = __PRETTY_FUNCTION__;
  const size_t at = f.find("V = ");
  if (at == std::string_view::npos) throw "enum name table: unknown __PRETTY_FUNCTION__ form";
  return f[at + 4] != '(';
}

}  // namespace enum_names_internal

// The table of an enum whose values are 0..N-1, each listed once under a distinct name:
//   constexpr auto kNames = EnumNames<Color>({{Color::kRed, "red"}, {Color::kBlue, "blue"}});
// A table that does not compile: one that misses or repeats a value or a name, and one of
// an enum that has a value N (an enumerator appended and left out of the table: what
// -Wswitch caught in the switches these tables replaced). `sentinel`: an enum that ends in a
// count (spdlog's n_levels) names it here; it must be value N, and nothing may follow it.
template <class E, size_t N>
consteval std::array<EnumName<E>, N> EnumNames(const EnumName<E> (&entries)[N],
                                               std::optional<E> sentinel = std::nullopt) {
  std::array<EnumName<E>, N> table{};
  for (size_t i = 0; i < N; ++i) {
    if (static_cast<size_t>(entries[i].value) >= N) throw "enum name table: value out of range";
    for (size_t j = 0; j < i; ++j) {
      if (entries[j].value == entries[i].value) throw "enum name table: value listed twice";
      if (entries[j].name == entries[i].name) throw "enum name table: name listed twice";
    }
    table[i] = entries[i];
  }
  using enum_names_internal::IsEnumerator;
  if (sentinel) {
    if (*sentinel != static_cast<E>(N)) throw "enum name table: the sentinel is not value N";
    if (IsEnumerator<static_cast<E>(N + 1)>()) {
      throw "enum name table: the enum has a value after its sentinel; add it to the table";
    }
  } else if (IsEnumerator<static_cast<E>(N)>()) {
    throw "enum name table: the enum has a value the table does not list; add it";
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
