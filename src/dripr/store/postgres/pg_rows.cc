#include "dripr/store/postgres/pg_rows.h"

#include "dripr/core/time.h"

namespace dripr::pg {

std::string Driver::Sql(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  int n = 0;
  for (char ch : text) {
    if (ch == '?') {
      out += '$' + std::to_string(++n);
    } else {
      out += ch;
    }
  }
  return out;
}

std::string TimeParam(SysTime t) { return FormatIso8601(t); }

}  // namespace dripr::pg
