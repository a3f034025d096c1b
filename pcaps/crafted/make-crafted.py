#!/usr/bin/env python3
"""Deterministic generator of crafted POP3/IMAP test captures.

Run:  python3 make-crafted.py           (writes into the directory of this script)
      python3 make-crafted.py OUTDIR    (writes into OUTDIR)

Python 3.11 standard library only.  Every run produces byte-identical files:
timestamps are fixed (starting 2025-01-02T10:00:00Z), every random source is a
random.Random with a fixed seed, and nothing depends on the environment.

For every capture NAME the generator writes NAME.pcap (or NAME.pcapng) and
NAME.expected.jsonl: one JSON object per line, in event order, holding only the
fields that a test should compare against the sensor's output.
"""

import base64
import hashlib
import hmac
import json
import os
import random
import struct
import sys

# ---------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------

T0_NS = 1735812000 * 1_000_000_000  # 2025-01-02T10:00:00Z

DLT_NULL = 0
DLT_EN10MB = 1
DLT_RAW = 101
DLT_LINUX_SLL = 113
DLT_USER0 = 147
DLT_LINUX_SLL2 = 276

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
M32 = 0xFFFFFFFF

CLIENT_MAC = bytes.fromhex("020000000001")
SERVER_MAC = bytes.fromhex("020000000002")


# ---------------------------------------------------------------------------
# checksums, addresses
# ---------------------------------------------------------------------------

def csum16(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a: str) -> bytes:
    return bytes(int(x) for x in a.split("."))


def ip6(a: str) -> bytes:
    # minimal RFC 4291 text parser (enough for the literals used here)
    if "::" in a:
        head, tail = a.split("::")
        h = [x for x in head.split(":") if x]
        t = [x for x in tail.split(":") if x]
        groups = h + ["0"] * (8 - len(h) - len(t)) + t
    else:
        groups = a.split(":")
    assert len(groups) == 8
    return b"".join(struct.pack("!H", int(g, 16)) for g in groups)


# ---------------------------------------------------------------------------
# MD4 (hashlib's OpenSSL build usually lacks it; needed for NTLM)
# ---------------------------------------------------------------------------

def md4(msg: bytes) -> bytes:
    def rol(x, n):
        x &= M32
        return ((x << n) | (x >> (32 - n))) & M32

    ml = len(msg) * 8
    msg = msg + b"\x80" + b"\x00" * ((55 - len(msg)) % 64) + struct.pack("<Q", ml)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for off in range(0, len(msg), 64):
        X = struct.unpack("<16I", msg[off:off + 64])
        aa, bb, cc, dd = a, b, c, d
        F = lambda x, y, z: (x & y) | (~x & z)
        G = lambda x, y, z: (x & y) | (x & z) | (y & z)
        H = lambda x, y, z: x ^ y ^ z
        for i in range(16):
            k = i
            s = (3, 7, 11, 19)[i % 4]
            if i % 4 == 0:
                a = rol(a + F(b, c, d) + X[k], s)
            elif i % 4 == 1:
                d = rol(d + F(a, b, c) + X[k], s)
            elif i % 4 == 2:
                c = rol(c + F(d, a, b) + X[k], s)
            else:
                b = rol(b + F(c, d, a) + X[k], s)
        for i in range(16):
            k = (i % 4) * 4 + i // 4
            s = (3, 5, 9, 13)[i % 4]
            if i % 4 == 0:
                a = rol(a + G(b, c, d) + X[k] + 0x5A827999, s)
            elif i % 4 == 1:
                d = rol(d + G(a, b, c) + X[k] + 0x5A827999, s)
            elif i % 4 == 2:
                c = rol(c + G(d, a, b) + X[k] + 0x5A827999, s)
            else:
                b = rol(b + G(c, d, a) + X[k] + 0x5A827999, s)
        order = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)
        for i in range(16):
            k = order[i]
            s = (3, 9, 11, 15)[i % 4]
            if i % 4 == 0:
                a = rol(a + H(b, c, d) + X[k] + 0x6ED9EBA1, s)
            elif i % 4 == 1:
                d = rol(d + H(a, b, c) + X[k] + 0x6ED9EBA1, s)
            elif i % 4 == 2:
                c = rol(c + H(d, a, b) + X[k] + 0x6ED9EBA1, s)
            else:
                b = rol(b + H(c, d, a) + X[k] + 0x6ED9EBA1, s)
        a, b, c, d = (a + aa) & M32, (b + bb) & M32, (c + cc) & M32, (d + dd) & M32
    return struct.pack("<4I", a, b, c, d)


assert md4(b"").hex() == "31d6cfe0d16ae931b73c59d7e0c089c0"
assert md4(b"abc").hex() == "a448017aaf21d8525fc10ae87aa6729d"


# ---------------------------------------------------------------------------
# IP / TCP packet construction
# ---------------------------------------------------------------------------

def tcp_segment(src_ip: bytes, dst_ip: bytes, sport, dport, seq, ack, flags,
                payload=b"", window=64240, options=b"") -> bytes:
    assert len(options) % 4 == 0
    off = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & M32, ack & M32,
                      off << 4, flags, window, 0, 0) + options
    seg = hdr + payload
    if len(src_ip) == 4:
        pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 6, len(seg))
    else:
        pseudo = src_ip + dst_ip + struct.pack("!IxxxB", len(seg), 6)
    c = csum16(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def ipv4_packet(src: bytes, dst: bytes, proto: int, payload: bytes, ident: int, ttl=64) -> bytes:
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF,
                      0x4000, ttl, proto, 0, src, dst)
    c = csum16(hdr)
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def ipv6_packet(src: bytes, dst: bytes, nxt: int, payload: bytes, hlim=64) -> bytes:
    return struct.pack("!IHBB", 0x60000000, len(payload), nxt, hlim) + src + dst + payload


class Pkt:
    """A captured IP packet plus what the link-layer framer needs to know."""
    __slots__ = ("ts", "ip", "c2s", "v6")

    def __init__(self, ts, ip, c2s, v6):
        self.ts, self.ip, self.c2s, self.v6 = ts, ip, c2s, v6


# ---------------------------------------------------------------------------
# TCP conversation builder
# ---------------------------------------------------------------------------

class Conv:
    """Builds one TCP connection packet by packet with consistent seq/ack.

    Sequence numbers are tracked as absolute 32-bit values, so an ISN close to
    2^32 makes the stream wrap.  Every emitted packet advances the clock by
    `step_ns`.  `send()` can split the payload into arbitrary byte ranges and
    emit them in any order, repeated (duplicate), overlapping (retransmission
    covering old+new bytes) or not at all (gap): the sequence space always
    advances by the full payload, as if the capture point just missed or
    re-saw packets.
    """

    def __init__(self, cli, srv, cport, sport, t_ns=T0_NS, step_ns=1_000_000,
                 isn_c=0x1000, isn_s=0x8000, ipv6=False):
        self.v6 = ipv6
        self.cli_s, self.srv_s = cli, srv
        self.cli = ip6(cli) if ipv6 else ip4(cli)
        self.srv = ip6(srv) if ipv6 else ip4(srv)
        self.cport, self.sport = cport, sport
        self.t = t_ns
        self.step = step_ns
        self.seq = {True: isn_c & M32, False: isn_s & M32}  # next seq per sender (True=client)
        self.ipid = {True: 0x1000 + (cport & 0xFF), False: 0x4000 + (cport & 0xFF)}
        self.pkts = []
        self.events = []  # (ts, order, dict)

    # -- low level ----------------------------------------------------------
    def _emit(self, c2s, seq, flags, payload=b"", options=b"", ack=None, window=None):
        if ack is None:
            ack = self.seq[not c2s]
        ack_field = ack if flags & ACK else 0
        src, dst = (self.cli, self.srv) if c2s else (self.srv, self.cli)
        sp, dp = (self.cport, self.sport) if c2s else (self.sport, self.cport)
        win = window if window is not None else (64240 if c2s else 65160)
        seg = tcp_segment(src, dst, sp, dp, seq, ack_field, flags, payload, win, options)
        if self.v6:
            ip = ipv6_packet(src, dst, 6, seg)
        else:
            ip = ipv4_packet(src, dst, 6, seg, self.ipid[c2s])
            self.ipid[c2s] += 1
        self.pkts.append(Pkt(self.t, ip, c2s, self.v6))
        ts = self.t
        self.t += self.step
        return ts

    def wait(self, ns):
        self.t += ns

    # -- connection management ---------------------------------------------
    def handshake(self):
        mss = 1440 if self.v6 else 1460
        opts = struct.pack("!BBH", 2, 4, mss) + b"\x04\x02" + b"\x01\x01" + b"\x01\x03\x03\x07"
        self._emit(True, self.seq[True], SYN, options=opts, ack=0)
        self.seq[True] = (self.seq[True] + 1) & M32
        self._emit(False, self.seq[False], SYN | ACK, options=opts)
        self.seq[False] = (self.seq[False] + 1) & M32
        self._emit(True, self.seq[True], ACK)

    def ack(self, c2s):
        """Pure ACK from the given side."""
        return self._emit(c2s, self.seq[c2s], ACK)

    def send(self, c2s, data: bytes, ranges=None, fin=False, peer_ack=False):
        """Send `data` from client (c2s=True) or server.

        ranges: list of (start, end) byte ranges of `data`, emitted in list
        order.  Default: one segment with everything.  Returns the timestamp of
        the last emitted packet.
        """
        base = self.seq[c2s]
        if ranges is None:
            ranges = [(0, len(data))]
        ts = None
        for i, (a, b) in enumerate(ranges):
            flags = ACK | (PSH if b == len(data) else 0)
            last = i == len(ranges) - 1
            if fin and last and b == len(data):
                flags |= FIN
            ts = self._emit(c2s, (base + a) & M32, flags, data[a:b])
        self.seq[c2s] = (base + len(data) + (1 if fin else 0)) & M32
        if peer_ack:
            self.ack(not c2s)
        return ts

    def c(self, data, **kw):
        return self.send(True, data, **kw)

    def s(self, data, **kw):
        return self.send(False, data, **kw)

    def fin(self, c2s):
        ts = self._emit(c2s, self.seq[c2s], FIN | ACK)
        self.seq[c2s] = (self.seq[c2s] + 1) & M32
        return ts

    def close(self, client_first=True):
        """Orderly FIN / FIN-ACK / ACK close."""
        self.fin(client_first)
        self.fin(not client_first)
        self.ack(client_first)

    def rst(self, c2s):
        return self._emit(c2s, self.seq[c2s], RST | ACK)

    # -- expected events ----------------------------------------------------
    def _endpoints(self, proto):
        return {"src_ip": self.cli_s, "src_port": self.cport,
                "dest_ip": self.srv_s, "dest_port": self.sport, "app_proto": proto}

    def auth(self, ts, proto, mech, user, exposure, outcome, secret):
        ev = {"event_type": "auth"}
        ev.update(self._endpoints(proto))
        a = {"mechanism": mech}
        if user is not None:
            a["username"] = user
        if exposure is not None:
            a["exposure"] = exposure
        a["outcome"] = outcome
        if secret is not None:
            a["secret"] = secret
        ev["auth"] = a
        self.events.append((ts, len(self.events), ev))

    def starttls(self, ts, proto, outcome):
        ev = {"event_type": "starttls"}
        ev.update(self._endpoints(proto))
        ev["tls"] = {"outcome": outcome}
        self.events.append((ts, len(self.events), ev))


def chunks(n, size):
    """Byte ranges splitting n bytes into pieces of `size`."""
    return [(i, min(i + size, n)) for i in range(0, n, size)]


def merge(*convs):
    pkts = sorted((p for c in convs for p in c.pkts), key=lambda p: p.ts)
    evs = sorted((e for c in convs for e in c.events), key=lambda e: (e[0], e[1]))
    return pkts, [e[2] for e in evs]


# ---------------------------------------------------------------------------
# link-layer framing
# ---------------------------------------------------------------------------

def eth_frame(p: Pkt, vlans=()):
    """Ethernet II; vlans: sequence of (tpid, vid) outermost first."""
    dst, src = (SERVER_MAC, CLIENT_MAC) if p.c2s else (CLIENT_MAC, SERVER_MAC)
    hdr = dst + src
    for tpid, vid in vlans:
        hdr += struct.pack("!HH", tpid, vid & 0x0FFF)
    hdr += struct.pack("!H", 0x86DD if p.v6 else 0x0800)
    return hdr + p.ip


def sll_frame(p: Pkt):
    # capture taken on the client host: outgoing = 4, unicast to us = 0
    ptype = 4 if p.c2s else 0
    src = CLIENT_MAC if p.c2s else SERVER_MAC
    return struct.pack("!HHH8sH", ptype, 1, 6, src + b"\x00\x00",
                       0x86DD if p.v6 else 0x0800) + p.ip


def sll2_frame(p: Pkt):
    ptype = 4 if p.c2s else 0
    src = CLIENT_MAC if p.c2s else SERVER_MAC
    return struct.pack("!HHIHBB8s", 0x86DD if p.v6 else 0x0800, 0, 2, 1, ptype, 6,
                       src + b"\x00\x00") + p.ip


def null_frame(p: Pkt):
    # host byte order of the capturing machine == byte order of the pcap file (LE)
    return struct.pack("<I", 30 if p.v6 else 2) + p.ip


def raw_frame(p: Pkt):
    return p.ip


# ---------------------------------------------------------------------------
# file writers
# ---------------------------------------------------------------------------

def pcap_bytes(linktype, frames, nsec=False, snaplen=262144):
    magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
    out = [struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for ts, data in frames:
        sec, frac = divmod(ts, 1_000_000_000)
        if not nsec:
            frac //= 1000
        out.append(struct.pack("<IIII", sec, frac, len(data), len(data)) + data)
    return b"".join(out)


def _pad4(b):
    return b + b"\x00" * ((4 - len(b) % 4) % 4)


def _opt(code, val):
    return struct.pack("<HH", code, len(val)) + _pad4(val)


def _block(btype, body):
    total = 12 + len(body)
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def pcapng_bytes(linktype, frames, snaplen=262144):
    shb_opts = _opt(4, b"make-crafted.py") + _opt(0, b"")
    shb = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + shb_opts)
    idb_opts = _opt(2, b"eth0") + _opt(9, b"\x06") + _opt(0, b"")
    idb = _block(1, struct.pack("<HHI", linktype, 0, snaplen) + idb_opts)
    out = [shb, idb]
    for ts, data in frames:
        us = ts // 1000
        body = struct.pack("<IIIII", 0, us >> 32, us & M32, len(data), len(data)) + _pad4(data)
        out.append(_block(6, body))
    return b"".join(out)


# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------

OUTDIR = os.path.dirname(os.path.abspath(__file__))
WRITTEN = []


def write_capture(name, pkts, events, framer=eth_frame, linktype=DLT_EN10MB,
                  fmt="pcap", nsec=False, raw_bytes=None):
    ext = "pcapng" if fmt == "pcapng" else "pcap"
    if raw_bytes is None:
        frames = [(p.ts, framer(p)) for p in pkts]
        if fmt == "pcapng":
            raw_bytes = pcapng_bytes(linktype, frames)
        else:
            raw_bytes = pcap_bytes(linktype, frames, nsec=nsec)
    assert len(raw_bytes) < 20 * 1024, (name, len(raw_bytes))
    fn = os.path.join(OUTDIR, f"{name}.{ext}")
    with open(fn, "wb") as f:
        f.write(raw_bytes)
    with open(os.path.join(OUTDIR, f"{name}.expected.jsonl"), "w", newline="\n") as f:
        for ev in events:
            f.write(json.dumps(ev, ensure_ascii=False) + "\n")
    WRITTEN.append((f"{name}.{ext}", len(events)))


def write_single(name, conv, **kw):
    pkts, events = merge(conv)
    write_capture(name, pkts, events, **kw)


# ---------------------------------------------------------------------------
# protocol helpers
# ---------------------------------------------------------------------------

def b64(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.b64encode(b).decode()


def digest_md5_response(user, realm, pw, nonce, cnonce, nc, qop, uri):
    """RFC 2831 response= and rspauth= values."""
    hexmd5 = lambda b: hashlib.md5(b).hexdigest()
    a1 = hashlib.md5(f"{user}:{realm}:{pw}".encode()).digest() + f":{nonce}:{cnonce}".encode()
    ha1 = hexmd5(a1)
    kd = lambda a2: hexmd5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{hexmd5(a2.encode())}".encode())
    return kd("AUTHENTICATE:" + uri), kd(":" + uri)


def scram_proof(hfunc, password, salt, iters, client_first_bare, server_first, cfinal_wo_proof):
    """RFC 5802: returns (ClientProof b64, ServerSignature b64)."""
    name = hfunc().name
    authmsg = f"{client_first_bare},{server_first},{cfinal_wo_proof}".encode()
    sp = hashlib.pbkdf2_hmac(name, password, salt, iters)
    ck = hmac.new(sp, b"Client Key", hfunc).digest()
    csig = hmac.new(hfunc(ck).digest(), authmsg, hfunc).digest()
    skey = hmac.new(sp, b"Server Key", hfunc).digest()
    return (b64(bytes(x ^ y for x, y in zip(ck, csig))),
            b64(hmac.new(skey, authmsg, hfunc).digest()))


# RFC 2831 section 4 example and RFC 7677 section 3 example
assert digest_md5_response("chris", "elwood.innosoft.com", "secret", "OA6MG9tEQGm2hh",
                           "OA6MHXh6VqTrRk", "00000001", "auth",
                           "imap/elwood.innosoft.com") == (
    "d388dad90d4bbd760a152321f2143af7", "ea40f60335c427b5527b84dbabcdfffd")
assert scram_proof(hashlib.sha256, b"pencil", base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096,
                   "n=user,r=rOprNGfwEbeRWgbNEkqO",
                   "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                   "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                   "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0") == (
    "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")


CLI = "10.0.0.1"
SRV = "10.0.0.2"

IMAP_GREETING = (b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
                 b"LITERAL+ STARTTLS AUTH=PLAIN AUTH=LOGIN] Dovecot ready.\r\n")
IMAP_LOGGED_IN = b" OK [CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE SORT LITERAL+] Logged in\r\n"
IMAP_AUTH_FAILED = b" NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
POP3_GREETING = b"+OK Dovecot ready.\r\n"


def imap_logout(cv, tag=b"a9"):
    cv.c(tag + b" LOGOUT\r\n")
    cv.s(b"* BYE Logging out\r\n" + tag + b" OK Logout completed (0.001 + 0.000 secs).\r\n")
    cv.close(client_first=False)


def pop3_quit(cv):
    cv.c(b"QUIT\r\n")
    cv.s(b"+OK Logging out.\r\n")
    cv.close(client_first=False)


def imap_login_session(cv, user=b"alice", pw=b"secret", ok=True, short=False):
    """Handshake, greeting, LOGIN, tagged answer, LOGOUT, close. Records the event."""
    cv.handshake()
    cv.s(b"* OK IMAP4rev1 ready\r\n" if short else IMAP_GREETING)
    ts = cv.c(b"a1 LOGIN " + user + b" " + pw + b"\r\n")
    if short:
        cv.s(b"a1 OK Logged in\r\n" if ok else b"a1 NO Authentication failed\r\n")
    else:
        cv.s(b"a1" + (IMAP_LOGGED_IN if ok else IMAP_AUTH_FAILED))
    cv.auth(ts, "imap", "LOGIN", user.decode(), "cleartext",
            "success" if ok else "failure", pw.decode())
    imap_logout(cv, b"a2")
    return cv


def pop3_user_session(cv, user=b"alice", pw=b"secret", ok=True, short=False):
    cv.handshake()
    cv.s(b"+OK ready\r\n" if short else POP3_GREETING)
    cv.c(b"USER " + user + b"\r\n")
    cv.s(b"+OK\r\n")
    ts = cv.c(b"PASS " + pw + b"\r\n")
    cv.s(b"+OK Logged in.\r\n" if ok else b"-ERR [AUTH] Authentication failed.\r\n")
    cv.auth(ts, "pop3", "USER", user.decode(), "cleartext",
            "success" if ok else "failure", pw.decode())
    pop3_quit(cv)
    return cv


# ---------------------------------------------------------------------------
# captures: link layers and file formats
# ---------------------------------------------------------------------------

def gen_link_layers():
    write_single("link-ethernet-vlan", imap_login_session(Conv(CLI, SRV, 50101, 143)),
                 framer=lambda p: eth_frame(p, [(0x8100, 100)]))
    write_single("link-qinq", imap_login_session(Conv(CLI, SRV, 50102, 143)),
                 framer=lambda p: eth_frame(p, [(0x88A8, 200), (0x8100, 100)]))
    write_single("link-sll", imap_login_session(Conv(CLI, SRV, 50103, 143)),
                 framer=sll_frame, linktype=DLT_LINUX_SLL)
    write_single("link-sll2", imap_login_session(Conv(CLI, SRV, 50104, 143)),
                 framer=sll2_frame, linktype=DLT_LINUX_SLL2)
    write_single("link-null-bsd", imap_login_session(Conv(CLI, SRV, 50105, 143)),
                 framer=null_frame, linktype=DLT_NULL)
    write_single("link-raw-ip", imap_login_session(Conv(CLI, SRV, 50106, 143)),
                 framer=raw_frame, linktype=DLT_RAW)
    write_single("ipv6-ethernet",
                 imap_login_session(Conv("2001:db8::1", "2001:db8::2", 50107, 143, ipv6=True)))
    write_single("format-pcapng", imap_login_session(Conv(CLI, SRV, 50108, 143)), fmt="pcapng")
    cv = Conv(CLI, SRV, 50109, 143, step_ns=1_000_123)  # sub-microsecond parts in timestamps
    write_single("format-pcap-nanosecond", imap_login_session(cv), nsec=True)

    # truncated-file: complete POP3 USER/PASS/+OK, then the file is cut in the
    # middle of the data of a later packet record.
    cv = Conv(CLI, SRV, 50110, 110)
    cv.handshake()
    cv.s(POP3_GREETING)
    cv.c(b"USER alice\r\n")
    cv.s(b"+OK\r\n")
    ts = cv.c(b"PASS secret\r\n")
    cv.s(b"+OK Logged in.\r\n")
    cv.auth(ts, "pop3", "USER", "alice", "cleartext", "success", "secret")
    n_complete = len(cv.pkts)
    cv.c(b"STAT\r\n")
    cv.s(b"+OK 2 1234\r\n")
    pkts, events = merge(cv)
    full = pcap_bytes(DLT_EN10MB, [(p.ts, eth_frame(p)) for p in pkts])
    # offset of record n_complete (the STAT packet): 24 + sum(16 + len)
    off = 24 + sum(16 + len(eth_frame(p)) for p in pkts[:n_complete])
    stat_len = len(eth_frame(pkts[n_complete]))
    cut = off + 16 + stat_len // 2  # record header + half of the STAT frame
    write_capture("truncated-file", pkts, events, raw_bytes=full[:cut])

    # unknown-linktype: USER0 records whose bytes happen to be an Ethernet frame
    # carrying an IMAP LOGIN.  A sensor must not guess the encapsulation.
    cv = imap_login_session(Conv(CLI, SRV, 50111, 143))
    raw = pcap_bytes(DLT_USER0, [(p.ts, eth_frame(p)) for p in cv.pkts[:8]])
    write_capture("unknown-linktype", [], [], raw_bytes=raw)


# ---------------------------------------------------------------------------
# captures: TCP reassembly
# ---------------------------------------------------------------------------

def gen_tcp():
    # tcp-reordered: client LOGIN line in 3 segments delivered 3,1,2
    cv = Conv(CLI, SRV, 50201, 143)
    cv.handshake()
    cv.s(IMAP_GREETING)
    line = b"a1 LOGIN alice secret\r\n"
    ts = cv.c(line, ranges=[(16, 23), (0, 8), (8, 16)])
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "LOGIN", "alice", "cleartext", "success", "secret")
    imap_logout(cv, b"a2")
    write_single("tcp-reordered", cv)

    # tcp-overlap-retransmit: [0,10) [5,20) (retransmission of 5..9 + new bytes)
    # [20,35) [20,35) (duplicate) [30,end) (overlapping tail)
    cv = Conv(CLI, SRV, 50202, 143)
    cv.handshake()
    cv.s(IMAP_GREETING)
    line = b"a1 LOGIN alice.overlap s3cret-overlap\r\n"
    n = len(line)
    ts = cv.c(line, ranges=[(0, 10), (5, 20), (20, 35), (20, 35), (30, n)])
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "LOGIN", "alice.overlap", "cleartext", "success", "s3cret-overlap")
    imap_logout(cv, b"a2")
    write_single("tcp-overlap-retransmit", cv)

    # tcp-seq-wraparound: client ISN 0xFFFFFFF0, server ISN 0xFFFFFFC0 so both
    # directions cross 2^32 inside application data.
    cv = Conv(CLI, SRV, 50203, 143, isn_c=0xFFFFFFF0, isn_s=0xFFFFFFC0)
    cv.handshake()
    cv.s(IMAP_GREETING)  # server data starts at 0xFFFFFFC1 and wraps
    line = b"a1 LOGIN alice wraparound-pw\r\n"  # client data starts at 0xFFFFFFF1
    ts = cv.c(line, ranges=[(0, 10), (10, len(line))])  # 2nd segment spans the wrap
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "LOGIN", "alice", "cleartext", "success", "wraparound-pw")
    imap_logout(cv, b"a2")
    write_single("tcp-seq-wraparound", cv)

    # tcp-midstream: no handshake, no greeting
    cv = Conv(CLI, SRV, 50204, 143, isn_c=0x3A2B1C0D, isn_s=0x7E6F5A4B)
    ts = cv.c(b"a1 LOGIN alice secret\r\n")
    cv.s(b"a1 OK LOGIN completed\r\n")
    cv.auth(ts, "imap", "LOGIN", "alice", "cleartext", "success", "secret")
    cv.c(b"a2 SELECT INBOX\r\n")
    cv.s(b"* 0 EXISTS\r\n* 0 RECENT\r\na2 OK [READ-WRITE] SELECT completed\r\n")
    write_single("tcp-midstream", cv)

    # tcp-gap: POP3 login, RETR whose body misses one server segment (never
    # retransmitted), QUIT; then a second connection with a normal login.
    cv = Conv(CLI, SRV, 50205, 110)
    cv.handshake()
    cv.s(POP3_GREETING)
    cv.c(b"USER alice\r\n")
    cv.s(b"+OK\r\n")
    ts = cv.c(b"PASS secret\r\n")
    cv.s(b"+OK Logged in.\r\n")
    cv.auth(ts, "pop3", "USER", "alice", "cleartext", "success", "secret")
    cv.c(b"RETR 1\r\n")
    rng = random.Random(205)
    body_lines = [b"From: carol@example.com", b"To: alice@example.com",
                  b"Subject: gap test", b""]
    for i in range(60):
        body_lines.append(("line %02d " % i).encode() +
                          bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz ") for _ in range(40)))
    body = b"\r\n".join(body_lines) + b"\r\n"
    resp = b"+OK %d octets\r\n" % len(body) + body + b".\r\n"
    rngs = chunks(len(resp), 1000)
    del rngs[1]  # bytes 1000..1999 never captured
    cv.s(resp, ranges=rngs)
    pop3_quit(cv)
    cv2 = Conv(CLI, SRV, 50206, 110, t_ns=cv.t + 50_000_000)
    cv2.handshake()
    cv2.s(POP3_GREETING)
    cv2.c(b"USER bob\r\n")
    cv2.s(b"+OK\r\n")
    ts = cv2.c(b"PASS bobpass\r\n")
    cv2.s(b"+OK Logged in.\r\n")
    cv2.auth(ts, "pop3", "USER", "bob", "cleartext", "success", "bobpass")
    pop3_quit(cv2)
    write_capture("tcp-gap", *merge(cv, cv2))

    # tcp-rst-no-answer: LOGIN then the server resets the connection
    cv = Conv(CLI, SRV, 50207, 143)
    cv.handshake()
    cv.s(IMAP_GREETING)
    ts = cv.c(b"a1 LOGIN alice secret\r\n")
    cv.rst(False)
    cv.auth(ts, "imap", "LOGIN", "alice", "cleartext", "unknown", "secret")
    write_single("tcp-rst-no-answer", cv)

    # tcp-fin-before-answer: two connections.
    #  1) client sends LOGIN with FIN set (half-close); the server still answers
    #     a1 OK and then closes -> success (a FIN from one side ends nothing).
    #  2) client sends LOGIN; the server closes with FIN without answering,
    #     client FINs too -> unknown.
    cv = Conv(CLI, SRV, 50208, 143)
    cv.handshake()
    cv.s(IMAP_GREETING)
    ts = cv.c(b"a1 LOGIN alice secret\r\n", fin=True)
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "LOGIN", "alice", "cleartext", "success", "secret")
    cv.fin(False)
    cv.ack(True)
    cv2 = Conv(CLI, SRV, 50209, 143, t_ns=cv.t + 50_000_000)
    cv2.handshake()
    cv2.s(IMAP_GREETING)
    ts = cv2.c(b"a1 LOGIN bob bobpass\r\n")
    cv2.auth(ts, "imap", "LOGIN", "bob", "cleartext", "unknown", "bobpass")
    cv2.close(client_first=False)
    write_capture("tcp-fin-before-answer", *merge(cv, cv2))


# ---------------------------------------------------------------------------
# captures: IMAP
# ---------------------------------------------------------------------------

def imap_start(port, sport=143, mechs=None):
    cv = Conv(CLI, SRV, port, sport)
    cv.handshake()
    if mechs:
        cv.s(IMAP_GREETING.replace(b"AUTH=PLAIN AUTH=LOGIN",
                                   b" ".join(b"AUTH=" + m for m in mechs)))
    else:
        cv.s(IMAP_GREETING)
    return cv


def ntlm_messages(user, domain, password, workstation, server_challenge, client_challenge,
                  timestamp):
    """Build NTLMSSP NEGOTIATE / CHALLENGE / AUTHENTICATE (NTLMv2)."""
    sig = b"NTLMSSP\x00"
    f_neg = 0x00000001 | 0x00000004 | 0x00000200 | 0x00008000 | 0x00080000 | 0x20000000 | 0x80000000
    t1 = sig + struct.pack("<II", 1, f_neg) + struct.pack("<HHI", 0, 0, 0) * 2
    # type 2
    u16 = lambda s: s.encode("utf-16-le")
    tname = u16(domain)
    av = (struct.pack("<HH", 2, len(u16(domain))) + u16(domain) +
          struct.pack("<HH", 1, len(u16("MAIL"))) + u16("MAIL") +
          struct.pack("<HH", 4, len(u16("corp.example.com"))) + u16("corp.example.com") +
          struct.pack("<HH", 7, 8) + struct.pack("<Q", timestamp) +
          struct.pack("<HH", 0, 0))
    f_chal = f_neg | 0x00010000 | 0x00800000  # TARGET_TYPE_DOMAIN, TARGET_INFO
    hdr_len = 48
    t2 = (sig + struct.pack("<I", 2) +
          struct.pack("<HHI", len(tname), len(tname), hdr_len) +
          struct.pack("<I", f_chal) + server_challenge + b"\x00" * 8 +
          struct.pack("<HHI", len(av), len(av), hdr_len + len(tname)) + tname + av)
    # NTLMv2 responses
    nt_hash = md4(u16(password))
    key = hmac.new(nt_hash, u16(user.upper() + domain), hashlib.md5).digest()
    temp = (b"\x01\x01" + b"\x00" * 6 + struct.pack("<Q", timestamp) + client_challenge +
            b"\x00" * 4 + av + b"\x00" * 4)
    proof = hmac.new(key, server_challenge + temp, hashlib.md5).digest()
    nt_resp = proof + temp
    lm_resp = hmac.new(key, server_challenge + client_challenge, hashlib.md5).digest() + client_challenge
    dom, usr, ws = u16(domain), u16(user), u16(workstation)
    off = 64
    fields = []
    payload = b""
    for blob in (lm_resp, nt_resp, dom, usr, ws, b""):
        fields.append(struct.pack("<HHI", len(blob), len(blob), off + len(payload)))
        payload += blob
    t3 = (sig + struct.pack("<I", 3) + b"".join(fields[:5]) + fields[5] +
          struct.pack("<I", f_neg) + payload)
    assert len(sig + struct.pack("<I", 3) + b"".join(fields) + struct.pack("<I", 0)) == 64
    return t1, t2, t3, nt_resp.hex()


def gen_imap():
    # imap-literal-plus
    cv = imap_start(50301)
    ts = cv.c(b"a1 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n")
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "LOGIN", "alice", "cleartext", "success", "secret")
    imap_logout(cv, b"a2")
    write_single("imap-literal-plus", cv)

    # imap-literal-sync
    cv = imap_start(50302)
    cv.c(b"a1 LOGIN {5}\r\n")
    cv.s(b"+ OK\r\n")
    cv.c(b"alice {6}\r\n")
    cv.s(b"+ OK\r\n")
    ts = cv.c(b"secret\r\n")
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "LOGIN", "alice", "cleartext", "success", "secret")
    imap_logout(cv, b"a2")
    write_single("imap-literal-sync", cv)

    # imap-quoted-escapes
    cv = imap_start(50303)
    ts = cv.c(b'a1 LOGIN "al\\"ice" "pa\\\\ss"\r\n')
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "LOGIN", 'al"ice', "cleartext", "success", "pa\\ss")
    imap_logout(cv, b"a2")
    write_single("imap-quoted-escapes", cv)

    # imap-pipelined: two LOGINs in one segment, responses in one segment
    cv = imap_start(50304)
    ts = cv.c(b"a1 LOGIN alice wrongpass\r\na2 LOGIN alice secret\r\n")
    cv.s(b"a1" + IMAP_AUTH_FAILED + b"a2" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "LOGIN", "alice", "cleartext", "failure", "wrongpass")
    cv.auth(ts, "imap", "LOGIN", "alice", "cleartext", "success", "secret")
    imap_logout(cv, b"a3")
    write_single("imap-pipelined", cv)

    plain = b"\x00alice\x00secret"

    # imap-authenticate-plain-ir
    cv = imap_start(50305)
    ts = cv.c(b"a1 AUTHENTICATE PLAIN " + b64(plain).encode() + b"\r\n")
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "AUTH=PLAIN", "alice", "cleartext", "success", "secret")
    imap_logout(cv, b"a2")
    write_single("imap-authenticate-plain-ir", cv)

    # imap-authenticate-plain-continuation (with an authzid that differs)
    cv = imap_start(50306)
    cv.c(b"a1 AUTHENTICATE PLAIN\r\n")
    cv.s(b"+ \r\n")
    ts = cv.c(b64(b"\x00alice\x00s3cr3t plain").encode() + b"\r\n")
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "AUTH=PLAIN", "alice", "cleartext", "success", "s3cr3t plain")
    imap_logout(cv, b"a2")
    write_single("imap-authenticate-plain-continuation", cv)

    # imap-authenticate-login
    cv = imap_start(50307)
    cv.c(b"a1 AUTHENTICATE LOGIN\r\n")
    cv.s(b"+ " + b64("Username:").encode() + b"\r\n")
    cv.c(b64("alice").encode() + b"\r\n")
    cv.s(b"+ " + b64("Password:").encode() + b"\r\n")
    ts = cv.c(b64("secret").encode() + b"\r\n")
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "AUTH=LOGIN", "alice", "cleartext", "success", "secret")
    imap_logout(cv, b"a2")
    write_single("imap-authenticate-login", cv)

    xo = b"user=bob@example.com\x01auth=Bearer ya29.token\x01\x01"

    # imap-xoauth2
    cv = imap_start(50308, mechs=[b"PLAIN", b"XOAUTH2"])
    ts = cv.c(b"a1 AUTHENTICATE XOAUTH2 " + b64(xo).encode() + b"\r\n")
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "AUTH=XOAUTH2", "bob@example.com", "cleartext", "success", "ya29.token")
    imap_logout(cv, b"a2")
    write_single("imap-xoauth2", cv)

    # imap-xoauth2-failure
    cv = imap_start(50309, mechs=[b"PLAIN", b"XOAUTH2"])
    ts = cv.c(b"a1 AUTHENTICATE XOAUTH2 " + b64(xo).encode() + b"\r\n")
    err = b'{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}'
    cv.s(b"+ " + b64(err).encode() + b"\r\n")
    ts = cv.c(b"\r\n")
    cv.s(b"a1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n")
    cv.auth(ts, "imap", "AUTH=XOAUTH2", "bob@example.com", "cleartext", "failure", "ya29.token")
    imap_logout(cv, b"a2")
    write_single("imap-xoauth2-failure", cv)

    # imap-oauthbearer (RFC 7628)
    ob = b"n,a=bob@example.com,\x01host=mail.example.com\x01port=143\x01auth=Bearer tok\x01\x01"
    cv = imap_start(50310, mechs=[b"PLAIN", b"OAUTHBEARER"])
    ts = cv.c(b"a1 AUTHENTICATE OAUTHBEARER " + b64(ob).encode() + b"\r\n")
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "AUTH=OAUTHBEARER", "bob@example.com", "cleartext", "success", "tok")
    imap_logout(cv, b"a2")
    write_single("imap-oauthbearer", cv)

    # imap-cram-md5
    chal = b"<1896.697170952@mail.example.com>"
    digest = hmac.new(b"secret", chal, hashlib.md5).hexdigest()
    cv = imap_start(50311, mechs=[b"PLAIN", b"CRAM-MD5"])
    cv.c(b"a1 AUTHENTICATE CRAM-MD5\r\n")
    cv.s(b"+ " + b64(chal).encode() + b"\r\n")
    ts = cv.c(b64(b"alice " + digest.encode()).encode() + b"\r\n")
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "AUTH=CRAM-MD5", "alice", "hashed", "success", digest)
    imap_logout(cv, b"a2")
    write_single("imap-cram-md5", cv)

    # imap-digest-md5 (RFC 2831, qop=auth, real computation)
    user, realm, pw = "alice", "example.com", "secret"
    nonce, cnonce = "OA6MG9tEQGm2hh", "OA6MHXh6VqTrRk"
    uri, nc, qop = "imap/mail.example.com", "00000001", "auth"
    response, rspauth = digest_md5_response(user, realm, pw, nonce, cnonce, nc, qop, uri)
    challenge = (f'realm="{realm}",nonce="{nonce}",qop="auth",charset=utf-8,'
                 f'algorithm=md5-sess').encode()
    dresp = (f'charset=utf-8,username="{user}",realm="{realm}",nonce="{nonce}",nc={nc},'
             f'cnonce="{cnonce}",digest-uri="{uri}",response={response},qop={qop}').encode()
    cv = imap_start(50312, mechs=[b"PLAIN", b"DIGEST-MD5"])
    cv.c(b"a1 AUTHENTICATE DIGEST-MD5\r\n")
    cv.s(b"+ " + b64(challenge).encode() + b"\r\n")
    ts = cv.c(b64(dresp).encode() + b"\r\n")
    cv.s(b"+ " + b64("rspauth=" + rspauth).encode() + b"\r\n")
    cv.c(b"\r\n")
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "AUTH=DIGEST-MD5", "alice", "hashed", "success", response)
    imap_logout(cv, b"a2")
    write_single("imap-digest-md5", cv)

    # imap-scram-sha-256 (RFC 5802 / 7677, real computation)
    rng = random.Random(313)
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    cnonce = "".join(rng.choice(alnum) for _ in range(24))
    snonce = cnonce + "".join(rng.choice(alnum) for _ in range(24))
    salt = bytes(rng.getrandbits(8) for _ in range(16))
    iters = 4096
    cfb = f"n=carol,r={cnonce}"
    sfirst = f"r={snonce},s={b64(salt)},i={iters}"
    cfwp = f"c=biws,r={snonce}"
    proof, ssig = scram_proof(hashlib.sha256, b"carolpass", salt, iters, cfb, sfirst, cfwp)
    cv = imap_start(50313, mechs=[b"PLAIN", b"SCRAM-SHA-256"])
    cv.c(b"a1 AUTHENTICATE SCRAM-SHA-256 " + b64("n,," + cfb).encode() + b"\r\n")
    cv.s(b"+ " + b64(sfirst).encode() + b"\r\n")
    ts = cv.c(b64(f"{cfwp},p={proof}").encode() + b"\r\n")
    cv.s(b"+ " + b64(f"v={ssig}").encode() + b"\r\n")
    cv.c(b"\r\n")
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "AUTH=SCRAM-SHA-256", "carol", "hashed", "success", proof)
    imap_logout(cv, b"a2")
    write_single("imap-scram-sha-256", cv)

    # imap-ntlm
    t1, t2, t3, nt_hex = ntlm_messages("dave", "CORP", "davepass", "WS01",
                                       bytes.fromhex("0123456789abcdef"),
                                       bytes.fromhex("aabbccddeeff0011"),
                                       (1735812000 + 11644473600) * 10_000_000)  # 2025-01-02T10:00:00Z as FILETIME
    cv = imap_start(50314, mechs=[b"PLAIN", b"NTLM"])
    cv.c(b"a1 AUTHENTICATE NTLM\r\n")
    cv.s(b"+ \r\n")
    cv.c(b64(t1).encode() + b"\r\n")
    cv.s(b"+ " + b64(t2).encode() + b"\r\n")
    ts = cv.c(b64(t3).encode() + b"\r\n")
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "AUTH=NTLM", "CORP\\dave", "hashed", "success", nt_hex)
    imap_logout(cv, b"a2")
    write_single("imap-ntlm", cv)

    # imap-authenticate-cancelled: AUTH=LOGIN, username given, "*" at the
    # password prompt, tagged BAD.  No secret ever crossed, so only
    # mechanism/username/outcome are compared.
    cv = imap_start(50315)
    cv.c(b"a1 AUTHENTICATE LOGIN\r\n")
    cv.s(b"+ " + b64("Username:").encode() + b"\r\n")
    cv.c(b64("alice").encode() + b"\r\n")
    cv.s(b"+ " + b64("Password:").encode() + b"\r\n")
    ts = cv.c(b"*\r\n")
    cv.s(b"a1 BAD Authentication aborted by client.\r\n")
    cv.auth(ts, "imap", "AUTH=LOGIN", "alice", None, "failure", None)
    imap_logout(cv, b"a2")
    write_single("imap-authenticate-cancelled", cv)

    # imap-append-literal-with-login-lines: APPEND literal body full of
    # command-looking lines, split so that segment boundaries fall at the start
    # of fake lines; then the real LOGIN.
    msg = (b"From: mallory@example.com\r\n"
           b"Subject: literal trap {10}\r\n"
           b"\r\n"
           b"a2 LOGIN fake pass\r\n"
           b"a2 LOGIN {4}\r\n"
           b"fake {10}\r\n"
           b"a2 LOGIN \"fake\" \"pass\"\r\n"
           b"a2 OK LOGIN completed\r\n"
           b"* OK fake\r\n"
           b"a2 AUTHENTICATE PLAIN " + b64(b"\x00fake\x00pass").encode() + b"\r\n"
           b"this line ends with a literal marker {10}\r\n"
           b"and so does this one {10+}\r\n")
    cv = imap_start(50316)
    cv.c(b"a1 APPEND INBOX (\\Seen) {%d}\r\n" % len(msg))
    cv.s(b"+ OK\r\n")
    cut1 = msg.index(b"a2 LOGIN fake")
    cut2 = msg.index(b"a2 LOGIN \"fake\"")
    cut3 = msg.index(b"a2 AUTHENTICATE")
    tail = msg + b"\r\n"
    cv.c(tail, ranges=[(0, cut1), (cut1, cut2), (cut2, cut3), (cut3, len(tail))])
    cv.s(b"a1 OK [APPENDUID 1700000000 1] Append completed.\r\n")
    ts = cv.c(b"a3 LOGIN alice secret\r\n")
    cv.s(b"a3" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "LOGIN", "alice", "cleartext", "success", "secret")
    imap_logout(cv, b"a4")
    write_single("imap-append-literal-with-login-lines", cv)

    # imap-fetch-literal-body
    cv = imap_start(50317)
    ts = cv.c(b"a1 LOGIN alice secret\r\n")
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "LOGIN", "alice", "cleartext", "success", "secret")
    cv.c(b"a2 SELECT INBOX\r\n")
    cv.s(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* 1 EXISTS\r\n"
         b"* 0 RECENT\r\na2 OK [READ-WRITE] Select completed.\r\n")
    cv.c(b"a3 FETCH 1 BODY[]\r\n")
    body = (b"From: mallory@example.com\r\n"
            b"Subject: fetch trap\r\n"
            b"\r\n"
            b"a3 OK Fetch completed.\r\n"
            b"* OK [ALERT] fake\r\n"
            b"a3 NO fake\r\n"
            b"a4 LOGIN bob hunter2\r\n"
            b"a4 OK Logged in\r\n"
            b"+ \r\n"
            b"* BYE fake\r\n")
    resp = b"* 1 FETCH (BODY[] {%d}\r\n" % len(body) + body + b")\r\na3 OK Fetch completed.\r\n"
    cv.s(resp, ranges=[(0, resp.index(b"a3 OK")), (resp.index(b"a3 OK"), len(resp))])
    imap_logout(cv, b"a4")
    write_single("imap-fetch-literal-body", cv)

    # imap-starttls-then-tls-garbage
    rng = random.Random(318)
    cv = imap_start(50318)
    cv.c(b"a1 STARTTLS\r\n")
    ts = cv.s(b"a1 OK Begin TLS negotiation now.\r\n")
    cv.starttls(ts, "imap", "success")
    cg = (b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03" + rng.randbytes(60) +
          b"\r\na1 LOGIN x y\r\n" + rng.randbytes(80) + b"\r\nUSER x\r\nPASS y\r\n" +
          rng.randbytes(40))
    cv.c(cg)
    cv.s(b"\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03" + rng.randbytes(50) +
         b"\r\na1 OK Logged in\r\n" + rng.randbytes(100))
    cv.c(b"\x17\x03\x03\x00\x40" + rng.randbytes(30) + b"\r\na2 LOGIN x y\r\n" + rng.randbytes(20))
    cv.s(b"\x17\x03\x03\x00\x30" + rng.randbytes(20) + b"\r\na2 OK done\r\n" + rng.randbytes(20))
    cv.close()
    write_single("imap-starttls-then-tls-garbage", cv)

    # imap-starttls-refused
    cv = imap_start(50319)
    cv.c(b"a1 STARTTLS\r\n")
    ts = cv.s(b"a1 NO [UNAVAILABLE] TLS support isn't enabled.\r\n")
    cv.starttls(ts, "imap", "failure")
    ts = cv.c(b"a2 LOGIN alice secret\r\n")
    cv.s(b"a2" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "LOGIN", "alice", "cleartext", "success", "secret")
    imap_logout(cv, b"a3")
    write_single("imap-starttls-refused", cv)

    # imap-on-port-8143
    write_single("imap-on-port-8143", imap_login_session(Conv(CLI, SRV, 50320, 8143)))

    # imap-midstream-unusual-port: one-directional (client-only) mid-stream
    cv = Conv(CLI, SRV, 50321, 9143, isn_c=0x11223344, isn_s=0x55667788)
    cv.c(b"a1 CAPABILITY\r\n")
    cv.wait(20_000_000)
    ts = cv.c(b"a2 LOGIN alice secret\r\n")
    cv.wait(20_000_000)
    cv.c(b"a3 SELECT INBOX\r\n")
    # No event: mid-connection, the a2 line might sit in an APPEND literal begun before the
    # capture, and no server answer proves it a command (README: loss never invents a login).
    write_single("imap-midstream-unusual-port", cv)


# ---------------------------------------------------------------------------
# captures: POP3
# ---------------------------------------------------------------------------

def pop3_start(port, sport=110, greeting=POP3_GREETING):
    cv = Conv(CLI, SRV, port, sport)
    cv.handshake()
    cv.s(greeting)
    return cv


def gen_pop3():
    write_single("pop3-user-pass", pop3_user_session(Conv(CLI, SRV, 50401, 110)))

    # pop3-apop (RFC 1939 example values)
    ts_banner = b"<1896.697170952@dbc.mtview.ca.us>"
    digest = hashlib.md5(ts_banner + b"tanstaaf").hexdigest()
    assert digest == "c4c9334bac560ecc979e58001b3e22fb"
    cv = pop3_start(50402, greeting=b"+OK POP3 server ready " + ts_banner + b"\r\n")
    ts = cv.c(b"APOP mrose " + digest.encode() + b"\r\n")
    cv.s(b"+OK mrose's maildrop has 2 messages (320 octets)\r\n")
    cv.auth(ts, "pop3", "APOP", "mrose", "hashed", "success", digest)
    pop3_quit(cv)
    write_single("pop3-apop", cv)

    # pop3-auth-plain-ir
    cv = pop3_start(50403)
    ts = cv.c(b"AUTH PLAIN " + b64(b"\x00alice\x00secret").encode() + b"\r\n")
    cv.s(b"+OK Logged in.\r\n")
    cv.auth(ts, "pop3", "AUTH=PLAIN", "alice", "cleartext", "success", "secret")
    pop3_quit(cv)
    write_single("pop3-auth-plain-ir", cv)

    # pop3-auth-plain-continuation
    cv = pop3_start(50404)
    cv.c(b"AUTH PLAIN\r\n")
    cv.s(b"+ \r\n")
    ts = cv.c(b64(b"\x00alice\x00secret").encode() + b"\r\n")
    cv.s(b"+OK Logged in.\r\n")
    cv.auth(ts, "pop3", "AUTH=PLAIN", "alice", "cleartext", "success", "secret")
    pop3_quit(cv)
    write_single("pop3-auth-plain-continuation", cv)

    # pop3-auth-login
    cv = pop3_start(50405)
    cv.c(b"AUTH LOGIN\r\n")
    cv.s(b"+ " + b64("Username:").encode() + b"\r\n")
    cv.c(b64("alice").encode() + b"\r\n")
    cv.s(b"+ " + b64("Password:").encode() + b"\r\n")
    ts = cv.c(b64("secret").encode() + b"\r\n")
    cv.s(b"+OK Logged in.\r\n")
    cv.auth(ts, "pop3", "AUTH=LOGIN", "alice", "cleartext", "success", "secret")
    pop3_quit(cv)
    write_single("pop3-auth-login", cv)

    # pop3-auth-cram-md5 (failure: wrong password)
    chal = b"<4711.1735812000@pop.example.com>"
    digest = hmac.new(b"wrongpass", chal, hashlib.md5).hexdigest()
    cv = pop3_start(50406)
    cv.c(b"AUTH CRAM-MD5\r\n")
    cv.s(b"+ " + b64(chal).encode() + b"\r\n")
    ts = cv.c(b64(b"alice " + digest.encode()).encode() + b"\r\n")
    cv.s(b"-ERR [AUTH] Authentication failed.\r\n")
    cv.auth(ts, "pop3", "AUTH=CRAM-MD5", "alice", "hashed", "failure", digest)
    pop3_quit(cv)
    write_single("pop3-auth-cram-md5", cv)

    # pop3-pipelined
    cv = pop3_start(50407)
    ts = cv.c(b"USER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nQUIT\r\n")
    cv.s(b"+OK\r\n+OK Logged in.\r\n+OK 2 320\r\n+OK 2 messages:\r\n1 120\r\n2 200\r\n.\r\n"
         b"+OK Logging out.\r\n")
    cv.auth(ts, "pop3", "USER", "alice", "cleartext", "success", "secret")
    cv.close(client_first=False)
    write_single("pop3-pipelined", cv)

    # pop3-retr-with-login-lines
    cv = pop3_start(50408)
    cv.c(b"USER alice\r\n")
    cv.s(b"+OK\r\n")
    ts = cv.c(b"PASS secret\r\n")
    cv.s(b"+OK Logged in.\r\n")
    cv.auth(ts, "pop3", "USER", "alice", "cleartext", "success", "secret")
    cv.c(b"RETR 1\r\n")
    body = (b"From: mallory@example.com\r\n"
            b"Subject: retr trap\r\n"
            b"\r\n"
            b"..\r\n"
            b"..USER stuffed\r\n"
            b"USER victim\r\n"
            b"PASS hunter2\r\n"
            b"+OK\r\n"
            b"-ERR\r\n"
            b"AUTH PLAIN " + b64(b"\x00victim\x00hunter2").encode() + b"\r\n"
            b"APOP victim c4c9334bac560ecc979e58001b3e22fb\r\n"
            b".. \r\n")
    resp = b"+OK %d octets\r\n" % len(body) + body + b".\r\n"
    i = resp.index(b"USER victim")
    cv.s(resp, ranges=[(0, i), (i, len(resp))])
    pop3_quit(cv)
    write_single("pop3-retr-with-login-lines", cv)

    # pop3-stls
    rng = random.Random(409)
    cv = pop3_start(50409)
    cv.c(b"STLS\r\n")
    ts = cv.s(b"+OK Begin TLS negotiation\r\n")
    cv.starttls(ts, "pop3", "success")
    cv.c(b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03" + rng.randbytes(60) +
         b"\r\nUSER x\r\nPASS y\r\n" + rng.randbytes(60))
    cv.s(b"\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03" + rng.randbytes(50) +
         b"\r\n+OK Logged in.\r\n" + rng.randbytes(50))
    cv.close()
    write_single("pop3-stls", cv)

    # pop3-on-port-1110
    write_single("pop3-on-port-1110", pop3_user_session(Conv(CLI, SRV, 50410, 1110)))


# ---------------------------------------------------------------------------
# captures: negative / noise / many flows
# ---------------------------------------------------------------------------

def garbage(name, port, seed):
    rng = random.Random(seed)
    cv = Conv(CLI, SRV, 50500 + seed % 100, port)
    cv.handshake()
    for i in range(6):
        cv.send(i % 2 == 1, rng.randbytes(rng.randint(20, 300)))
    cv.close()
    write_single(name, cv)


def gen_misc():
    garbage("garbage-on-port-143", 143, 501)
    garbage("garbage-on-port-110", 110, 502)

    # non-mail-http-port-80
    cv = Conv(CLI, SRV, 50503, 80)
    cv.handshake()
    body = b"USER bob\r\nPASS x\r\na1 LOGIN bob x\r\n"
    cv.c(b"POST /upload HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8.5.0\r\n"
         b"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    cv.s(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body)
         + body)
    cv.close()
    write_single("non-mail-http-port-80", cv)

    # many-flows-interleaved: 20 connections with shuffled start times
    # (9.1 ms apart) and slightly different per-flow packet spacing, so packets
    # and events of POP3 and IMAP flows interleave; all timestamps distinct.
    rng = random.Random(504)
    fails = set(rng.sample(range(20), 10))
    starts = list(range(20))
    rng.shuffle(starts)
    convs = []
    for i in range(20):
        cli = "10.0.1.%d" % (i + 1)
        imap = i % 2 == 0
        srv = "10.0.0.2" if imap else "10.0.0.3"
        cv = Conv(cli, srv, 40000 + i * 7, 143 if imap else 110,
                  t_ns=T0_NS + starts[i] * 9_100_000, step_ns=20_000_000 + i * 131_000,
                  isn_c=rng.getrandbits(32), isn_s=rng.getrandbits(32))
        user = ("user%02d" % i).encode()
        pw = ("pw-%02d-%s" % (i, rng.choice(["x", "y", "z"]))).encode()
        if imap:
            imap_login_session(cv, user, pw, ok=i not in fails, short=True)
        else:
            pop3_user_session(cv, user, pw, ok=i not in fails, short=True)
        convs.append(cv)
    pkts, events = merge(*convs)
    assert len({p.ts for p in pkts}) == len(pkts)
    write_capture("many-flows-interleaved", pkts, events)


# ---------------------------------------------------------------------------
# captures: hostile text on the wire (it must stay data in every output)
# ---------------------------------------------------------------------------

# A username that holds a line break and then a whole forged finding line, as the text output
# prints one: an output that does not escape it shows two logins, one of them root's.
FORGED_LINE = ("alice\r\n2025-01-02T10:00:00.000000Z  IMAP  login  LOGIN          cleartext  success  "
               "user=root  10.6.6.6:4444 -> 10.0.0.2:143  secret=[redacted]")
# Clear the screen, home the cursor, set the window title, ring the bell; DEL; a C1 CSI.
ESCAPES = "\x1b[2J\x1b[H\x1b]0;owned\x07\x7f\u009b31mroot"
# Right-to-left override, isolates, line and paragraph separators, a zero-width space.
BIDI = "\u202eadmin\u202c\u2066x\u2069\u2028y\u2029\u200b"
# Spaces and what looks like the line's own fields.
FAKE_FIELDS = "bob  user=root  secret=[redacted]"


def imap_at(port, t_ns):
    cv = Conv(CLI, SRV, port, 143, t_ns=t_ns)
    cv.handshake()
    cv.s(IMAP_GREETING)
    return cv


def gen_hostile():
    # hostile-usernames: four logins whose usernames attack a text output
    convs = []
    cv = imap_start(50601)
    user = FORGED_LINE.encode()
    ts = cv.c(b"a1 LOGIN {%d+}\r\n" % len(user) + user + b" {7+}\r\nhunter2\r\n")
    cv.s(b"a1" + IMAP_AUTH_FAILED)
    cv.auth(ts, "imap", "LOGIN", FORGED_LINE, "cleartext", "failure", "hunter2")
    imap_logout(cv, b"a2")
    convs.append(cv)

    cv = imap_at(50602, T0_NS + 100_000_000)
    user = ESCAPES.encode()
    ts = cv.c(b"a1 LOGIN {%d+}\r\n" % len(user) + user + b" {7+}\r\nletmein\r\n")
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "LOGIN", ESCAPES, "cleartext", "success", "letmein")
    imap_logout(cv, b"a2")
    convs.append(cv)

    cv = Conv(CLI, SRV, 50603, 110, t_ns=T0_NS + 200_000_000)
    cv.handshake()
    cv.s(POP3_GREETING)
    cv.c(b"USER " + BIDI.encode() + b"\r\n")
    cv.s(b"+OK\r\n")
    ts = cv.c(b"PASS pw\r\n")
    cv.s(b"-ERR [AUTH] Authentication failed.\r\n")
    cv.auth(ts, "pop3", "USER", BIDI, "cleartext", "failure", "pw")
    pop3_quit(cv)
    convs.append(cv)

    cv = imap_at(50604, T0_NS + 300_000_000)
    ts = cv.c(b'a1 LOGIN "' + FAKE_FIELDS.encode() + b'" "pw"\r\n')
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "LOGIN", FAKE_FIELDS, "cleartext", "success", "pw")
    imap_logout(cv, b"a2")
    convs.append(cv)

    pkts, events = merge(*convs)
    write_capture("hostile-usernames", pkts, events)

    # imap-authenticate-hostile-mechanism: an escape sequence in the SASL mechanism name
    cv = imap_start(50605)
    cv.c(b"a1 AUTHENTICATE X-EVIL\x1b[31m\r\n")
    cv.s(b"+ \r\n")
    ts = cv.c(b64(b"test").encode() + b"\r\n")
    cv.s(b"a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
    cv.events.append((ts, 0, {"event_type": "auth", **cv._endpoints("imap"),
                              "auth": {"mechanism": "AUTH=X-EVIL\x1b[31M", "outcome": "failure"}}))
    imap_logout(cv, b"a2")
    write_single("imap-authenticate-hostile-mechanism", cv)


# Usernames and a mechanism that attack an HTML output (the report of `sensor read --report`): each
# would open an element, run script or leave an attribute if written into a page unescaped.
HTML_SCRIPT = "<script>window.pwned=1</script>"
HTML_ATTRIBUTE = "\"><img src=x onerror=\"window.pwned=2\">"
HTML_ENTITIES = "O'Brien & <b>Co</b> &amp; '\"`"
HTML_MECHANISM = b"X-<SVG/ONLOAD=WINDOW.PWNED=3>"


def gen_html_hostile():
    # html-hostile-usernames: three logins whose usernames are HTML
    convs = []
    cv = imap_at(50611, T0_NS)
    user = HTML_SCRIPT.encode()
    ts = cv.c(b"a1 LOGIN {%d+}\r\n" % len(user) + user + b" {15+}\r\nreport-secret-1\r\n")
    cv.s(b"a1" + IMAP_LOGGED_IN)
    cv.auth(ts, "imap", "LOGIN", HTML_SCRIPT, "cleartext", "success", "report-secret-1")
    imap_logout(cv, b"a2")
    convs.append(cv)

    cv = imap_at(50612, T0_NS + 100_000_000)
    user = HTML_ATTRIBUTE.encode()
    ts = cv.c(b"a1 LOGIN {%d+}\r\n" % len(user) + user + b" {15+}\r\nreport-secret-2\r\n")
    cv.s(b"a1" + IMAP_AUTH_FAILED)
    cv.auth(ts, "imap", "LOGIN", HTML_ATTRIBUTE, "cleartext", "failure", "report-secret-2")
    imap_logout(cv, b"a2")
    convs.append(cv)

    cv = Conv(CLI, SRV, 50613, 110, t_ns=T0_NS + 200_000_000)
    cv.handshake()
    cv.s(POP3_GREETING)
    cv.c(b"USER " + HTML_ENTITIES.encode() + b"\r\n")
    cv.s(b"+OK\r\n")
    ts = cv.c(b"PASS report-secret-3\r\n")
    cv.s(b"-ERR [AUTH] Authentication failed.\r\n")
    cv.auth(ts, "pop3", "USER", HTML_ENTITIES, "cleartext", "failure", "report-secret-3")
    pop3_quit(cv)
    convs.append(cv)

    pkts, events = merge(*convs)
    write_capture("html-hostile-usernames", pkts, events)

    # html-hostile-mechanism: a SASL mechanism name that is an SVG element with an onload handler
    # (a capture of its own, as imap-authenticate-hostile-mechanism: only mechanism and outcome are compared)
    cv = imap_start(50614)
    cv.c(b"a1 AUTHENTICATE " + HTML_MECHANISM + b"\r\n")
    cv.s(b"+ \r\n")
    ts = cv.c(b64(b"report-secret-4").encode() + b"\r\n")
    cv.s(b"a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
    cv.events.append((ts, 0, {"event_type": "auth", **cv._endpoints("imap"),
                              "auth": {"mechanism": "AUTH=" + HTML_MECHANISM.decode(), "outcome": "failure"}}))
    imap_logout(cv, b"a2")
    write_single("html-hostile-mechanism", cv)


def main():
    global OUTDIR
    if len(sys.argv) > 1:
        OUTDIR = os.path.abspath(sys.argv[1])
    os.makedirs(OUTDIR, exist_ok=True)
    gen_link_layers()
    gen_tcp()
    gen_imap()
    gen_pop3()
    gen_misc()
    gen_hostile()
    gen_html_hostile()
    for fn, n in WRITTEN:
        print("%-48s %d event(s)" % (fn, n))


if __name__ == "__main__":
    main()
