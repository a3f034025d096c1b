# The two set-up commands of the README: `make demo` and `make test`.
SHELL := /bin/bash
CONFIG ?= Release
SENSOR := src/Sensor/bin/$(CONFIG)/net10.0/sensor
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1

.PHONY: all build demo test fuzz deps-demo deps-test deps-fuzz clean captures package install live-rate

all: build

deps-demo:
	@scripts/install-deps.sh demo

deps-test:
	@scripts/install-deps.sh test

deps-fuzz:
	@scripts/install-deps.sh fuzz

build:
	dotnet build Sensor.sln -c $(CONFIG) -nologo -v quiet -clp:NoSummary

# Build, then analyse every bundled capture and print what was found.
# Two bundled test captures are damaged on purpose (pcaps/crafted/README.md): the demo says so
# before the sensor's warning and error about them appear.
demo: deps-demo build
	@echo
	@echo "== sensor read pcaps/   (secrets redacted; add --reveal-secrets to see them)"
	@echo "   Two test captures are broken on purpose, so expect a warning and an error for them:"
	@echo "   pcaps/crafted/truncated-file.pcap (cut off mid-packet; the packets before the cut are analysed)"
	@echo "   pcaps/crafted/unknown-linktype.pcap (link type 147, which the sensor must not guess)."
	@echo
	@$(SENSOR) read pcaps/

# Install what the tests need (libpcap, Dovecot, tcpdump, curl, tshark, dsniff), then run every test.
test: deps-test build
	@rm -rf artifacts/test-results
	@status=0; dotnet test Sensor.sln -c $(CONFIG) --no-build -nologo \
	    --logger "trx" --logger "console;verbosity=minimal" \
	    --results-directory artifacts/test-results || status=$$?; \
	  scripts/test-totals.sh artifacts/test-results; exit $$status

# Coverage-guided fuzzing (AFL++ and SharpFuzz): every target for FUZZ_SECONDS (default 60) each,
# output in artifacts/fuzz/<target>/; fails on any crash or hang. See "Fuzzing" in README.md.
FUZZ_SECONDS ?= 60
fuzz: deps-fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

# Live capture rate (root; a veth and a namespace of its own): the sensor beside tcpdump on the same
# replays, mail-only and 90 % non-mail, per rate drops, logins, latency and RSS. See docs/live-capture.md.
# `make live-rate LIVE_RATE_ARGS=--quick` checks the tooling in under two minutes.
LIVE_RATE_ARGS ?=
live-rate: build
	@bench/live-rate.sh $(LIVE_RATE_ARGS)

# artifacts/mail-sensor_<version>_amd64.deb: a self-contained `sensor` (no .NET needed on the host) in
# /usr/bin, the systemd unit, /etc/mail-sensor/sensor.json as a conffile. See "Install" in README.md.
package:
	@scripts/package.sh deb

# The same self-contained binary, unit and example config for systems without dpkg:
# `make install PREFIX=/opt/mail-sensor DESTDIR=/tmp/stage` (the unit's paths follow PREFIX).
PREFIX ?= /usr/local
install:
	@PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" $(if $(SYSCONFDIR),SYSCONFDIR="$(SYSCONFDIR)") scripts/package.sh install

# Re-record the Dovecot, Postfix and Exim captures and regenerate the crafted ones (not needed to run
# the tests; record-exim.py fetches and unpacks Exim itself, it is not installed).
captures:
	pcaps/record/record-dovecot.sh
	python3 pcaps/crafted/make-crafted.py
	python3 pcaps/record/record-smtp.py
	python3 pcaps/record/record-exim.py

clean:
	dotnet clean Sensor.sln -nologo -v quiet
	rm -rf artifacts
