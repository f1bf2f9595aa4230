// spdlog set-up with one named logger per subsystem ("storage", "replication", ...).
//
// State transitions are logged at info in a stable, grep-able form; per-record detail at trace.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace gregor {

// Configures the default level and pattern of every logger (existing and future). `level`
// is one of trace, debug, info, warn, error, off. Thread-safe; call once at start-up.
void InitLogging(std::string_view level);

// The logger for a subsystem, created on first use. Thread-safe.
std::shared_ptr<spdlog::logger> Logger(const std::string& name);

}  // namespace gregor

// Log absl::string_view (Debian's is not std::string_view) and absl::Status directly.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename Ctx>
  auto format(absl::string_view s, Ctx& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};
template <>
struct fmt::formatter<absl::Status> : fmt::formatter<std::string> {
  template <typename Ctx>
  auto format(const absl::Status& s, Ctx& ctx) const {
    return fmt::formatter<std::string>::format(s.ToString(), ctx);
  }
};
