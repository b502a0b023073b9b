#pragma once
// One frontend job: takes a request object (with its payload buffer) from
// those the backend granted, enqueues the request, pauses until the backend
// signals the job, checks that the response is its own, verifies it and
// hands the object back to the backend.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "offload/client/backend_link.hpp"
#include "offload/aes_gcm.hpp"
#include "offload/cipher.hpp"
#include "offload/job_driver.hpp"
#include "offload/protocol.hpp"

namespace offload::frontend {

using client::BackendLink;

struct OffloadSlot;

// What every job of a run does to its payload (shared, read-only).
struct JobWork {
  Operation op = Operation::BitwiseNot;
  // AES-GCM: the registered key and its id, the AAD length, and the 4 bytes
  // of this run that start every IV (then job id and sequence number: an IV
  // is never reused within a run).
  GcmKey key{};
  std::uint16_t key_id = 0;
  std::uint32_t aad_len = 0;
  std::uint32_t iv_salt = 0;
  // The longest message a request carries (the buffer, less AES-GCM's tag).
  std::uint32_t capacity = 0;
  enum class Verify { All, Sample, None } verify = Verify::All;
  std::int64_t corrupt_tag_job = -1;  // testing aid (--corrupt-tag-job)
  // How many requests a job makes before it finishes (0: as many as the run
  // has), and what it asks after each verified one but its last: whether
  // to go on, having accounted for that one and begun the next (false: the
  // run starts no more; the job finishes with its last one).
  std::uint64_t requests_per_job = 1;
  std::function<bool(OffloadSlot&)> begin_next;
  // The jobs whose request was staged since the event loop last sent: it
  // stamps their submit time when it sends them (Session::send_staged), one
  // clock read for the burst.
  std::vector<OffloadSlot*>* unstamped = nullptr;
};

// The walkthrough narrates jobs 0 .. kNarratedJobs-1 at info level, the
// rest at debug: a large run's log stays short.
inline constexpr std::uint32_t kNarratedJobs = 32;

struct OffloadSlot : JobSlot {
  BackendLink* link = nullptr;
  const JobWork* work = nullptr;
  proto::NotifyMode notify = proto::NotifyMode::EventFd;
  bool narrate = true;  // per-job walkthrough lines at info level
  const std::string* inject_fault = nullptr;  // testing aid (--inject-fault), job 0 only
  int eventfd = -1;     // eventfd mode: owned by wait_ctx (closed by its cleanup callback)

  // The current run.
  std::uint32_t seq = 0;
  std::vector<std::uint8_t> input;
  std::vector<std::uint8_t> aad;  // AES-GCM
  GcmIv iv{};                     // AES-GCM
  proto::Request* request = nullptr;
  void* payload = nullptr;
  bool on_backend = false;  // request and payload belong to the backend until it answers
  std::uint64_t submitted_ns = 0;  // when the event loop sent the request
  // Coalesced and callback modes: when the event loop took this request's
  // completion off the ring (one clock read per burst); 0: not known, the
  // job reads the clock as it resumes (eventfd mode).
  std::uint64_t seen_ns = 0;
  std::uint64_t latency_ns = 0;  // sent to completion seen
  // The device's own time: from when it started the request (after any
  // queueing on the backend) to its completion (the backend's clock, the
  // same CLOCK_MONOTONIC as this process's).
  std::uint64_t device_ns = 0;
  std::string failure;
  std::vector<std::uint8_t> result_preview;

  // A new request of this job: its input is `message`, or `payload_bytes`
  // of generated data (`owner`: the frontend id) stamped with the sequence
  // number; its AAD (work->aad_len bytes) likewise.
  void begin(std::string_view message, std::size_t payload_bytes, std::uint32_t owner);
};

// The ASYNC job function (started through JobDriver): one request, or
// work.requests_per_job one after another.
int offload_job_main(void* args);

}  // namespace offload::frontend
