#!/usr/bin/env python3
"""Writes a SYN flood (or half-open flood) merged by time into a real capture.

usage: make-flood.py IN.pcap OUT.pcap COUNT [--half-open]

COUNT SYNs from distinct client endpoints (11.0.0.0/8, one address per SYN) to the mail servers of
IN.pcap, spread evenly over IN.pcap's time span, so the flood and the real sessions interleave. With
--half-open every SYN is answered by a SYN/ACK (the server side of a half-open connection). The real
packets are copied unchanged: the logins in IN.pcap's expected file stay the logins of OUT.pcap.
Classic little-endian microsecond pcap with Ethernet links, as capture-gen writes.
"""
import struct
import sys


def read_pcap(path):
    with open(path, 'rb') as f:
        header = f.read(24)
        magic, = struct.unpack('<I', header[:4])
        if magic != 0xa1b2c3d4:
            sys.exit(f'{path}: expected a little-endian microsecond pcap')
        records = []
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            sec, usec, incl, orig = struct.unpack('<IIII', h)
            records.append((sec * 1_000_000 + usec, f.read(incl), orig))
    return header, records


def servers_of(records):
    """(ip, port) of servers answering SYNs in the capture: where a flood would be aimed."""
    found = []
    for _, data, _ in records:
        if len(data) < 54 or data[12:14] != b'\x08\x00' or data[23] != 6:
            continue
        ihl = (data[14] & 0x0f) * 4
        flags = data[14 + ihl + 13]
        if flags & 0x12 == 0x12:  # SYN/ACK: the sender is a server
            key = (data[26:30], struct.unpack('>H', data[14 + ihl:14 + ihl + 2])[0])
            if key not in found:
                found.append(key)
    return found or [(bytes([10, 2, 0, 1]), 143)]


def frame(src, sport, dst, dport, seq, ack, flags):
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 40, 0, 0x4000, 64, 6, 0, src, dst)
    tcp = struct.pack('>HHIIBBHHH', sport, dport, seq, ack, 0x50, flags, 65535, 0, 0)
    return b'\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00' + ip + tcp


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    src_path, out_path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    half_open = '--half-open' in sys.argv[4:]
    header, records = read_pcap(src_path)
    servers = servers_of(records)
    start, end = records[0][0], records[-1][0]
    step = max((end - start) / max(count, 1), 0.001)
    written = 0
    with open(out_path, 'wb') as out:
        out.write(header)

        def put(t, data, orig):
            out.write(struct.pack('<IIII', t // 1_000_000, t % 1_000_000, len(data), orig))
            out.write(data)

        r = 0
        for i in range(count):
            t = start + int(i * step)
            while r < len(records) and records[r][0] <= t:
                put(*records[r])
                r += 1
            client = struct.pack('>I', 0x0B000000 | i)
            sport = 1024 + i % 60000
            server, port = servers[i % len(servers)]
            syn = frame(client, sport, server, port, (i * 7919) & 0xffffffff, 0, 0x02)
            put(t, syn, len(syn))
            written += 1
            if half_open:
                synack = frame(server, port, client, sport, (i * 104729) & 0xffffffff, (i * 7919 + 1) & 0xffffffff, 0x12)
                put(t, synack, len(synack))
                written += 1
        for rec in records[r:]:
            put(*rec)
    print(f'{out_path}: {count} {"half-open connections" if half_open else "SYNs"} ({written} packets) '
          f'to {len(servers)} servers merged into {len(records)} packets of {src_path}', file=sys.stderr)


if __name__ == '__main__':
    main()
