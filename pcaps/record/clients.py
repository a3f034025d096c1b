"""Python clients for record-dovecot.sh (stdlib only: imaplib, poplib, ssl, socket).

    python3 clients.py SCENARIO PORT

Every scenario connects to 127.0.0.1 only.  Most use imaplib / poplib as a
mail client would; the few that need wire behaviour those libraries cannot
produce (IMAP literals for both LOGIN arguments, LITERAL+, a POP3 client that
pipelines, a client that hangs up before the answer) use a small socket client
that behaves like a real one: it reads the greeting, waits for "+"
continuations where the protocol requires them, and reads every answer.
Exits non-zero if the session did not go the way the scenario intends.

The "refused" scenarios run against the instance with plaintext
authentication disabled and connect from INSECURE_CLIENT_HOST (127.0.0.2;
see testdata.py), so that Dovecot treats the connection as not secured.
"""

import base64
import hashlib
import imaplib
import os
import poplib
import re
import socket
import ssl
import sys
import time

from testdata import HOST, INSECURE_CLIENT_HOST, USERS, WRONG_PASSWORD, APPEND_MESSAGE

TIMEOUT = 20


def tls_context():
    # Self-signed test certificate: no verification (test instance on loopback).
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def expect(cond, what):
    if not cond:
        raise SystemExit("scenario went wrong: %s" % what)


# ---------------------------------------------------------------- IMAP (imaplib)

def imap(port):
    return imaplib.IMAP4(HOST, port, timeout=TIMEOUT)


def imap_capability_only(port):
    m = imap(port)
    m.capability()
    m.logout()


def imap_login_atom(port):
    # Both arguments as bare atoms, through imaplib's generic command path
    # (imaplib.login() would quote the password; curl 7.88 cannot be made to
    # use the LOGIN command against a server that offers SASL mechanisms).
    m = imap(port)
    typ, _ = m._simple_command("LOGIN", "alice", USERS["alice"])
    expect(typ == "OK", "atom login")
    m.state = "AUTH"
    m.select("INBOX")
    m.logout()


def imap_login_quoted(port, user="alice"):
    # imaplib.login() always sends the password as a quoted string.
    m = imap(port)
    typ, _ = m.login(user, USERS[user])
    expect(typ == "OK", "login")
    m.select("INBOX")
    m.logout()


def imap_login_quoted_escapes(port):
    # bob's password is p"ss\w0rd: imaplib sends "p\"ss\\w0rd".
    imap_login_quoted(port, "bob")


def imap_login_literal_imaplib(port):
    # imaplib's own literal machinery: IMAP4.literal is appended as a
    # synchronizing literal {n} after the other arguments, and imaplib waits
    # for the "+" continuation before it sends the bytes.
    m = imap(port)
    m.literal = USERS["alice"].encode()
    typ, _ = m._simple_command("LOGIN", "alice")
    expect(typ == "OK", "literal login")
    m.state = "AUTH"
    m.logout()


def imap_login_fail(port):
    m = imap(port)
    try:
        m.login("alice", WRONG_PASSWORD)
    except imaplib.IMAP4.error:
        pass
    else:
        raise SystemExit("wrong password accepted")
    m.logout()


def imap_login_fail_then_success(port):
    m = imap(port)
    try:
        m.login("alice", WRONG_PASSWORD)
        raise SystemExit("wrong password accepted")
    except imaplib.IMAP4.error:
        pass
    typ, _ = m.login("alice", USERS["alice"])
    expect(typ == "OK", "second login")
    m.logout()


def imap_authenticate_plain(port, password=None):
    # imaplib.authenticate never uses SASL-IR: it sends "AUTHENTICATE PLAIN",
    # waits for "+ " and answers with the base64 response.
    password = USERS["alice"] if password is None else password
    m = imap(port)
    try:
        m.authenticate("PLAIN", lambda _chal: b"\0alice\0" + password.encode())
        ok = True
    except imaplib.IMAP4.error:
        ok = False
    expect(ok == (password == USERS["alice"]), "authenticate outcome")
    m.logout()


def imap_authenticate_plain_fail(port):
    imap_authenticate_plain(port, WRONG_PASSWORD)


def imap_cram_md5(port):
    m = imap(port)
    typ, _ = m.login_cram_md5("alice", USERS["alice"])
    expect(typ == "OK", "cram-md5")
    m.logout()


class DigestMD5:
    """RFC 2831 DIGEST-MD5 client as an imaplib authobject (imaplib has none)."""

    def __init__(self, user, password, service="imap", host="localhost"):
        self.user, self.password = user, password
        self.uri = "%s/%s" % (service, host)
        self.step = 0

    def __call__(self, challenge):
        self.step += 1
        if self.step == 2:       # rspauth=...: nothing more to say
            return b""
        fields = {k: v for k, v in re.findall(r'([a-z-]+)="?([^",]*)"?', challenge.decode())}
        realm, nonce = fields.get("realm", ""), fields["nonce"]
        cnonce = base64.b64encode(os.urandom(12)).decode()
        nc, qop = "00000001", "auth"
        md5 = lambda b: hashlib.md5(b).digest()
        hexmd5 = lambda b: hashlib.md5(b).hexdigest()
        a1 = md5(("%s:%s:%s" % (self.user, realm, self.password)).encode()) + \
            (":%s:%s" % (nonce, cnonce)).encode()
        a2 = ("AUTHENTICATE:%s" % self.uri).encode()
        resp = hexmd5(("%s:%s:%s:%s:%s:%s" % (hexmd5(a1), nonce, nc, cnonce, qop,
                                               hexmd5(a2))).encode())
        return ('username="%s",realm="%s",nonce="%s",cnonce="%s",nc=%s,qop=%s,'
                'digest-uri="%s",response=%s,charset=utf-8'
                % (self.user, realm, nonce, cnonce, nc, qop, self.uri, resp)).encode()


def imap_authenticate_digest_md5(port):
    m = imap(port)
    typ, _ = m.authenticate("DIGEST-MD5", DigestMD5("alice", USERS["alice"]))
    expect(typ == "OK", "digest-md5")
    m.logout()


def imap_starttls(port):
    m = imap(port)
    m.starttls(ssl_context=tls_context())
    typ, _ = m.login("alice", USERS["alice"])   # inside TLS
    expect(typ == "OK", "login inside TLS")
    m.select("INBOX")
    m.logout()


def imap_starttls_refused(port):
    # Logs in in the clear, then asks for STARTTLS in the authenticated state,
    # where Dovecot has no such command and refuses it.  (imaplib.starttls()
    # would refuse locally because the post-login CAPABILITY lacks STARTTLS.)
    m = imap(port)
    typ, _ = m.login("alice", USERS["alice"])
    expect(typ == "OK", "login")
    # imaplib's _simple_command() also refuses STARTTLS outside NONAUTH, so
    # the tagged command is written with imaplib's own send() and its answer
    # read with imaplib's response reader.
    tag = m._new_tag()
    m.tagged_commands[tag] = None
    m.send(tag + b" STARTTLS\r\n")
    try:
        typ, _ = m._command_complete("STARTTLS", tag)
    except imaplib.IMAP4.error:
        typ = "BAD"
    expect(typ != "OK", "STARTTLS refused")
    m.logout()


def imap_append_fetch(port):
    m = imap(port)
    typ, _ = m.login("carol", USERS["carol"])
    expect(typ == "OK", "login")
    typ, _ = m.append("INBOX", None, None, APPEND_MESSAGE)
    expect(typ == "OK", "append")
    typ, dat = m.select("INBOX")
    expect(typ == "OK" and dat[0] == b"1", "select: %r" % (dat,))
    typ, dat = m.fetch("1", "(BODY[])")
    expect(typ == "OK" and dat[0][1] == APPEND_MESSAGE, "fetch body")
    m.close()
    m.logout()


# ------------------------------------------------------- IMAP (socket client)

class Line:
    """Minimal line-oriented socket client (used for what imaplib can't do)."""

    def __init__(self, port, source=None):
        self.s = socket.create_connection((HOST, port), timeout=TIMEOUT,
                                          source_address=(source, 0) if source else None)
        self.buf = b""

    def readline(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                raise SystemExit("connection closed early; have %r" % self.buf)
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def until(self, prefix):
        while True:
            line = self.readline()
            if line.startswith(prefix):
                return line

    def send(self, data):
        self.s.sendall(data)

    def read_to_eof(self):
        data = self.buf
        while True:
            d = self.s.recv(4096)
            if not d:
                return data
            data += d

    def close(self):
        self.s.close()


def imap_login_literal(port):
    # Both LOGIN arguments as synchronizing literals; waits for each "+".
    user, pw = "alice", USERS["alice"]
    c = Line(port)
    c.readline()
    c.send(b"a1 CAPABILITY\r\n")
    c.until(b"a1 ")
    c.send(b"a2 LOGIN {%d}\r\n" % len(user))
    expect(c.readline().startswith(b"+"), "continuation 1")
    c.send(user.encode() + b" {%d}\r\n" % len(pw))
    expect(c.readline().startswith(b"+"), "continuation 2")
    c.send(pw.encode() + b"\r\n")
    expect(c.until(b"a2 ").startswith(b"a2 OK"), "literal login")
    c.send(b"a3 LOGOUT\r\n")
    c.until(b"a3 ")
    c.close()


def imap_login_literal_plus(port):
    # LITERAL+ (RFC 7888): non-synchronizing literals {n+}, whole command in
    # one write, no waiting for continuations.
    user, pw = "alice", USERS["alice"]
    c = Line(port)
    c.readline()
    c.send(b"a1 CAPABILITY\r\n")
    caps = c.until(b"* CAPABILITY")
    c.until(b"a1 ")
    expect(b"LITERAL+" in caps.split(), "server advertises LITERAL+")
    c.send(b"a2 LOGIN {%d+}\r\n%s {%d+}\r\n%s\r\n"
           % (len(user), user.encode(), len(pw), pw.encode()))
    expect(c.until(b"a2 ").startswith(b"a2 OK"), "literal+ login")
    c.send(b"a3 LOGOUT\r\n")
    c.until(b"a3 ")
    c.close()


def imap_login_client_hangup(port):
    # Sends LOGIN with a wrong password and hangs up before Dovecot's answer
    # (which only comes after auth_failure_delay): the outcome is unknown.
    c = Line(port)
    c.readline()
    c.send(b"a1 LOGIN alice %s\r\n" % WRONG_PASSWORD.encode())
    time.sleep(0.3)
    c.close()


# ---------------------------------------------------------------- POP3

def pop3(port):
    return poplib.POP3(HOST, port, timeout=TIMEOUT)


def pop3_capa(port):
    p = pop3(port)
    p.capa()
    p.quit()


def pop3_user_pass(port, user="alice"):
    p = pop3(port)
    p.user(user)
    p.pass_(USERS[user])
    p.stat()
    p.quit()


def pop3_user_pass_space(port):
    pop3_user_pass(port, "erin")


def pop3_user_pass_fail(port):
    p = pop3(port)
    p.user("alice")
    try:
        p.pass_(WRONG_PASSWORD)
    except poplib.error_proto:
        pass
    else:
        raise SystemExit("wrong password accepted")
    p.quit()


def pop3_apop(port):
    p = pop3(port)
    p.apop("alice", USERS["alice"])
    p.stat()
    p.quit()


def pop3_auth_plain(port):
    # AUTH PLAIN without initial response, through poplib's command path:
    # "AUTH PLAIN" -> "+ " -> base64 response.
    p = pop3(port)
    p.capa()
    resp = p._shortcmd("AUTH PLAIN")
    expect(resp.startswith(b"+"), "continuation")
    resp = p._shortcmd(base64.b64encode(b"\0alice\0" + USERS["alice"].encode()).decode())
    expect(resp.startswith(b"+OK"), "auth plain")
    p.stat()
    p.quit()


def pop3_stls(port):
    p = pop3(port)
    p.stls(context=tls_context())
    p.user("alice")          # inside TLS
    p.pass_(USERS["alice"])
    p.stat()
    p.quit()


def pop3_stls_refused(port):
    # STLS sent in the TRANSACTION state (after a clear-text login), where
    # Dovecot does not know the command.  poplib.stls() would refuse locally
    # (CAPA after login lacks STLS), so it goes through poplib's command path.
    p = pop3(port)
    p.user("alice")
    p.pass_(USERS["alice"])
    try:
        p._shortcmd("STLS")
        raise SystemExit("STLS accepted after login")
    except poplib.error_proto:
        pass
    p.quit()


def pop3_retr(port):
    p = pop3(port)
    p.user("dave")
    p.pass_(USERS["dave"])
    resp, lines, octets = p.retr(1)
    expect(b"USER victim" in lines and b".PASS dotted" in lines, "retr body")
    p.quit()


def pop3_pipelined(port):
    # RFC 2449 PIPELINING: CAPA first, then USER, PASS, STAT and QUIT in one write.
    c = Line(port)
    c.readline()
    c.send(b"CAPA\r\n")
    caps = []
    while True:
        line = c.readline()
        if line == b".":
            break
        caps.append(line)
    expect(b"PIPELINING" in caps, "server advertises PIPELINING")
    c.send(b"USER alice\r\nPASS %s\r\nSTAT\r\nQUIT\r\n" % USERS["alice"].encode())
    rest = c.read_to_eof()
    answers = rest.split(b"\r\n")
    expect(len(answers) >= 4 and all(a.startswith(b"+OK") for a in answers[:4]),
           "pipelined answers: %r" % rest)
    c.close()


def pop3_pass_client_hangup(port):
    # USER, then PASS with a wrong password, then hang up before the answer.
    c = Line(port)
    c.readline()
    c.send(b"USER alice\r\n")
    expect(c.readline().startswith(b"+OK"), "USER")
    c.send(b"PASS %s\r\n" % WRONG_PASSWORD.encode())
    time.sleep(0.3)
    c.close()


# ------------------------------------- refused before any secret (plaintext disabled)
# Dovecot runs with disable_plaintext_auth = yes and these clients connect
# from INSECURE_CLIENT_HOST, so it hides USER and the PLAIN/LOGIN mechanisms
# from CAPA/CAPABILITY and advertises LOGINDISABLED.  The clients below send
# the credentials commands anyway, as scripts using imaplib/poplib do (the
# libraries do not look at the capability lists; curl does, and refuses
# locally with "Login denied" without sending anything, so curl has no
# scenario here).


class InsecurePOP3(poplib.POP3):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(INSECURE_CLIENT_HOST, 0))


class InsecureIMAP4(imaplib.IMAP4):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(INSECURE_CLIENT_HOST, 0))


def insecure_pop3(port):
    return InsecurePOP3(HOST, port, timeout=TIMEOUT)


def insecure_imap(port):
    return InsecureIMAP4(HOST, port, timeout=TIMEOUT)


def expect_pop3_refused(cmd, *args):
    try:
        resp = cmd(*args)
    except poplib.error_proto as e:
        expect(b"Plaintext authentication" in e.args[0], "refusal: %r" % (e.args,))
    else:
        raise SystemExit("accepted on an insecure connection: %r" % (resp,))


def pop3_user_refused(port):
    # poplib user(): "USER alice" answered -ERR [AUTH] Plaintext authentication
    # disallowed...; the password is never sent.
    p = insecure_pop3(port)
    expect_pop3_refused(p.user, "alice")
    p.quit()


def pop3_auth_plain_refused(port):
    # "AUTH PLAIN" through poplib's command path: refused before the "+ ",
    # so the base64 response is never sent.
    p = insecure_pop3(port)
    expect_pop3_refused(p._shortcmd, "AUTH PLAIN")
    p.quit()


def pop3_auth_login_refused(port):
    p = insecure_pop3(port)
    expect_pop3_refused(p._shortcmd, "AUTH LOGIN")
    p.quit()


def imap_authenticate_refused(port, mechanism):
    m = insecure_imap(port)
    expect("LOGINDISABLED" in m.capabilities and "AUTH=%s" % mechanism not in m.capabilities,
           "capabilities of the insecure connection: %r" % (m.capabilities,))
    called = []

    def respond(challenge):
        called.append(challenge)
        return b"\0alice\0" + USERS["alice"].encode() if mechanism == "PLAIN" else b"alice"
    try:
        m.authenticate(mechanism, respond)
    except imaplib.IMAP4.error as e:
        expect("PRIVACYREQUIRED" in str(e), "refusal: %s" % e)
    else:
        raise SystemExit("AUTHENTICATE %s accepted on an insecure connection" % mechanism)
    expect(not called, "the server sent a continuation")
    m.logout()


def imap_authenticate_plain_refused(port):
    imap_authenticate_refused(port, "PLAIN")


def imap_authenticate_login_refused(port):
    imap_authenticate_refused(port, "LOGIN")


def imap_login_logindisabled(port):
    # imaplib login() does not look at LOGINDISABLED: the password crosses in
    # the clear and Dovecot answers NO [PRIVACYREQUIRED] (after an untagged
    # "* BAD [ALERT] ... the password was exposed").
    m = insecure_imap(port)
    expect("LOGINDISABLED" in m.capabilities, "LOGINDISABLED advertised")
    try:
        m.login("alice", USERS["alice"])
    except imaplib.IMAP4.error as e:
        expect("PRIVACYREQUIRED" in str(e), "refusal: %s" % e)
    else:
        raise SystemExit("LOGIN accepted despite LOGINDISABLED")
    m.logout()


def pop3_user_after_server_close(port):
    # Three unknown commands draw Dovecot's "-ERR Too many invalid bad
    # commands." and its close (FIN).  The client reads up to that close and
    # then sends "USER alice" into the half-closed connection: it is never
    # answered (the server's kernel resets the connection).
    c = Line(port, source=INSECURE_CLIENT_HOST)
    expect(c.readline().startswith(b"+OK"), "greeting")
    for _ in range(3):
        c.send(b"XYZZY\r\n")
        expect(c.readline().startswith(b"-ERR"), "unknown command refused")
    expect(c.read_to_eof().startswith(b"-ERR Too many"), "server gives up on the client")
    c.send(b"USER alice\r\n")
    try:
        rest = c.s.recv(4096)
    except ConnectionResetError:
        rest = b""
    expect(rest == b"", "USER after the close was answered: %r" % rest)
    time.sleep(0.2)   # let the RST land first, so closing sends no FIN of its own
    c.close()


SCENARIOS = {name: fn for name, fn in globals().items()
             if callable(fn) and name.startswith(("imap_", "pop3_"))
             and name not in ("imap", "pop3")}


if __name__ == "__main__":
    name, port = sys.argv[1].replace("-", "_"), int(sys.argv[2])
    if name not in SCENARIOS:
        sys.exit("unknown scenario %s; known: %s" % (name, ", ".join(sorted(SCENARIOS))))
    SCENARIOS[name](port)
