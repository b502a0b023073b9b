#include "offload_job.hpp"

#include <rte_mempool.h>
#include <rte_ring.h>
#include <spdlog/spdlog.h>

#include <openssl/async.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <fmt/format.h>
#include <span>

#include "offload/async_wait.hpp"
#include "offload/cipher.hpp"
#include "offload/client/aead_request.hpp"
#include "offload/clock.hpp"
#include "offload/logging.hpp"

namespace offload::frontend {
namespace {

// --verify sample: each job's first request and 1 in this many after.
constexpr std::uint32_t kVerifySampleEvery = 64;

spdlog::level::level_enum narration(const OffloadSlot& job) {
  return job.narrate && job.job_id < kNarratedJobs && job.seq <= 1 ? spdlog::level::info : spdlog::level::debug;
}

bool cancelled(const OffloadSlot& job) { return job.cancel.load(std::memory_order_acquire); }

// A request object (with its payload buffer) from those the backend granted
// this frontend, waiting without blocking the thread while there is none:
// more jobs than buffers is backpressure, not failure.
bool take(OffloadSlot& job) {
  BackendLink& link = *job.link;
  if (link.backend_stopping()) return false;
  void* object = nullptr;
  while ((object = link.take_grant()) == nullptr)
    if (!retry_later() || cancelled(job) || link.backend_stopping()) return false;
  job.request = static_cast<proto::Request*>(object);
  job.payload = reinterpret_cast<void*>(job.request->payload_addr);
  return true;
}

// Callback and coalesced modes: the request's status is the truth; a resume
// that finds it still pending was spurious and pauses again. A cancelled job
// reads nothing shared: its backend may be gone, and a backend that stopped
// frees the pools, which unmaps them here too (a job resumed to be
// cancelled after that crashed on the status).
AwaitResult await_status(OffloadSlot& job) {
  for (;;) {
    if (cancelled(job)) return AwaitResult::Cancelled;
    if (proto::status_ref(*job.request).load(std::memory_order_acquire) !=
        static_cast<std::int32_t>(proto::Status::Pending))
      return AwaitResult::Signalled;
    if (ASYNC_pause_job() != 1) return AwaitResult::Error;
  }
}

// Hands the request object (and its payload) back to the backend.
void give_back(OffloadSlot& job) {
  // Staged; the event loop puts it on the return ring (BackendLink::flush),
  // which holds all this frontend may hold.
  if (job.request != nullptr && !job.link->backend_stopping()) job.link->give_back(job.request);
  job.payload = nullptr;
  job.request = nullptr;
}

int fail(OffloadSlot& job, std::string why) {
  job.failure = std::move(why);
  if (!job.on_backend) give_back(job);
  return 0;
}

// The first object of the mempool named `pool_name` that `wanted` accepts,
// or nullptr (no such pool, or none accepted). Only reads shared memory.
void* first_pool_object(const char* pool_name, const std::function<bool(void*)>& wanted) {
  rte_mempool* pool = rte_mempool_lookup(pool_name);
  if (pool == nullptr) return nullptr;
  struct Search {
    const std::function<bool(void*)>* wanted;
    void* found;
  } search{&wanted, nullptr};
  rte_mempool_obj_iter(
      pool,
      [](rte_mempool*, void* out, void* obj, unsigned) {
        auto& s = *static_cast<Search*>(out);
        if (s.found == nullptr && (*s.wanted)(obj)) s.found = obj;
      },
      &search);
  return search.found;
}

// A request pool object that is granted to nobody (magic 0), or nullptr:
// sent, never written.
void* ungranted_request() {
  return first_pool_object(proto::kRequestPoolName, [](void* obj) {
    return proto::magic_ref(*static_cast<proto::Request*>(obj)).load(std::memory_order_acquire) == 0;
  });
}

// A payload pool buffer other than `own` (granted to someone else, or to
// nobody), or 0. Only its address is used: it is never touched.
std::uint64_t another_payload_buffer(std::uint64_t own) {
  const auto other = [own](void* obj) { return reinterpret_cast<std::uint64_t>(obj) != own; };
  return reinterpret_cast<std::uint64_t>(first_pool_object(proto::kPayloadPoolName, other));
}

// Testing aid: makes the request hostile in the way `kind` names. The
// backend must reject each without touching memory it does not own.
void* corrupt(proto::Request& r, const std::string& kind) {
  static std::uint64_t not_in_any_pool[8];
  spdlog::warn("job 0: sending a hostile request on purpose (--inject-fault {})", kind);
  if (kind == "ungranted-request") {
    if (void* other = ungranted_request()) return other;
    spdlog::error("job 0: no ungranted request buffer found to send");
  }
  if (kind == "payload-outside-pool") r.payload_addr = reinterpret_cast<std::uint64_t>(not_in_any_pool);
  if (kind == "payload-not-granted") {
    if (const std::uint64_t other = another_payload_buffer(r.payload_addr)) r.payload_addr = other;
    else spdlog::error("job 0: no other payload buffer found to name");
  }
  if (kind == "payload-too-long") r.payload_len = proto::kMaxBufferBytes + 1;
  if (kind == "bad-job-id") r.job_id = proto::kMaxJobsPerFrontend + 7;
  if (kind == "foreign-frontend") r.frontend_id = static_cast<std::uint16_t>((r.frontend_id + 1) % proto::kMaxFrontends);
  if (kind == "bad-magic") proto::magic_ref(r).store(0xBADBADu, std::memory_order_release);
  if (kind == "not-a-request") return not_in_any_pool;
  if (kind == "unregistered-key") r.key_id = proto::kMaxKeysPerFrontend - 1;
  if (kind == "aad-too-long") r.aad_len = proto::kMaxAadBytes + 1;
  return &r;
}


// Fills the AES-GCM part of the request: the IV, the key id, the AAD; for a
// decrypt, the payload buffer then holds the input encrypted here (and its
// tag right after it), which the device must decrypt back.
const char* prepare_aead(OffloadSlot& job, proto::Request& r) {
  const JobWork& work = *job.work;
  if (const char* why = client::write_aead_fields(r, job.iv, work.key_id, job.aad)) return why;
  if (work.op != Operation::AesGcmDecrypt) return nullptr;
  auto* buffer = static_cast<std::uint8_t*>(job.payload);
  const std::span<std::uint8_t> message(buffer, job.input.size());
  GcmTag tag{};
  if (!gcm_encrypt(work.key, job.iv, job.aad, job.input, message, tag)) return "encrypting its input with EVP failed";
  if (work.corrupt_tag_job == static_cast<std::int64_t>(job.job_id) && job.seq == 1) {
    spdlog::warn("job {}: sending a tag with one bit flipped on purpose (--corrupt-tag-job)", job.job_id);
    tag[0] ^= 0x01;
  }
  if (!client::write_tag_after(buffer, job.link->buffer_bytes(), job.input.size(), tag))
    return "its message and tag do not fit the payload buffer";
  return nullptr;
}

bool verifies_this_request(const OffloadSlot& job) {
  switch (job.work->verify) {
    case JobWork::Verify::All: return true;
    case JobWork::Verify::Sample: return job.seq == 1 || job.seq % kVerifySampleEvery == 0;
    case JobWork::Verify::None: return false;
  }
  return true;
}

// Checks the device's result with an implementation independent of it:
// the seeds' transforms are involutions; an AES-GCM encryption must decrypt
// back to the input with EVP (ciphertext and tag), a decryption must give
// the input back. nullptr when it verifies, else why not.
const char* verify_result(const OffloadSlot& job, std::span<const std::uint8_t> result) {
  const JobWork& work = *job.work;
  if (!is_aead(work.op))
    return verify_transform(transform_of(work.op), job.input, result)
               ? nullptr
               : "verification failed: decrypting the response does not give the input back";
  if (work.op == Operation::AesGcmDecrypt)
    return std::equal(result.begin(), result.end(), job.input.begin(), job.input.end())
               ? nullptr
               : "verification failed: the device's decryption is not the input";
  const GcmTag tag = client::read_tag_after(result.data(), result.size());
  std::vector<std::uint8_t> plain(result.size());
  if (!gcm_decrypt(work.key, job.iv, job.aad, result, plain, tag))
    return "verification failed: EVP does not accept the device's ciphertext and tag";
  return plain == job.input ? nullptr : "verification failed: EVP decrypts the device's ciphertext to another text";
}

}  // namespace

void OffloadSlot::begin(std::string_view message, std::size_t payload_bytes, std::uint32_t owner) {
  ++seq;
  if (payload_bytes == 0) {
    if (input.size() != message.size()) input.assign(message.begin(), message.end());
  } else {
    // Generated once per job, stamped per request (cipher.hpp says why).
    if (input.size() != payload_bytes) input = make_payload({}, payload_bytes, owner, job_id, 0);
    stamp_payload(input, owner, job_id, seq);
  }
  // The AAD likewise, from another owner: never the same bytes as a payload.
  const std::uint32_t aad_owner = owner | 0x10000u;
  if (aad.size() != work->aad_len) aad = make_payload({}, work->aad_len, aad_owner, job_id, 0);
  stamp_payload(aad, aad_owner, job_id, seq);
  const std::uint32_t iv_words[3] = {work->iv_salt, job_id, seq};
  std::memcpy(iv.data(), iv_words, iv.size());
  on_backend = false;
  submitted_ns = 0;
  seen_ns = 0;
  latency_ns = 0;
  device_ns = 0;
  failure.clear();
  result_preview.clear();
}

namespace {

// One request: 1 when its result verified (the job keeps the request
// object for its next request), else 0 with job.failure saying why.
// Inlined into the job's own function, so that a resume returns into one
// frame, not two (step_job, async_wait.hpp, says why that matters).
[[gnu::always_inline]] inline int one_request(OffloadSlot& job) {
  BackendLink& link = *job.link;
  const JobWork& work = *job.work;
  const auto level = narration(job);
  // Checked once: a load run logs none of this, and each call costs.
  const bool says = level == spdlog::level::debug ? logs_debug() : spdlog::should_log(level);

  if (job.request == nullptr && !take(job)) return fail(job, "cancelled while waiting for a request buffer");
  // The backend filled in the grant (magic, version, frontend id,
  // generation, payload address); the job fills in the request.
  proto::Request& r = *job.request;
  // Unverified, the message's content does not matter: only its stamp is
  // written, as an application that builds its data in the buffer would
  // (the frontend's CPU then measures the offload, not a 16 KiB copy). A
  // decrypt always needs its ciphertext, made below.
  const bool whole_input = work.verify != JobWork::Verify::None || work.op == Operation::AesGcmDecrypt;
  const std::span<const std::uint8_t> written =
      whole_input ? std::span<const std::uint8_t>(job.input)
                  : std::span<const std::uint8_t>(job.input).first(std::min(job.input.size(), kStampBytes));
  if (job.input.size() > work.capacity || !proto::copy_payload(job.payload, work.capacity, written))
    return fail(job, fmt::format("its payload of {} bytes does not fit the {} bytes a request carries",
                                 job.input.size(), work.capacity));
  r.job_id = job.job_id;
  r.seq = job.seq;
  r.op = static_cast<proto::Op>(work.op);
  if (is_aead(work.op))
    if (const char* why = prepare_aead(job, r)) return fail(job, why);
  r.payload_len = static_cast<std::uint32_t>(job.input.size());
  r.status = static_cast<std::int32_t>(proto::Status::Pending);

  void* to_enqueue = &r;
  if (job.inject_fault != nullptr && !job.inject_fault->empty() && job.job_id == 0 && job.seq == 1)
    to_enqueue = corrupt(r, *job.inject_fault);

  // Staged: the event loop sends the staged requests in one burst before it
  // waits (a full ring keeps them staged until it has room: backpressure).
  link.send(to_enqueue);
  if (work.unstamped != nullptr) work.unstamped->push_back(&job);
  job.on_backend = true;
  if (says && job.notify == proto::NotifyMode::EventFd)
    spdlog::log(level, "job {}: enqueued request seq {} ({} bytes) on {}; pausing until the backend signals eventfd {}",
                job.job_id, job.seq, r.payload_len, link.requests()->name, job.eventfd);
  else if (says)
    spdlog::log(level, "job {}: enqueued request seq {} ({} bytes) on {}; pausing until its completion comes back on {}",
                job.job_id, job.seq, r.payload_len, link.requests()->name, link.completions()->name);

  const AwaitResult waited =
      job.notify == proto::NotifyMode::EventFd ? await_eventfd(job.eventfd, &job.cancel) : await_status(job);
  switch (waited) {
    case AwaitResult::Signalled: break;
    case AwaitResult::Cancelled:
      // The request stays the backend's: it takes the object back when this
      // frontend unregisters or exits.
      return fail(job, "cancelled while the backend held the request");
    case AwaitResult::Error:
      return fail(job, fmt::format("waiting for the completion failed: {}", std::strerror(errno)));
  }
  const std::uint64_t seen = job.seen_ns != 0 ? job.seen_ns : monotonic_ns();
  job.latency_ns = seen > job.submitted_ns && job.submitted_ns != 0 ? seen - job.submitted_ns : 0;
  job.on_backend = false;

  // The response must be this job's own: the seed dequeued whatever message
  // came next, which could belong to another job.
  const auto status = static_cast<proto::Status>(proto::status_ref(r).load(std::memory_order_acquire));
  if (!client::response_is_own(r, link.frontend_id(), job.job_id, job.seq))
    return fail(job, fmt::format("woken with a response that is not its own (frontend {}, job {}, seq {})",
                                 r.frontend_id, r.job_id, r.seq));
  if (status == proto::Status::Dropped) link.mark_backend_stopping();
  if (status == proto::Status::AuthFailed)
    return fail(job, "the backend answered 'auth failed': the tag did not verify, the message was not decrypted");
  if (status != proto::Status::Ok) return fail(job, fmt::format("the backend answered '{}'", proto::status_name(status)));
  // The length is the job's own, not what the shared request says by now.
  const std::span<const std::uint8_t> result(static_cast<const std::uint8_t*>(job.payload), job.input.size());
  if (r.complete_ns > r.device_start_ns) job.device_ns = r.complete_ns - r.device_start_ns;
  if (verifies_this_request(job))
    if (const char* why = verify_result(job, result)) return fail(job, why);
  if (job.narrate)
    job.result_preview.assign(result.begin(),
                              result.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(result.size(), 16)));
  if (says) spdlog::log(level, "job {}: resumed: response seq {} is its own, status ok", job.job_id, r.seq);
  return 1;
}
}  // namespace

int offload_job_main(void* args) {
  OffloadSlot& job = job_slot<OffloadSlot>(args);
  const JobWork& work = *job.work;
  // Whatever object this slot's last job held went back to the backend,
  // or stays the backend's (a job cancelled while it held it).
  job.request = nullptr;
  job.payload = nullptr;
  for (std::uint64_t verified = 1;; ++verified) {
    if (one_request(job) != 1) return 0;
    const bool more = work.requests_per_job == 0 || verified < work.requests_per_job;
    // A job that goes on sends its next request in the same object: the
    // object stays granted to this frontend, and neither side pays for a
    // return and a grant per request (nor does a job wait for a grant).
    if (!more || !work.begin_next || !work.begin_next(job)) {
      give_back(job);
      return 1;
    }
  }
}

}  // namespace offload::frontend
