// GREGOR_CHECK: an always-on assertion (release builds too) for invariants whose violation
// means a bug in Gregor, e.g. `log_start <= hw <= leo`. Never use it on client input or on
// anything read from disk: those are operating errors and get a Status.
#pragma once

#include <string>

#include "absl/strings/str_cat.h"

namespace gregor::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              const std::string& message);
}  // namespace gregor::internal

#define GREGOR_CHECK(cond)                                                   \
  do {                                                                       \
    if (!(cond)) [[unlikely]]                                                \
      ::gregor::internal::CheckFailed(__FILE__, __LINE__, #cond, "");        \
  } while (0)

// The message arguments are passed to absl::StrCat and evaluated only on failure.
#define GREGOR_CHECK_MSG(cond, ...)                                          \
  do {                                                                       \
    if (!(cond)) [[unlikely]]                                                \
      ::gregor::internal::CheckFailed(__FILE__, __LINE__, #cond,             \
                                      ::absl::StrCat(__VA_ARGS__));          \
  } while (0)
