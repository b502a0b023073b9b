// offload-microbench: the unit costs that bound the offload's figures.
#include "microbench.hpp"
#include "microbench_options.hpp"
#include "offload/exit_codes.hpp"

int main(int argc, char** argv) {
  CLI::App app{"", "offload-microbench"};
  offload::microbench::MicrobenchOptions opts;
  offload::microbench::define_options(app, opts);
  if (const int code = offload::parse_cli(app, argc, argv); code >= 0) return code;
  return offload::run_guarded(app, [&] { return offload::microbench::run(opts); });
}
