#!/usr/bin/env bash
# Installs what the sensor (demo) or its tests need from Debian's packages, only when missing.
# Usage: scripts/install-deps.sh demo|test|fuzz|package
set -euo pipefail
what=${1:-demo}

need=()
# grep -q would stop reading early and, with pipefail, ldconfig's SIGPIPE would make a present library look missing.
have_lib() { ldconfig -p 2>/dev/null | grep "$1" >/dev/null; }
have_cmd() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

have_lib 'libpcap.so' || need+=(libpcap0.8)
if [ "$what" = test ]; then
  have_cmd tcpdump || need+=(tcpdump)
  have_cmd dovecot || need+=(dovecot-core)
  [ -e /usr/lib/dovecot/imap ] || need+=(dovecot-imapd)
  [ -e /usr/lib/dovecot/pop3 ] || need+=(dovecot-pop3d)
  have_cmd curl || need+=(curl)
  have_cmd openssl || need+=(openssl)
  have_cmd python3 || need+=(python3)
  have_cmd tshark || need+=(tshark)
  have_cmd dsniff || need+=(dsniff)
  have_cmd tcpreplay || need+=(tcpreplay)
  have_cmd ip || need+=(iproute2)
  have_cmd victoria-metrics || need+=(victoria-metrics)
  have_cmd influxd || need+=(influxdb)
  # SMTP tests and pcaps/record/record-smtp.py: a real Postfix (SASL through Dovecot) and real clients;
  # swaks needs Net::SSLeay for STARTTLS.
  have_cmd postfix || need+=(postfix)
  have_cmd swaks || need+=(swaks)
  have_cmd msmtp || need+=(msmtp)
  perl -MNet::SSLeay -e1 2>/dev/null || need+=(libnet-ssleay-perl)
  # The HTML report's tests render it in a real headless browser (tests/Sensor.Integration.Tests/Report).
  have_cmd chromium || need+=(chromium)
fi
# Native AOT (make package, and the package test) links with the system's clang and zlib
# (Microsoft's prerequisites for Native AOT on Linux).
if [ "$what" = test ] || [ "$what" = package ]; then
  have_cmd clang || need+=(clang)
  [ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)
fi
if [ "$what" = fuzz ]; then
  have_cmd afl-fuzz || need+=(afl++)
fi

[ ${#need[@]} -eq 0 ] && exit 0
echo "installing: ${need[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Postfix's package would otherwise ask how to configure the system's own mail service: it must not
# set one up (the tests run private instances on loopback ports of their own).
if printf '%s\n' "${need[@]}" | grep -qx postfix; then
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
fi
$SUDO apt-get update -qq
# Wait for another apt run on the machine (a parallel build installing its own packages) instead of failing.
$SUDO apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${need[@]}" >/dev/null
