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

}  // namespace offload
