// absl::Status helpers: RETURN_IF_ERROR and ASSIGN_OR_RETURN (Debian's Abseil has no status
// macros of its own).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define GREGOR_STATUS_CONCAT_INNER(a, b) a##b
#define GREGOR_STATUS_CONCAT(a, b) GREGOR_STATUS_CONCAT_INNER(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the current function if not OK.
#define RETURN_IF_ERROR(expr)                     \
  do {                                            \
    ::absl::Status gregor_status_ = (expr);       \
    if (!gregor_status_.ok()) return gregor_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, F());` evaluates F() (an absl::StatusOr<T>), returns its status
// if not OK, else moves the value into the declaration on the left.
#define ASSIGN_OR_RETURN(lhs, expr) \
  GREGOR_ASSIGN_OR_RETURN_IMPL(GREGOR_STATUS_CONCAT(gregor_statusor_, __LINE__), lhs, expr)

#define GREGOR_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()
