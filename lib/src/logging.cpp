#include "offload/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include <memory>

namespace offload {

void setup_logging(std::string_view role, const std::string& level) {
  auto logger = spdlog::stderr_logger_mt(std::string(role));
  // Unbuffered stderr sink: lines from the two processes interleave in the
  // order they happened when a script merges them.
  logger->set_pattern(std::string("[%H:%M:%S.%e] [") + std::string(role) + "] [%^%l%$] %v");
  logger->set_level(spdlog::level::from_str(level));
  detail::debug_logged = logger->should_log(spdlog::level::debug);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace offload
