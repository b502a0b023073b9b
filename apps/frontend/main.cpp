// offload-frontend: the DPDK secondary that runs ASYNC jobs against the backend.

#include "frontend.hpp"
#include "offload/cli_options.hpp"
#include "offload/dpdk/eal.hpp"

int main(int argc, char** argv) {
  auto split = offload::dpdk::split_eal_args(argc, argv);
  offload::frontend::FrontendOptions opts;
  opts.eal_args = split.eal;
  return offload::run_program(
      "offload-frontend", static_cast<int>(split.app.size()), split.app.data(),
      [&](CLI::App& app) { offload::frontend::define_options(app, opts); }, [&] { return offload::frontend::run(opts); });
}
