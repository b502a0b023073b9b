#pragma once
// The parts of a request a client fills in and reads back, shared by the
// frontend's jobs and the OpenSSL provider: the AES-GCM fields, the tag's
// place after the message, and whether a response is the one awaited.

#include <cstdint>
#include <span>

#include "offload/aes_gcm.hpp"
#include "offload/protocol.hpp"

namespace offload::client {

// Writes the IV, the key id and the AAD into the request. nullptr when done,
// else why not (an AAD longer than a request holds is refused here, where
// it is written, whatever the caller checked before).
[[nodiscard]] const char* write_aead_fields(proto::Request& r, const GcmIv& iv, std::uint16_t key_id,
                                            std::span<const std::uint8_t> aad) noexcept;

// The device's layout: the tag lies right after the message in the payload
// buffer. False when message and tag do not fit `capacity`.
[[nodiscard]] bool write_tag_after(void* payload, std::size_t capacity, std::size_t message_len,
                                   const GcmTag& tag) noexcept;
[[nodiscard]] GcmTag read_tag_after(const void* payload, std::size_t message_len) noexcept;

// A completed request is the awaited one only if it names this frontend,
// job and sequence number: a client never trusts that the next signal or
// completion is its own (seed 002's bug).
[[nodiscard]] inline bool response_is_own(const proto::Request& r, std::uint16_t frontend_id, std::uint32_t job_id,
                                          std::uint32_t seq) noexcept {
  return r.frontend_id == frontend_id && r.job_id == job_id && r.seq == seq;
}

}  // namespace offload::client
