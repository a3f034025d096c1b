#!/usr/bin/env bash
# Records real Dovecot POP3/IMAP sessions on loopback into pcaps/dovecot/.
#
#   sudo bash pcaps/record/record-dovecot.sh [GROUP]   (needs root: tcpdump, ports 110/143)
#
#   GROUP  all (default)       both groups below
#          plaintext-allowed   the instance with disable_plaintext_auth = no
#                              (logins of every kind)
#          plaintext-disabled  the instance with disable_plaintext_auth = yes
#                              (cleartext attempts the server refuses)
#
# A private Dovecot instance (own config, base_dir, passwd-file, maildir and
# self-signed certificate, all in a fresh temp dir) listens on 127.0.0.1 ports
# 143/110 and 2143/2110.  Each scenario runs a real client (curl, or Python's
# imaplib/poplib, see clients.py) while its own tcpdump records 'tcp port N'
# on lo.  The two groups run one after the other, each with its own instance
# (same ports).  Afterwards expected.py checks every capture against what the
# client was meant to do and writes NAME.expected.jsonl plus README.md.
# Nothing but loopback is ever contacted (clients of the plaintext-disabled
# group connect from 127.0.0.2, see testdata.py).  Re-runnable: each run
# starts from an empty temp dir and rewrites every capture of its group(s).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$(cd "$HERE/.." && pwd)/dovecot"
HOST=127.0.0.1
export PYTHONDONTWRITEBYTECODE=1

log() { printf '[record-dovecot] %s\n' "$*" >&2; }

GROUP="${1:-all}"
case "$GROUP" in
  all|plaintext-allowed|plaintext-disabled) ;;
  *) echo "usage: $0 [all|plaintext-allowed|plaintext-disabled]" >&2; exit 2 ;;
esac
want() { [ "$GROUP" = all ] || [ "$GROUP" = "$1" ]; }
# The captures of the plaintext-disabled group; every other capture in OUT is
# the plaintext-allowed group's.
PLAINTEXT_DISABLED=(pop3-user-refused pop3-auth-plain-refused pop3-auth-login-refused
  pop3-user-after-server-close imap-authenticate-plain-refused imap-authenticate-login-refused
  imap-login-logindisabled)

[ "$(id -u)" = 0 ] || { echo "run as root (tcpdump, ports 110/143)" >&2; exit 1; }

# ------------------------------------------------------------------ packages
need=()
for pkg in dovecot-imapd dovecot-pop3d tcpdump curl openssl tshark; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The Debian package may start the system dovecot on 110/143; it must not run
# during the recording (this script never stops a service it did not start).
if ss -Hltn "( sport = :143 or sport = :110 or sport = :2143 or sport = :2110 )" | grep -q .; then
  echo "ports 110/143/2110/2143 are already in use (system dovecot running? 'systemctl stop dovecot')" >&2
  exit 1
fi
id dovecot >/dev/null && id dovenull >/dev/null   # created by dovecot-core

# ------------------------------------------------------------------ temp state
WORK="$(mktemp -d /tmp/dovecot-rec.XXXXXX)"
chmod 755 "$WORK"                 # auth (user dovecot) must reach the passwd-file
DOVECOT_PID=""
TCPDUMP_PID=""
cleanup() {
  set +e
  if [ -n "$TCPDUMP_PID" ]; then kill -INT "$TCPDUMP_PID" 2>/dev/null; wait "$TCPDUMP_PID" 2>/dev/null; fi
  if [ -n "$DOVECOT_PID" ]; then kill -TERM "$DOVECOT_PID" 2>/dev/null; wait "$DOVECOT_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

MAIL_UID="$(id -u nobody)"; MAIL_GID="$(id -g nobody)"
mkdir -p "$WORK/home" "$WORK/run" "$WORK/state"
python3 "$HERE/testdata.py" passwd-file "$WORK/home" "$MAIL_UID" "$MAIL_GID" > "$WORK/users"
chmod 644 "$WORK/users"
python3 "$HERE/testdata.py" seed-maildir "$WORK/home"
chown -R "$MAIL_UID:$MAIL_GID" "$WORK/home"

openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
chmod 600 "$WORK/key.pem"
DH=""
[ -f /usr/share/dovecot/dh.pem ] && DH="ssl_dh = </usr/share/dovecot/dh.pem"

listener() {  # name port
  printf '  inet_listener %s {\n    address = %s\n    port = %s\n  }\n' "$1" "$HOST" "$2"
}
DOVECOT_VERSION="$(dovecot --version)"
# The setting that refuses cleartext logins on connections that are not
# secured: disable_plaintext_auth = yes|no up to 2.3, auth_allow_cleartext =
# no|yes (inverted) from 2.4.  (The rest of this config is 2.3 syntax.)
plaintext_setting() {  # yes: cleartext refused
  case "$DOVECOT_VERSION" in
    1.*|2.[0-3].*) echo "disable_plaintext_auth = $1" ;;
    *) if [ "$1" = yes ]; then echo "auth_allow_cleartext = no"; else echo "auth_allow_cleartext = yes"; fi ;;
  esac
}

write_config() {  # FILE DISABLE_PLAINTEXT(yes|no)
cat > "$1" <<EOF
# private instance for record-dovecot.sh; nothing from /etc/dovecot is read
instance_name = sensor-rec
base_dir = $WORK/run
state_dir = $WORK/state
log_path = $WORK/dovecot.log
protocols = imap pop3
listen = $HOST
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
$(plaintext_setting "$2")
auth_mechanisms = plain login cram-md5 digest-md5 apop
auth_verbose = yes
mail_location = maildir:~/Maildir
ssl = yes
ssl_cert = <$WORK/cert.pem
ssl_key = <$WORK/key.pem
$DH
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $WORK/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $WORK/users
}
service imap-login {
$(listener imap 143)
$(listener imap_alt 2143)
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
$(listener pop3 110)
$(listener pop3_alt 2110)
  inet_listener pop3s {
    port = 0
  }
}
EOF
}
write_config "$WORK/dovecot.conf" no
write_config "$WORK/dovecot-plaintext-disabled.conf" yes

# ------------------------------------------------------------------ dovecot
listening() {
  ss -Hltn "( sport = :143 or sport = :110 or sport = :2143 or sport = :2110 )" | grep -c "$HOST" || true
}
start_dovecot() {  # CONFIG
  dovecot -F -c "$1" &
  DOVECOT_PID=$!
  local n=0
  for _ in $(seq 100); do
    n="$(listening)"
    [ "$n" = 4 ] && break
    kill -0 "$DOVECOT_PID" 2>/dev/null || { cat "$WORK/dovecot.log" >&2 || true; echo "dovecot died" >&2; exit 1; }
    sleep 0.1
  done
  [ "$n" = 4 ] || { echo "dovecot did not listen" >&2; exit 1; }
  log "dovecot $DOVECOT_VERSION ($(basename "$1")) listening on $HOST:143,110,2143,2110 (pid $DOVECOT_PID)"
}
stop_dovecot() {
  kill -TERM "$DOVECOT_PID"
  wait "$DOVECOT_PID" || true
  DOVECOT_PID=""
  # its login processes leave with it; the next instance needs the ports
  for _ in $(seq 100); do [ "$(listening)" = 0 ] && break; sleep 0.1; done
  log "dovecot log:"; sed 's/^/    /' "$WORK/dovecot.log" >&2
  : > "$WORK/dovecot.log"
}

# ------------------------------------------------------------------ recording
mkdir -p "$OUT"

CURL=(curl -q -s -S --noproxy '*' --max-time 30 -o /dev/null)

record() {  # NAME PORT COMMAND...
  local name="$1" port="$2"; shift 2
  local pcap="$OUT/$name.pcap" err="$WORK/tcpdump-$name.err"
  tcpdump -i lo -nn -U --immediate-mode -Z root -w "$pcap" "tcp port $port" 2>"$err" &
  TCPDUMP_PID=$!
  for _ in $(seq 100); do grep -q 'listening on' "$err" && break; sleep 0.05; done
  grep -q 'listening on' "$err" || { cat "$err" >&2; exit 1; }
  sleep 0.2
  if ! "$@" >"$WORK/client-$name.log" 2>&1; then
    cat "$WORK/client-$name.log" >&2
    echo "client for $name failed" >&2
    exit 1
  fi
  sleep 0.5
  kill -INT "$TCPDUMP_PID"
  wait "$TCPDUMP_PID" || true
  TCPDUMP_PID=""
  log "$name.pcap: $(grep -o '[0-9]* packets captured' "$err" || echo '?')"
}
py() { python3 "$HERE/clients.py" "$@"; }

is_plaintext_disabled() { local n; for n in "${PLAINTEXT_DISABLED[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1; }
remove_group() {  # plaintext-allowed|plaintext-disabled: delete that group's captures and expected files
  local f name
  for f in "$OUT"/*.pcap "$OUT"/*.expected.jsonl; do
    [ -e "$f" ] || continue
    name="$(basename "$f")"; name="${name%.expected.jsonl}"; name="${name%.pcap}"
    if is_plaintext_disabled "$name"; then [ "$1" = plaintext-disabled ] && rm -f "$f"
    else [ "$1" = plaintext-allowed ] && rm -f "$f"; fi
  done
  return 0
}

if want plaintext-allowed; then
remove_group plaintext-allowed
start_dovecot "$WORK/dovecot.conf"

# IMAP
record imap-capability-only          143 py imap-capability-only 143
record imap-login-atom               143 py imap-login-atom 143
record imap-login-quoted             143 py imap-login-quoted 143
record imap-login-quoted-escapes     143 py imap-login-quoted-escapes 143
record imap-login-literal-imaplib    143 py imap-login-literal-imaplib 143
record imap-login-literal            143 py imap-login-literal 143
record imap-login-literal-plus       143 py imap-login-literal-plus 143
record imap-login-fail               143 py imap-login-fail 143
record imap-login-fail-then-success  143 py imap-login-fail-then-success 143
record imap-login-client-hangup      143 py imap-login-client-hangup 143
sleep 3   # dovecot answers the hung-up client after auth_failure_delay (2 s): keep that out of the next capture
record imap-authenticate-plain       143 py imap-authenticate-plain 143
record imap-authenticate-plain-fail  143 py imap-authenticate-plain-fail 143
record imap-cram-md5-imaplib         143 py imap-cram-md5 143
record imap-authenticate-digest-md5  143 py imap-authenticate-digest-md5 143
record imap-curl-auth-plain          143 "${CURL[@]}" -u alice:wonderland --login-options 'AUTH=PLAIN' "imap://$HOST:143/"
record imap-curl-auth-login          143 "${CURL[@]}" -u alice:wonderland --login-options 'AUTH=LOGIN' "imap://$HOST:143/"
record imap-curl-auth-cram-md5       143 "${CURL[@]}" -u alice:wonderland --login-options 'AUTH=CRAM-MD5' "imap://$HOST:143/"
record imap-curl-default             143 "${CURL[@]}" -u alice:wonderland "imap://$HOST:143/"
record imap-starttls                 143 py imap-starttls 143
record imap-starttls-refused         143 py imap-starttls-refused 143
record imap-append-fetch             143 py imap-append-fetch 143
record imap-port-2143               2143 py imap-login-quoted 2143

# POP3 (dave's mailbox was seeded with the decoy message before dovecot started)
record pop3-capa                     110 py pop3-capa 110
record pop3-user-pass                110 py pop3-user-pass 110
record pop3-user-pass-space          110 py pop3-user-pass-space 110
record pop3-user-pass-fail           110 py pop3-user-pass-fail 110
record pop3-pass-client-hangup       110 py pop3-pass-client-hangup 110
sleep 3   # dovecot answers the hung-up client after auth_failure_delay (2 s): keep that out of the next capture
record pop3-apop                     110 py pop3-apop 110
record pop3-curl-apop                110 "${CURL[@]}" -u alice:wonderland --login-options 'AUTH=+APOP' "pop3://$HOST:110/"
record pop3-curl-auth-plain-ir       110 "${CURL[@]}" -u alice:wonderland --login-options 'AUTH=PLAIN' --sasl-ir "pop3://$HOST:110/"
record pop3-curl-auth-plain          110 "${CURL[@]}" -u alice:wonderland --login-options 'AUTH=PLAIN' "pop3://$HOST:110/"
record pop3-auth-plain-poplib        110 py pop3-auth-plain 110
record pop3-curl-auth-login          110 "${CURL[@]}" -u alice:wonderland --login-options 'AUTH=LOGIN' "pop3://$HOST:110/"
record pop3-curl-auth-cram-md5       110 "${CURL[@]}" -u alice:wonderland --login-options 'AUTH=CRAM-MD5' "pop3://$HOST:110/"
record pop3-curl-default             110 "${CURL[@]}" -u alice:wonderland "pop3://$HOST:110/"
record pop3-stls                     110 py pop3-stls 110
record pop3-stls-refused             110 py pop3-stls-refused 110
record pop3-retr                     110 py pop3-retr 110
record pop3-pipelined                110 py pop3-pipelined 110
record pop3-port-2110               2110 py pop3-user-pass 2110

stop_dovecot
fi

# ------------------------------------------------------------------ plaintext disabled
# Cleartext attempts against disable_plaintext_auth = yes, from 127.0.0.2.
if want plaintext-disabled; then
remove_group plaintext-disabled
start_dovecot "$WORK/dovecot-plaintext-disabled.conf"

record pop3-user-refused               110 py pop3-user-refused 110
record pop3-auth-plain-refused         110 py pop3-auth-plain-refused 110
record pop3-auth-login-refused         110 py pop3-auth-login-refused 110
record pop3-user-after-server-close    110 py pop3-user-after-server-close 110
record imap-authenticate-plain-refused 143 py imap-authenticate-plain-refused 143
record imap-authenticate-login-refused 143 py imap-authenticate-login-refused 143
record imap-login-logindisabled        143 py imap-login-logindisabled 143

stop_dovecot
fi

# ------------------------------------------------------------------ ground truth
python3 "$HERE/expected.py" "$OUT" \
  --dovecot-version "$DOVECOT_VERSION" \
  --curl-version "$(curl --version | head -1)" \
  --python-version "$(python3 --version)"
log "done: $(ls "$OUT"/*.pcap | wc -l) captures in $OUT"
