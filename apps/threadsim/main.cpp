// offload-threadsim: OpenSSL ASYNC jobs offloaded to a pthread "device".

#include "offload/cli_options.hpp"
#include "threadsim.hpp"
#include "threadsim_options.hpp"

int main(int argc, char** argv) {
  offload::threadsim::ThreadsimOptions opts;
  return offload::run_program(
      "offload-threadsim", argc, argv, [&](CLI::App& app) { offload::threadsim::define_options(app, opts); },
      [&] { return offload::threadsim::run(opts); });
}
