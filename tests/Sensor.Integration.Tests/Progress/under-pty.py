#!/usr/bin/env python3
"""Runs a command with its stderr on a real pseudo-terminal (pty(7)) and its stdout and stdin on
/dev/null, and prints, as one JSON object, its exit code and what it wrote to the terminal: each
chunk with the time (seconds since the start, monotonic) it arrived. The terminal is put in raw mode
so that the line discipline adds nothing (no CR before each LF): the chunks are the bytes written.

usage: under-pty.py COMMAND [ARG...]
"""
import json
import os
import subprocess
import sys
import time
import tty

master, slave = os.openpty()
tty.setraw(slave)
start = time.monotonic()
child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
chunks = []
while True:
    try:
        data = os.read(master, 65536)
    except OSError:  # EIO: every descriptor of the terminal's other side is closed
        break
    if not data:
        break
    chunks.append([time.monotonic() - start, data.decode("latin-1")])
code = child.wait()
json.dump({"exit": code, "seconds": time.monotonic() - start, "chunks": chunks}, sys.stdout)
