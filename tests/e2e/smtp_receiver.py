"""The email fake for the pharos end-to-end tests: a real SMTP server
(Debian's python3-aiosmtpd, an aiosmtpd Controller in a thread of the test
process) on 127.0.0.1, plain, STARTTLS (required) or SMTPS, with optional
AUTH PLAIN/LOGIN, and a self-signed certificate made with openssl at test
time (rcv.ca_file, for the notifier's `ca_file`).

Every mail is kept as a Mail (the envelope, the raw bytes, the message parsed
with the email package) and checked (shared/reference/wire-formats.md §12,
SPEC §2.3 `email`): CRLF line ends and at most 998 characters a line, ASCII
headers, Date, From, To, MIME-Version and a <left@right> Message-ID,
multipart/alternative with text/plain then text/html, Subject
`[FIRING] rule — check` / `[RESOLVED] rule — check` (`[TEST] ...` for
notify-test), and on a resolved mail In-Reply-To and References naming the
firing mail's Message-ID. What does not conform goes to `failures`, and the
DATA is refused with 554 as a strict server would.

Same behaviour switches as receivers.Receiver: answer_ok(), fail(451) /
fail(554) (the answer to DATA), script([451, "ok"]), hang(), refuse(),
listen()."""

import asyncio
import atexit
import email
import email.policy
import logging
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import warnings

from receivers import Receiver

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError:             # the fakes' self-test skips; see scripts/install-deps
    Controller = None

# aiosmtpd logs a deprecation warning on every AUTH: not the tests' business.
logging.getLogger("mail.log").setLevel(logging.ERROR)

SUBJECT = re.compile(r"^\[(FIRING|RESOLVED)\] (\S+) \u2014 (\S+)$")
MSGID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
_CERT_LOCK = threading.Lock()
_CERT = {}


def self_signed_cert():
    """(cert.pem, key.pem) for 127.0.0.1 and localhost, made once per process."""
    with _CERT_LOCK:
        if not _CERT:
            d = tempfile.mkdtemp(prefix="pharos-e2e-smtp-")
            atexit.register(shutil.rmtree, d, True)
            cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "2", "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                           check=True, capture_output=True, timeout=30)
            _CERT.update(cert=cert, key=key)
        return _CERT["cert"], _CERT["key"]


class Mail:
    """One mail as the server saw it (the Request of the HTTP fakes)."""

    def __init__(self, n, mail_from, rcpt_tos, raw, tls, login):
        self.n = n
        self.t = time.monotonic()
        self.wall = time.time()
        self.t_answered = None
        self.mail_from, self.rcpt_tos = mail_from, list(rcpt_tos)
        self.raw = raw
        self.tls, self.login = tls, login
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.answer = None
        self.problems = []

    def header(self, name):
        v = self.msg.get(name)
        return None if v is None else str(v)

    @property
    def subject(self):
        return self.header("Subject") or ""

    @property
    def message_id(self):
        return (self.header("Message-ID") or "").strip()

    @property
    def key(self):
        """The idempotency key: X-Pharos-Idempotency-Key, else the Message-ID."""
        return self.header("X-Pharos-Idempotency-Key") or self.message_id

    def part(self, ctype):
        for p in self.msg.walk():
            if p.get_content_type() == ctype and not p.is_multipart():
                return p.get_content().replace("\r\n", "\n")     # the text, not its wire form
        return None

    @property
    def text(self):
        return self.part("text/plain")

    @property
    def html(self):
        return self.part("text/html")

    @property
    def kind(self):
        s = self.subject
        if s.startswith("[TEST]"):
            return "test"
        return "resolved" if s.startswith("[RESOLVED]") else "firing"

    @property
    def json(self):         # the HTTP fakes' helpers look at req.json
        return None

    def __repr__(self):
        return "<Mail #%d answer=%s subject=%r id=%s>" % (self.n, self.answer, self.subject,
                                                          self.message_id)


def _raw_problems(raw):
    p = []
    if re.search(rb"(?<!\r)\n", raw):
        p.append("bare LF in the message: lines must end in CRLF")
    for i, line in enumerate(raw.split(b"\r\n")):
        if len(line) > 998:
            p.append("line %d has %d characters, at most 998" % (i + 1, len(line)))
            break
    head = raw.split(b"\r\n\r\n", 1)[0]
    if any(b > 127 for b in head):
        p.append("non-ASCII bytes in the header section (use RFC 2047 encoded-words)")
    return p


def _mime_problems(m):
    p = []
    if (m.header("MIME-Version") or "").strip() != "1.0":
        p.append("MIME-Version %r, expected 1.0" % m.header("MIME-Version"))
    if m.msg.get_content_type() != "multipart/alternative":
        return p + ["Content-Type %s, expected multipart/alternative" % m.msg.get_content_type()]
    parts = list(m.msg.iter_parts())
    if [x.get_content_type() for x in parts] != ["text/plain", "text/html"]:
        p.append("parts %s, expected text/plain then text/html"
                 % [x.get_content_type() for x in parts])
    for x in parts:
        raw = x.get_payload(decode=False)
        cte = (x.get("Content-Transfer-Encoding") or "7bit").lower()
        if isinstance(raw, str) and any(ord(c) > 127 for c in raw) and cte != "8bit":
            p.append("%s part has 8-bit text with Content-Transfer-Encoding %s"
                     % (x.get_content_type(), cte))
        try:
            if not x.get_content().strip():
                p.append("%s part is empty" % x.get_content_type())
        except (LookupError, ValueError) as e:
            p.append("%s part cannot be decoded: %s" % (x.get_content_type(), e))
    if m.html is not None and not re.search(r"<[a-zA-Z][^>]*>", m.html):
        p.append("the text/html part holds no HTML")
    return p


if Controller is not None:
    class _Controller(Controller):
        """aiosmtpd's Controller without its warning about AUTH without TLS:
        SMTPS is TLS from the first byte, which that check does not see."""

        def factory(self):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return super().factory()


class SmtpReceiver(Receiver):
    """An SMTP server for the `email` notifier. mode: "plain", "starttls"
    (STARTTLS offered and required before MAIL) or "smtps" (TLS from the
    first byte). auth: (username, password) to require AUTH (PLAIN or LOGIN).
    sender / rcpts: the envelope pharos must use (checked when given)."""

    kind = "email"
    success_status = 250

    def __init__(self, mode="starttls", auth=None, sender=None, rcpts=None, name=None):
        if Controller is None:
            raise RuntimeError("python3-aiosmtpd is missing: scripts/install-deps test")
        assert mode in ("plain", "starttls", "smtps"), mode
        self.mode, self.auth = mode, auth
        self.sender, self.rcpts = sender, rcpts
        self.ca_file = self_signed_cert()[0] if mode != "plain" else None
        self.logins = []                 # (mechanism, login) of every good AUTH
        self.firing_ids = {}             # (rule, check) -> Message-ID of the open episode's first firing mail
        self.expect_value_line = True    # off for a notifier with a `template`
        self._controller = None
        super().__init__(name)

    # --- listening (Receiver's HTTP server replaced by aiosmtpd) ---------------------

    def _tls_context(self):
        cert, key = self_signed_cert()
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        return ctx

    def listen(self):
        if self._controller is not None:
            return
        kw = {"hostname": "127.0.0.1", "server_hostname": "pharos-e2e.test", "ready_timeout": 10}
        if self.mode == "starttls":
            kw.update(tls_context=self._tls_context(), require_starttls=True)
        elif self.mode == "smtps":
            kw["ssl_context"] = self._tls_context()
        if self.auth:
            kw.update(authenticator=self._authenticate, auth_required=True,
                      auth_require_tls=self.mode == "starttls")
        last = None
        for _ in range(50):
            port = self.port or _free_port()
            c = _Controller(_Handler(self), port=port, **kw)
            try:
                c.start()
                break
            except Exception as e:   # noqa: BLE001  the port may linger or be taken
                last = e
                time.sleep(0.1)
        else:
            raise AssertionError("%s: cannot listen on port %d: %s" % (self.name, self.port, last))
        self.port = port
        self._controller = c

    def refuse(self):
        c, self._controller = self._controller, None
        if c is not None:
            self._hang_release.set()
            c.stop()

    @property
    def listening(self):
        return self._controller is not None

    def url(self, path=""):
        return "%s://127.0.0.1:%d%s" % ("smtps" if self.mode == "smtps" else "smtp", self.port, path)

    # --- the SMTP side ---------------------------------------------------------------

    def _authenticate(self, server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and self.auth is not None and \
            (data.login.decode("utf-8", "replace"), data.password.decode("utf-8", "replace")) == \
            tuple(self.auth)
        if ok:
            with self.lock:
                self.logins.append((mechanism, data.login.decode()))
            return AuthResult(success=True, auth_data=data.login.decode())
        return AuthResult(success=False, handled=False)

    def _receive(self, session, envelope):
        """Records one mail; returns (its Mail, the planned action)."""
        tls = self.mode == "smtps" or session.ssl is not None
        login = session.auth_data if session.authenticated else None
        with self.lock:
            m = Mail(len(self.requests) + 1, envelope.mail_from, envelope.rcpt_tos,
                     envelope.original_content or b"", tls, login)
            action = self._plan.pop(0) if self._plan else self._default
            release = self._hang_release
        m.problems = self.validate(m)
        with self.cond:
            self.requests.append(m)
            for pr in m.problems:
                self.failures.append("%s mail #%d: %s (subject %r)" % (self.name, m.n, pr, m.subject))
            g = SUBJECT.match(m.subject)
            if g and not m.problems and m.kind == "firing":     # the episode's first firing mail
                self.firing_ids.setdefault((g.group(2), g.group(3)), m.message_id)
            elif g and not m.problems and m.kind == "resolved":
                self.firing_ids.pop((g.group(2), g.group(3)), None)
            self.cond.notify_all()
        return m, action, release

    def validate(self, m):
        p = _raw_problems(m.raw) + _mime_problems(m)
        for h in ("Date", "From", "To", "Subject"):
            if not m.header(h):
                p.append("no %s header" % h)
        if not MSGID.match(m.message_id):
            p.append("Message-ID %r is not <left@right>" % m.message_id)
        if self.sender is not None and m.mail_from != self.sender:
            p.append("MAIL FROM %r, configured from is %r" % (m.mail_from, self.sender))
        if self.rcpts is not None and sorted(m.rcpt_tos) != sorted(self.rcpts):
            p.append("RCPT TO %r, configured to is %r" % (m.rcpt_tos, self.rcpts))
        frm = m.msg.get("From")
        if frm is not None and m.mail_from and m.mail_from not in str(frm):
            p.append("From %r does not name the envelope sender %r" % (str(frm), m.mail_from))
        if self.mode == "starttls" and not m.tls:
            p.append("mail sent without STARTTLS")
        if self.auth and m.login != self.auth[0]:
            p.append("mail sent without AUTH as %r" % self.auth[0])
        s = m.subject
        g = SUBJECT.match(s)
        if not g and not s.startswith("[TEST] "):
            p.append("Subject %r is not [FIRING] rule \u2014 check / [RESOLVED] rule \u2014 check" % s)
        if g and g.group(1) == "RESOLVED":
            p += self._thread_problems(m, (g.group(2), g.group(3)))
        if self.expect_value_line and m.text is not None and g and value_of_text(m.text) is None:
            p.append("the text part has no \"Value: ...\" line")
        return p

    def _thread_problems(self, m, pair):
        irt = (m.header("In-Reply-To") or "").strip()
        refs = (m.header("References") or "").split()
        if not MSGID.match(irt):
            return ["resolved mail without an In-Reply-To <message-id>"]
        p = []
        if irt not in refs:
            p.append("References %r does not list In-Reply-To %s" % (refs, irt))
        with self.lock:
            want = self.firing_ids.get(pair)
        if want is not None and irt != want:
            p.append("In-Reply-To %s, the firing mail was %s" % (irt, want))
        if irt == m.message_id:
            p.append("the resolved mail has the firing mail's own Message-ID")
        return p

    def kind_of(self, m):
        return m.kind

    def value_of(self, m):
        return value_of_text(m.text)


def value_of_text(text):
    """V of a "Value: V" line (markdown-ish *, _ and ` around it allowed), or None."""
    m = re.search(r"(?mi)^[ \t*_>-]*value[ \t*_]*:[ \t*_`]*(.*?)[ \t*_`]*$", text or "")
    return m.group(1) if m else None


def _free_port():
    import e2eutil
    return e2eutil.free_port()


class _Handler:
    """aiosmtpd's handler: every DATA goes to the SmtpReceiver."""

    def __init__(self, rcv):
        self.rcv = rcv

    async def handle_DATA(self, server, session, envelope):
        m, action, release = self.rcv._receive(session, envelope)
        if action[0] == "hang":
            m.answer = "hang"
            await asyncio.get_running_loop().run_in_executor(None, release.wait, 120)
            return "421 4.3.2 shutting down"
        if m.problems:
            status, text = 554, "554 5.6.0 message refused: %s" % m.problems[0][:200]
        elif action[0] == "ok":
            status, text = 250, "250 2.0.0 OK queued as E2E%04d" % m.n
        else:
            status = action[1]
            text = "%d %s" % (status, "4.3.0 try again later" if status < 500 else "5.7.1 refused")
        m.answer = status
        m.t_answered = time.monotonic()
        with self.rcv.cond:
            self.rcv.cond.notify_all()
        return text
