#!/usr/bin/env bash
# The set-up of provider.bats: the unmodified openssl command line program
# (OpenSSL 3) loading the "offload" provider (build/<preset>/provider/offload.so)
# through provider/offload-openssl.cnf, so that its AES-256-GCM goes to an
# offload-backend. Load it after common-setup and two-process (their
# backend, --stats and teardown helpers serve here too).
#
# Every openssl run through the provider goes through provider_command (via
# provider_openssl in the foreground, start_provider_openssl in the
# background): the environment that loads the provider, and under the asan
# stage what an uninstrumented program needs to load an ASan-built module,
# are set in that one place.

# CTest points OFFLOAD_PROVIDER_DIR at its own build tree's provider/.
PROVIDER_DIR=${OFFLOAD_PROVIDER_DIR:-${BIN_DIR}/../provider}
PROVIDER_CONF=${REPO_ROOT}/provider/offload-openssl.cnf
# A test sets these for one command (`OFFLOAD_FALLBACK=yes provider_openssl
# ...`); values exported by the shell that runs bats must not change the tests.
unset OFFLOAD_FALLBACK OFFLOAD_LOG_LEVEL OFFLOAD_TIMEOUT_MS

# two-process.bash's setup_file (the test bound, the programs, hugepages),
# kept under another name and extended below.
eval "two_process_$(declare -f setup_file)"

setup_file() {
  two_process_setup_file
  [[ -f ${PROVIDER_DIR}/offload.so ]] || {
    echo "missing provider module: ${PROVIDER_DIR}/offload.so" >&2
    echo "build it first (scripts/build.sh release) or point OFFLOAD_PROVIDER_DIR at a build's provider/ folder" >&2
    return 1
  }
  [[ -f ${PROVIDER_CONF} ]] || {
    echo "missing ${PROVIDER_CONF}" >&2
    return 1
  }
  # OpenSSL 1.1 has no providers: it would ignore the configuration and
  # run every test in software.
  local version
  version=$(openssl version 2>/dev/null) || {
    echo "no openssl command line program on PATH" >&2
    return 1
  }
  [[ ${version} =~ ^OpenSSL\ 3\. ]] || {
    echo "openssl is '${version}': the provider needs OpenSSL 3" >&2
    return 1
  }
}

# provider_command: sets PROVIDER_CMD to the command that runs openssl with
# the provider loaded, on instance INSTANCE; OFFLOAD_FALLBACK and
# OFFLOAD_LOG_LEVEL when the caller sets them (e.g. `OFFLOAD_FALLBACK=yes
# provider_openssl ...`), else the provider's defaults (no, warning).
provider_command() {
  PROVIDER_CMD=(env
    "OPENSSL_MODULES=${PROVIDER_DIR}"
    "OPENSSL_CONF=${PROVIDER_CONF}"
    "OFFLOAD_INSTANCE=${INSTANCE}"
    "OFFLOAD_FALLBACK=${OFFLOAD_FALLBACK:-no}"
    "OFFLOAD_LOG_LEVEL=${OFFLOAD_LOG_LEVEL:-warning}"
    "OFFLOAD_TIMEOUT_MS=${OFFLOAD_TIMEOUT_MS:-0}")
  case ${OFFLOAD_SANITIZER:-} in
    address | asan)
      # The asan tree's offload.so needs the ASan (and UBSan) runtime loaded
      # first, which /usr/bin/openssl, not instrumented, does not do ("ASan
      # runtime does not come first"). Leaks are not checked: at exit they
      # would be openssl's own, not ours. Reports still go to the log_path
      # that CTest's ASAN_OPTIONS names, where asan.no_reports finds them.
      PROVIDER_CMD+=(
        "LD_PRELOAD=$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
        "ASAN_OPTIONS=${ASAN_OPTIONS:+${ASAN_OPTIONS}:}detect_leaks=0")
      ;;
  esac
  PROVIDER_CMD+=(openssl)
}

# provider_openssl SECONDS ARGS...: `openssl ARGS...` through the provider,
# in the foreground, bounded (for `run`).
provider_openssl() {
  local -r seconds=$1
  shift
  provider_command
  bounded "${seconds}" "${PROVIDER_CMD[@]}" "$@"
}

# start_provider_openssl NAME SECONDS ARGS...: `openssl ARGS...` through the
# provider in the background, as start_bounded does (NAME.out, NAME.log,
# STARTED_PID, tracked), its stdin PROVIDER_STDIN (default /dev/null) opened
# read-write: a FIFO opened so never reaches end of file (s_server and
# s_client would end their connection there), and the test writes lines into
# it with send_line. (start_bounded itself cannot take the redirection: bash
# gives a background command of a non-interactive shell /dev/null as stdin
# unless that command has its own.)
start_provider_openssl() {
  local -r name=$1 seconds=$2
  shift 2
  provider_command
  local -r dir=${BATS_TEST_TMPDIR}
  # 3>&-: bats waits until fd 3 is closed, so a child holding it would hang the run.
  timeout --kill-after=5 "${seconds}" "${PROVIDER_CMD[@]}" "$@" \
    0<>"${PROVIDER_STDIN:-/dev/null}" >"${dir}/${name}.out" 2>"${dir}/${name}.log" 3>&- &
  STARTED_PID=$!
  track_pid "${STARTED_PID}" "${name}" "${dir}/${name}.log"
}

# send_line FIFO TEXT: writes TEXT and a newline into FIFO in one write (one
# read() on the other side). Bounded: with its reader gone, opening a FIFO
# blocks.
send_line() {
  bounded 5 tee -- "$1" >/dev/null <<<"$2"
}

# ---------------------------------------------------------------------------
# openssl speed's output

# speed_ops: the operations the last run's `openssl speed` counted, from its
# "N AES-256-GCM's in 1.00s" (stderr, maybe after other log lines on that line).
speed_ops() {
  grep -oE "[0-9]+ AES-256-GCM's in [0-9.]+s" <<<"${stderr-}" | grep -oE '^[0-9]+'
}

# assert_speed_result: the last run's speed printed one count (N > 0, in
# SPEED_OPS) and its result table's AES-256-GCM line (stdout).
assert_speed_result() {
  SPEED_OPS=$(speed_ops) || fail "openssl speed printed no \"N AES-256-GCM's in Xs\" line" || return 1
  ((SPEED_OPS > 0)) || fail "openssl speed counted ${SPEED_OPS} operations" || return 1
  assert_line --regexp '^AES-256-GCM +[0-9]+\.[0-9]+k$'
}

# The provider's summary, logged at exit with OFFLOAD_LOG_LEVEL=info
# (provider/process.cpp): on the device, in software (why), failed, ...
PROVIDER_SUMMARY_RE="offload provider, instance '([^']+)': ([0-9]+) message\(s\) on the device, ([0-9]+) in software(.*), ([0-9]+) failed, [0-9]+ auth failure\(s\), ([0-9]+) EAGAIN pause\(s\), ([0-9]+) synchronous wait\(s\)"

# provider_summary: parses the summary line of the last run's stderr into
# SUMMARY_DEVICE, SUMMARY_SOFTWARE (SUMMARY_WHY: its reasons, " (N why, ...)"
# or empty), SUMMARY_FAILED, SUMMARY_EAGAIN (jobs paused for want of a
# buffer), SUMMARY_SYNC_WAITS (messages waited for outside an ASYNC job);
# fails without exactly one such line, or when it names another instance.
# shellcheck disable=SC2034 # the SUMMARY_* are read by provider.bats
provider_summary() {
  local -r count=$(stderr_count "${PROVIDER_SUMMARY_RE}")
  ((count == 1)) || fail "the provider logged ${count} summary line(s) at exit, not 1 (OFFLOAD_LOG_LEVEL=info)" || return 1
  local -r line=$(grep -E "${PROVIDER_SUMMARY_RE}" <<<"${stderr}")
  [[ ${line} =~ ${PROVIDER_SUMMARY_RE} ]]
  assert_equal "${BASH_REMATCH[1]}" "${INSTANCE}"
  SUMMARY_DEVICE=${BASH_REMATCH[2]}
  SUMMARY_SOFTWARE=${BASH_REMATCH[3]}
  SUMMARY_WHY=${BASH_REMATCH[4]}
  SUMMARY_FAILED=${BASH_REMATCH[5]}
  SUMMARY_EAGAIN=${BASH_REMATCH[6]}
  SUMMARY_SYNC_WAITS=${BASH_REMATCH[7]}
}

# ---------------------------------------------------------------------------
# TLS

# make_cert: a throwaway self-signed P-256 key and certificate in
# BATS_TEST_TMPDIR (CERT, KEY), made by plain openssl, without the provider.
make_cert() {
  CERT=${BATS_TEST_TMPDIR}/cert.pem
  KEY=${BATS_TEST_TMPDIR}/key.pem
  bounded 30 env -u OPENSSL_CONF -u OPENSSL_MODULES openssl req -x509 -newkey ec \
    -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -days 1 \
    -keyout "${KEY}" -out "${CERT}" 2>/dev/null ||
    fail "openssl req could not make a self-signed certificate"
}

# frontend_id_of PID: the frontend id under which process PID registered
# with the backend (its log: "frontend N registered: pid PID, ...").
frontend_id_of() {
  sed -nE "s/.*\] frontend ([0-9]+) registered: pid $1, .*/\1/p" "${BACKEND_LOG}" | tail -n 1
}

# padded TEXT LENGTH: TEXT followed by dots up to LENGTH characters.
padded() {
  local text=$1
  while ((${#text} < $2)); do text+=.; done
  echo "${text}"
}

# tls_exchange TLS_FLAGS...: s_server -async and s_client through the
# provider, both with TLS_FLAGS (protocol and cipher): a line each way,
# checked intact on arrival (the client's 100 bytes with its newline, the
# server's 150), then the client's Q closes the connection and both exit 0.
# Sets TLS_SERVER_PID and TLS_CLIENT_PID; their output and logs are
# server.out/.log and client.out/.log in BATS_TEST_TMPDIR.
tls_exchange() {
  make_cert
  local -r dir=${BATS_TEST_TMPDIR}
  mkfifo "${dir}/server.in" "${dir}/client.in"

  # Port 0: the kernel picks a free one, which s_server prints ("ACCEPT
  # 127.0.0.1:PORT"), so parallel runs never collide.
  PROVIDER_STDIN=${dir}/server.in start_provider_openssl server 30 s_server -async -naccept 1 \
    -accept 127.0.0.1:0 "$@" -cert "${CERT}" -key "${KEY}"
  local -r server_timeout_pid=${STARTED_PID}
  TLS_SERVER_PID=$(child_pid "${server_timeout_pid}")
  wait_for_line 20 "${dir}/server.out" '^ACCEPT 127\.0\.0\.1:[0-9]+$' || fail "s_server never listened"
  local -r port=$(sed -nE 's/^ACCEPT 127\.0\.0\.1:([0-9]+)$/\1/p' "${dir}/server.out")

  # -quiet -no_ign_eof: only the server's data on stdout; the line "Q" on
  # its stdin closes the connection (close_notify), and ends s_client.
  PROVIDER_STDIN=${dir}/client.in start_provider_openssl client 30 s_client -quiet -no_ign_eof \
    -connect "127.0.0.1:${port}" "$@"
  local -r client_timeout_pid=${STARTED_PID}
  TLS_CLIENT_PID=$(child_pid "${client_timeout_pid}")

  # 100 bytes with the newline: a 101-byte record; the answer 150: 151.
  local -r to_server=$(padded "client-to-server-${INSTANCE}-" 99)
  local -r to_client=$(padded "server-to-client-${INSTANCE}-" 149)
  send_line "${dir}/client.in" "${to_server}" || fail "s_client's stdin: nobody reads it"
  wait_until 20 grep -qxF -- "${to_server}" "${dir}/server.out" ||
    fail "s_server never printed the client's message intact"
  send_line "${dir}/server.in" "${to_client}" || fail "s_server's stdin: nobody reads it"
  wait_until 20 grep -qxF -- "${to_client}" "${dir}/client.out" ||
    fail "s_client never printed the server's message intact"
  send_line "${dir}/client.in" Q || fail "s_client's stdin: nobody reads it"

  reap_tracked 10 "${client_timeout_pid}" || fail "s_client still runs 10 s after its Q"
  assert_equal "${EXIT_STATUS}" 0
  # -naccept 1: the server ends with its one connection.
  reap_tracked 10 "${server_timeout_pid}" || fail "s_server still runs 10 s after the connection closed"
  assert_equal "${EXIT_STATUS}" 0
}
