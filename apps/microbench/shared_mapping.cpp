#include "shared_mapping.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <system_error>

namespace offload::microbench {

SharedMapping::SharedMapping(std::size_t bytes) : size_(bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap(MAP_SHARED | MAP_ANONYMOUS)");
  data_ = p;
}

SharedMapping::~SharedMapping() { munmap(data_, size_); }

}  // namespace offload::microbench
