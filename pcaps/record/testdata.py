"""Shared test data for record-dovecot.sh: users, passwords, message bodies.

Used by clients.py (to drive the sessions), by expected.py (to write the
ground truth) and by record-dovecot.sh (to write the Dovecot passwd-file and
to seed the maildir).  Everything here is throw-away test data for a private
Dovecot instance bound to 127.0.0.1.

    python3 testdata.py passwd-file HOMEBASE UID GID   -> passwd-file on stdout
    python3 testdata.py seed-maildir HOMEBASE          -> writes dave's message
"""

import os
import sys

HOST = "127.0.0.1"  # the only address the recording ever talks to

# Source address of the clients recorded against the plaintext-disabled
# instance.  Dovecot counts a connection whose remote address equals its local
# address as secured (127.0.0.1 -> 127.0.0.1 is exempt from
# disable_plaintext_auth), so those clients bind to another loopback address.
# 127.0.0.0/8 is all loopback on Linux: nothing leaves the host.
INSECURE_CLIENT_HOST = "127.0.0.2"

# user -> password.  Passwords are stored {PLAIN} so that every mechanism
# (PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, APOP) can be verified by Dovecot.
USERS = {
    "alice": "wonderland",
    "bob": 'p"ss\\w0rd',          # p"ss\w0rd : a double quote and a backslash
    "carol": "Car0l-Secret",       # IMAP APPEND/FETCH scenario
    "dave": "dave.pop3",           # POP3 RETR scenario (mailbox pre-seeded)
    "erin": "open sesame",         # POP3 PASS with a space in the password
}

WRONG_PASSWORD = "wrong-password"

# Lines that look like protocol commands but live inside message bodies.
# A sensor must never report them as logins.
DECOY_LINES = [
    "a1 LOGIN victim secret",
    "USER victim",
    "PASS secret",
    "a2 AUTHENTICATE PLAIN AHZpY3RpbQBzZWNyZXQ=",
    "AUTH PLAIN AHZpY3RpbQBzZWNyZXQ=",
    "APOP victim c4c9334bac560ecc979e58001b3e22fb",
]


def message(to_user, subject, date, msgid, extra_lines=()):
    lines = [
        "From: Mallory <mallory@example.test>",
        "To: %s <%s@example.test>" % (to_user.capitalize(), to_user),
        "Subject: %s" % subject,
        "Date: %s" % date,
        "Message-ID: <%s@example.test>" % msgid,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "This message quotes protocol lines that are not logins:",
        "",
    ]
    lines += DECOY_LINES
    lines += list(extra_lines)
    lines += ["", "-- ", "mallory", ""]
    return "\r\n".join(lines).encode("ascii")


# Appended over IMAP by carol in imap-append-fetch.
APPEND_MESSAGE = message(
    "carol", "protocol lines in a body (IMAP)",
    "Mon, 01 Jan 2024 10:00:00 +0000", "append-1")

# Written straight into dave's maildir before the POP3 scenarios.  The line
# starting with a dot is dot-stuffed by the server in RETR.
RETR_MESSAGE = message(
    "dave", "protocol lines in a body (POP3)",
    "Mon, 01 Jan 2024 11:00:00 +0000", "retr-1",
    extra_lines=[".PASS dotted", "a3 LOGIN x y"])


def passwd_file(homebase, uid, gid):
    out = []
    for user, pw in USERS.items():
        assert ":" not in pw and "\n" not in pw
        out.append("%s:{PLAIN}%s:%s:%s::%s/%s::\n" % (user, pw, uid, gid, homebase, user))
    return "".join(out)


def seed_maildir(homebase):
    md = os.path.join(homebase, "dave", "Maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    # Maildir files hold LF line endings; Dovecot converts to CRLF on output.
    with open(os.path.join(md, "new", "1704106800.M1P1.sensor-rec"), "wb") as f:
        f.write(RETR_MESSAGE.replace(b"\r\n", b"\n"))


if __name__ == "__main__":
    if sys.argv[1] == "passwd-file":
        sys.stdout.write(passwd_file(sys.argv[2], sys.argv[3], sys.argv[4]))
    elif sys.argv[1] == "seed-maildir":
        seed_maildir(sys.argv[2])
    else:
        sys.exit("unknown command %r" % sys.argv[1])
