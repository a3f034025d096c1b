#!/usr/bin/env python3
"""Compare a capture-gen FILE.expected.json with `sensor read --json` output.

usage: sensor read --json --no-summary FILE.pcap | tests/Sensor.CaptureGenerator/compare-expected.py FILE.expected.json
Exit 0 when the auth events by key and the STARTTLS counts match exactly, 1 otherwise.
"""
import collections
import json
import sys

expected = json.load(open(sys.argv[1]))
events = open(sys.argv[2]) if len(sys.argv) > 2 else sys.stdin
by_key = collections.Counter()
starttls = collections.Counter()
for line in events:
    e = json.loads(line)
    if e["event_type"] == "auth":
        a = e["auth"]
        by_key[f"{e['app_proto']} {a['mechanism']} {a['exposure']} {a['outcome']}"] += 1
    elif e["event_type"] == "starttls":
        starttls[e["tls"]["outcome"]] += 1

ok = True
for k in sorted(set(by_key) | set(expected["by_key"])):
    want, got = expected["by_key"].get(k, 0), by_key[k]
    if want != got:
        ok = False
        print(f"DIFF {k}: expected {want}, sensor {got}")
checks = [("auth_events", sum(by_key.values())), ("starttls_events", sum(starttls.values())), ("starttls_success", starttls["success"])]
for name, got in checks:
    if expected[name] != got:
        ok = False
    print(f"{name}: expected {expected[name]}, sensor {got}")
print("MATCH" if ok else "MISMATCH")
sys.exit(0 if ok else 1)
