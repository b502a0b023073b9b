#include "offload/dpdk/mp_request.hpp"

#include <rte_eal.h>
#include <rte_errno.h>

#include <fmt/format.h>

#include "offload/dpdk/handles.hpp"

namespace offload::dpdk {

void mp_request_raw(const char* name, const void* param, std::size_t param_len, std::span<const int> fds,
                    void* reply, std::size_t reply_len, std::chrono::milliseconds timeout) {
  rte_mp_msg msg{};
  if (std::strlen(name) >= sizeof msg.name || param_len > sizeof msg.param ||
      fds.size() > static_cast<std::size_t>(RTE_MP_MAX_FD_NUM))
    throw std::invalid_argument(fmt::format("rte_mp message {} does not fit an rte_mp_msg", name));
  std::memcpy(msg.name, name, std::strlen(name) + 1);
  std::memcpy(msg.param, param, param_len);
  msg.len_param = static_cast<int>(param_len);
  msg.num_fds = static_cast<int>(fds.size());
  for (std::size_t i = 0; i < fds.size(); ++i) msg.fds[i] = fds[i];

  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout - secs);
  const timespec ts{static_cast<time_t>(secs.count()), static_cast<long>(nanos.count())};
  MpReplies replies;
  if (rte_mp_request_sync(&msg, replies.get(), &ts) != 0 || replies.messages().empty())
    throw EnvironmentError(fmt::format("the backend did not answer '{}' within {} ms ({})", name, timeout.count(),
                                       rte_strerror(rte_errno)));
  const rte_mp_msg& answer = replies.messages().front();
  if (static_cast<std::size_t>(answer.len_param) < reply_len)
    throw EnvironmentError(fmt::format("the backend's answer to '{}' is {} bytes, expected {}: is it another version?",
                                       name, answer.len_param, reply_len));
  std::memcpy(reply, answer.param, reply_len);
}

}  // namespace offload::dpdk
