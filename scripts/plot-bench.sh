#!/usr/bin/env bash
# Draws what scripts/bench.sh measured as PNG plots with gnuplot: the
# Little's-law curves (jobs/s against J, each D, beside J/D) and the latency
# percentiles against J, one panel per mode; and, given a bandwidth table,
# GB/s against message size. bench.sh --plot runs it on the table it just
# measured; run it by hand to redraw a recorded one.
set -o errexit -o nounset -o pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "${SCRIPT_DIR}/lib/common.sh"

readonly PANEL_W=640
readonly PANEL_H=440

usage() {
  cat <<EOF
Usage: ${SCRIPT_NAME} --results FILE --out DIR [--bandwidth FILE] [--title TEXT] [--help]

Reads bench.sh's results table (FILE, tab-separated, '#' lines are comments):
  mode J D_ms requests jobs_per_s pct_ideal p50_us p99_us p999_us cpu_s be_cpu_s ok failed
(a failed cell has "FAILED: ..." as its jobs_per_s and is left out) and writes:
  DIR/throughput.png  jobs/s against J, log-log, one panel per mode (frontend-eventfd,
                      frontend-callback, frontend-coalesced, threadsim), one line per D,
                      dashed in the same colour: J/D, what Little's law allows
  DIR/latency.png     p50 (solid), p99 (dashed) and p999 (dotted) latency, submit to
                      resume, against J, one panel per mode, one colour per D
  DIR/bandwidth.png   only with --bandwidth FILE: GB/s against message size, one line per
                      series. FILE is tab-separated, '#' lines are comments:
                        series message_bytes gbytes_per_s
                      e.g. "offload aes-256-gcm", "openssl evp (reference)",
                      "dpdk-test-crypto-perf (reference)": what bench.sh will measure once
                      the device is a real cryptodev
--title TEXT goes above each image (e.g. the command and the machine).

Exit codes: 0 written, 2 bad usage, 3 no gnuplot (scripts/install-deps.sh --with-plot).
EOF
}

# D_ms as a label: "0" -> "D = 0", "0.1" -> "D = 0.1 ms".
d_label() {
  [[ $1 == 0 ]] && echo "D = 0" || echo "D = $1 ms"
}

# split_results FILE DIR: one data file per mode and D, "DIR/<mode>@<D>.dat"
# (J jobs_per_s p50 p99 p999, sorted by J); prints the modes, then a line
# "--", then the D values, each in the order they first appear.
split_results() {
  awk -v dir="$2" 'BEGIN { FS = "\t"; OFS = "\t" }
    # Comments, failed cells and anything else that is not a measured row.
    /^#/ || NF < 9 || $2 !~ /^[0-9]+$/ || $3 !~ /^[0-9.]+$/ || $5 !~ /^[0-9.]+$/ { next }
    {
      file = dir "/" $1 "@" $3 ".dat"
      print $2, $5, $7, $8, $9 >>file
      if (!($1 in seen_mode)) { seen_mode[$1] = 1; modes[++n_modes] = $1 }
      if (!($3 in seen_d)) { seen_d[$3] = 1; ds[++n_ds] = $3 }
    }
    END {
      for (i = 1; i <= n_modes; i++) print modes[i]
      print "--"
      for (i = 1; i <= n_ds; i++) print ds[i]
    }' "$1"
  local file
  for file in "$2"/*.dat; do
    [[ -e ${file} ]] || continue
    sort -n -o "${file}" "${file}"
  done
}

# multiplot_header OUT_PNG PANELS TITLE: the terminal and layout for PANELS
# panels, two a row.
multiplot_header() {
  local -r panels=$2
  local -r cols=$((panels > 1 ? 2 : 1)) rows=$(((panels + 1) / 2))
  cat <<EOF
set terminal pngcairo size $((cols * PANEL_W)),$((rows * PANEL_H + 40)) font ",10" noenhanced
set output "$1"
set multiplot layout ${rows},${cols} title "$3"
set grid
set logscale xy
set xrange [0.7:400]
set xlabel "J (jobs in flight)"
set key top left box opaque samplen 2 spacing 1.1
set samples 200
EOF
}

# throughput_plot DATA_DIR OUT TITLE MODES... -- DS...
throughput_plot() {
  local -r data=$1 out=$2 title=$3
  shift 3
  local -a modes=() ds=()
  while [[ $1 != -- ]]; do modes+=("$1") && shift; done
  shift
  ds=("$@")
  multiplot_header "${out}" "${#modes[@]}" "${title}"
  echo 'set ylabel "jobs/s"'
  local mode d i terms
  for mode in "${modes[@]}"; do
    echo "set title \"${mode} (dashed: J/D, Little's law)\""
    terms=()
    for i in "${!ds[@]}"; do
      d=${ds[i]}
      [[ -s ${data}/${mode}@${d}.dat ]] || continue
      terms+=("\"${data}/${mode}@${d}.dat\" using 1:2 with linespoints lc $((i + 1)) pt 7 ps 0.8 title \"$(d_label "${d}")\"")
      # D = 0: nothing bounds the rate but the machine.
      if awk -v d="${d}" 'BEGIN { exit !(d > 0) }'; then
        terms+=("x * 1000 / ${d} with lines lc $((i + 1)) dt 2 notitle")
      fi
    done
    ((${#terms[@]} > 0)) || terms=("NaN notitle")
    local IFS=,
    echo "plot ${terms[*]}"
  done
  echo "unset multiplot"
}

# latency_plot DATA_DIR OUT TITLE MODES... -- DS...
latency_plot() {
  local -r data=$1 out=$2 title=$3
  shift 3
  local -a modes=() ds=()
  while [[ $1 != -- ]]; do modes+=("$1") && shift; done
  shift
  ds=("$@")
  multiplot_header "${out}" "${#modes[@]}" "${title}"
  echo 'set ylabel "latency, us (submit to resume)"'
  local mode d i terms file
  for mode in "${modes[@]}"; do
    echo "set title \"${mode} (solid p50, dashed p99, dotted p999)\""
    terms=()
    for i in "${!ds[@]}"; do
      d=${ds[i]}
      file=${data}/${mode}@${d}.dat
      [[ -s ${file} ]] || continue
      terms+=("\"${file}\" using 1:3 with linespoints lc $((i + 1)) pt 7 ps 0.8 title \"$(d_label "${d}")\"")
      terms+=("\"${file}\" using 1:4 with linespoints lc $((i + 1)) dt 2 pt 5 ps 0.6 notitle")
      terms+=("\"${file}\" using 1:5 with linespoints lc $((i + 1)) dt 3 pt 9 ps 0.6 notitle")
    done
    ((${#terms[@]} > 0)) || terms=("NaN notitle")
    local IFS=,
    echo "plot ${terms[*]}"
  done
  echo "unset multiplot"
}

# bandwidth_plot FILE DATA_DIR OUT TITLE: GB/s against message size, a line
# per series (each series' rows go to DATA_DIR/bandwidth-<n>.dat first).
bandwidth_plot() {
  local -r file=$1 data=$2 out=$3 title=$4
  local -a series=()
  mapfile -t series < <(awk -F'\t' -v dir="${data}" '
    /^#/ || NF < 3 { next }
    !($1 in n) { n[$1] = ++count; print $1 }
    { print $2 "\t" $3 >>(dir "/bandwidth-" n[$1] ".dat") }' "${file}")
  cat <<EOF
set terminal pngcairo size ${PANEL_W},${PANEL_H} font ",10" noenhanced
set output "${out}"
set title "${title}"
set grid
set logscale x 2
set xlabel "message size, bytes"
set ylabel "GB/s"
set key top left box opaque
EOF
  local i dat terms=()
  for i in "${!series[@]}"; do
    dat=${data}/bandwidth-$((i + 1)).dat
    sort -n -o "${dat}" "${dat}"
    terms+=("\"${dat}\" using 1:2 with linespoints lc $((i + 1)) pt 7 title \"${series[i]//\"/}\"")
  done
  ((${#terms[@]} > 0)) || terms=("NaN notitle")
  local IFS=,
  echo "plot ${terms[*]}"
}

main() {
  local results="" out="" bandwidth="" title="scripts/bench.sh"
  while (($# > 0)); do
    case $1 in
      -h | --help)
        usage
        return 0
        ;;
      --results | --out | --bandwidth | --title)
        (($# >= 2)) || usage_error "$1 needs a value"
        case $1 in
          --results) results=$2 ;;
          --out) out=$2 ;;
          --bandwidth) bandwidth=$2 ;;
          --title) title=$2 ;;
        esac
        shift
        ;;
      *) usage_error "unexpected argument: $1" ;;
    esac
    shift
  done
  [[ -n ${results} && -n ${out} ]] || usage_error "--results and --out are required"
  [[ -f ${results} ]] || usage_error "--results: no file ${results}"
  [[ -z ${bandwidth} || -f ${bandwidth} ]] || usage_error "--bandwidth: no file ${bandwidth}"
  [[ ${title} != *'"'* ]] || usage_error "--title: no double quotes, please (gnuplot strings)"
  command -v gnuplot >/dev/null ||
    die "${EXIT_ENVIRONMENT}" "gnuplot not found: run scripts/install-deps.sh --with-plot (as root)"

  mkdir -p "${out}"
  local work
  work=$(mktemp -d -t offload-plot.XXXXXX)
  # shellcheck disable=SC2064 # expand now: work is local
  trap "rm -rf '${work}'" EXIT
  local -a split=()
  mapfile -t split < <(split_results "${results}" "${work}")
  [[ ${split[0]:-} != -- && ${#split[@]} -gt 2 ]] || die 1 "${results} has no measured cell to plot"

  throughput_plot "${work}" "${out}/throughput.png" "${title}: jobs/s against J" "${split[@]}" >"${work}/throughput.gp"
  latency_plot "${work}" "${out}/latency.png" "${title}: latency against J" "${split[@]}" >"${work}/latency.gp"
  gnuplot "${work}/throughput.gp"
  gnuplot "${work}/latency.gp"
  log "wrote ${out}/throughput.png and ${out}/latency.png"
  if [[ -n ${bandwidth} ]]; then
    bandwidth_plot "${bandwidth}" "${work}" "${out}/bandwidth.png" "${title}: GB/s against message size" \
      >"${work}/bandwidth.gp"
    gnuplot "${work}/bandwidth.gp"
    log "wrote ${out}/bandwidth.png"
  fi
}

main "$@"
