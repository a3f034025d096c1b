#!/usr/bin/env python3
"""Finding latency of a live sensor, measured from outside (not a test): follows the event log (or
the logs of several sensors in a fanout group: latency.py EVENTS.json [EVENTS2.json ...]),
and for each successful login records when its line appeared minus the event's own timestamp (the
packet time the kernel stamped on the credential; live, that is the wall clock). Stops on
SIGTERM/SIGINT and prints: count p50_ms p99_ms max_ms. The file is polled every 2 ms, so figures
carry up to 2 ms of polling delay.

Only successes: the event can only be written once the server has answered, and the capture
generator (like real servers) delays its answers to failed logins by 50 ms to 1.5 s, which would be
the server's time, not the sensor's. Its successful logins are answered at once, so for them this is
the time from the server's answer on the wire to the finding in the event log."""
import datetime, os, signal, sys, time

paths = sys.argv[1:]
lat = []
stop = False


def on_signal(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)
pos = {p: 0 for p in paths}
partial = {p: b"" for p in paths}


def new_lines(path):
    try:
        with open(path, "rb") as f:
            f.seek(pos[path])
            chunk = f.read()
    except FileNotFoundError:
        return []
    pos[path] += len(chunk)
    lines = (partial[path] + chunk).split(b"\n")
    partial[path] = lines.pop()
    return lines


while not stop:
    for path in paths:
        lines = new_lines(path)
        now = time.time()
        for line in lines:
            i = line.find(b'"timestamp":"')
            if i < 0 or b'"outcome":"success"' not in line:
                continue
            ts = line[i + 13:line.index(b'"', i + 13)].decode()
            t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
            lat.append((now - t) * 1000)
            if os.environ.get("LATENCY_DEBUG") and (now - t) > 0.5:
                print(f"{(now - t) * 1000:.0f} ms: {line[:400].decode(errors='replace')}", file=sys.stderr)
    time.sleep(0.002)
lat.sort()
if lat:
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print(f"{len(lat)} {pick(0.5):.1f} {pick(0.99):.1f} {lat[-1]:.1f}")
else:
    print("0 - - -")
