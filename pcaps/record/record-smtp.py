#!/usr/bin/env python3
"""Records real Postfix SMTP sessions on loopback into pcaps/smtp/ (run as root: tcpdump, postfix).

    sudo python3 pcaps/record/record-smtp.py

A private Postfix (own main.cf/master.cf, queue and data directories in a fresh temp dir; every
message goes to the discard transport, nothing is relayed or delivered) authenticates through a
private Dovecot auth service (passwd-file, {PLAIN} passwords, so every mechanism works, including
SCRAM and, with the token as password, XOAUTH2/OAUTHBEARER). smtpd listens on 127.0.0.1 only:

    2525  AUTH offered in cleartext (and the legacy AUTH= line: broken_sasl_auth_clients), STARTTLS
    2587  smtpd_tls_auth_only = yes: AUTH only after STARTTLS, refused (503) before it
    2526  smtpd_sasl_auth_enable = no: AUTH never offered (503)
    2527  STARTTLS advertised with a certificate that cannot be loaded: 454

Each scenario runs one real client (swaks, curl, msmtp, Python smtplib, or a small socket client
where no client produces the wire form: BDAT, traps, pipelining, cancel) while its own tcpdump
records 'tcp port N' on lo. NAME.expected.jsonl is written from the scenario's definition (who was
told to log in how, and what the client was told by the server), never from the sensor. Secrets of
hashed mechanisms are not listed (they depend on the server's challenge), so those captures are
compared without them.
"""
import base64, json, os, shutil, signal, smtplib, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "smtp")
HOST = "127.0.0.1"
MAIN, TLS_ONLY, NO_AUTH, TLS_BROKEN = 2525, 2587, 2526, 2527
TOKEN = "ya29.token-for-tok"
USERS = {"alice": "wonderland", "bob": "builder", "tok": TOKEN}
FROM, TO = "alice@sensor.test", "bob@example.org"

def log(*a): print("[record-smtp]", *a, file=sys.stderr, flush=True)
def b64(s): return base64.b64encode(s.encode()).decode()

# ------------------------------------------------------------------ expected events
def auth(port, mech, user, exposure, outcome, secret=None):
    a = {"mechanism": mech, "username": user, "exposure": exposure, "outcome": outcome}
    if secret is not None: a["secret"] = secret
    return {"event_type": "auth", "dest_ip": HOST, "dest_port": port, "app_proto": "smtp", "auth": a}

def starttls(port, outcome):
    return {"event_type": "starttls", "dest_ip": HOST, "dest_port": port, "app_proto": "smtp", "tls": {"outcome": outcome}}

# ------------------------------------------------------------------ socket clients
class Raw:
    """A minimal SMTP client that writes exactly what it is told and reads whole replies."""
    def __init__(self, port):
        self.s = socket.create_connection((HOST, port), timeout=20)
        self.buf = b""
        self.reply()
    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(4096)
            if not d: raise EOFError("server closed")
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.rstrip(b"\r").decode()
    def reply(self):
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-": lines.append(self.line())
        return int(lines[0][:3]), lines
    def send(self, text): self.s.sendall(text.encode() if isinstance(text, str) else text)
    def cmd(self, text, expect=None):
        self.send(text + "\r\n")
        code, lines = self.reply()
        if expect is not None and code != expect: raise RuntimeError(f"{text!r}: expected {expect}, got {lines}")
        return code
    def close(self):
        self.s.close()

TRAP = ("From: mallory@sensor.test\r\nSubject: AUTH PLAIN\r\n\r\n"
        f"AUTH PLAIN {b64(chr(0) + 'bob' + chr(0) + 'builder')}\r\n334 \r\n{b64(chr(0) + 'bob' + chr(0) + 'builder')}\r\n"
        "235 2.7.0 Authentication successful\r\n"
        f"AUTH LOGIN {b64('bob')}\r\n334 UGFzc3dvcmQ6\r\n{b64('builder')}\r\n..\r\n.. AUTH PLAIN AGJvYgBidWlsZGVy\r\n"
        ".AUTH LOGIN\r\nSTARTTLS\r\n220 2.0.0 Ready to start TLS\r\n")

def traps():
    """AUTH PLAIN, then a DATA body and two BDAT chunks full of AUTH lines; a chunk ends inside one."""
    c = Raw(MAIN)
    c.cmd("EHLO client.sensor.test", 250)
    c.cmd(f"AUTH PLAIN {b64(chr(0) + 'alice' + chr(0) + 'wonderland')}", 235)
    c.send(f"MAIL FROM:<{FROM}>\r\nRCPT TO:<{TO}>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    c.send(TRAP + ".\r\n")
    assert c.reply()[0] == 250
    c.send(f"MAIL FROM:<{FROM}>\r\nRCPT TO:<{TO}>\r\n")
    assert [c.reply()[0] for _ in range(2)] == [250, 250]
    body = TRAP.encode()
    cut = TRAP.index("AUTH LOGIN") + 7
    c.send(f"BDAT {cut}\r\n".encode() + body[:cut])
    assert c.reply()[0] == 250
    c.send(f"BDAT {len(body) - cut} LAST\r\n".encode() + body[cut:])
    assert c.reply()[0] == 250
    c.cmd("QUIT", 221)
    c.close()

def pipelined():
    """EHLO, then AUTH PLAIN and a whole transaction in one write (RFC 2920), the replies in one block."""
    c = Raw(MAIN)
    c.cmd("EHLO client.sensor.test", 250)
    c.send(f"AUTH PLAIN {b64(chr(0) + 'bob' + chr(0) + 'builder')}\r\nMAIL FROM:<{FROM}>\r\nRCPT TO:<{TO}>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(4)] == [235, 250, 250, 354]
    c.send("Subject: pipelined\r\n\r\nhello\r\n.\r\nQUIT\r\n")
    assert [c.reply()[0] for _ in range(2)] == [250, 221]
    c.close()

def retry():
    """AUTH with a mechanism the server does not offer, then AUTH LOGIN: two attempts."""
    c = Raw(MAIN)
    c.cmd("ehlo client.sensor.test", 250)
    code = c.cmd("AUTH GSSAPI")
    assert code >= 500, code
    c.cmd("auth login", 334)
    c.cmd(b64("alice"), 334)
    c.cmd(b64("wonderland"), 235)
    c.cmd("QUIT", 221)
    c.close()

def cancel():
    """AUTH LOGIN cancelled with "*" after the username (RFC 4954 §4): 501."""
    c = Raw(MAIN)
    c.cmd("EHLO client.sensor.test", 250)
    c.cmd("AUTH LOGIN", 334)
    c.cmd(b64("alice"), 334)
    code = c.cmd("*")
    assert code == 501, code
    c.cmd("QUIT", 221)
    c.close()

def refused(port, command, lines=()):
    c = Raw(port)
    c.cmd("EHLO client.sensor.test", 250)
    code = c.cmd(command)
    for l in lines: code = c.cmd(l)
    assert code == 503, code
    c.cmd("QUIT", 221)
    c.close()

def smtplib_auth(mech, obj, ir, expect_ok=True, port=MAIN):
    s = smtplib.SMTP(HOST, port, timeout=20)
    s.ehlo("client.sensor.test")
    try:
        s.auth(mech, obj, initial_response_ok=ir)
        ok = True
    except smtplib.SMTPAuthenticationError:
        ok = False
    assert ok == expect_ok, (mech, ok)
    s.quit()

def plain_after_454():
    c = Raw(TLS_BROKEN)
    c.cmd("EHLO client.sensor.test", 250)
    c.cmd("STARTTLS", 454)
    c.cmd(f"AUTH PLAIN {b64(chr(0) + 'bob' + chr(0) + 'builder')}", 235)
    c.cmd("QUIT", 221)
    c.close()

# ------------------------------------------------------------------ scenarios
WORK = tempfile.mkdtemp(prefix="smtp-rec.")
MSG = os.path.join(WORK, "message.txt")  # a small message for curl and msmtp
CURL = ["curl", "-q", "-s", "-S", "--noproxy", "*", "--max-time", "30"]

def curl(mech, user, password, ir=False, bearer=None):
    a = CURL + [f"smtp://{HOST}:{MAIN}", "--mail-from", FROM, "--mail-rcpt", TO, "--upload-file", MSG,
                "--login-options", f"AUTH={mech}", "-u", f"{user}:{password}"]
    if ir: a.append("--sasl-ir")
    if bearer: a += ["--oauth2-bearer", bearer]
    return a

def swaks(port, *extra):
    return ["swaks", "--server", f"{HOST}:{port}", "--from", FROM, "--to", TO, "--helo", "client.sensor.test", *extra]

SCENARIOS = [
    # name, port, client (argv or callable), ok exit codes, expected events
    ("smtp-swaks-auth-plain", MAIN, swaks(MAIN, "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "wonderland"), [0],
     [auth(MAIN, "AUTH=PLAIN", "alice", "cleartext", "success", "wonderland")]),
    ("smtp-swaks-auth-login-fail", MAIN, swaks(MAIN, "--auth", "LOGIN", "--auth-user", "bob", "--auth-password", "wrong"), [28],
     [auth(MAIN, "AUTH=LOGIN", "bob", "cleartext", "failure", "wrong")]),
    ("smtp-swaks-auth-cram-md5", MAIN, swaks(MAIN, "--auth", "CRAM-MD5", "--auth-user", "alice", "--auth-password", "wonderland"), [0],
     [auth(MAIN, "AUTH=CRAM-MD5", "alice", "hashed", "success")]),
    ("smtp-swaks-no-auth", MAIN, swaks(MAIN), [0], []),
    ("smtp-swaks-starttls-auth", MAIN, swaks(MAIN, "--tls", "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "wonderland"), [0],
     [starttls(MAIN, "success")]),
    ("smtp-curl-auth-plain", MAIN, curl("PLAIN", "alice", "wonderland"), [0],
     [auth(MAIN, "AUTH=PLAIN", "alice", "cleartext", "success", "wonderland")]),
    ("smtp-curl-auth-plain-ir", MAIN, curl("PLAIN", "bob", "builder", ir=True), [0],
     [auth(MAIN, "AUTH=PLAIN", "bob", "cleartext", "success", "builder")]),
    ("smtp-curl-auth-login", MAIN, curl("LOGIN", "bob", "builder"), [0],
     [auth(MAIN, "AUTH=LOGIN", "bob", "cleartext", "success", "builder")]),
    ("smtp-curl-auth-login-ir", MAIN, curl("LOGIN", "alice", "wonderland", ir=True), [0],
     [auth(MAIN, "AUTH=LOGIN", "alice", "cleartext", "success", "wonderland")]),
    ("smtp-curl-oauthbearer", MAIN, curl("OAUTHBEARER", "tok", "", bearer=TOKEN), [0],
     [auth(MAIN, "AUTH=OAUTHBEARER", "tok", "cleartext", "success", TOKEN)]),
    ("smtp-curl-oauthbearer-ir", MAIN, curl("OAUTHBEARER", "tok", "", ir=True, bearer=TOKEN), [0],
     [auth(MAIN, "AUTH=OAUTHBEARER", "tok", "cleartext", "success", TOKEN)]),
    ("smtp-msmtp-scram-sha-256", MAIN,
     ["sh", "-c", f"msmtp --host={HOST} --port={MAIN} --auth=scram-sha-256 --user=alice --passwordeval='echo wonderland' "
                  f"--tls=off --domain=client.sensor.test --from={FROM} {TO} < \"$MSG\""], [0],
     [auth(MAIN, "AUTH=SCRAM-SHA-256", "alice", "hashed", "success")]),
    ("smtp-msmtp-scram-sha-1-fail", MAIN,
     ["sh", "-c", f"msmtp --host={HOST} --port={MAIN} --auth=scram-sha-1 --user=bob --passwordeval='echo wrong' "
                  f"--tls=off --domain=client.sensor.test --from={FROM} {TO} < \"$MSG\""], [77],
     [auth(MAIN, "AUTH=SCRAM-SHA-1", "bob", "hashed", "failure")]),
    ("smtp-smtplib-xoauth2-ir", MAIN, lambda: smtplib_auth("XOAUTH2", lambda c=None: f"user=tok\x01auth=Bearer {TOKEN}\x01\x01", True), None,
     [auth(MAIN, "AUTH=XOAUTH2", "tok", "cleartext", "success", TOKEN)]),
    ("smtp-smtplib-xoauth2", MAIN, lambda: smtplib_auth("XOAUTH2", lambda c=None: f"user=tok\x01auth=Bearer {TOKEN}\x01\x01", False), None,
     [auth(MAIN, "AUTH=XOAUTH2", "tok", "cleartext", "success", TOKEN)]),
    ("smtp-smtplib-plain-authzid", MAIN,
     lambda: smtplib_auth("PLAIN", lambda c=None: "postmaster\0alice\0wonderland", True, expect_ok=False), None,
     [auth(MAIN, "AUTH=PLAIN", "alice", "cleartext", "failure", "wonderland")]),
    ("smtp-smtplib-login", MAIN, lambda: (lambda s: (s.ehlo("client.sensor.test"), s.login("bob", "builder"), s.quit()))(smtplib.SMTP(HOST, MAIN, timeout=20)), None,
     # smtplib.login tries CRAM-MD5 first when offered (Python 3.11: preferred_auths)
     [auth(MAIN, "AUTH=CRAM-MD5", "bob", "hashed", "success")]),
    ("smtp-socket-traps", MAIN, traps, None, [auth(MAIN, "AUTH=PLAIN", "alice", "cleartext", "success", "wonderland")]),
    ("smtp-socket-pipelined", MAIN, pipelined, None, [auth(MAIN, "AUTH=PLAIN", "bob", "cleartext", "success", "builder")]),
    ("smtp-socket-retry-mechanism", MAIN, retry, None,
     [auth(MAIN, "AUTH=GSSAPI", None, "none", "failure"), auth(MAIN, "AUTH=LOGIN", "alice", "cleartext", "success", "wonderland")]),
    ("smtp-socket-cancel", MAIN, cancel, None, [auth(MAIN, "AUTH=LOGIN", "alice", "none", "failure")]),
    ("smtp-tls-auth-only-plain-ir-refused", TLS_ONLY,
     lambda: refused(TLS_ONLY, f"AUTH PLAIN {b64(chr(0) + 'alice' + chr(0) + 'wonderland')}"), None,
     [auth(TLS_ONLY, "AUTH=PLAIN", "alice", "cleartext", "failure", "wonderland")]),
    ("smtp-tls-auth-only-login-refused", TLS_ONLY, lambda: refused(TLS_ONLY, "AUTH LOGIN"), None,
     [auth(TLS_ONLY, "AUTH=LOGIN", None, "none", "failure")]),
    ("smtp-tls-auth-only-starttls-auth", TLS_ONLY,
     swaks(TLS_ONLY, "--tls", "--auth", "LOGIN", "--auth-user", "bob", "--auth-password", "builder"), [0],
     [starttls(TLS_ONLY, "success")]),
    ("smtp-no-auth-login-refused", NO_AUTH, lambda: refused(NO_AUTH, f"AUTH LOGIN {b64('alice')}"), None,
     [auth(NO_AUTH, "AUTH=LOGIN", "alice", "none", "failure")]),
    ("smtp-starttls-454-then-plain", TLS_BROKEN, plain_after_454, None,
     [starttls(TLS_BROKEN, "failure"), auth(TLS_BROKEN, "AUTH=PLAIN", "bob", "cleartext", "success", "builder")]),
]

# ------------------------------------------------------------------ servers
MAIN_CF = """compatibility_level = 3.6
queue_directory = {w}/queue
data_directory = {w}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.sensor.test
mydomain = sensor.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
default_transport = discard:
local_transport = discard:
relay_transport = discard:
alias_maps =
alias_database =
smtpd_banner = $myhostname ESMTP Postfix
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {w}/auth-postfix
smtpd_sasl_security_options = noanonymous
broken_sasl_auth_clients = yes
smtpd_tls_security_level = may
smtpd_tls_cert_file = {w}/cert.pem
smtpd_tls_key_file = {w}/key.pem
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
maillog_file = {w}/postfix.log
maillog_file_prefixes = {w}
"""
MASTER_CF = f"""{MAIN}      inet  n       -       n       -       -       smtpd
{TLS_ONLY}      inet  n       -       n       -       -       smtpd -o smtpd_tls_auth_only=yes
{NO_AUTH}      inet  n       -       n       -       -       smtpd -o smtpd_sasl_auth_enable=no
{TLS_BROKEN}      inet  n       -       n       -       -       smtpd -o smtpd_tls_cert_file=/nonexistent/cert.pem -o smtpd_tls_key_file=/nonexistent/key.pem
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""
DOVECOT_CONF = """instance_name = sensor-smtp-rec
base_dir = {w}/run
state_dir = {w}/state
log_path = {w}/dovecot.log
protocols =
listen = 127.0.0.1
default_internal_user = dovecot
default_login_user = dovenull
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256 xoauth2 oauthbearer
auth_verbose = yes
# DIGEST-MD5 needs a realm in its challenge (curl gives up without one, RFC 2831 §2.1.1)
auth_realms = sensor.test
auth_default_realm = sensor.test
ssl = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {w}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}}
service auth {{
  unix_listener {w}/auth-postfix {{
    mode = 0666
  }}
}}
"""

def listening(ports):
    out = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True).stdout
    return all(f"{HOST}:{p} " in out for p in ports)

class Servers:
    def __init__(self, w):
        self.w = w
        self.dovecot = None
        self.master_pid = None
    def start(self):
        w = self.w
        for d in ("run", "state", "pf", "queue", "data"): os.makedirs(f"{w}/{d}")
        os.chmod(w, 0o755)
        shutil.chown(f"{w}/data", "postfix")
        with open(f"{w}/users", "w") as f:
            for u, p in USERS.items(): f.write(f"{u}:{{PLAIN}}{p}::::::\n")
        os.chmod(f"{w}/users", 0o644)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=mail.sensor.test",
                        "-keyout", f"{w}/key.pem", "-out", f"{w}/cert.pem"], check=True, capture_output=True)
        open(f"{w}/dovecot.conf", "w").write(DOVECOT_CONF.format(w=w))
        open(f"{w}/pf/main.cf", "w").write(MAIN_CF.format(w=w))
        open(f"{w}/pf/master.cf", "w").write(MASTER_CF)
        self.dovecot = subprocess.Popen(["dovecot", "-F", "-c", f"{w}/dovecot.conf"])
        for _ in range(100):
            if os.path.exists(f"{w}/auth-postfix"): break
            time.sleep(0.1)
        subprocess.run(["postfix", "-c", f"{w}/pf", "start"], check=True)
        for _ in range(100):
            if listening([MAIN, TLS_ONLY, NO_AUTH, TLS_BROKEN]): break
            time.sleep(0.1)
        else:
            raise RuntimeError("postfix did not listen")
        self.master_pid = int(open(f"{w}/queue/pid/master.pid").read().strip())
        log("postfix", subprocess.run(["postconf", "-c", f"{w}/pf", "-h", "mail_version"], capture_output=True, text=True).stdout.strip(),
            f"(master pid {self.master_pid}) with dovecot", subprocess.run(["dovecot", "--version"], capture_output=True, text=True).stdout.strip(),
            f"SASL (pid {self.dovecot.pid}) on {HOST}:{MAIN},{TLS_ONLY},{NO_AUTH},{TLS_BROKEN}")
    def stop(self):
        if self.master_pid:
            try: os.kill(self.master_pid, signal.SIGTERM)
            except ProcessLookupError: pass
            for _ in range(100):
                if not listening([MAIN]) and not listening([TLS_ONLY]): break
                time.sleep(0.1)
        if self.dovecot:
            self.dovecot.terminate()
            self.dovecot.wait(10)

# ------------------------------------------------------------------ recording
def record(w, name, port, client, ok_codes):
    pcap = os.path.join(OUT, name + ".pcap")
    err = open(f"{w}/tcpdump-{name}.err", "w+")
    td = subprocess.Popen(["tcpdump", "-i", "lo", "-nn", "-U", "--immediate-mode", "-Z", "root", "-w", pcap, f"tcp port {port}"],
                          stdout=subprocess.DEVNULL, stderr=err)
    for _ in range(100):
        err.seek(0)
        if "listening on" in err.read(): break
        time.sleep(0.05)
    time.sleep(0.2)
    try:
        if callable(client):
            client()
        else:
            r = subprocess.run(client, capture_output=True, text=True, env=dict(os.environ, MSG=MSG), timeout=60)
            if r.returncode not in ok_codes:
                raise RuntimeError(f"{name}: client exit {r.returncode}: {r.stdout[-2000:]} {r.stderr[-2000:]}")
        time.sleep(0.5)
    finally:
        td.send_signal(signal.SIGINT)
        td.wait(10)

def main():
    if os.geteuid() != 0: sys.exit("run as root (tcpdump, postfix)")
    only = set(sys.argv[1:])
    w = WORK
    with open(MSG, "w") as f:
        f.write(f"From: {FROM}\r\nTo: {TO}\r\nSubject: sensor test\r\n\r\nAUTH PLAIN {b64(chr(0) + 'bob' + chr(0) + 'builder')}\r\n334 \r\nhello\r\n")
    os.makedirs(OUT, exist_ok=True)
    servers = Servers(w)
    try:
        servers.start()
        for name, port, client, ok_codes, expected in SCENARIOS:
            if only and name not in only: continue
            log("recording", name)
            record(w, name, port, client, ok_codes)
            # An event with nothing exposed has no secret to list (the format writes "[redacted]" even when
            # secrets are revealed): a capture that has one is compared without secrets.
            if any("auth" in e and "secret" not in e["auth"] for e in expected):
                for e in expected: e.get("auth", {}).pop("secret", None)
            with open(os.path.join(OUT, name + ".expected.jsonl"), "w") as f:
                for e in expected: f.write(json.dumps(e) + "\n")
    finally:
        servers.stop()
        for l in ("postfix.log", "dovecot.log"):
            if os.path.exists(f"{w}/{l}"): log(l + ":\n" + open(f"{w}/{l}").read()[-6000:])
        shutil.rmtree(w, ignore_errors=True)

if __name__ == "__main__":
    main()
