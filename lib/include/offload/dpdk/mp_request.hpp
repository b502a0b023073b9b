#pragma once
// A synchronous rte_mp request to the primary with a bounded wait: the
// frontend's only way of telling the backend anything that must have
// arrived before it goes on.

#include <chrono>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

#include "offload/exit_codes.hpp"

namespace offload::dpdk {

// Sends `param` (+ fds) as message `name` and copies the single reply's
// parameters into `reply` (at most reply_len bytes). Throws EnvironmentError
// if nothing answers within `timeout`, or the reply is shorter than expected.
void mp_request_raw(const char* name, const void* param, std::size_t param_len, std::span<const int> fds,
                    void* reply, std::size_t reply_len, std::chrono::milliseconds timeout);

template <class Reply, class Request>
Reply mp_request(const char* name, const Request& request, std::span<const int> fds = {},
                 std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  Reply reply{};
  mp_request_raw(name, &request, sizeof request, fds, &reply, sizeof reply, timeout);
  return reply;
}

}  // namespace offload::dpdk
