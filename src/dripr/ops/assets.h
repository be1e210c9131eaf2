#pragma once
// The ops dashboard's static files (src/dripr/ops/assets/), compiled into the binary by
// cmake/embed_assets.cmake: no file is read at run time, no CDN, no Node.js build step.

#include <span>
#include <string_view>

namespace dripr {

struct OpsAsset {
  std::string_view name;  // file name: "index.html", "app.js", "app.css"
  std::string_view body;
};

// Every embedded file (generated source).
std::span<const OpsAsset> OpsAssets();

}  // namespace dripr
