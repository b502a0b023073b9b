// offload-frontend: the DPDK secondary that runs ASYNC jobs against the backend.

#include "frontend.hpp"
#include "offload/dpdk/eal.hpp"
#include "offload/exit_codes.hpp"

int main(int argc, char** argv) {
  auto split = offload::dpdk::split_eal_args(argc, argv);
  CLI::App app{"", "offload-frontend"};
  offload::frontend::FrontendOptions opts;
  offload::frontend::define_options(app, opts);
  opts.eal_args = split.eal;
  if (const int code = offload::parse_cli(app, static_cast<int>(split.app.size()), split.app.data()); code >= 0)
    return code;
  return offload::run_guarded(app, [&] { return offload::frontend::run(opts); });
}
