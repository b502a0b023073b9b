// offload-backend: the DPDK primary that plays the accelerator.

#include "backend.hpp"
#include "offload/dpdk/eal.hpp"
#include "offload/exit_codes.hpp"

int main(int argc, char** argv) {
  auto split = offload::dpdk::split_eal_args(argc, argv);
  CLI::App app{"", "offload-backend"};
  offload::backend::BackendOptions opts;
  offload::backend::define_options(app, opts);
  opts.eal_args = split.eal;
  if (const int code = offload::parse_cli(app, static_cast<int>(split.app.size()), split.app.data()); code >= 0)
    return code;
  return offload::run_guarded(app, [&] { return offload::backend::run(opts); });
}
