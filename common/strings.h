// Debian 12's Abseil is built with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW
// is 0), which does not convert to or from std::string_view. Gregor's APIs use
// std::string_view; these bridge the two at Abseil call sites (StrCat, StrSplit, SimpleAtoi,
// Status messages).
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace gregor {

inline absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace gregor
