#include "offload/client/aead_request.hpp"

#include <algorithm>
#include <cstring>

namespace offload::client {

const char* write_aead_fields(proto::Request& r, const GcmIv& iv, std::uint16_t key_id,
                              std::span<const std::uint8_t> aad) noexcept {
  if (aad.size() > proto::kMaxAadBytes) return "its AAD is longer than the 64 bytes a request holds";
  std::memcpy(r.iv, iv.data(), iv.size());
  r.key_id = key_id;
  r.aad_len = static_cast<std::uint16_t>(aad.size());
  std::copy(aad.begin(), aad.end(), r.aad);
  return nullptr;
}

bool write_tag_after(void* payload, std::size_t capacity, std::size_t message_len, const GcmTag& tag) noexcept {
  if (message_len > capacity || capacity - message_len < tag.size()) return false;
  std::memcpy(static_cast<std::uint8_t*>(payload) + message_len, tag.data(), tag.size());
  return true;
}

GcmTag read_tag_after(const void* payload, std::size_t message_len) noexcept {
  GcmTag tag{};
  std::memcpy(tag.data(), static_cast<const std::uint8_t*>(payload) + message_len, tag.size());
  return tag;
}

}  // namespace offload::client
