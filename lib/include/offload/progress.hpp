#pragma once
// A live "count and rate" line on stderr for long runs, redrawn in place at
// most four times a second, and only when stderr is a terminal: logs that
// go to a file or a pipe stay clean.

#include <cstdint>
#include <string>

namespace offload {

class ProgressLine {
public:
  // `label` prefixes the line, e.g. "[frontend]".
  explicit ProgressLine(std::string label, bool enabled);
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ~ProgressLine() { finish(); }

  // `total` 0: unknown (a timed run).
  void update(std::uint64_t done, std::uint64_t total, std::uint64_t now_ns);
  // Erases the line.
  void finish();

  // True when stderr is a terminal.
  static bool stderr_is_tty();

private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::uint64_t started_ns_ = 0;
  std::uint64_t last_draw_ns_ = 0;
  std::uint64_t last_done_ = 0;
};

}  // namespace offload
