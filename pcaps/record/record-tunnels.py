#!/usr/bin/env python3
"""Records real Dovecot + real clients behind tunnels, encapsulations and IP fragments (pcaps/tunnels/).

    sudo /usr/bin/python3 pcaps/record/record-tunnels.py record [NAME...]  records (all, or the named ones)
    sudo /usr/bin/python3 pcaps/record/record-tunnels.py refragment [NAME...]  re-derives the fragment captures
    /usr/bin/python3 pcaps/record/record-tunnels.py expected      rewrites expected files + MANIFEST.md only
    /usr/bin/python3 pcaps/record/record-tunnels.py third-party   rewrites pcaps/third-party/tunnels/*.connections.jsonl

Needs (recording only; `make test` reads only the committed captures): root, iproute2 with veth and
vxlan, tc with u32 + mirred, /dev/net/tun, ethtool (offloads off: no TSO super-packets, real
checksums), tcpdump, tshark 4.0 (checks every capture with an independent decoder),
dovecot-imapd/-pop3d 2.3, curl, openssl, and Debian's python3 with python3-scapy (apt-get install
python3-scapy ethtool; hence /usr/bin/python3, not a pyenv one), whose imaplib/poplib are the
clients. All traffic runs inside network namespaces this
script creates (`tcap-*`, deleted afterwards) with documentation addresses (192.0.2.0/24,
2001:db8::/32 outer; 10.0.0.0/24, fd00::/64 inner): nothing reaches the host's interfaces.

How each capture is made (one capture = one fresh set of namespaces):

* Server: a private Dovecot 2.3 instance per tenant (own base_dir, passwd-file with {PLAIN}
  passwords, `auth_mechanisms = plain login`, `disable_plaintext_auth = no`, `ssl = yes` with a
  fresh self-signed certificate for STARTTLS/STLS) listening on every address of the server
  namespace, IMAP 143 and POP3 110.  Clients: Python imaplib/poplib and curl, run inside the client
  namespace (`ip netns exec`).  The client source port is bound where the expected file says so.
* Kernel VXLAN (`ip link add type vxlan`): client and server namespaces joined by a veth
  underlay; the VXLAN devices carry the inner 10.0.0.1 <-> 10.0.0.2; tcpdump on the client's
  underlay veth.  Variants: VNI 42 on 4789, VNI 43 on 8472, IPv6 underlay, two tenants (VNI 100
  and 200, same inner addresses and the same client source port, at the same time: VXLAN devices
  made in the underlay namespaces and moved into per-tenant namespaces), an underlay with MTU 576
  (IPv4, `df unset`) or 1280 (IPv6) below a VXLAN MTU of 1500 so the kernel fragments the outer
  packets, and a cloud mirror: client and server on a plain veth, the server side mirrored with
  `tc ... clsact` + `u32 match u32 0 0 action mirred egress mirror dev vxm` (this kernel has no
  matchall classifier) into a VXLAN device (VNI 7, port 4789) towards a collector namespace; the
  capture is the collector's underlay, as AWS VPC Traffic Mirroring delivers it.
* Userspace tunnel endpoint (`endpoint` subcommand of this script): this kernel has no GRE,
  GENEVE, ipip/sit, ERSPAN or 802.1Q devices, so one endpoint per side reads the inner packets
  from a TUN (L3 payloads) or TAP (Ethernet payloads) device in its namespace, wraps them and
  writes them with AF_PACKET onto an address-less veth underlay; the peer unwraps and writes them
  into its TUN/TAP.  Real TCP between real Dovecot and real clients runs through it; tcpdump on
  the client's underlay records the encapsulated frames.  Modes: GRE (key+seq, IPv4 payload),
  GRE over IPv6, gretap (0x6558), ERSPAN type I (GRE 0x88BE, no ERSPAN header), II (0x88BE with
  sequence) and III (0x22EB; with and without the platform subheader), GENEVE (UDP 6081,
  without and with AWS-GWLB-style options), IPv4-in-IPv4 (4), IPv6-in-IPv4 (41), IPv4-in-IPv6,
  MPLS (1, 2 and 3 labels; IPv4 and IPv6 by
  version nibble; an Ethernet pseudowire with control word), PPPoE session, 802.1Q and QinQ.
  ERSPAN here carries both directions between two endpoints; on the wire that is what the ERSPAN
  session of a switch port looks like to a collector (both directions of the port, one session).
* IP fragments without a tunnel: `plain-frag-ipv4-router` is the kernel's own fragmentation, a
  client and server (path MTU discovery off: DF clear) joined through two router namespaces whose
  middle link has MTU 576, captured on that link.  TCP over IPv6 is never fragmented by Linux, so
  `plain-frag-ipv6` is a real recorded IPv6 session whose packets were re-fragmented afterwards
  with scapy `fragment6`; the evasion captures (`frag-*`) are a real recorded IPv4 session
  re-fragmented with scapy: 8-byte fragments (the first splits the TCP header), overlapping
  fragments with conflicting data, fragments in reverse order, every fragment twice.  Their
  expected files say what was done and which answer each overlap policy gives.

Ground truth: NAME.expected.jsonl, one JSON object per event in the sensor's vocabulary (see
pcaps/dovecot/README.md), written from the scenario table below, after checking each session in
the capture with tshark (which decodes every layer used here): the login line, the server's answer
and the tunnel identifiers of the session's frames.  Extra field `tunnel`: the encapsulation layers
the connection arrived in, outermost first, each {"type": ..., "id": ...} (id omitted where the
layer has none); see pcaps/tunnels/MANIFEST.md.  `expected` rewrites the expected files and the
manifest from the committed captures without re-recording.
"""
import base64, fcntl, json, os, select, signal, socket, struct, subprocess, sys, tempfile, time, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "tunnels")
PREFIX = "tcap-"
LONG_PW = "".join("lengthy-%03d-" % i for i in range(100))  # 1300 chars: one login line bigger than any underlay MTU here
USERS = {"alice": "wonderland", "bob": "builder", "carol": "Car0l-Secret", "dave": "dave.pop3", "frank": LONG_PW}
WRONG = "wrong-password"
MAC = {"c": "02:00:00:00:00:01", "s": "02:00:00:00:00:02"}
INNER4 = {"c": "10.0.0.1", "s": "10.0.0.2"}
INNER6 = {"c": "fd00::1", "s": "fd00::2"}
OUTER4 = {"c": "192.0.2.1", "s": "192.0.2.2"}
OUTER6 = {"c": "2001:db8::1", "s": "2001:db8::2"}


def log(*a):
    print("[record-tunnels]", *a, file=sys.stderr, flush=True)


def sh(cmd, check=True, **kw):
    r = subprocess.run(cmd, shell=True, text=True, capture_output=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s%s" % (cmd, r.stdout, r.stderr))
    return r.stdout


# ====================================================================== userspace endpoint
# One process per side: TUN/TAP <-> encapsulation <-> AF_PACKET on the underlay veth.

TUNSETIFF, IFF_TUN, IFF_TAP, IFF_NO_PI = 0x400454CA, 0x0001, 0x0002, 0x1000
L2_MODES = {"gretap", "erspan1", "erspan2", "erspan3", "erspan3-platform", "geneve", "geneve-opts", "vlan", "qinq", "mpls-pw"}


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


class Encap:
    """Builds and strips one mode's headers. Identifiers are fixed per mode (see TUNNELS)."""

    def __init__(self, mode, side):
        self.mode, self.side = mode, side
        self.peer = "s" if side == "c" else "c"
        self.ipid = 0x1000 if side == "c" else 0x2000
        self.seq = 0
        self.t0 = time.time()

    # -- outer layers
    def eth(self, etype, payload):
        return mac(MAC[self.peer]) + mac(MAC[self.side]) + struct.pack("!H", etype) + payload

    def ip4(self, proto, payload):
        self.ipid = (self.ipid + 1) & 0xFFFF
        src, dst = socket.inet_aton(OUTER4[self.side]), socket.inet_aton(OUTER4[self.peer])
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), self.ipid, 0, 64, proto, 0, src, dst)
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        return self.eth(0x0800, h + payload)

    def ip6(self, nh, payload):
        src, dst = socket.inet_pton(socket.AF_INET6, OUTER6[self.side]), socket.inet_pton(socket.AF_INET6, OUTER6[self.peer])
        return self.eth(0x86DD, struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, src, dst) + payload)

    def udp4(self, sport, dport, payload):
        src, dst = socket.inet_aton(OUTER4[self.side]), socket.inet_aton(OUTER4[self.peer])
        u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        c = csum(src + dst + struct.pack("!BBH", 0, 17, len(u)) + u) or 0xFFFF
        return self.ip4(17, u[:6] + struct.pack("!H", c) + u[8:])

    def gre(self, proto, payload, key=None, seq=False):
        flags = (0x2000 if key is not None else 0) | (0x1000 if seq else 0)
        h = struct.pack("!HH", flags, proto)
        if key is not None:
            h += struct.pack("!I", key)
        if seq:
            self.seq += 1
            h += struct.pack("!I", self.seq)
        return h + payload

    @staticmethod
    def flow_port(inner):
        # like the kernel: a UDP source port from a hash of the inner frame's addresses
        return 49152 + zlib.crc32(inner[:34]) % 16384

    # -- wrap an inner packet (IP for TUN modes, Ethernet frame for TAP modes)
    def wrap(self, p):
        m = self.mode
        if m == "gre":
            return self.ip4(47, self.gre(0x0800, p, key=1001, seq=True))
        if m == "gre6":
            return self.ip6(47, self.gre(0x0800, p, key=1002))
        if m == "gretap":
            return self.ip4(47, self.gre(0x6558, p, key=1003))
        if m == "erspan1":
            return self.ip4(47, self.gre(0x88BE, p))
        if m == "erspan2":
            # ver 1, VLAN 0 | COS 0, En 0 (original frame untagged), T 0, session 101 | index 7
            h = struct.pack("!HHI", 0x1000, 101, 7)
            return self.ip4(47, self.gre(0x88BE, h + p, seq=True))
        if m in ("erspan3", "erspan3-platform"):
            ts = int((time.time() - self.t0) * 10000) & 0xFFFFFFFF  # Gra 00: 100 us units
            d = 1 if self.side == "s" else 0
            o = 1 if m == "erspan3-platform" else 0
            session = 102 if m == "erspan3" else 103
            # ver 2, VLAN 0 | COS 0, BSO 0, T 0, session | timestamp | SGT 0, P 0, FT 0, HW 5, D, Gra 0, O
            h = struct.pack("!HHIHH", 0x2000, session, ts, 0, (5 << 4) | (d << 3) | o)
            if o:
                # platform-specific subheader, Platf ID 3: reserved, port index 17, upper timestamp 0
                h += struct.pack("!II", (3 << 26) | 17, 0)
            return self.ip4(47, self.gre(0x22EB, h + p, seq=True))
        if m in ("geneve", "geneve-opts"):
            opts = b""
            if m == "geneve-opts":
                # AWS Gateway Load Balancer's options (class 0x0108): type 1 endpoint id (8 bytes),
                # type 2 attachment id (8 bytes), type 3 flow cookie (4 bytes)
                opts = (struct.pack("!HBB", 0x0108, 1, 2) + struct.pack("!Q", 0x0A1B2C3D4E5F6071)
                        + struct.pack("!HBB", 0x0108, 2, 2) + struct.pack("!Q", 0x0102030405060708)
                        + struct.pack("!HBB", 0x0108, 3, 1) + struct.pack("!I", 0x11223344))
            vni = 4242 if m == "geneve" else 4243
            h = struct.pack("!BBHI", len(opts) // 4, 0, 0x6558, vni << 8)
            return self.udp4(self.flow_port(p), 6081, h + opts + p)
        if m == "ipip":
            return self.ip4(4, p)
        if m == "6in4":
            return self.ip4(41, p)
        if m == "4in6":
            return self.ip6(4, p)
        if m in ("mpls1", "mpls2-ipv6", "mpls3"):
            labels = {"mpls1": [1001], "mpls2-ipv6": [2001, 2002], "mpls3": [3001, 3002, 3003]}[m]
            return self.eth(0x8847, self.labels(labels) + p)
        if m == "mpls-pw":
            return self.eth(0x8847, self.labels([4001, 4002]) + struct.pack("!I", 0) + p)  # control word 0
        if m == "pppoe":
            ppp = struct.pack("!H", 0x0021) + p
            return self.eth(0x8864, struct.pack("!BBHH", 0x11, 0, 0x1234, len(ppp)) + ppp)
        if m == "vlan":
            return p[:12] + struct.pack("!HH", 0x8100, 100) + p[12:]
        if m == "qinq":
            return p[:12] + struct.pack("!HHHH", 0x88A8, 300, 0x8100, 100) + p[12:]
        raise ValueError(m)

    @staticmethod
    def labels(ls):
        return b"".join(struct.pack("!I", (l << 12) | ((1 if i == len(ls) - 1 else 0) << 8) | 64) for i, l in enumerate(ls))

    # -- unwrap a frame from the underlay; None when it is not ours
    def unwrap(self, f):
        m = self.mode
        et = struct.unpack("!H", f[12:14])[0]
        if m in ("vlan", "qinq"):
            # the kernel may already have moved the tag(s) to metadata (veth VLAN offload)
            while et in (0x8100, 0x88A8):
                f = f[:12] + f[16:]
                et = struct.unpack("!H", f[12:14])[0]
            return f
        if m.startswith("mpls"):
            if et != 0x8847:
                return None
            o = 14
            while not f[o + 2] & 1:
                o += 4
            o += 4
            return f[o + 4:] if m == "mpls-pw" else f[o:]
        if m == "pppoe":
            if et != 0x8864:
                return None
            n = struct.unpack("!H", f[18:20])[0]
            return f[22:20 + n]
        if et == 0x0800:
            ihl = (f[14] & 15) * 4
            tot = struct.unpack("!H", f[16:18])[0]
            proto, body = f[23], f[14 + ihl:14 + tot]
        elif et == 0x86DD:
            plen = struct.unpack("!H", f[18:20])[0]
            proto, body = f[20], f[54:54 + plen]
        else:
            return None
        if proto in (4, 41):
            return body
        if proto == 17:
            optlen = (body[8] & 0x3F) * 4
            return body[16 + optlen:]
        if proto == 47:
            flags, gproto = struct.unpack("!HH", body[:4])
            o = 4 + (4 if flags & 0x8000 else 0) + (4 if flags & 0x2000 else 0) + (4 if flags & 0x1000 else 0)
            if gproto == 0x88BE and flags & 0x1000:
                o += 8  # ERSPAN II header (type I has no sequence number and no header)
            elif gproto == 0x22EB:
                o += 12 + (8 if body[o + 11] & 1 else 0)
            return body[o:]
        return None


def endpoint(mode, side, dev, ul):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    flags = (IFF_TAP if mode in L2_MODES else IFF_TUN) | IFF_NO_PI
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", dev.encode(), flags))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((ul, 0))
    enc = Encap(mode, side)
    print("ready", flush=True)
    while True:
        r, _, _ = select.select([fd, s], [], [])
        # a device that is not up yet refuses writes (EIO): drop the packet, as a link would
        if fd in r:
            try:
                s.send(enc.wrap(os.read(fd, 65535)))
            except OSError:
                pass
        if s in r:
            f, addr = s.recvfrom(65535)
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            try:
                p = enc.unwrap(f)
            except (IndexError, struct.error):
                p = None
            if p:
                try:
                    os.write(fd, p)
                except OSError:
                    pass


# ====================================================================== clients (run inside a namespace)

def client(spec):
    import imaplib, poplib, ssl
    host, port, src = spec["server"], spec["port"], (spec["client"], spec.get("src_port") or 0)
    user, pw = spec["user"], spec["password"]
    time.sleep(spec.get("delay", 0))
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE

    class IMAP(imaplib.IMAP4):
        def _create_socket(self, timeout):
            return socket.create_connection((self.host, self.port), timeout, source_address=src)

    class POP3(poplib.POP3):
        def _create_socket(self, timeout):
            return socket.create_connection((self.host, self.port), timeout, source_address=src)

    k = spec["kind"]
    if k.startswith("curl"):
        proto, opt = {"curl-imap-plain": ("imap", "AUTH=PLAIN"), "curl-pop3-login": ("pop3", "AUTH=LOGIN")}[k]
        h = "[%s]" % host if ":" in host else host
        argv = ["curl", "-q", "-s", "-S", "--noproxy", "*", "--max-time", "30", "-o", "/dev/null",
                "--interface", spec["client"], "-u", "%s:%s" % (user, pw), "--login-options", opt,
                "%s://%s:%d/" % (proto, h, port)]
        if spec.get("src_port"):
            argv[-1:-1] = ["--local-port", str(spec["src_port"])]
        rc = subprocess.run(argv).returncode
        assert rc == (0 if spec["ok"] else 67), "curl exit %d" % rc
        return
    if k.startswith("imap"):
        c = IMAP(host, port, timeout=20)
        if k == "imap-starttls":
            c.starttls(ssl_context=ctx)
        time.sleep(spec.get("hold", 0))
        try:
            if k == "imap-auth-plain":
                c.authenticate("PLAIN", lambda _: "\0%s\0%s" % (user, pw))
            else:
                c.login(user, pw)
            ok = True
        except imaplib.IMAP4.error:
            ok = False
        assert ok == spec["ok"], (k, ok)
        if ok:
            c.select("INBOX")
            c.logout()
        else:
            c.logout()
        return
    if k.startswith("pop3"):
        c = POP3(host, port, timeout=20)
        if k == "pop3-stls":
            c.stls(context=ctx)
        time.sleep(spec.get("hold", 0))
        try:
            c.user(user)
            c.pass_(pw)
            ok = True
        except poplib.error_proto:
            ok = False
        assert ok == spec["ok"], (k, ok)
        if ok:
            c.stat()
            c.list()
        c.quit()
        return
    raise ValueError(k)


# ====================================================================== scenarios

def S(kind, user, ok=True, v6=False, src_port=None, delay=0, hold=0, ns="c", sns="s", starttls=False):
    """One client session. `ns`/`sns`: the client's and server's namespace (tenants have their own)."""
    pw = USERS[user] if ok else WRONG
    port = 143 if "imap" in kind else 110
    return {"kind": kind, "user": user, "password": pw, "ok": ok, "port": port,
            "client": INNER6["c"] if v6 else INNER4["c"], "server": INNER6["s"] if v6 else INNER4["s"],
            "src_port": src_port, "delay": delay, "hold": hold, "ns": ns, "sns": sns}


# Tunnel layers each capture's sessions arrive in (outermost first), written into the expected files.
VX = lambda vni: [{"type": "vxlan", "id": vni}]
CAPTURES = [
    # name, topology, [sessions], tunnel layers (or a function of the session), description
    ("vxlan-4789", ("vxlan", dict(vni=42, port=4789)),
     [S("imap-login", "alice"), S("pop3-user", "bob"), S("imap-starttls", "carol")], VX(42),
     "kernel VXLAN VNI 42, UDP 4789, IPv4 underlay"),
    ("vxlan-8472", ("vxlan", dict(vni=43, port=8472)),
     [S("curl-imap-plain", "alice"), S("pop3-user", "dave", ok=False)], VX(43),
     "kernel VXLAN VNI 43, UDP 8472 (the Linux default port), IPv4 underlay"),
    ("vxlan-ipv6-underlay", ("vxlan", dict(vni=44, port=4789, v6=True, ul_mtu=1600)),
     [S("imap-auth-plain", "alice"), S("pop3-user", "bob", v6=True), S("imap-auth-plain", "frank")], VX(44),
     "kernel VXLAN VNI 44 over an IPv6 underlay (MTU 1600, so nothing fragments); inner IPv4 IMAP "
     "and inner IPv6 POP3; frank's AUTHENTICATE PLAIN response fills a 1500-byte inner packet"),
    ("vxlan-tc-mirror", ("mirror", dict(vni=7)),
     [S("imap-login", "alice"), S("pop3-stls", "bob"), S("curl-pop3-login", "carol")], VX(7),
     "tc mirred mirror of the server's port (ingress and egress) into a VXLAN device, VNI 7, "
     "UDP 4789, captured at the collector (AWS VPC Traffic Mirroring style); every packet once"),
    ("vxlan-two-tenants-same-addresses", ("tenants", dict(vnis=(100, 200))),
     [S("imap-login", "alice", src_port=40001, hold=0.5, ns="cA", sns="sA"),
      S("imap-login", "bob", src_port=40001, hold=0.5, ns="cB", sns="sB"),
      S("pop3-user", "carol", src_port=40002, hold=0.5, ns="cA", sns="sA"),
      S("pop3-user", "dave", ok=False, src_port=40002, hold=0.5, ns="cB", sns="sB")],
     lambda s: VX(100 if s["ns"] == "cA" else 200),
     "two VXLAN networks (VNI 100, VNI 200) with the same inner addresses 10.0.0.1/10.0.0.2, their "
     "own Dovecot each; both IMAP clients bound to source port 40001 and both POP3 clients to 40002, "
     "run at the same time: identical inner 5-tuples and inner MACs, told apart only by the VNI"),
    ("vxlan-fragmented-ipv4", ("vxlan", dict(vni=45, port=4789, ul_mtu=576)),
     [S("imap-auth-plain", "frank"), S("pop3-user", "alice")], VX(45),
     "kernel VXLAN VNI 45 (MTU 1500, df unset) over an IPv4 underlay with MTU 576: outer packets "
     "fragmented by the kernel; frank's AUTHENTICATE PLAIN response (1.7 KB of base64) spans "
     "fragments"),
    ("gre-key-seq", ("user", dict(mode="gre")),
     [S("imap-login", "alice"), S("pop3-user", "bob")], [{"type": "gre", "id": 1001}],
     "userspace GRE over IPv4 (RFC 2890 key 1001 and sequence numbers), IPv4 payload (0x0800)"),
    ("gre-ipv6", ("user", dict(mode="gre6")),
     [S("imap-auth-plain", "alice"), S("pop3-user", "bob", ok=False)], [{"type": "gre", "id": 1002}],
     "userspace GRE over IPv6 (key 1002), IPv4 payload"),
    ("gretap", ("user", dict(mode="gretap")),
     [S("imap-login", "alice"), S("pop3-stls", "bob"), S("curl-pop3-login", "carol")],
     [{"type": "gre", "id": 1003}], "userspace gretap: GRE key 1003 carrying Ethernet (0x6558)"),
    ("erspan-type1", ("user", dict(mode="erspan1")),
     [S("imap-login", "alice"), S("pop3-user", "bob")], [{"type": "erspan"}],
     "userspace ERSPAN type I: GRE protocol 0x88BE, no sequence number, Ethernet right after GRE"),
    ("erspan-type2", ("user", dict(mode="erspan2")),
     [S("imap-login", "alice"), S("pop3-user", "bob")], [{"type": "erspan", "id": 101}],
     "userspace ERSPAN type II: GRE 0x88BE with sequence, ERSPAN header version 1, session 101"),
    ("erspan-type3", ("user", dict(mode="erspan3")),
     [S("imap-starttls", "alice"), S("pop3-user", "bob")], [{"type": "erspan", "id": 102}],
     "userspace ERSPAN type III: GRE 0x22EB with sequence, ERSPAN header version 2, session 102, "
     "timestamps, direction bit, no platform subheader"),
    ("erspan-type3-platform", ("user", dict(mode="erspan3-platform")),
     [S("imap-login", "alice"), S("curl-pop3-login", "carol")], [{"type": "erspan", "id": 103}],
     "userspace ERSPAN type III, session 103, with the optional 8-byte platform-specific "
     "subheader (O bit set, Platf ID 3, port index 17)"),
    ("geneve", ("user", dict(mode="geneve")),
     [S("imap-login", "alice"), S("pop3-user", "bob")], [{"type": "geneve", "id": 4242}],
     "userspace GENEVE (UDP 6081) VNI 4242, no options, Ethernet payload"),
    ("geneve-options", ("user", dict(mode="geneve-opts")),
     [S("curl-imap-plain", "alice"), S("pop3-user", "bob")], [{"type": "geneve", "id": 4243}],
     "userspace GENEVE VNI 4243 with 28 bytes of options as AWS Gateway Load Balancer adds them "
     "(class 0x0108 types 1, 2, 3)"),
    ("ipip", ("user", dict(mode="ipip")),
     [S("imap-login", "alice"), S("pop3-user", "bob")], [{"type": "ip-in-ip"}],
     "userspace IPv4-in-IPv4 (protocol 4)"),
    ("6in4", ("user", dict(mode="6in4")),
     [S("imap-login", "alice", v6=True), S("pop3-user", "bob", v6=True)], [{"type": "ip-in-ip"}],
     "userspace IPv6-in-IPv4 (protocol 41), inner fd00::1 -> fd00::2"),
    ("4in6", ("user", dict(mode="4in6")),
     [S("imap-login", "alice"), S("pop3-user", "bob")], [{"type": "ip-in-ip"}],
     "userspace IPv4-in-IPv6 (next header 4)"),
    ("mpls-1-label", ("user", dict(mode="mpls1")),
     [S("imap-login", "alice"), S("pop3-user", "bob")], [{"type": "mpls", "id": 1001}],
     "userspace MPLS over Ethernet (0x8847), one label 1001, IPv4 payload"),
    ("mpls-2-labels-ipv6", ("user", dict(mode="mpls2-ipv6")),
     [S("imap-login", "alice", v6=True), S("pop3-user", "bob", v6=True)],
     [{"type": "mpls", "id": 2001}, {"type": "mpls", "id": 2002}],
     "userspace MPLS, labels 2001/2002, IPv6 payload (version nibble 6)"),
    ("mpls-3-labels", ("user", dict(mode="mpls3")),
     [S("imap-auth-plain", "alice"), S("pop3-user", "bob")],
     [{"type": "mpls", "id": 3001}, {"type": "mpls", "id": 3002}, {"type": "mpls", "id": 3003}],
     "userspace MPLS, labels 3001/3002/3003, IPv4 payload"),
    ("mpls-pseudowire", ("user", dict(mode="mpls-pw")),
     [S("imap-login", "alice"), S("pop3-user", "bob")],
     [{"type": "mpls", "id": 4001}, {"type": "mpls", "id": 4002}],
     "userspace MPLS Ethernet pseudowire: labels 4001/4002, control word 0x00000000, then Ethernet"),
    ("pppoe", ("user", dict(mode="pppoe", mtu=1492)),
     [S("imap-login", "alice"), S("pop3-user", "bob")], [{"type": "pppoe", "id": 0x1234}],
     "userspace PPPoE session 0x1234 (0x8864), PPP protocol 0x0021 (IPv4); session only, no discovery"),
    ("vlan-8021q", ("user", dict(mode="vlan")),
     [S("imap-login", "alice"), S("pop3-user", "bob")], [{"type": "vlan", "id": 100}],
     "802.1Q VLAN 100 added by the userspace endpoint"),
    ("vlan-qinq", ("user", dict(mode="qinq")),
     [S("imap-login", "alice"), S("pop3-user", "bob")], [{"type": "vlan", "id": 300}, {"type": "vlan", "id": 100}],
     "QinQ: outer 802.1ad (0x88A8) S-tag 300, inner 802.1Q C-tag 100"),
    ("plain-frag-ipv4-router", ("routers", dict(mtu=576)),
     [S("imap-auth-plain", "frank"), S("pop3-user", "alice"), S("imap-login", "bob", ok=False)], None,
     "no tunnel: client -> r1 -> (MTU 576) -> r2 -> server, path MTU discovery off at both ends "
     "(DF clear), so r1 and r2 fragment real IPv4 TCP packets; captured on the 576 link"),
    ("plain-ipv4-base", ("plain", dict()),
     [S("imap-login", "alice"), S("pop3-user", "bob")], None,
     "no tunnel, no fragments: the real session the frag-* captures are derived from"),
    ("plain-ipv6-base", ("plain", dict()),
     [S("imap-login", "alice", v6=True), S("pop3-user", "bob", v6=True)], None,
     "no tunnel, no fragments: the real IPv6 session plain-frag-ipv6 is derived from"),
]

# Derived captures: (name, base, transformation, description). Made by `refragment` from the base.
DERIVED = [
    ("vxlan-fragmented-ipv6", "vxlan-ipv6-underlay", "frag6-outer",
     "vxlan-ipv6-underlay with every outer IPv6 packet over 1280 bytes split with scapy fragment6 "
     "into fragments of at most 1280 bytes (fragment header after the outer IPv6 header), as a "
     "sending host does on a 1280 link. Re-fragmented because Linux's VXLAN over IPv6 does not "
     "fragment: on a 1280 underlay it drops the packet and lowers the inner path MTU instead"),
    ("plain-frag-ipv6", "plain-ipv6-base", "frag6",
     "plain-ipv6-base re-fragmented with scapy fragment6: every packet that carries TCP data split "
     "into fragments of 32 bytes (the first holds the TCP header, the data follows), in order"),
    ("frag-tiny", "plain-ipv4-base", "tiny",
     "plain-ipv4-base with every IPv4 packet split into 8-byte fragments (the first fragment holds "
     "only the TCP ports and sequence number: the TCP header is split)"),
    ("frag-overlap-conflict", "plain-ipv4-base", "overlap",
     "plain-ipv4-base as 24-byte fragments; before the last fragment of each data packet comes one "
     "more fragment that overlaps the TCP payload already received with conflicting bytes ('X'): "
     "first wins yields the real session, last wins an 'XXXX...' prefix on every line"),
    ("frag-out-of-order", "plain-ipv4-base", "reverse",
     "plain-ipv4-base, each packet as 24-byte fragments sent last fragment first"),
    ("frag-duplicate", "plain-ipv4-base", "duplicate",
     "plain-ipv4-base, each packet as 24-byte fragments with every fragment sent twice"),
]


# ====================================================================== topology

class Lab:
    def __init__(self, work):
        self.work, self.ns, self.procs = work, [], []

    def add_ns(self, *names):
        for n in names:
            sh("ip netns add %s%s" % (PREFIX, n))
            self.ns.append(n)
            self.x(n, "ip link set lo up")
            self.x(n, "sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0")

    def x(self, n, cmd, check=True):
        return sh("ip netns exec %s%s %s" % (PREFIX, n, cmd), check=check)

    def popen(self, n, argv, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", PREFIX + n] + argv, **kw)
        self.procs.append(p)
        return p

    def veth(self, a, ia, b, ib, mtu=None):
        sh("ip link add %s netns %s%s type veth peer name %s netns %s%s" % (ia, PREFIX, a, ib, PREFIX, b))
        for n, i in ((a, ia), (b, ib)):
            if mtu:
                self.x(n, "ip link set %s mtu %d" % (i, mtu))
            self.no_offload(n, i)
            self.x(n, "ip link set %s up" % i)

    def no_offload(self, n, dev):
        # What a sensor sees on a wire: packets no bigger than the MTU, with real checksums. With
        # offloads a capture on a veth holds TSO/GSO super-packets and unfinished checksums.
        self.x(n, "ethtool -K %s tx off tso off gso off gro off" % dev, check=False)

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for n in self.ns:
            sh("ip netns del %s%s" % (PREFIX, n), check=False)


def start_dovecot(lab, ns, work, tag):
    d = os.path.join(work, "dovecot-" + tag)
    for sub in ("run", "state", "home"):
        os.makedirs(os.path.join(d, sub))
    os.chmod(d, 0o755)
    uid, gid = int(sh("id -u nobody")), int(sh("id -g nobody"))
    with open(os.path.join(d, "users"), "w") as f:
        for u, p in USERS.items():
            f.write("%s:{PLAIN}%s:%d:%d::%s/home/%s::\n" % (u, p, uid, gid, d, u))
    os.chmod(os.path.join(d, "users"), 0o644)
    for u in USERS:
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(d, "home", u, "Maildir", sub))
    sh("chown -R %d:%d %s/home" % (uid, gid, d))
    dh = "ssl_dh = </usr/share/dovecot/dh.pem" if os.path.exists("/usr/share/dovecot/dh.pem") else ""
    conf = os.path.join(d, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(f"""instance_name = tcap-{tag}
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap pop3
listen = *, ::
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
ssl = yes
ssl_cert = <{work}/cert.pem
ssl_key = <{work}/key.pem
{dh}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/users
}}
service imap-login {{
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3s {{
    port = 0
  }}
}}
""")
    lab.popen(ns, ["dovecot", "-F", "-c", conf])
    for _ in range(100):
        out = lab.x(ns, "ss -Hltn", check=False)
        if ":143 " in out and ":110 " in out:
            return
        time.sleep(0.1)
    raise RuntimeError("dovecot in %s did not listen: %s" % (ns, open(os.path.join(d, "dovecot.log")).read()))


def build(lab, topo, args):
    """Makes the namespaces for one capture; returns (namespace, interface) to capture on."""
    if topo == "vxlan":
        lab.add_ns("c", "s")
        v6 = args.get("v6")
        lab.veth("c", "ul", "s", "ul", mtu=args.get("ul_mtu"))
        for side in ("c", "s"):
            peer = "s" if side == "c" else "c"
            lab.x(side, "ip link set ul address %s" % MAC[side])
            if v6:
                lab.x(side, "ip -6 addr add %s/64 dev ul nodad" % OUTER6[side])
                loc, rem = OUTER6[side], OUTER6[peer]
            else:
                lab.x(side, "sysctl -qw net.ipv6.conf.ul.disable_ipv6=1", check=False)  # none below MTU 1280
                lab.x(side, "ip addr add %s/24 dev ul" % OUTER4[side])
                loc, rem = OUTER4[side], OUTER4[peer]
            lab.x(side, "ip link add vx0 type vxlan id %d local %s remote %s dstport %d %s" % (
                args["vni"], loc, rem, args["port"], "df unset" if not v6 else ""))
            lab.no_offload(side, "vx0")
            lab.x(side, "ip link set vx0 mtu 1500 address 02:00:00:00:01:0%d up" % (1 if side == "c" else 2))
            lab.x(side, "ip addr add %s/24 dev vx0" % INNER4[side])
            lab.x(side, "ip -6 addr add %s/64 dev vx0 nodad" % INNER6[side])
            if args.get("ul_mtu"):
                lab.x(side, "sysctl -qw net.ipv4.ip_no_pmtu_disc=1")
        return "c", "ul"
    if topo == "tenants":
        lab.add_ns("uc", "us", "cA", "sA", "cB", "sB")
        lab.veth("uc", "ul", "us", "ul")
        for u, side in (("uc", "c"), ("us", "s")):
            peer = "s" if side == "c" else "c"
            lab.x(u, "sysctl -qw net.ipv6.conf.ul.disable_ipv6=1")
            lab.x(u, "ip link set ul address %s" % MAC[side])
            lab.x(u, "ip addr add %s/24 dev ul" % OUTER4[side])
            for t, vni in zip("AB", args["vnis"]):
                ns = ("c" if side == "c" else "s") + t
                lab.x(u, "ip link add vx%s type vxlan id %d local %s remote %s dstport 4789" % (
                    t, vni, OUTER4[side], OUTER4[peer]))
                lab.x(u, "ip link set vx%s netns %s%s" % (t, PREFIX, ns))
                lab.x(ns, "sysctl -qw net.ipv6.conf.all.disable_ipv6=1")
                lab.x(ns, "ip link set vx%s name vx0" % t)
                lab.no_offload(ns, "vx0")
                # the same inner MACs in both tenants too
                lab.x(ns, "ip link set vx0 address 02:00:00:00:01:0%d up" % (1 if side == "c" else 2))
                lab.x(ns, "ip addr add %s/24 dev vx0" % INNER4[side])
        return "uc", "ul"
    if topo == "mirror":
        lab.add_ns("c", "s", "col")
        lab.veth("c", "eth0", "s", "eth0")
        for side in ("c", "s"):
            lab.x(side, "ip addr add %s/24 dev eth0" % INNER4[side])
            lab.x(side, "sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1")
        lab.veth("s", "mir", "col", "ul")
        lab.x("s", "sysctl -qw net.ipv6.conf.mir.disable_ipv6=1")
        lab.x("col", "sysctl -qw net.ipv6.conf.ul.disable_ipv6=1")
        lab.x("s", "ip addr add 192.0.2.2/24 dev mir")
        lab.x("col", "ip addr add 192.0.2.100/24 dev ul")
        lab.x("s", "ip link add vxm type vxlan id %d local 192.0.2.2 remote 192.0.2.100 dstport 4789" % args["vni"])
        lab.x("s", "sysctl -qw net.ipv6.conf.vxm.disable_ipv6=1")
        lab.no_offload("s", "vxm")
        lab.x("s", "ip link set vxm up")
        # the collector's own VXLAN device only absorbs the datagrams (no ICMP port unreachable)
        lab.x("col", "ip link add vxm type vxlan id %d local 192.0.2.100 dstport 4789" % args["vni"])
        lab.x("col", "sysctl -qw net.ipv6.conf.vxm.disable_ipv6=1")
        lab.x("col", "ip link set vxm up")
        lab.x("s", "tc qdisc add dev eth0 clsact")
        for d in ("ingress", "egress"):
            lab.x("s", "tc filter add dev eth0 %s protocol all u32 match u32 0 0 action mirred egress mirror dev vxm" % d)
        return "col", "ul"
    if topo == "user":
        mode = args["mode"]
        lab.add_ns("c", "s")
        lab.veth("c", "ul", "s", "ul")
        for side in ("c", "s"):
            lab.x(side, "sysctl -qw net.ipv6.conf.ul.disable_ipv6=1")
            lab.x(side, "ip link set ul address %s" % MAC[side])
            p = lab.popen(side, [sys.executable, os.path.abspath(__file__), "endpoint", mode, side, "tun0", "ul"],
                          stdout=subprocess.PIPE, text=True)
            assert p.stdout.readline().strip() == "ready"
            if mode in L2_MODES:
                lab.x(side, "ip link set tun0 address 02:00:00:00:01:0%d" % (1 if side == "c" else 2))
            lab.no_offload(side, "tun0")
            lab.x(side, "ip link set tun0 mtu %d up" % args.get("mtu", 1400))
            lab.x(side, "ip addr add %s/24 dev tun0" % INNER4[side])
            lab.x(side, "ip -6 addr add %s/64 dev tun0 nodad" % INNER6[side])
        return "c", "ul"
    if topo == "routers":
        lab.add_ns("c", "r1", "r2", "s")
        lab.veth("c", "eth0", "r1", "eth0")
        lab.veth("r1", "eth1", "r2", "eth1", mtu=args["mtu"])
        lab.veth("r2", "eth0", "s", "eth0")
        for n in ("c", "r1", "r2", "s"):
            lab.x(n, "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv4.ip_forward=1 net.ipv4.ip_no_pmtu_disc=1")
        lab.x("c", "ip addr add 10.0.0.1/24 dev eth0")
        lab.x("r1", "ip addr add 10.0.0.254/24 dev eth0")
        lab.x("r1", "ip addr add 10.0.1.1/24 dev eth1")
        lab.x("r2", "ip addr add 10.0.1.2/24 dev eth1")
        lab.x("r2", "ip addr add 10.0.2.254/24 dev eth0")
        lab.x("s", "ip addr add 10.0.2.2/24 dev eth0")
        lab.x("c", "ip route add default via 10.0.0.254")
        lab.x("r1", "ip route add 10.0.2.0/24 via 10.0.1.2")
        lab.x("r2", "ip route add 10.0.0.0/24 via 10.0.1.1")
        lab.x("s", "ip route add default via 10.0.2.254")
        return "r1", "eth1"
    if topo == "plain":
        lab.add_ns("c", "s")
        lab.veth("c", "eth0", "s", "eth0")
        for side in ("c", "s"):
            lab.x(side, "ip link set eth0 address %s" % MAC[side])
            lab.x(side, "ip addr add %s/24 dev eth0" % INNER4[side])
            lab.x(side, "ip -6 addr add %s/64 dev eth0 nodad" % INNER6[side])
        return "c", "eth0"
    raise ValueError(topo)


def record_one(work, name, topo, args, sessions):
    lab = Lab(work)
    try:
        cap_ns, cap_if = build(lab, topo, args)
        if topo == "routers":
            for s in sessions:
                s["server"] = "10.0.2.2"
        for sns in sorted({s["sns"] for s in sessions}):
            start_dovecot(lab, sns, work, name + "-" + sns)
        time.sleep(0.3)
        pcap = os.path.join(OUT, name + ".pcap")
        err = os.path.join(work, name + ".tcpdump.err")
        td = lab.popen(cap_ns, ["tcpdump", "-i", cap_if, "-nn", "-U", "--immediate-mode", "-Z", "root", "-w", pcap],
                       stderr=open(err, "w"))
        for _ in range(100):
            if "listening on" in open(err).read():
                break
            time.sleep(0.05)
        time.sleep(0.3)
        # sessions of different tenants run at the same time; within a tenant one after the other
        groups = {}
        for s in sessions:
            groups.setdefault(s["ns"], []).append(s)
        procs = []
        for ns, ss in groups.items():
            script = "; ".join("%s %s client '%s'" % (sys.executable, os.path.abspath(__file__), json.dumps(s)) for s in ss)
            procs.append((ns, lab.popen(ns, ["sh", "-ec", script])))
        for ns, p in procs:
            if p.wait(120) != 0:
                raise RuntimeError("client in %s failed" % ns)
        time.sleep(0.7)
        td.send_signal(signal.SIGINT)
        td.wait(10)
        log("%s.pcap: %s" % (name, open(err).read().strip().splitlines()[-2:]))
    finally:
        lab.close()


# ====================================================================== derived captures (scapy)

def refragment(name, base, how):
    from scapy.all import rdpcap, wrpcap, IP, IPv6, Ether, fragment, fragment6, IPv6ExtHdrFragment, Raw
    pkts = rdpcap(os.path.join(OUT, base + ".pcap"))
    out = []
    ident = 0x4000
    for p in pkts:
        t = p.time
        if how in ("frag6", "frag6-outer"):
            limit = 1280 if how == "frag6-outer" else 72  # 72: IPv6 + a TCP header with timestamps
            if IPv6 in p and len(p[IPv6]) > limit:
                ident += 1
                ip6 = p[IPv6].copy()
                body = ip6.payload.copy()
                ip6.remove_payload()
                del ip6.plen, ip6.nh
                q = ip6 / IPv6ExtHdrFragment(id=ident) / body
                eth = p[Ether].copy()
                eth.remove_payload()
                # fragSize: the size of each fragment's IPv6 packet (a multiple of 8 plus headers)
                frags = [eth / f for f in fragment6(q, 1280 if how == "frag6-outer" else 80)]
            else:
                frags = [p]
        elif IP not in p:
            frags = [p]
        else:
            ip = p[IP].copy()
            ip.flags = 0
            # a fresh identification per datagram, as a fragmenting sender must choose (Linux sends
            # DF packets with id 0, and a late duplicate must not join a later datagram)
            ident += 1
            ip.id = ident
            del ip.chksum
            size = 8 if how == "tiny" else 24
            if len(ip.payload) <= size:
                frags = [p]
            else:
                fs = fragment(ip, fragsize=size)
                eth = p[Ether].copy()
                eth.remove_payload()
                frags = [eth / f for f in fs]
                if how == "reverse":
                    frags.reverse()
                elif how == "duplicate":
                    frags = [f for f in frags for _ in (0, 1)]
                elif how == "overlap" and len(frags) > 1:
                    # Before the last fragment (so the datagram is still incomplete) one more
                    # fragment re-sends the range from the TCP payload's first 8-byte boundary up to
                    # the last fragment with every TCP payload byte replaced by 'X' (MF set).
                    data = bytes(ip.payload)
                    tcp_hdr = (data[12] >> 4) * 4
                    off, end = tcp_hdr // 8 * 8, fs[-1].frag * 8
                    if len(data) > tcp_hdr and end > off:
                        conflicting = data[off:tcp_hdr] + b"X" * (end - tcp_hdr)
                        c = ip.copy()
                        c.remove_payload()
                        c.frag, c.flags = off // 8, "MF"
                        del c.len, c.chksum
                        frags.insert(len(frags) - 1, eth / c / Raw(conflicting))
        for f in frags:
            f.time = t
            f.wirelen = len(bytes(f))  # scapy would keep the original packet's length
            out.append(f)
    wrpcap(os.path.join(OUT, name + ".pcap"), out)
    log("%s.pcap: %d packets from %d" % (name, len(out), len(pkts)))


# ====================================================================== checking + expected files

def tshark_rows(pcap, extra=()):
    fields = list(extra) + ["frame.number", "frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport",
              "tcp.seq", "tcp.payload", "vxlan.vni", "geneve.vni", "gre.key", "erspan.spanid", "vlan.id",
              "ieee8021ad.id", "mpls.label", "pppoe.session_id"]
    argv = ["tshark", "-r", pcap, "-d", "udp.port==8472,vxlan", "-d", "mpls.label==4002,pwethcw",
            "-o", "tcp.analyze_sequence_numbers:FALSE",
            "-Y", "tcp", "-T", "fields", "-E", "separator=\t"]
    for f in fields:
        argv += ["-e", f]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        r = dict(zip(fields, line.split("\t")))
        protos = r["frame.protocols"].split(":")
        inner = [p for p in protos if p in ("ip", "ipv6")][-1]
        if inner == "ip":
            r["src"], r["dst"] = r["ip.src"].split(",")[-1], r["ip.dst"].split(",")[-1]
        else:
            r["src"], r["dst"] = r["ipv6.src"].split(",")[-1], r["ipv6.dst"].split(",")[-1]
        r["data"] = bytes.fromhex(r["tcp.payload"].split(",")[-1]) if r["tcp.payload"] else b""
        rows.append(r)
    return rows


def tunnel_seen(r):
    """The tunnel layers tshark saw in one frame, in our vocabulary (for comparing with the table)."""
    seen = []
    for f, t in (("ieee8021ad.id", "vlan"), ("vlan.id", "vlan"), ("mpls.label", "mpls"), ("gre.key", "gre"), ("erspan.spanid", "erspan"),
                 ("vxlan.vni", "vxlan"), ("geneve.vni", "geneve"), ("pppoe.session_id", "pppoe")):
        for v in filter(None, r[f].split(",")):
            seen.append((t, int(v, 0)))
    return seen


def stream_bytes(rows, direction):
    """One direction's bytes in sequence order (retransmissions and overlaps: first copy wins)."""
    segs = {}
    for r in rows:
        if direction(r) and r["data"]:
            segs.setdefault(int(r["tcp.seq"].split(",")[-1]), r["data"])
    out, nxt = b"", None
    for seq in sorted(segs):
        d = segs[seq]
        if nxt is not None and seq < nxt:
            d = d[nxt - seq:]
        out += d
        nxt = max(nxt or 0, seq + len(segs[seq]))
    return out


def login_marker(s):
    u, p = s["user"], s["password"]
    b = lambda x: base64.b64encode(x.encode()).decode()
    return {"imap-login": ("LOGIN %s " % u), "imap-auth-plain": b("\0%s\0%s" % (u, p)),
            "curl-imap-plain": b("\0%s\0%s" % (u, p)), "pop3-user": "USER %s\r" % u,
            "curl-pop3-login": b(u) + "\r", "imap-starttls": "STARTTLS\r", "pop3-stls": "STLS\r"}[s["kind"]]


def expected_events(name, sessions, tunnel):
    pcap = os.path.join(OUT, name + ".pcap")
    rows = tshark_rows(pcap)
    # tshark's tcp.stream joins connections with the same 5-tuple in different tenants: key by the
    # tunnel identifiers too
    streams = {}
    for r in rows:
        ends = sorted([(r["src"], r["tcp.srcport"]), (r["dst"], r["tcp.dstport"])])
        streams.setdefault((tuple(tunnel_seen(r)), tuple(ends)), []).append(r)
    used, events = set(), []
    for s in sessions:
        marker = login_marker(s).encode()
        found = None
        for sid, rs in streams.items():
            if sid in used:
                continue
            cdata = stream_bytes(rs, lambda r: r["tcp.dstport"] == str(s["port"]))
            if marker in cdata:
                found = sid
                break
        assert found is not None, "%s: session %s/%s not found in the capture" % (name, s["kind"], s["user"])
        used.add(found)
        rs = streams[found]
        c = next(r for r in rs if r["tcp.dstport"] == str(s["port"]))
        sdata = stream_bytes(rs, lambda r: r["tcp.srcport"] == str(s["port"]))
        starttls = s["kind"] in ("imap-starttls", "pop3-stls")
        if starttls:
            assert b"Begin TLS" in sdata, "%s: no TLS start answer" % name
        elif s["ok"]:
            assert b"Logged in" in sdata, "%s: %s not logged in" % (name, s["user"])
        else:
            assert b"Authentication failed" in sdata, "%s: %s did not fail" % (name, s["user"])
        layers = tunnel(s) if callable(tunnel) else tunnel
        if layers:
            want = sorted((l["type"], l.get("id")) for l in layers if "id" in l)
            for r in rs:
                got = sorted(x for x in tunnel_seen(r) if x[0] != "erspan" or x[1] is not None)
                assert got == want or (not want and not [g for g in got if g[0] != "gre"]), \
                    "%s: frame %s tunnel ids %s, expected %s" % (name, r["frame.number"], got, want)
        ev = {"event_type": "starttls" if starttls else "auth", "src_ip": c["src"], "src_port": int(c["tcp.srcport"]),
              "dest_ip": c["dst"], "dest_port": s["port"], "app_proto": "imap" if s["port"] == 143 else "pop3"}
        if starttls:
            ev["tls"] = {"outcome": "success"}
        else:
            mech = {"imap-login": "LOGIN", "imap-auth-plain": "AUTH=PLAIN", "curl-imap-plain": "AUTH=PLAIN",
                    "pop3-user": "USER", "curl-pop3-login": "AUTH=LOGIN"}[s["kind"]]
            ev["auth"] = {"mechanism": mech, "username": s["user"], "exposure": "cleartext",
                          "outcome": "success" if s["ok"] else "failure", "secret": s["password"]}
        if layers:
            ev["tunnel"] = layers
        events.append((int(rs[0]["frame.number"]), ev))
    return [e for _, e in sorted(events, key=lambda x: x[0])]


def first_wins_payloads(name):
    """The IPv4 payloads of a capture after first-wins fragment reassembly, in completion order."""
    from scapy.all import rdpcap, IP
    done, partial = [], {}
    for p in rdpcap(os.path.join(OUT, name + ".pcap")):
        if IP not in p:
            continue
        ip = p[IP]
        body = bytes(ip.payload)[:ip.len - ip.ihl * 4]
        if ip.frag == 0 and not ip.flags.MF:
            done.append(body)
            continue
        key = (ip.src, ip.dst, ip.proto, ip.id)
        have, total = partial.setdefault(key, [{}, None])
        for i, b in enumerate(body):
            have.setdefault(ip.frag * 8 + i, b)  # first wins
        if not ip.flags.MF:
            partial[key][1] = total = ip.frag * 8 + len(body)
        if total is not None and len(have) >= total and all(i in have for i in range(total)):
            done.append(bytes(have[i] for i in range(total)))
            del partial[key]
    return done


def frag_stats(pcap):
    """How many frames are IP fragments (any layer)."""
    out = subprocess.run(["tshark", "-r", pcap, "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
                          "-Y", "ip.flags.mf == 1 || ip.frag_offset > 0 || ipv6.fraghdr.nxt"],
                         capture_output=True, text=True).stdout
    return len(out.splitlines())


def write_expected():
    table = {c[0]: c for c in CAPTURES}
    rows = []
    for name, topo, sessions, tunnel, desc in CAPTURES:
        if not os.path.exists(os.path.join(OUT, name + ".pcap")):
            log("missing %s.pcap (not recorded)" % name)
            continue
        if topo[0] == "routers":
            for s in sessions:
                s["server"] = "10.0.2.2"
        evs = expected_events(name, sessions, tunnel)
        with open(os.path.join(OUT, name + ".expected.jsonl"), "w") as f:
            for e in evs:
                f.write(json.dumps(e) + "\n")
        rows.append((name, desc, evs))
    for name, base, how, desc in DERIVED:
        if not os.path.exists(os.path.join(OUT, name + ".pcap")):
            log("missing %s.pcap (not derived)" % name)
            continue
        _, topo, sessions, tunnel, _ = table[base]
        if how == "overlap":
            # tshark does not reassemble first-wins (it keeps some conflicting bytes), so check with
            # a first-wins reassembler that the capture carries exactly the base session's TCP
            # segments, then the base session's events are this capture's.
            assert first_wins_payloads(name) == first_wins_payloads(base), "%s: first wins != base" % name
            evs = [json.loads(l) for l in open(os.path.join(OUT, base + ".expected.jsonl"))]
        else:
            evs = expected_events(name, sessions, tunnel)  # tshark reassembles these fragments
        with open(os.path.join(OUT, name + ".expected.jsonl"), "w") as f:
            for e in evs:
                f.write(json.dumps(e) + "\n")
        rows.append((name, desc, evs))
    write_manifest(rows)


def short(e):
    if e["event_type"] == "starttls":
        return "%s STARTTLS" % e["app_proto"]
    a = e["auth"]
    return "%s %s %s %s" % (e["app_proto"], a["mechanism"], a["username"], a["outcome"])


MANIFEST_HEAD = """# Tunnel, encapsulation and fragment captures (real Dovecot, real clients)

Made by `pcaps/record/record-tunnels.py` (its header says how, and what it needs). Do not edit by
hand: `sudo /usr/bin/python3 pcaps/record/record-tunnels.py record [NAME...]` re-records,
`... refragment` re-derives the `frag-*`, `plain-frag-ipv6` and `vxlan-fragmented-ipv6` captures
from their base capture, `... expected` rewrites every `NAME.expected.jsonl` and this file from the
captures (each session checked with tshark first: login line, server answer, tunnel ids).

Server Dovecot 2.3.19.1 (Debian 12), clients Python 3.11 imaplib/poplib and curl 7.88 (Debian 12).
Users and passwords: alice/wonderland, bob/builder, carol/Car0l-Secret, dave/dave.pop3 and frank,
whose password is 1300 characters (`lengthy-000-lengthy-001-...lengthy-099-`) so that his login
does not fit in one underlay packet (he uses AUTHENTICATE PLAIN: Dovecot's login process refuses a
pre-login command line over 1 KB, "Input buffer full", but takes a longer SASL response line);
a failed login uses `wrong-password`.

Expected files: one JSON object per event, the fields of pcaps/dovecot/README.md (`src_*` the client,
`dest_*` the server, the *inner* addresses and ports) plus `tunnel`: the layers the connection
arrived in, outermost first, each `{"type": T, "id": N}`, types `vxlan` (id = VNI), `geneve` (VNI),
`gre` (key; no id without a key), `erspan` (session id; type I has none), `ip-in-ip` (no id),
`mpls` (one entry per label, top of stack first), `pppoe` (session id), `vlan` (one entry per tag,
outer first). No `tunnel` field when the connection arrived unencapsulated (the fragment-only
captures). Logins inside STARTTLS/STLS are invisible: the STARTTLS/STLS command is the event.

Fragment captures: the expected events assume IP reassembly with **first wins** for overlaps (what
the sensor promises for TCP too). `frag-overlap-conflict`: every data-bearing packet is sent as its
24-byte fragments, then one more fragment that rewrites the whole TCP payload with `X`s; first wins
yields the real session (the events below); last wins would yield only `XXXX...` lines (no login:
no event at all, and the IMAP/POP3 analyzers see garbage); a reassembler that drops overlapping
datagrams (Linux, RFC 5722 for IPv6) loses every data packet (no events). `frag-tiny`: 8-byte
fragments, the first holds only ports and sequence number. `frag-out-of-order`: last fragment
first. `frag-duplicate`: every fragment twice, identical. The derived captures keep the base
capture's timestamps (all fragments of a packet share its time).

| capture | how | logins / STARTTLS | expected events |
| --- | --- | --- | --- |
"""


def write_manifest(rows):
    text = MANIFEST_HEAD
    for name, desc, evs in rows:
        size = os.path.getsize(os.path.join(OUT, name + ".pcap"))
        frags = frag_stats(os.path.join(OUT, name + ".pcap"))
        n_auth = sum(1 for e in evs if e["event_type"] == "auth")
        n_tls = sum(1 for e in evs if e["event_type"] == "starttls")
        tun = {json.dumps(e.get("tunnel")) for e in evs}
        text += "| `%s.pcap` (%d B%s) | %s | %d / %d | %s |\n" % (
            name, size, ", %d fragments" % frags if frags else "", desc.replace("|", "\\|"), n_auth, n_tls,
            "<br>".join(short(e) + ((" in " + ", ".join(("%s %s" % (l["type"], l["id"])) if "id" in l else l["type"] for l in e["tunnel"]))
                                    if e.get("tunnel") else "") for e in evs))
    with open(os.path.join(OUT, "MANIFEST.md"), "w") as f:
        f.write(text)


# ====================================================================== third-party captures

THIRD = os.path.join(os.path.dirname(HERE), "third-party", "tunnels")


def third_party():
    """NAME.connections.jsonl for every capture in pcaps/third-party/tunnels/: the inner TCP
    connections as tshark decodes them (its own dissectors for every layer; port 8472 as VXLAN),
    one object per connection and tunnel-identifier set; and an empty NAME.expected.jsonl (no mail)."""
    for f in sorted(os.listdir(THIRD)):
        if not f.endswith(".pcap"):
            continue
        stem = os.path.join(THIRD, f[:-5])
        rows = tshark_rows(os.path.join(THIRD, f), extra=["tcp.flags.syn", "tcp.flags.ack"])
        conns = {}
        for r in rows:
            ends = tuple(sorted([(r["src"], int(r["tcp.srcport"])), (r["dst"], int(r["tcp.dstport"]))]))
            ids = tuple(tunnel_seen(r))
            path = r["frame.protocols"]
            path = path[:path.rindex(":tcp") + 4] if ":tcp" in path else path
            c = conns.setdefault((ids, ends), {"layers": path, "tunnel_ids": [list(x) for x in ids], "client": None,
                                               "server": None, "packets": 0, "payload_bytes": 0, "first_frame": int(r["frame.number"])})
            c["packets"] += 1
            c["payload_bytes"] += len(r["data"])
            syn, ack = r["tcp.flags.syn"] in ("1", "True"), r["tcp.flags.ack"] in ("1", "True")
            if c["client"] is None and syn:
                c["client"], c["server"] = (r["src"], int(r["tcp.srcport"])), (r["dst"], int(r["tcp.dstport"]))
                if ack:
                    c["client"], c["server"] = c["server"], c["client"]
        with open(stem + ".connections.jsonl", "w") as out:
            for (ids, ends), c in sorted(conns.items(), key=lambda kv: kv[1]["first_frame"]):
                if c["client"] is None:  # no handshake seen: the higher port is the client's
                    a, b = ends
                    c["client"], c["server"] = (a, b) if a[1] > b[1] else (b, a)
                obj = {"client_ip": c["client"][0], "client_port": c["client"][1], "server_ip": c["server"][0],
                       "server_port": c["server"][1], "packets": c["packets"], "payload_bytes": c["payload_bytes"],
                       "tunnel_ids": c["tunnel_ids"], "layers": c["layers"], "first_frame": c["first_frame"]}
                out.write(json.dumps(obj) + "\n")
        if not os.path.exists(stem + ".expected.jsonl"):
            open(stem + ".expected.jsonl", "w").close()
        log("%s: %d TCP connections" % (f, len(conns)))


# ====================================================================== main

def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else "record"
    if cmd == "endpoint":
        endpoint(*sys.argv[2:6])
        return
    if cmd == "client":
        client(json.loads(sys.argv[2]))
        return
    if cmd == "expected":
        write_expected()
        return
    if cmd == "third-party":
        third_party()
        return
    if cmd == "refragment":
        for name, base, how, _ in DERIVED:
            if len(sys.argv) <= 2 or name in sys.argv[2:]:
                refragment(name, base, how)
        write_expected()
        return
    if cmd != "record":
        sys.exit(__doc__)
    if os.geteuid() != 0:
        sys.exit("run as root (namespaces, tcpdump, dovecot)")
    want = sys.argv[2:]
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(prefix="tunnels-rec.")
    os.chmod(work, 0o755)
    sh("openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=mail.sensor.test "
       "-keyout %s/key.pem -out %s/cert.pem 2>/dev/null" % (work, work))
    os.chmod(work + "/key.pem", 0o600)
    try:
        for name, (topo, args), sessions, _, _ in CAPTURES:
            if want and name not in want:
                continue
            log("recording", name)
            record_one(work, name, topo, args, [dict(s) for s in sessions])
        if not want:
            for name, base, how, _ in DERIVED:
                refragment(name, base, how)
        write_expected()
    finally:
        sh("rm -rf %s" % work, check=False)


if __name__ == "__main__":
    main()
