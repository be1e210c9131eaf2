#include "dripr/store/mysql/my_rows.h"

namespace dripr::my {

std::string Quoted(std::string_view columns) {
  std::string out(columns);
  if (out.starts_with("rank,")) out.replace(0, 4, "`rank`");
  return out;
}

}  // namespace dripr::my
