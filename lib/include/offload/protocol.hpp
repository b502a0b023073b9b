#pragma once
// The contract between offload-frontend (DPDK secondary) and offload-backend
// (DPDK primary): object names, the request layout in shared memory, the
// rte_mp control messages and their validation. Defined once, here; this
// header needs no DPDK so that it can be unit-tested and fuzzed on its own.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace offload::proto {

// Bumped whenever a layout below changes; a frontend of another version is
// refused at registration with a message naming both versions.
inline constexpr std::uint16_t kVersion = 3;
inline constexpr std::uint32_t kRequestMagic = 0x444C464F;  // "OFLD"

// ---- Shared objects ----------------------------------------------------------
// Names fit RTE_MEMPOOL_NAMESIZE (26) and RTE_RING_NAMESIZE (29).
inline constexpr char kPayloadPoolName[] = "ofl_payload";  // payload buffers
inline constexpr char kRequestPoolName[] = "ofl_request";  // Request messages
// Only the backend takes objects from the pools and puts them back: a
// frontend killed at any instant then cannot leave a pool's ring half
// updated for the others. The backend grants each frontend request objects,
// each with its payload buffer attached, and takes them back. Per frontend
// slot N (00..kMaxFrontends-1) four single-producer single-consumer rings:
//   "ofl_gnt_NN"  backend -> frontend  granted Request* (payload_addr set)
//   "ofl_req_NN"  frontend -> backend  Request* to serve
//   "ofl_cpl_NN"  backend -> frontend  completed Request* (callback and
//                                      coalesced notification modes)
//   "ofl_ret_NN"  frontend -> backend  Request* it is done with
// A frontend that dies can leave only its own rings inconsistent; the
// backend resets them when it detaches the frontend.
std::string grant_ring_name(std::uint16_t frontend_id);
std::string request_ring_name(std::uint16_t frontend_id);
std::string completion_ring_name(std::uint16_t frontend_id);
std::string return_ring_name(std::uint16_t frontend_id);

inline constexpr std::uint16_t kMaxFrontends = 16;

// Coalesced mode's doorbell, on request: one cache line per frontend slot
// in the memzone "ofl_doorbells", which the backend creates, holds what the
// frontend wants (ring_ref()):
//   kRingAlways  the backend rings after every burst of completions, as it
//                always did (set for each new frontend in the slot);
//   kRingOnce    the frontend is about to sleep until it rings (it looks at
//                its completion ring once more after setting this): the
//                backend rings once and sets kRingNever;
//   kRingNever   the frontend looks at the ring by itself (it is working,
//                or napping): the backend spares its eventfd write.
// As AF_XDP's need-wakeup flag and virtio's event suppression. On this VM a
// write that wakes a halted vCPU cost the backend a quarter of its core at
// 16 KiB (--coalesced-wait nap).
inline constexpr char kDoorbellsName[] = "ofl_doorbells";
inline constexpr std::uint32_t kRingNever = 0;
inline constexpr std::uint32_t kRingOnce = 1;
inline constexpr std::uint32_t kRingAlways = 2;
struct alignas(64) DoorbellControl {
  std::uint32_t ring;  // accessed through ring_ref()
};
inline std::atomic_ref<std::uint32_t> ring_ref(DoorbellControl& c) noexcept {
  return std::atomic_ref<std::uint32_t>(c.ring);
}
inline constexpr std::uint32_t kMaxJobsPerFrontend = 1024;
// A frontend may hold this many request objects beyond its job count: a job
// that starts then finds one already granted instead of waiting a round trip
// for the backend to grant again the one just returned (at one job in
// flight, that wait cut the request rate by up to 9x).
inline constexpr std::uint32_t kGrantSlack = 32;
// The grant and return rings hold everything a frontend may hold.
inline constexpr std::uint32_t kGrantRingSize = kMaxJobsPerFrontend + kGrantSlack;
// A payload buffer's size is the backend's --buffer-size (the register
// reply says it). The default holds a TLS record (16 KiB) and its AES-GCM
// tag; an mbuf's data_len is 16 bits, hence the upper bound.
inline constexpr std::uint32_t kDefaultBufferBytes = 16384 + 16;
inline constexpr std::uint32_t kMinBufferBytes = 64;
inline constexpr std::uint32_t kMaxBufferBytes = 65472;
// AES-256-GCM, as aes_gcm.hpp: the sizes are repeated here so that the
// contract needs no OpenSSL (static_asserts in protocol.cpp tie them).
inline constexpr std::uint32_t kTagBytes = 16;
inline constexpr std::uint32_t kIvBytes = 12;
inline constexpr std::uint32_t kKeyBytes = 32;
inline constexpr std::uint32_t kMaxAadBytes = 64;
// Keys a frontend may register (rte_mp "ofl_add_key") and refer to by id.
inline constexpr std::uint16_t kMaxKeysPerFrontend = 64;
inline constexpr std::uint32_t kDefaultPoolSize = 8191;     // 2^n - 1: the mempool ring's best size

// ---- A request, as it lies in the request mempool ------------------------------
// The values are offload::Operation's (cipher.hpp).
enum class Op : std::uint8_t { Xor0xAA = 1, BitwiseNot = 2, AesGcmEncrypt = 3, AesGcmDecrypt = 4 };
inline constexpr bool is_aead(Op op) noexcept { return op == Op::AesGcmEncrypt || op == Op::AesGcmDecrypt; }

enum class Status : std::int32_t {
  Pending = 0,      // submitted, not completed
  Ok = 1,           // completed; the payload now holds the result
  BadRequest = 2,   // failed validation; the payload was not touched
  DeviceError = 3,  // the (simulated) device failed the request
  Dropped = 4,      // the backend is stopping or the frontend unregistered
  AuthFailed = 5,   // AES-GCM decrypt: the tag did not verify; the payload is not the plaintext
};
std::string_view status_name(Status s) noexcept;

// One request and, once completed, its response. The backend writes the
// grant fields (magic, version, frontend_id, generation, payload_addr) when
// it grants the object; the frontend fills job_id..payload_len, submit_ns
// and, for AES-GCM, the second part; the backend writes `status` and the
// device times. Pointers in DPDK shared memory are valid in every process of
// the instance (the secondary maps hugepages at the primary's addresses), so
// the payload travels as an address; the backend checks it is the buffer it
// granted with this request.
//
// AES-GCM: the payload buffer holds the message (payload_len bytes) and,
// right after it, the 16-byte tag: written by the device on encrypt, read
// (and checked) on decrypt, like a TLS record. The key is one the frontend
// registered (key_id); the IV and AAD travel in the request, and the backend
// copies them out before the device sees them.
struct alignas(64) Request {
  std::uint32_t magic;        // kRequestMagic while granted, 0 in the pool
  std::uint16_t version;
  std::uint16_t frontend_id;  // the frontend it is granted to
  std::uint32_t job_id;       // 0..max_jobs-1 within that frontend
  std::uint32_t seq;          // per job, so a stale completion is recognisable
  Op op;
  std::uint8_t reserved[3];
  std::uint32_t payload_len;
  std::uint64_t payload_addr;
  std::int32_t status;        // Status; accessed through status_ref()
  std::uint32_t generation;   // the frontend registration it is granted to
  std::uint64_t submit_ns;    // CLOCK_MONOTONIC, written by the frontend
  std::uint64_t device_start_ns;  // written by the backend
  std::uint64_t complete_ns;      // written by the backend
  // AES-GCM only (ignored by xor and not).
  std::uint8_t iv[kIvBytes];
  std::uint16_t key_id;  // from the frontend's AddKeyReply
  std::uint16_t aad_len;
  std::uint8_t aad[kMaxAadBytes];
};
static_assert(sizeof(Request) == 192, "three cache lines");
// The first cache line is every request's; the rest only AES-GCM's. The
// backend clears and copies only the first for xor and not: touching the
// other two cost both processes a cache miss each per request.
inline constexpr std::size_t kRequestHeadBytes = 64;
static_assert(offsetof(Request, iv) == kRequestHeadBytes);

// The magic is written with release when the backend grants the object and
// cleared when it comes back; read with acquire (the --inject-fault testing
// aid looks for an object that is not granted).
inline std::atomic_ref<std::uint32_t> magic_ref(Request& r) noexcept { return std::atomic_ref<std::uint32_t>(r.magic); }

// The status is the hand-off point between the processes: the backend
// publishes it with release after writing the payload, the frontend reads
// it with acquire before reading the payload.
inline std::atomic_ref<std::int32_t> status_ref(Request& r) noexcept { return std::atomic_ref<std::int32_t>(r.status); }

// Copies a job's input into the payload buffer granted with its request,
// `capacity` bytes (the backend's buffer size, less the tag for AES-GCM):
// false, writing nothing, when the input is longer. A longer copy would
// overwrite the next mempool object, another job's buffer; the frontend
// writes payloads only through this.
[[nodiscard]] bool copy_payload(void* buffer, std::size_t capacity, std::span<const std::uint8_t> input) noexcept;

// The longest message one request may carry for `op` in buffers of
// `buffer_bytes`: AES-GCM keeps room for its tag.
inline constexpr std::uint32_t max_message_bytes(Op op, std::uint32_t buffer_bytes) noexcept {
  return is_aead(op) ? buffer_bytes - kTagBytes : buffer_bytes;
}

// What the backend knows when it validates a request from one frontend slot.
struct RequestCheck {
  std::uint16_t frontend_id;
  std::uint32_t generation;
  std::uint32_t max_jobs;
  std::uint32_t buffer_bytes;  // the size of every payload buffer
  // The payload buffers the request may name, sorted by start address: its
  // payload address must be exactly one of them. The backend passes the one
  // granted with the request object.
  std::span<const std::uint64_t> payload_buffers;
};

// True if `addr` is one of the sorted `elements` (e.g. a pool's objects):
// checked before the backend dereferences anything a frontend handed it.
bool is_pool_element(std::span<const std::uint64_t> elements, std::uint64_t addr) noexcept;

// nullptr if `r` is acceptable, else why not (a static string).
const char* validate_request(const Request& r, const RequestCheck& check) noexcept;

// ---- rte_mp control messages -----------------------------------------------------
// Requests are sent with rte_mp_request_sync and answered by a reply of the
// same name that starts with a ReplyHeader: a frontend never proceeds on a
// message that may not have arrived (seed 000 used rte_mp_sendmsg, so a
// request could be served before its eventfd was registered).
inline constexpr char kMpRegister[] = "ofl_register";
inline constexpr char kMpFdSync[] = "ofl_fd_sync";
inline constexpr char kMpUnregister[] = "ofl_unregister";
inline constexpr char kMpStats[] = "ofl_stats";
inline constexpr char kMpAddKey[] = "ofl_add_key";
inline constexpr char kMpForgetKey[] = "ofl_forget_key";
inline constexpr std::uint32_t kMpMagic = 0x504D464F;  // "OFMP"
inline constexpr std::size_t kMpMaxParam = 256;         // RTE_MP_MAX_PARAM_LEN
inline constexpr std::size_t kMpMaxFds = 8;             // RTE_MP_MAX_FD_NUM

enum class NotifyMode : std::uint8_t { EventFd = 1, Callback = 2, Coalesced = 3 };
std::string_view notify_mode_name(NotifyMode m) noexcept;

enum class MpStatus : std::int32_t {
  Ok = 0,
  BadMessage = 1,       // malformed: size, magic, fd count
  VersionMismatch = 2,  // protocol version differs
  NoFreeSlot = 3,       // kMaxFrontends frontends already registered
  UnknownFrontend = 4,  // frontend id/generation not registered (or from another process)
  BadJobRange = 5,      // job ids outside what was registered
  AlreadyRegistered = 6,
  Stopping = 7,         // the backend is stopping: it takes no new frontend or message
  BadKey = 8,           // a key that is not 32 bytes (AES-256)
  TooManyKeys = 9,      // kMaxKeysPerFrontend keys already registered (forget one first)
  NoCryptoDevice = 10,  // the backend runs without a crypto device (--crypto-dev none)
};
std::string_view mp_status_text(MpStatus s) noexcept;

struct MpHeader {
  std::uint32_t magic;
  std::uint16_t version;
  std::uint16_t reserved;
};

// Carries one fd (the frontend's doorbell eventfd) in coalesced mode, none
// otherwise.
struct RegisterRequest {
  MpHeader header;
  std::int32_t pid;
  std::uint32_t max_jobs;  // 1..kMaxJobsPerFrontend
  NotifyMode notify;
  std::uint8_t reserved[3];
};

struct RegisterReply {
  std::int32_t status;  // MpStatus
  std::uint16_t backend_version;
  std::uint16_t frontend_id;
  std::uint32_t generation;
  std::uint32_t queue_depth;  // request ring capacity
  // The device's timing, from which a frontend derives its default
  // --timeout-ms (derived_timeout_ms in device_model.hpp).
  std::uint32_t engines;           // 0: unlimited
  std::uint32_t buffer_bytes;      // every payload buffer's size (--buffer-size)
  std::uint64_t latency_bound_ns;  // DelaySpec::latency_bound_ms()
};

// One batch of job eventfds (num_fds of the rte_mp message, 1..8).
struct FdSyncRequest {
  MpHeader header;
  std::uint16_t frontend_id;
  std::uint16_t count;
  std::uint32_t generation;
  std::uint32_t first_job;  // the fds belong to jobs first_job .. first_job+count-1
};

struct UnregisterRequest {
  MpHeader header;
  std::uint16_t frontend_id;
  std::uint16_t reserved;
  std::uint32_t generation;
};

// Registers an AES-256 key for this frontend's requests to refer to (by the
// reply's key id) until it detaches. Keys travel over the rte_mp socket,
// never through the shared pools.
struct AddKeyRequest {
  MpHeader header;
  std::uint16_t frontend_id;
  std::uint16_t key_len;  // must be kKeyBytes
  std::uint32_t generation;
  std::uint8_t key[kKeyBytes];
};

struct AddKeyReply {
  std::int32_t status;  // MpStatus
  std::uint16_t key_id;
  std::uint16_t reserved;
};

// Forgets a key this frontend registered, so that its id can be given to
// another key (a TLS server's connections each bring their keys). Answered
// once the backend holds nothing of it any more: the cryptodev drained of
// its operations, its sessions freed, the id free. The frontend sends it
// only for a key none of its requests in flight uses.
struct ForgetKeyRequest {
  MpHeader header;
  std::uint16_t frontend_id;
  std::uint16_t key_id;
  std::uint32_t generation;
};

struct StatusReply {
  std::int32_t status;  // MpStatus
};

struct StatsRequest {
  MpHeader header;
};

struct StatsReply {
  std::int32_t status;
  std::uint32_t frontends;
  std::uint64_t payload_pool_size;
  std::uint64_t payload_pool_available;
  std::uint64_t request_pool_size;
  std::uint64_t request_pool_available;
  std::uint64_t inflight;
  std::uint64_t served;
  std::uint64_t rejected;
  std::uint64_t uptime_ms;
  std::uint64_t crypto_sessions;  // cryptodev sessions alive (every frontend's)
};

static_assert(sizeof(RegisterRequest) <= kMpMaxParam && sizeof(FdSyncRequest) <= kMpMaxParam &&
              sizeof(AddKeyRequest) <= kMpMaxParam && sizeof(AddKeyReply) <= kMpMaxParam &&
              sizeof(ForgetKeyRequest) <= kMpMaxParam &&
              sizeof(RegisterReply) <= kMpMaxParam && sizeof(StatsReply) <= kMpMaxParam);

MpHeader make_mp_header() noexcept;

// Parse-and-validate of received rte_mp parameters: the bytes are copied out
// (rte_mp's buffer has no alignment promise) and checked for size, magic,
// version and fd count. The result carries the status to reply with.
template <class T>
struct Parsed {
  MpStatus status;
  T value;
};
Parsed<RegisterRequest> parse_register(const void* param, std::size_t len, std::size_t num_fds) noexcept;
Parsed<FdSyncRequest> parse_fd_sync(const void* param, std::size_t len, std::size_t num_fds) noexcept;
Parsed<UnregisterRequest> parse_unregister(const void* param, std::size_t len, std::size_t num_fds) noexcept;
Parsed<StatsRequest> parse_stats(const void* param, std::size_t len, std::size_t num_fds) noexcept;
Parsed<AddKeyRequest> parse_add_key(const void* param, std::size_t len, std::size_t num_fds) noexcept;
Parsed<ForgetKeyRequest> parse_forget_key(const void* param, std::size_t len, std::size_t num_fds) noexcept;

}  // namespace offload::proto
