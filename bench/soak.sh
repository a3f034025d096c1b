#!/usr/bin/env bash
# Soak benchmark for `sensor run` (not a test): replays a capture, rewritten into 127.0.0.0/8, with
# tcpreplay at fixed rates onto a veth whose far end is in a network namespace this script creates,
# while the sensor captures on the near end. For each rate it reports packets/s offered, kernel and
# interface drops, events written and the sensor's peak RSS (VmHWM). The highest rate with zero
# kernel drops is what the README quotes.
#
# Usage: [BUFFER_MIB=64] [LOOPS=1] bench/soak.sh [CAPTURE] [RATES_PPS...]   (root; default rates 20000 50000 100000)
# Without CAPTURE it generates one with the project's capture generator.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (network namespace, veth, capture)" >&2; exit 2; }
scripts/install-deps.sh test >/dev/null
CONFIG=${CONFIG:-Release}
SENSOR=src/Sensor/bin/$CONFIG/net10.0/sensor
GEN=tests/Sensor.CaptureGenerator/bin/$CONFIG/net10.0/capture-gen
[ -x "$SENSOR" ] || dotnet build Sensor.sln -c "$CONFIG" -v q -nologo >/dev/null

work=$(mktemp -d /tmp/sensor-soak.XXXXXX)
ns=sensor-soak-$$
near=snsk$$; near=${near:0:15}
far=snskf$$; far=${far:0:15}
SENSOR_PID=""
cleanup() {
  set +e
  [ -n "$SENSOR_PID" ] && kill -TERM "$SENSOR_PID" 2>/dev/null && wait "$SENSOR_PID" 2>/dev/null
  ip link del "$near" 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

capture=${1:-}
shift || true
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(20000 50000 100000)
if [ -z "$capture" ]; then
  [ -x "$GEN" ] || dotnet build tests/Sensor.CaptureGenerator -c "$CONFIG" -v q -nologo >/dev/null
  capture=$work/soak.pcap
  "$GEN" --out "$capture" --sessions 5000 --seed 7 --body-kib 8 >/dev/null
fi
tcprewrite --pnat=10.0.0.0/8:127.0.0.0/8 --infile="$capture" --outfile="$work/replay.pcap"
packets=$(capinfos -c -M "$work/replay.pcap" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}')

ip netns add "$ns"
ip link add "$near" type veth peer name "$far"
ip link set "$far" netns "$ns"
ip link set "$near" up
ip netns exec "$ns" ip link set "$far" up

printf '%-10s %-12s %-10s %-12s %-10s %-10s %-12s %s\n' rate_pps achieved_pps packets kernel_drops if_drops events peak_rss_mb 'success_latency_ms(p50/p99/max)'
for rate in "${rates[@]}"; do
  events=$work/events-$rate.json
  SENSOR_Health__IntervalSeconds=1 "$SENSOR" run -i "$near" --buffer-size "${BUFFER_MIB:-64}" --events "$events" 2>"$work/sensor-$rate.log" &
  SENSOR_PID=$!
  for _ in $(seq 100); do grep -q "capturing on" "$work/sensor-$rate.log" && break; sleep 0.1; done
  sleep 0.5
  # Finding latency, from the wire to the event log (bench/latency.py follows the file).
  python3 bench/latency.py "$events" >"$work/latency-$rate.txt" 2>"$work/latency-$rate.log" &
  LATENCY_PID=$!
  out=$(ip netns exec "$ns" tcpreplay --pps="$rate" --loop="${LOOPS:-1}" -i "$far" "$work/replay.pcap" 2>&1)
  achieved=$(grep -o 'Rated: [0-9.]* Bps, [0-9.]* Mbps, [0-9.]* pps' <<<"$out" | awk '{print $6}')
  sleep 2
  kill -TERM "$LATENCY_PID"; wait "$LATENCY_PID" || true
  read -r _ p50 p99 pmax <"$work/latency-$rate.txt" || true
  rss=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$SENSOR_PID/status")
  kill -TERM "$SENSOR_PID"; wait "$SENSOR_PID" || true; SENSOR_PID=""
  stats=$(grep "capture stopped" "$work/sensor-$rate.log" | tail -1)
  recv=$(sed -n 's/.*PacketsReceived = \([0-9]*\).*/\1/p' <<<"$stats")
  kdrop=$(sed -n 's/.*DroppedByKernel = \([0-9]*\).*/\1/p' <<<"$stats")
  idrop=$(sed -n 's/.*DroppedByInterface = \([0-9]*\).*/\1/p' <<<"$stats")
  nev=$(grep -c '"event_type":"auth"' "$events" || true)
  printf '%-10s %-12s %-10s %-12s %-10s %-10s %-12s %s\n' "$rate" "${achieved:-?}" "${recv:-?}/$((packets * ${LOOPS:-1}))" "${kdrop:-?}" "${idrop:-?}" "$nev" "$rss" "${p50:-?}/${p99:-?}/${pmax:-?}"
done
[ -f "${capture%.pcap}.expected.json" ] && echo "expected auth events: $(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['auth_events'])" "${capture%.pcap}.expected.json")"
