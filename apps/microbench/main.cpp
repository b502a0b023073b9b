// offload-microbench: the unit costs that bound the offload's figures.

#include "microbench.hpp"
#include "microbench_options.hpp"
#include "offload/cli_options.hpp"

int main(int argc, char** argv) {
  offload::microbench::MicrobenchOptions opts;
  return offload::run_program(
      "offload-microbench", argc, argv, [&](CLI::App& app) { offload::microbench::define_options(app, opts); },
      [&] { return offload::microbench::run(opts); });
}
