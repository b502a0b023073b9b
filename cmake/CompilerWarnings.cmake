# Warnings for project code only, carried by an INTERFACE target that every
# project target links PRIVATE (third-party headers come in as SYSTEM).
add_library(offload_warnings INTERFACE)
target_compile_options(offload_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
  -Wconversion -Wsign-conversion -Wdouble-promotion
  -Wformat=2 -Wimplicit-fallthrough)
