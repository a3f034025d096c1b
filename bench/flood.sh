#!/usr/bin/env bash
# Flood benchmark (not a test): one million SYNs, or one million half-open connections, merged by
# time into a capture of real-looking mail sessions. Shows that memory stays within the connection
# bound (peak RSS), that the excess is evicted and counted, and that every real login is still found.
#
# Usage: bench/flood.sh [COUNT]          (default 1000000)
# Environment: THREADS=N (sensor read --threads; default: the sensor's own, every core up to 8)
#              NO_BUILD=1 (use the Release binaries as they are)
#
# The flood comes from bench/make-flood.py: COUNT SYNs from distinct client addresses to the mail
# servers of a 300-session capture-gen capture, spread evenly over its time span (so all of them
# fall within the 30 s handshake timeout: nothing expires, the connection bound must do the work).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

COUNT=${1:-1000000}
case $COUNT in '' | *[!0-9]*) echo "COUNT must be a number: $COUNT" >&2; exit 2 ;; esac
SENSOR=$ROOT/src/Sensor/bin/Release/net10.0/sensor
GEN=$ROOT/tests/Sensor.CaptureGenerator/bin/Release/net10.0/capture-gen
[ -x /usr/bin/time ] || "$ROOT/scripts/install-deps.sh" test >&2

. "$ROOT/bench/lib.sh"
build_release

WORK=$(mktemp -d /tmp/sensor-flood.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$GEN" --out "$WORK/mail.pcap" --sessions 300 --seed 1 >&2
EXP_LOGINS=$(sed -n 's/^ *"auth_events": *\([0-9]*\).*/\1/p' "$WORK/mail.expected.json" | head -1)
THREAD_ARGS=()
[ -n "${THREADS:-}" ] && THREAD_ARGS=(--threads "$THREADS")

printf '%-28s %10s %8s %12s %16s %15s\n' flood packets "wall s" "peak RSS MB" "flows evicted" "logins found"
for kind in syn half-open; do
  flag=()
  [ "$kind" = half-open ] && flag=(--half-open)
  python3 bench/make-flood.py "$WORK/mail.pcap" "$WORK/flood.pcap" "$COUNT" "${flag[@]}" 2>"$WORK/make.log"
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$SENSOR" read --json "${THREAD_ARGS[@]}" "$WORK/flood.pcap" \
    >"$WORK/events.jsonl" 2>"$WORK/summary.txt" || { echo "sensor failed:" >&2; tail -5 "$WORK/summary.txt" >&2; exit 1; }
  read -r wall rss <"$WORK/time"
  packets=$(sed -n 's/^packets: \([0-9]*\).*/\1/p' "$WORK/summary.txt" | head -1)
  evicted=$(sed -n 's/.*flows evicted \([0-9]*\).*/\1/p' "$WORK/summary.txt" | head -1)
  logins=$(grep -c '"event_type":"auth"' "$WORK/events.jsonl" || true)
  printf '%-28s %10s %8.2f %12.1f %16s %15s\n' "$COUNT $kind" "$packets" "$wall" "$(awk -v r="$rss" 'BEGIN {print r / 1024}')" \
    "$evicted" "$logins of $EXP_LOGINS"
done
echo
echo "sensor: $("$SENSOR" read --help 2>/dev/null | sed -n 's/.*default \([0-9,]*\)).*/max flows \1/p' | head -1), $(nproc) CPUs, threads ${THREADS:-default}"
echo "peak RSS: /usr/bin/time %M; flows evicted: from the sensor's summary; logins: auth events vs capture-gen's expected count."
