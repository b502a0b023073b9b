// offload-threadsim: OpenSSL ASYNC jobs offloaded to a pthread "device".

#include "offload/exit_codes.hpp"
#include "threadsim.hpp"
#include "threadsim_options.hpp"

int main(int argc, char** argv) {
  CLI::App app{"", "offload-threadsim"};
  offload::threadsim::ThreadsimOptions opts;
  offload::threadsim::define_options(app, opts);
  if (const int code = offload::parse_cli(app, argc, argv); code >= 0) return code;
  return offload::run_guarded(app, [&] { return offload::threadsim::run(opts); });
}
