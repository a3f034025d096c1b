#!/usr/bin/env python3
"""Records real Exim SMTP sessions on loopback into pcaps/smtp/exim-*.pcap (run as root: tcpdump, mount).

    sudo python3 pcaps/record/record-exim.py [NAME...]

Exim is not installed: the Debian package exim4-daemon-heavy conflicts with postfix (the other
recordings' server), so this script fetches exim4-daemon-heavy, exim4-base, exim4-config and the two
libraries the daemon links that a Postfix host lacks (libmariadb3, libspf2-2) with `apt-get download`
and unpacks them with `dpkg-deb -x` into a cache directory (EXIM_CACHE, default
/var/cache/sensor-exim-record). Nothing is installed into the system.

The Debian binary has its user compiled in ("Debian-exim") and refuses to run as uid 0. Rather than
adding that user to the host, the daemon runs in a private mount namespace (`unshare -m`) where a
copy of /etc/passwd and /etc/group with "Debian-exim" mapped to nobody:nogroup is bind-mounted.
The network namespace is the host's: the daemon listens on 127.0.0.1 only.

A private config (`exim -C FILE -bdf -oX ...`: a foreground daemon; spool and logs in a fresh temp dir):

    2625  AUTH offered in cleartext (auth_advertise_hosts = *), STARTTLS with a fresh self-signed cert
    2626  AUTH advertised only after STARTTLS (an AUTH before it is answered 503)

plaintext authenticators for PLAIN and LOGIN and a cram_md5 authenticator check the users of
record-smtp.py (an lsearch file). Nothing is relayed or delivered: the DATA ACL discards every
message, the only router is a :blackhole: redirect, no queue runner is started, no host lookups.

Each scenario runs one real client (swaks, curl, Python smtplib; a small socket client for the
cancel, the AUTH refused before TLS, and record-smtp.py's traps and pipelining) while its own tcpdump records 'tcp port N' on lo. NAME.expected.jsonl is written from the
scenario's definition, never from the sensor (the helpers are record-smtp.py's).
"""
import importlib.util, os, shutil, signal, smtplib, subprocess, sys, time, json, glob

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("record_smtp", os.path.join(HERE, "record-smtp.py"))
rs = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(rs)
HOST, USERS, FROM, TO, b64, auth, starttls, Raw = rs.HOST, rs.USERS, rs.FROM, rs.TO, rs.b64, rs.auth, rs.starttls, rs.Raw
OUT = rs.OUT

MAIN, TLS_ONLY = 2625, 2626
CACHE = os.environ.get("EXIM_CACHE", "/var/cache/sensor-exim-record")
PACKAGES = ["exim4-daemon-heavy", "exim4-base", "exim4-config", "libmariadb3", "libspf2-2"]

def log(*a): print("[record-exim]", *a, file=sys.stderr, flush=True)

# ------------------------------------------------------------------ exim, unpacked
def unpack():
    root = os.path.join(CACHE, "root")
    exim = os.path.join(root, "usr/sbin/exim4")
    if not os.path.exists(exim):
        debs = os.path.join(CACHE, "debs")
        os.makedirs(debs, exist_ok=True)
        os.chmod(debs, 0o777)  # apt-get download runs its fetch as _apt
        subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, check=True)
        for d in sorted(glob.glob(os.path.join(debs, "*.deb"))):
            subprocess.run(["dpkg-deb", "-x", d, root], check=True)
    libs = ":".join(os.path.join(root, p) for p in ("usr/lib/x86_64-linux-gnu", "usr/lib"))
    return exim, libs

def exim_version(exim, libs, w):
    r = subprocess.run(wrapped(w, [exim, "-C", f"{w}/exim.conf", "-bV"]), capture_output=True, text=True,
                       env=dict(os.environ, LD_LIBRARY_PATH=libs))
    return next((l for l in r.stdout.splitlines() if l.startswith("Exim version")), r.stdout + r.stderr).strip()

def wrapped(w, argv):
    """argv run where "Debian-exim" is nobody:nogroup (private mount namespace; exec keeps the PID)."""
    q = " ".join("'" + a.replace("'", "'\\''") + "'" for a in argv)
    return ["unshare", "-m", "sh", "-c",
            f"mount --bind {w}/passwd /etc/passwd && mount --bind {w}/group /etc/group && exec {q}"]

CONF = """# private recording instance: 127.0.0.1 only, nothing delivered
primary_hostname = mail.sensor.test
qualify_domain = sensor.test
# the same list is given with -oX: a daemon started with -oX writes no pid file, whose removal at exit
# would re-exec the binary, which then cannot find its unpacked libraries (Exim purges LD_LIBRARY_PATH)
local_interfaces = <; 127.0.0.1.@MAIN@ ; 127.0.0.1.@TLS_ONLY@
spool_directory = @W@/spool
log_file_path = @W@/log/%slog
keep_environment =
host_lookup =
rfc1413_hosts =
helo_try_verify_hosts =
never_users =
tls_advertise_hosts = *
tls_certificate = @W@/cert.pem
tls_privatekey = @W@/key.pem
# @TLS_ONLY@: AUTH only once the session is encrypted
auth_advertise_hosts = ${if or{{eq{$received_port}{@MAIN@}}{!eq{$tls_in_cipher}{}}}{*}{}}
acl_smtp_rcpt = acl_rcpt
acl_smtp_data = acl_data

begin acl
acl_rcpt:
  accept
acl_data:
  # the message is accepted (250) and thrown away: no router, no transport, no queue
  discard

begin routers
blackhole:
  driver = redirect
  data = :blackhole:

begin authenticators
plain_server:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and{{!eq{$auth3}{}}{eq{$auth3}{${lookup{$auth2}lsearch{@W@/users}}}}}}
  server_set_id = $auth2

login_server:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${if and{{!eq{$auth2}{}}{eq{$auth2}{${lookup{$auth1}lsearch{@W@/users}}}}}}
  server_set_id = $auth1

cram_server:
  driver = cram_md5
  public_name = CRAM-MD5
  server_secret = ${lookup{$auth1}lsearch{@W@/users}{$value}fail}
  server_set_id = $auth1
"""

class Exim:
    def __init__(self, w):
        self.w = w
        self.proc = None
    def start(self):
        w = self.w
        exim, libs = unpack()
        for d in ("spool", "log"): os.makedirs(f"{w}/{d}")
        os.chmod(w, 0o755)
        nobody = subprocess.run(["id", "-u", "nobody"], capture_output=True, text=True).stdout.strip()
        nogroup = subprocess.run(["id", "-g", "nobody"], capture_output=True, text=True).stdout.strip()
        with open(f"{w}/passwd", "w") as f:
            f.write(open("/etc/passwd").read() + f"Debian-exim:x:{nobody}:{nogroup}::/nonexistent:/usr/sbin/nologin\n")
        with open(f"{w}/group", "w") as f:
            f.write(open("/etc/group").read() + f"Debian-exim:x:{nogroup}:\n")
        for d in ("spool", "log"): os.chown(f"{w}/{d}", int(nobody), int(nogroup))
        with open(f"{w}/users", "w") as f:
            for u, p in USERS.items(): f.write(f"{u}: {p}\n")
        os.chmod(f"{w}/users", 0o644)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=mail.sensor.test",
                        "-keyout", f"{w}/key.pem", "-out", f"{w}/cert.pem"], check=True, capture_output=True)
        os.chmod(f"{w}/key.pem", 0o644)  # read by the receiving process, which runs as the exim user
        open(f"{w}/exim.conf", "w").write(CONF.replace("@W@", w).replace("@MAIN@", str(MAIN)).replace("@TLS_ONLY@", str(TLS_ONLY)))
        env = dict(os.environ, LD_LIBRARY_PATH=libs)
        self.version = exim_version(exim, libs, w)
        self.proc = subprocess.Popen(wrapped(w, [exim, "-C", f"{w}/exim.conf", "-bdf", "-oX", f"<; {HOST}.{MAIN} ; {HOST}.{TLS_ONLY}"]), env=env)
        for _ in range(100):
            if rs.listening([MAIN, TLS_ONLY]): break
            if self.proc.poll() is not None: raise RuntimeError(f"exim exited {self.proc.returncode}")
            time.sleep(0.1)
        else:
            raise RuntimeError("exim did not listen")
        log(self.version, f"(daemon pid {self.proc.pid}) on {HOST}:{MAIN},{TLS_ONLY}")
    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try: self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL); self.proc.wait(10)

# ------------------------------------------------------------------ clients
def curl(port, mech, user, password, ir=False):
    a = rs.CURL + [f"smtp://{HOST}:{port}", "--mail-from", FROM, "--mail-rcpt", TO, "--upload-file", rs.MSG,
                   "--login-options", f"AUTH={mech}", "-u", f"{user}:{password}"]
    if ir: a.append("--sasl-ir")
    return a

swaks = rs.swaks

def cancel():
    """AUTH LOGIN cancelled with "*" after the username (RFC 4954 §4): Exim answers 501."""
    c = Raw(MAIN)
    c.cmd("EHLO client.sensor.test", 250)
    c.cmd("AUTH LOGIN", 334)
    c.cmd(b64("alice"), 334)
    code = c.cmd("*")
    assert code == 501, code
    c.cmd("QUIT", 221)
    c.close()

def refused_before_tls():
    """AUTH LOGIN with the username on the port that advertises AUTH only after STARTTLS: 503."""
    c = Raw(TLS_ONLY)
    c.cmd("EHLO client.sensor.test", 250)
    code = c.cmd(f"AUTH LOGIN {b64('alice')}")
    assert code == 503, code
    c.cmd("QUIT", 221)
    c.close()

def on_main(fn):
    """record-smtp.py's socket client fn, talking to Exim's port instead of Postfix's."""
    def run():
        saved, rs.MAIN = rs.MAIN, MAIN
        try: fn()
        finally: rs.MAIN = saved
    return run

def smtplib_login(user, password):
    s = smtplib.SMTP(HOST, MAIN, timeout=20)
    s.ehlo("client.sensor.test")
    s.login(user, password)
    s.sendmail(FROM, [TO], open(rs.MSG).read())
    s.quit()

SCENARIOS = [
    ("exim-swaks-auth-plain", MAIN, swaks(MAIN, "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "wonderland"), [0],
     [auth(MAIN, "AUTH=PLAIN", "alice", "cleartext", "success", "wonderland")]),
    ("exim-swaks-auth-login-fail", MAIN, swaks(MAIN, "--auth", "LOGIN", "--auth-user", "bob", "--auth-password", "wrong"), [28],
     [auth(MAIN, "AUTH=LOGIN", "bob", "cleartext", "failure", "wrong")]),
    ("exim-swaks-auth-cram-md5", MAIN, swaks(MAIN, "--auth", "CRAM-MD5", "--auth-user", "alice", "--auth-password", "wonderland"), [0],
     [auth(MAIN, "AUTH=CRAM-MD5", "alice", "hashed", "success")]),
    ("exim-swaks-starttls-auth", MAIN, swaks(MAIN, "--tls", "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "wonderland"), [0],
     [starttls(MAIN, "success")]),
    ("exim-curl-auth-login", MAIN, curl(MAIN, "LOGIN", "bob", "builder"), [0],
     [auth(MAIN, "AUTH=LOGIN", "bob", "cleartext", "success", "builder")]),
    ("exim-curl-auth-plain-ir", MAIN, curl(MAIN, "PLAIN", "alice", "wonderland", ir=True), [0],
     [auth(MAIN, "AUTH=PLAIN", "alice", "cleartext", "success", "wonderland")]),
    ("exim-smtplib-plain", MAIN, lambda: rs.smtplib_auth("PLAIN", lambda c=None: "\0bob\0builder", True, port=MAIN), None,
     [auth(MAIN, "AUTH=PLAIN", "bob", "cleartext", "success", "builder")]),
    ("exim-smtplib-plain-fail", MAIN, lambda: rs.smtplib_auth("PLAIN", lambda c=None: "\0alice\0queen", True, expect_ok=False, port=MAIN), None,
     [auth(MAIN, "AUTH=PLAIN", "alice", "cleartext", "failure", "queen")]),
    ("exim-smtplib-login", MAIN, lambda: smtplib_login("bob", "builder"), None,
     # smtplib.login tries CRAM-MD5 first when offered (Python 3.11: preferred_auths)
     [auth(MAIN, "AUTH=CRAM-MD5", "bob", "hashed", "success")]),
    ("exim-socket-traps", MAIN, on_main(rs.traps), None, [auth(MAIN, "AUTH=PLAIN", "alice", "cleartext", "success", "wonderland")]),
    ("exim-socket-pipelined", MAIN, on_main(rs.pipelined), None, [auth(MAIN, "AUTH=PLAIN", "bob", "cleartext", "success", "builder")]),
    ("exim-socket-cancel", MAIN, cancel, None, [auth(MAIN, "AUTH=LOGIN", "alice", "none", "failure")]),
    ("exim-tls-auth-only-login-refused", TLS_ONLY, refused_before_tls, None,
     [auth(TLS_ONLY, "AUTH=LOGIN", "alice", "none", "failure")]),
    ("exim-tls-auth-only-starttls-auth", TLS_ONLY,
     swaks(TLS_ONLY, "--tls", "--auth", "LOGIN", "--auth-user", "bob", "--auth-password", "builder"), [0],
     [starttls(TLS_ONLY, "success")]),
]

def main():
    if os.geteuid() != 0: sys.exit("run as root (tcpdump, unshare/mount)")
    only = set(sys.argv[1:])
    w = rs.WORK
    with open(rs.MSG, "w") as f:
        f.write(f"From: {FROM}\r\nTo: {TO}\r\nSubject: sensor test\r\n\r\nAUTH PLAIN {b64(chr(0) + 'bob' + chr(0) + 'builder')}\r\n334 \r\nhello\r\n")
    os.makedirs(OUT, exist_ok=True)
    server = Exim(w)
    try:
        server.start()
        for name, port, client, ok_codes, expected in SCENARIOS:
            if only and name not in only: continue
            log("recording", name)
            rs.record(w, name, port, client, ok_codes)
            # as record-smtp.py: a capture with an event that exposes nothing is compared without secrets
            if any("auth" in e and "secret" not in e["auth"] for e in expected):
                for e in expected: e.get("auth", {}).pop("secret", None)
            with open(os.path.join(OUT, name + ".expected.jsonl"), "w") as f:
                for e in expected: f.write(json.dumps(e) + "\n")
    finally:
        server.stop()
        l = f"{w}/log/mainlog"
        if os.path.exists(l): log("mainlog:\n" + open(l).read()[-6000:])
        shutil.rmtree(w, ignore_errors=True)

if __name__ == "__main__":
    main()
