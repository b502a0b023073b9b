#include "offload/progress.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <cstdio>

namespace offload {

ProgressLine::ProgressLine(std::string label, bool enabled) : label_(std::move(label)), enabled_(enabled) {}

bool ProgressLine::stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

void ProgressLine::update(std::uint64_t done, std::uint64_t total, std::uint64_t now_ns) {
  if (!enabled_) return;
  if (started_ns_ == 0) {
    started_ns_ = last_draw_ns_ = now_ns;
    return;
  }
  if (now_ns - last_draw_ns_ < 250'000'000) return;
  const double rate = static_cast<double>(done - last_done_) / (static_cast<double>(now_ns - last_draw_ns_) / 1e9);
  std::string line = total != 0 ? fmt::format("{} {}/{} requests ({:.0f}%), {:.0f} req/s", label_, done, total,
                                              100.0 * static_cast<double>(done) / static_cast<double>(total), rate)
                                 : fmt::format("{} {} requests in {:.1f} s, {:.0f} req/s", label_, done,
                                               static_cast<double>(now_ns - started_ns_) / 1e9, rate);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
  last_draw_ns_ = now_ns;
  last_done_ = done;
}

void ProgressLine::finish() {
  if (!drawn_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace offload
