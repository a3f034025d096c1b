#!/usr/bin/env bash
# Runs the sensor, dsniff and `tshark -z credentials` over the same captures and prints, per capture,
# how many logins each one reports beside the number the capture's ground truth holds.
# Usage: scripts/compare-tools.sh [CAPTURE...]   (default: every capture under pcaps/)
set -uo pipefail
cd "$(dirname "$0")/.."
SENSOR=${SENSOR:-src/Sensor/bin/Release/net10.0/sensor}
[ -x "$SENSOR" ] || { echo "build first (make build)" >&2; exit 2; }
files=("$@")
[ ${#files[@]} -gt 0 ] || mapfile -t files < <(find pcaps -name '*.pcap' -o -name '*.pcapng' | sort)

# The SMTP captures (pcaps/smtp) use ports 2525-2527 and 2587 (Postfix) and 2625-2626 (Exim); the
# sensor finds them by content, the others are told: dsniff by a services file, tshark by decode-as.
SMTP_PORTS=(2525 2526 2527 2587 2625 2626)
services=$(mktemp); trap 'rm -f "$services"' EXIT
cat /usr/share/dsniff/dsniff.services > "$services" 2>/dev/null
for p in "${SMTP_PORTS[@]}"; do printf 'smtp\t\t%s/tcp\n' "$p" >> "$services"; done
decode_as=(); for p in "${SMTP_PORTS[@]}"; do decode_as+=(-d "tcp.port==$p,smtp"); done

printf '%-52s %8s %8s %8s %8s\n' capture truth sensor dsniff tshark
tt=0; ts=0; td=0; tk=0
for f in "${files[@]}"; do
  exp="${f%.pcap*}.expected.jsonl"
  truth=$(grep -cE '"event_type": *"auth"' "$exp" 2>/dev/null); truth=${truth:-0}
  s=$("$SENSOR" read --json --no-summary "$f" 2>/dev/null | grep -c '"event_type":"auth"')
  # dsniff prints one block per connection; count the credentials in it (-m: detect protocols on any port).
  d=$(timeout 30 dsniff -n -m -f "$services" -p "$f" 2>/dev/null | grep -cE '^(username \[|USER |LOGIN |PASS |AUTHENTICATE |AUTH )' )
  k=$(timeout 30 tshark -r "$f" "${decode_as[@]}" -q -z credentials 2>/dev/null | grep -cE '^[0-9]+ +(POP|IMAP|SMTP)')
  printf '%-52s %8s %8s %8s %8s\n' "${f#pcaps/}" "$truth" "$s" "$d" "$k"
  tt=$((tt+truth)); ts=$((ts+s)); td=$((td+d)); tk=$((tk+k))
done
printf '%-52s %8s %8s %8s %8s\n' TOTAL "$tt" "$ts" "$td" "$tk"
