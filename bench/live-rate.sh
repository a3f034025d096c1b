#!/usr/bin/env bash
# Live capture rate benchmark (not a test): `sensor run` and `tcpdump -w /dev/null` capture side by
# side, on the same interface and the same replay, so each rate compares them in one run. A capture
# (the project's generator; rewritten into 127.0.0.0/8) is replayed at RATE frames/s (bench/pcap-blast.c,
# or tcpreplay) into a veth whose far end is in a network namespace this script creates; both capture
# the near end. Per mix and rate: packets/s the sender achieved, packets each received and the kernel dropped, the
# logins the sensor reported of those expected, finding latency p50/p99 (bench/latency.py: successful
# logins, wire to event log), peak RSS (VmHWM, the mapped ring included) and the CPU time each tool
# spent during the replay (user + system, /proc/PID/stat): per packet, the figure that does not depend
# on how fast this machine's sender is.
#
# Usage (root): bench/live-rate.sh [--quick] [--mix mail|bulk|noisy|all] [--capture FILE.pcap] [--sensor-only] [--fanout N]
#                                 [--sender blast|tcpreplay] [RATE_PPS|max...]
#   --quick     small captures, rates 20000 50000: under two minutes, to check the tooling works
#   --mix       mail: IMAP/POP3 sessions with 8 KiB downloads (many sessions, 445-byte frames on
#               average); bulk: fewer sessions with 256 KiB downloads, nearly all frames 1.5 KB (the
#               issue's "large downloads"); noisy: mail sessions among HTTP/TLS flows, about 90 % of the
#               packets non-mail; all (default): the three
#   --capture   replay this capture instead (its FILE.expected.json, if there, gives the expected logins)
#   --sensor-only  no tcpdump beside the sensor (bench/soak.sh: the sensor alone, as its figures were taken)
#   --fanout N  N sensors in one AF_PACKET fanout group (--workers 1 each unless SENSOR_Capture__Workers
#               says otherwise); their packets, drops, logins and RSS are summed, latency over all
#   --sender    blast (default): bench/pcap-blast.c, compiled here with cc: the capture in memory,
#               bursts of 32 frames per sendmmsg(2), the qdisc bypassed (419,000 packets/s of 1.5 KB
#               frames into the veth with nothing capturing); tcpreplay: tcpreplay --preload-pcap, from
#               20,000 packets/s in bursts of rate/10,000 (--pps-multi, at most 32; one frame at a time
#               it cannot time more than about 120,000 packets/s here)
#   RATE_PPS    default 50000 100000 200000 300000 max (--quick: 20000 50000); "max": as fast as the
#               sender can (tcpreplay --topspeed)
# Environment: BUFFER_MIB (both tools' kernel buffer, default 64, the sensor's default), LOOPS
#   (tcpreplay --loop, default 1), SENSOR_* (sensor settings, e.g. SENSOR_Capture__Workers=1),
#   NO_BUILD=1 (use the Release binaries as they are), KEEP=1 (keep the work directory),
#   SENSOR_BUILD=aot|jit (default aot: the Native AOT binary the package ships, published first with
#   scripts/package.sh publish; jit: the framework-dependent build the tests run; --quick: jit).
# On a 2-core machine the sender busy-waits on one core and the two captures share the other: figures
# are for the pair, each tool would do better alone. Run on a quiet machine for figures to quote.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
[ "$(id -u)" = 0 ] || { echo "run as root (network namespace, veth, capture)" >&2; exit 2; }

quick="" mix=all capture="" tcpdump=1 members=1 rates=() sender=blast
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --mix) mix=${2:?--mix needs mail, bulk, noisy or all}; shift ;;
    --capture) capture=${2:?--capture needs a file}; shift ;;
    --sensor-only) tcpdump="" ;;
    --sender) sender=${2:?--sender needs blast or tcpreplay}; shift
      case $sender in blast | tcpreplay) ;; *) echo "--sender must be blast or tcpreplay" >&2; exit 2 ;; esac ;;
    --fanout) members=${2:?--fanout needs a number}; shift
      case $members in '' | *[!0-9]* | 0 | 1) echo "--fanout needs a number of members, at least 2" >&2; exit 2 ;; esac ;;
    -h | --help) sed -n '2,36p' "$0"; exit 0 ;;
    max) rates+=(max) ;;
    *[!0-9]* | '') echo "unknown argument '$1' (see --help)" >&2; exit 2 ;;
    *) rates+=("$1") ;;
  esac
  shift
done
case $mix in both) mix=all ;; esac # its name before bulk came
case $mix in mail | bulk | noisy | all) ;; *) echo "--mix must be mail, bulk, noisy or all" >&2; exit 2 ;; esac
if [ ${#rates[@]} -eq 0 ]; then
  if [ -n "$quick" ]; then rates=(20000 50000); else rates=(50000 100000 200000 300000 max); fi
fi
BUFFER_MIB=${BUFFER_MIB:-64}
LOOPS=${LOOPS:-1}
for tool in tcpreplay tcprewrite tcpdump capinfos; do
  command -v "$tool" >/dev/null || { scripts/install-deps.sh test >/dev/null; break; }
done

. "$ROOT/bench/lib.sh"
build_release
[ -n "$quick" ] && SENSOR_BUILD=${SENSOR_BUILD:-jit} # a check of the tooling: no 2.5-minute AOT publish
SENSOR=$(sensor_binary)
GEN=$ROOT/tests/Sensor.CaptureGenerator/bin/Release/net10.0/capture-gen

work=$(mktemp -d /tmp/sensor-live-rate.XXXXXX)
ns=sensor-rate-$$
near=snrt$$; near=${near:0:15}
far=snrtf$$; far=${far:0:15}
PIDS=()
cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  ip link del "$near" 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# A capture for one mix, rewritten into 127.0.0.0/8 (the rule for anything replayed onto an
# interface); prints "path expected_logins".
prepare() { # mix
  local src=$work/$1.pcap
  if [ -n "$capture" ]; then
    src=$capture
  elif [ "$1" = mail ]; then
    "$GEN" --out "$src" --sessions "$([ -n "$quick" ] && echo 1500 || echo 5000)" --seed 7 --body-kib 8 >/dev/null
  elif [ "$1" = bulk ]; then
    "$GEN" --out "$src" --sessions "$([ -n "$quick" ] && echo 150 || echo 1200)" --seed 5 --body-kib 256 >/dev/null
  else
    # --noise-ratio 10: ten HTTP/TLS flows per mail session, about 90 % of the packets.
    "$GEN" --out "$src" --sessions "$([ -n "$quick" ] && echo 300 || echo 3000)" --seed 11 --body-kib 8 --noise-ratio 10 >/dev/null
  fi
  tcprewrite --pnat=10.0.0.0/8:127.0.0.0/8 --infile="$src" --outfile="$work/$1-replay.pcap"
  local expected=?
  [ -f "${src%.pcap}.expected.json" ] &&
    expected=$(( $(sed -n 's/^ *"auth_events": *\([0-9]*\).*/\1/p' "${src%.pcap}.expected.json" | head -1) * LOOPS ))
  echo "$work/$1-replay.pcap $expected"
}

wait_for() { # file text
  for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "timed out waiting for '$2' in $1:" >&2; cat "$1" >&2; exit 1
}

peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
# CPU time (clock ticks, user + system, all threads) of a process so far; the command name in field 2
# may hold spaces, so fields are counted after its closing parenthesis.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0; }
HZ=$(getconf CLK_TCK)

# tcpreplay's arguments for a rate: preloaded, and in bursts from 20,000 packets/s (see --help).
replay_args() { # rate
  if [ "$1" = max ]; then echo "--preload-pcap --topspeed"; return; fi
  local multi=$(( $1 / 10000 ))
  [ "$multi" -gt 32 ] && multi=32
  if [ "$multi" -ge 2 ]; then echo "--preload-pcap --pps=$1 --pps-multi=$multi"; else echo "--preload-pcap --pps=$1"; fi
}

run_rate() { # mix replay expected rate
  local tag=$1-$4
  local tcpdump_pid=""
  if [ -n "$tcpdump" ]; then
    tcpdump -i "$near" -nn -B $((BUFFER_MIB * 1024)) -w /dev/null 2>"$work/tcpdump-$tag.log" &
    tcpdump_pid=$!; PIDS+=("$tcpdump_pid")
    wait_for "$work/tcpdump-$tag.log" "listening on"
  fi
  local i sensor_pids=() event_files=() fanout_args=()
  # A group id of this run's own (ids are per network namespace; the veth is ours, the id space is not).
  [ "$members" -gt 1 ] && fanout_args=(--fanout-group $(( $$ % 60000 + 1000 )))
  for i in $(seq "$members"); do
    event_files+=("$work/events-$tag-$i.json")
    SENSOR_Capture__Workers=${SENSOR_Capture__Workers:-$([ "$members" -gt 1 ] && echo 1 || echo 0)} \
      "$SENSOR" run -i "$near" --buffer-size "$BUFFER_MIB" --events "$work/events-$tag-$i.json" "${fanout_args[@]}" \
      2>"$work/sensor-$tag-$i.log" &
    sensor_pids+=($!); PIDS+=($!)
  done
  for i in $(seq "$members"); do wait_for "$work/sensor-$tag-$i.log" "capturing on"; done
  sleep 0.5
  python3 bench/latency.py "${event_files[@]}" >"$work/latency-$tag.txt" 2>"$work/latency-$tag.log" &
  local latency_pid=$!; PIDS+=("$latency_pid")
  local out achieved sent pid sensor_cpu0=0 tcpdump_cpu0=0
  for pid in "${sensor_pids[@]}"; do sensor_cpu0=$(( sensor_cpu0 + $(cpu_ticks "$pid") )); done
  [ -n "$tcpdump_pid" ] && tcpdump_cpu0=$(cpu_ticks "$tcpdump_pid")
  if [ "$sender" = blast ]; then
    out=$(ip netns exec "$ns" "$work/pcap-blast" -i "$far" -l "$LOOPS" $([ "$4" = max ] || echo "-p $4") "$2" 2>&1)
  else
    # shellcheck disable=SC2046 # the arguments are words
    out=$(ip netns exec "$ns" tcpreplay $(replay_args "$4") --loop="$LOOPS" -i "$far" "$2" 2>&1)
  fi
  achieved=$(grep -o 'Rated: [0-9.]* Bps, [0-9.]* Mbps, [0-9.]* pps' <<<"$out" | awk '{printf "%.0f", $6}')
  sent=$(sed -n 's/^Actual: \([0-9]*\) packets.*/\1/p' <<<"$out")
  sleep 2 # the last blocks retire (100 ms) and the last answers are analysed
  kill -TERM "$latency_pid"; wait "$latency_pid" || true
  local count p50 p99 pmax
  read -r count p50 p99 pmax <"$work/latency-$tag.txt" || true
  local sensor_rss=0 tcpdump_rss=- sensor_cpu=0 tcpdump_cpu=-
  for pid in "${sensor_pids[@]}"; do
    sensor_rss=$(( sensor_rss + $(peak_rss_mb "$pid") ))
    sensor_cpu=$(( sensor_cpu + $(cpu_ticks "$pid") ))
  done
  sensor_cpu=$(( sensor_cpu - sensor_cpu0 ))
  if [ -n "$tcpdump_pid" ]; then
    tcpdump_rss=$(peak_rss_mb "$tcpdump_pid")
    tcpdump_cpu=$(( $(cpu_ticks "$tcpdump_pid") - tcpdump_cpu0 ))
    kill -TERM "$tcpdump_pid"; wait "$tcpdump_pid" || true
  fi
  for pid in "${sensor_pids[@]}"; do kill -TERM "$pid"; wait "$pid" || true; done
  PIDS=()
  local stats t_recv=- t_drop=- s_recv=0 s_drop=0 logins=0 n
  if [ -n "$tcpdump_pid" ]; then
    t_recv=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter.*/\1/p' "$work/tcpdump-$tag.log")
    t_drop=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$work/tcpdump-$tag.log")
  fi
  for i in $(seq "$members"); do
    stats=$(grep "capture stopped" "$work/sensor-$tag-$i.log" | tail -1)
    n=$(sed -n 's/.*PacketsReceived = \([0-9]*\).*/\1/p' <<<"$stats"); s_recv=$(( s_recv + ${n:-0} ))
    n=$(sed -n 's/.*DroppedByKernel = \([0-9]*\).*/\1/p' <<<"$stats"); s_drop=$(( s_drop + ${n:-0} ))
    n=$(grep -c '"event_type":"auth"' "$work/events-$tag-$i.json" 2>/dev/null || true); logins=$(( logins + ${n:-0} ))
  done
  # CPU per packet sent, in microseconds: includes the 2 s after the replay (the last blocks retire).
  local us_sensor us_tcpdump=-
  us_sensor=$(awk -v t="$sensor_cpu" -v hz="$HZ" -v n="${sent:-0}" 'BEGIN {printf (n > 0 ? "%.2f" : "?"), t / hz * 1e6 / n}')
  [ "$tcpdump_cpu" != - ] && us_tcpdump=$(awk -v t="$tcpdump_cpu" -v hz="$HZ" -v n="${sent:-0}" 'BEGIN {printf (n > 0 ? "%.2f" : "?"), t / hz * 1e6 / n}')
  printf '%-6s %-8s %-9s %-9s %-9s %-8s %-9s %-8s %-13s %-9s %-9s %-11s %s\n' "$1" "$4" "${achieved:-?}" "${sent:-?}" \
    "${t_recv:-?}" "${t_drop:-?}" "${s_recv:-?}" "${s_drop:-?}" "${logins:-0}/$3" "${p50:-?}" "${p99:-?}" "$sensor_rss/$tcpdump_rss" "$us_sensor/$us_tcpdump"
}

if [ "$sender" = blast ]; then
  command -v cc >/dev/null || { echo "the blast sender needs a C compiler (cc); or use --sender tcpreplay" >&2; exit 1; }
  cc -O2 -Wall -o "$work/pcap-blast" bench/pcap-blast.c
fi
ip netns add "$ns"
ip link add "$near" type veth peer name "$far"
ip link set "$far" netns "$ns"
ip link set "$near" up
ip netns exec "$ns" ip link set "$far" up

mixes=(mail bulk noisy)
[ "$mix" = all ] || mixes=("$mix")
[ -z "$capture" ] || mixes=("${mixes[0]}")
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); buffer ${BUFFER_MIB} MiB each; loops $LOOPS; sender $sender" \
  "$([ "$members" -gt 1 ] && echo "; $members sensors in a fanout group, figures summed")" \
  "${SENSOR_Capture__Workers:+; SENSOR_Capture__Workers=$SENSOR_Capture__Workers}"
printf '%-6s %-8s %-9s %-9s %-9s %-8s %-9s %-8s %-13s %-9s %-9s %-11s %s\n' mix asked_pps achieved sent \
  tcpdump_rx tcpd_drop sensor_rx sens_drop logins p50_ms p99_ms rss_mb_s/t cpu_us_pkt_s/t
for m in "${mixes[@]}"; do
  read -r replay expected < <(prepare "$m")
  label=$m; [ -z "$capture" ] || label=file
  for rate in "${rates[@]}"; do run_rate "$label" "$replay" "$expected" "$rate"; done
done
