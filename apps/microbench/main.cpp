// offload-microbench: the unit costs that bound the offload's figures.
#include <cstdio>
#include <exception>

#include "microbench.hpp"
#include "microbench_options.hpp"
#include "offload/exit_codes.hpp"

int main(int argc, char** argv) {
  CLI::App app{"", "offload-microbench"};
  offload::microbench::MicrobenchOptions opts;
  offload::microbench::define_options(app, opts);
  if (const int code = offload::parse_cli(app, argc, argv); code >= 0) return code;
  try {
    return offload::microbench::run(opts);
  } catch (const offload::EnvironmentError& e) {
    std::fprintf(stderr, "offload-microbench: error: %s\n", e.what());
    return offload::kExitEnvironment;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "offload-microbench: error: %s\n", e.what());
    return offload::kExitInternal;
  }
}
