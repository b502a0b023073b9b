// offload-backend: the DPDK primary that plays the accelerator.

#include "backend.hpp"
#include "offload/cli_options.hpp"
#include "offload/dpdk/eal.hpp"

int main(int argc, char** argv) {
  auto split = offload::dpdk::split_eal_args(argc, argv);
  offload::backend::BackendOptions opts;
  opts.eal_args = split.eal;
  return offload::run_program(
      "offload-backend", static_cast<int>(split.app.size()), split.app.data(),
      [&](CLI::App& app) { offload::backend::define_options(app, opts); }, [&] { return offload::backend::run(opts); });
}
