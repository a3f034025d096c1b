#!/usr/bin/env bash
# Whole-run benchmark (not a test): how long `sensor read` takes over one large generated capture,
# next to dsniff (the tool users know for cleartext logins) and tcpdump (a floor: read and discard).
#
# Usage: bench/whole-run.sh [SESSIONS] [SEED]      (default 45000 sessions, about 1 GB; seed 1)
# Environment: REPEATS=3 (timed runs per tool; the median wall time is reported)
#              SENSOR_BENCH_CACHE=/tmp/sensor-bench (where generated captures are kept and reused)
#              NO_BUILD=1 (use the Release binaries as they are)
#              SENSOR_BUILD=aot|jit (aot, the default: the Native AOT binary the package ships, published
#              first; jit: the framework-dependent build the tests run)
#
# Each tool first runs once untimed (warms the page cache, and its output is kept to count the
# logins it reports), then REPEATS times timed with stdout to /dev/null, under
# /usr/bin/time -f '%e %M' (wall seconds, peak RSS). dsniff runs with -n: without it, it does a
# reverse-DNS lookup per connection and the wall time measures the resolver, not dsniff.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

SESSIONS=${1:-45000}
SEED=${2:-1}
REPEATS=${REPEATS:-3}
CACHE=${SENSOR_BENCH_CACHE:-/tmp/sensor-bench}
case $SESSIONS in '' | *[!0-9]*) echo "SESSIONS must be a number: $SESSIONS" >&2; exit 2 ;; esac
[[ $SEED =~ ^-?[0-9]+$ ]] || { echo "SEED must be an integer: $SEED" >&2; exit 2; }
case $REPEATS in '' | *[!0-9]* | 0) echo "REPEATS must be a positive number: $REPEATS" >&2; exit 2 ;; esac

GEN=$ROOT/tests/Sensor.CaptureGenerator/bin/Release/net10.0/capture-gen

# --- tools ----------------------------------------------------------------------------------------
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
if ! have dsniff || ! have tcpdump || [ ! -x /usr/bin/time ]; then
  "$ROOT/scripts/install-deps.sh" test >&2
  [ -x /usr/bin/time ] || { echo "/usr/bin/time missing (apt-get install time)" >&2; exit 1; }
fi
DSNIFF=$(command -v dsniff || echo /usr/sbin/dsniff)
TCPDUMP=$(command -v tcpdump || echo /usr/sbin/tcpdump)

# --- build ----------------------------------------------------------------------------------------
# Only what this script runs: the sensor and the generator (incremental, a few seconds when up to date).
. "$ROOT/bench/lib.sh"
build_release
SENSOR=$(sensor_binary)
[ -x "$SENSOR" ] || { echo "missing $SENSOR (build it, or unset NO_BUILD)" >&2; exit 1; }
[ -x "$GEN" ] || { echo "missing $GEN (build it, or unset NO_BUILD)" >&2; exit 1; }

# --- capture (cached by sessions and seed; regenerated when the generator's sources change) -------
mkdir -p "$CACHE"
CAPTURE=$CACHE/mail-s$SESSIONS-seed$SEED.pcap
EXPECTED=${CAPTURE%.pcap}.expected.json
gen_hash=$(cd tests/Sensor.CaptureGenerator && cat $(ls ./*.cs ./*.csproj | LC_ALL=C sort) | sha256sum | cut -c1-16)
if [ ! -s "$CAPTURE" ] || [ ! -s "$EXPECTED" ] || [ "$(cat "$CAPTURE.gen" 2>/dev/null)" != "$gen_hash" ]; then
  tmp=$CACHE/.gen-$$.pcap
  trap 'rm -f "$tmp" "${tmp%.pcap}.expected.json"' EXIT
  echo "generating $CAPTURE ($SESSIONS sessions, seed $SEED) ..." >&2
  "$GEN" --out "$tmp" --sessions "$SESSIONS" --seed "$SEED" >&2
  mv -f "${tmp%.pcap}.expected.json" "$EXPECTED"
  mv -f "$tmp" "$CAPTURE"
  echo "$gen_hash" >"$CAPTURE.gen"
  trap - EXIT
fi
json_field() { sed -n "s/^ *\"$1\": *\([0-9]*\).*/\1/p" "$EXPECTED" | head -1; }
EXP_LOGINS=$(json_field auth_events)
PACKETS=$(json_field packets)
FILE_BYTES=$(stat -c %s "$CAPTURE")

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d /tmp/sensor-whole-run.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# --- runs -----------------------------------------------------------------------------------------
# run_tool NAME COUNT_FN CMD...: one untimed run whose stdout is kept for COUNT_FN, then REPEATS
# timed runs with stdout to /dev/null. Leaves "median_wall median_cpu max_rss_kb logins" in $WORK/NAME.
run_tool() {
  local name=$1 count_fn=$2
  shift 2
  echo "running $name: $*" >&2
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || { echo "$name failed (exit $?):" >&2; tail -5 "$WORK/$name.err" >&2; exit 1; }
  local logins
  logins=$($count_fn "$WORK/$name.out")
  rm -f "$WORK/$name.out"
  : >"$WORK/$name.times"
  for ((i = 1; i <= REPEATS; i++)); do
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/$name.t" "$@" >/dev/null 2>"$WORK/$name.err" \
      || { echo "$name failed (exit $?):" >&2; tail -5 "$WORK/$name.err" >&2; exit 1; }
    tail -1 "$WORK/$name.t" >>"$WORK/$name.times"
    echo "  run $i: $(tail -1 "$WORK/$name.t" | awk '{printf "%.2f s wall, %.2f s cpu, %.0f MB peak RSS", $1, $2 + $3, $4 / 1024}')" >&2
  done
  # median wall (middle value, or mean of the two middle ones), median cpu, max RSS
  local wall cpu rss
  wall=$(awk '{print $1}' "$WORK/$name.times" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
  cpu=$(awk '{print $2 + $3}' "$WORK/$name.times" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
  rss=$(awk 'BEGIN {m = 0} $4 > m {m = $4} END {print m}' "$WORK/$name.times")
  echo "$wall $cpu $rss $logins" >"$WORK/$name"
}
count_sensor() { grep -c '"event_type":"auth"' "$1" || true; }
# dsniff prints one record per connection; a POP3 USER/PASS login as `username [u] password [p]`,
# an IMAP LOGIN as `LOGIN user pass` (tag stripped). It reports no outcome.
count_dsniff() { grep -cE '^(username \[|LOGIN )' "$1" || true; }
count_none() { echo "-"; }

THREADS=$(( $(nproc) < 8 ? $(nproc) : 8 ))   # every core, at most 8
# The default first, as a user runs it: the sensor picks its workers itself, per file (the cores not
# busy with other work when the file starts, WorkerDefaults.ForFile); what it would pick now, for the report.
DEFAULT_WORKERS=$(awk -v c="$(nproc)" '{split($4, r, "/"); w = c - (r[1] - 1); m = (c < 8 ? c : 8); print (w < 1 ? 1 : (w > m ? m : w))}' /proc/loadavg)
run_tool sensor count_sensor "$SENSOR" read --json --no-summary "$CAPTURE"
run_tool sensor-1t count_sensor "$SENSOR" read --json --no-summary --threads 1 "$CAPTURE"
run_tool sensor-all count_sensor "$SENSOR" read --json --no-summary --threads "$THREADS" "$CAPTURE"
run_tool dsniff count_dsniff "$DSNIFF" -n -p "$CAPTURE"
run_tool tcpdump count_none "$TCPDUMP" -r "$CAPTURE" -w /dev/null

# --- the machine's own parallel ceiling -----------------------------------------------------------
# THREADS single-threaded sensor runs over the capture at the same time, against one run: how much
# more of this very work THREADS cores get through together than one (virtual CPUs may share a
# physical core, memory bandwidth or a host, and a single run already keeps a second core partly
# busy compiling and collecting). Sharding one run over THREADS workers cannot beat this.
one_run() { "$SENSOR" read --json --no-summary --threads 1 "$CAPTURE" >/dev/null 2>&1; }
t0=$(date +%s%N); one_run; t1=$(date +%s%N)
for ((i = 0; i < THREADS; i++)); do one_run & done; wait; t2=$(date +%s%N)
CEILING=$(awk -v one=$((t1 - t0)) -v many=$((t2 - t1)) -v n="$THREADS" 'BEGIN {printf "%.2f", n * one / many}')

# --- report ---------------------------------------------------------------------------------------
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no -- src 2>/dev/null)" ] && commit="$commit (src/ has uncommitted changes)"
echo
echo "whole-run benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo), $(uname -sr)"
echo "load average before the runs: $LOAD_BEFORE (anything else busy on the machine skews the times)"
echo "sensor: commit $commit, .NET SDK $(dotnet --version 2>/dev/null || echo ?), Release"
echo "capture: $CAPTURE"
echo "         $SESSIONS sessions, seed $SEED, $PACKETS packets, $(awk -v b="$FILE_BYTES" 'BEGIN {printf "%.1f", b / 1e6}') MB; median of $REPEATS runs after one untimed warm-up run each"
echo
printf '%-10s %10s %9s %12s %9s %13s %13s %16s\n' tool "wall s" "cpu s" packets/s MB/s "peak RSS MB" "logins found" "expected logins"
for tool in sensor sensor-1t sensor-all dsniff tcpdump; do
  read -r wall cpu rss logins <"$WORK/$tool"
  awk -v t="$tool" -v w="$wall" -v c="$cpu" -v r="$rss" -v l="$logins" -v p="$PACKETS" -v b="$FILE_BYTES" -v e="$EXP_LOGINS" 'BEGIN {
    if (t == "tcpdump") e = "-";
    printf "%-10s %10.2f %9.2f %12.0f %9.1f %13.1f %13s %16s\n", t, w, c, (w > 0 ? p / w : 0), (w > 0 ? b / 1e6 / w : 0), r / 1024, l, e }'
done
read -r s_wall _ <"$WORK/sensor"
read -r s1_wall _ <"$WORK/sensor-1t"
read -r sa_wall _ <"$WORK/sensor-all"
read -r d_wall _ <"$WORK/dsniff"
read -r t_wall _ <"$WORK/tcpdump"
echo
awk -v s="$s_wall" -v s1="$s1_wall" -v sa="$sa_wall" -v d="$d_wall" -v t="$t_wall" -v n="$THREADS" -v c="$CEILING" 'BEGIN {
  printf "speed-up of %d workers over 1:  %.2fx (ceiling: %d separate single-threaded runs at once get through %sx the work of one)\n", n, (sa > 0 ? s1 / sa : 0), n, c
  printf "wall time ratio sensor/dsniff:  %.2f\n", (d > 0 ? s / d : 0)
  printf "wall time ratio sensor/tcpdump: %.2f\n", (t > 0 ? s / t : 0) }'
echo
echo "sensor: the default settings (no --threads; about $DEFAULT_WORKERS worker(s) at the load when the runs began);"
echo "sensor-1t: --threads 1; sensor-all: --threads $THREADS, every core (same events, same order in all three)."
echo "The ratios to dsniff and tcpdump are the default's. Binary: $SENSOR (SENSOR_BUILD=${SENSOR_BUILD:-aot})."
echo "wall s: median elapsed; cpu s: median user+sys (above wall means more than one core was busy);"
echo "MB/s: capture file size (10^6 bytes) / wall; packets: from ${EXPECTED##*/}."
echo "dsniff (-n -p, its default port table) reports no outcomes (success/failure) and counts only lines"
echo "'username [...' (POP3 USER/PASS) and 'LOGIN ...' (IMAP LOGIN); tcpdump only reads and discards."
