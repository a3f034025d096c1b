#!/usr/bin/env bash
# The soak benchmark of the README's earlier figures, now one case of bench/live-rate.sh (which adds
# tcpdump beside the sensor, the noisy mix and --quick): a capture replayed at fixed rates onto a
# veth from a namespace, the sensor capturing on the near end.
#
# Usage: [BUFFER_MIB=64] [LOOPS=1] bench/soak.sh [CAPTURE] [RATES_PPS...]   (root; default rates 20000 50000 100000)
# Without CAPTURE (or with "") it generates the mail-only capture (5,000 sessions, seed 7, 8 KiB bodies).
set -euo pipefail
here=$(dirname "$0")
capture=${1:-}
shift || true
[ $# -gt 0 ] || set -- 20000 50000 100000
if [ -n "$capture" ]; then
  exec "$here/live-rate.sh" --sensor-only --mix mail --capture "$capture" "$@"
fi
exec "$here/live-rate.sh" --sensor-only --mix mail "$@"
