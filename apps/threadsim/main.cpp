// offload-threadsim: OpenSSL ASYNC jobs offloaded to a pthread "device".
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "offload/exit_codes.hpp"
#include "threadsim.hpp"
#include "threadsim_options.hpp"

int main(int argc, char** argv) {
  CLI::App app{"", "offload-threadsim"};
  offload::threadsim::ThreadsimOptions opts;
  offload::threadsim::define_options(app, opts);
  if (const int code = offload::parse_cli(app, argc, argv); code >= 0) return code;
  try {
    return offload::threadsim::run(opts);
  } catch (const offload::EnvironmentError& e) {
    std::fprintf(stderr, "offload-threadsim: error: %s\n", e.what());
    return offload::kExitEnvironment;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "offload-threadsim: error: %s\n", e.what());
    return offload::kExitInternal;
  }
}
