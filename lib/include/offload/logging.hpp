#pragma once
// spdlog set-up shared by the programs: logs go to stderr (stdout carries
// results), every line names the program's role, e.g. "[frontend]".

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace offload {

// The accepted --log-level values, in CLI11 check form.
inline constexpr const char* kLogLevels[] = {"trace", "debug", "info", "warn", "error", "off"};

// Installs the default logger: stderr, "[hh:mm:ss.mmm] [role] [level] msg".
void setup_logging(std::string_view role, const std::string& level);

namespace detail {
inline bool debug_logged = false;  // written by setup_logging only
}  // namespace detail

// Whether debug lines are logged, as setup_logging set the level (the
// programs set it once, before they work). For per-request paths: asked of
// spdlog per request, its lookup of the default logger cost the frontend
// 4 ns of 165 at 1 KiB.
inline bool logs_debug() noexcept { return detail::debug_logged; }

}  // namespace offload
