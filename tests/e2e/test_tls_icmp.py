"""`pharos probe` on tls and icmp checks (SPEC §2.1, issue 5): `openssl
s_server` on 127.0.0.1 with certificates the test makes with the openssl CLI
(valid 10 days, expired, wrong host name, an untrusted self-signed chain), and
ICMP echoes to 127.0.0.1 (the test widens net.ipv4.ping_group_range when it is
root and must; it skips with the reason when ICMP is not permitted)."""

import datetime
import os
import re
import shutil
import socket
import subprocess

import pytest

import e2eutil as U

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range"


# --- certificates (openssl CLI) -------------------------------------------------------

CA_CONF = """\
[ ca ]
default_ca = ca_default
[ ca_default ]
dir = {d}
database = {d}/index.txt
new_certs_dir = {d}/newcerts
serial = {d}/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
[ leaf ]
basicConstraints = CA:FALSE
subjectAltName = {san}
"""


def _openssl(*args, cwd=None):
    r = subprocess.run([OPENSSL] + list(args), cwd=cwd, capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise AssertionError("openssl %s failed (%s):\n%s\n%s"
                             % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def _asn1(t):
    return t.strftime("%Y%m%d%H%M%SZ")


class Pki:
    """A trusted CA, a rogue self-signed CA and leaf certificates made with
    `openssl req` / `openssl ca`, all in directory d."""

    def __init__(self, d):
        self.dir = d
        self.ca = self._make_ca("ca", "Pharos E2E CA")
        self.rogue = self._make_ca("rogue", "Pharos Rogue CA")
        self.key = os.path.join(d, "leaf.key")
        self.csr = os.path.join(d, "leaf.csr")
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", self.key, "-out", self.csr, "-subj", "/CN=pharos.test")
        now = datetime.datetime.now(datetime.timezone.utc)
        hour, day = datetime.timedelta(hours=1), datetime.timedelta(days=1)
        # "Valid 10 days": an hour more, so the whole days left are exactly 10.
        self.good = self._sign("good", "ca", "DNS:pharos.test,IP:127.0.0.1", now - hour,
                               now + 10 * day + hour)
        self.expired = self._sign("expired", "ca", "DNS:pharos.test,IP:127.0.0.1",
                                  now - 30 * day, now - day)
        self.wrong = self._sign("wrong", "ca", "DNS:wrong.example", now - hour, now + 10 * day,
                                cn="wrong.example")
        self.untrusted = self._sign("untrusted", "rogue", "DNS:pharos.test", now - hour,
                                    now + 10 * day)

    def _make_ca(self, name, cn):
        key = os.path.join(self.dir, name + ".key")
        pem = os.path.join(self.dir, name + ".pem")
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", key, "-out", pem, "-days", "100", "-subj", "/CN=" + cn,
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return pem

    def _sign(self, name, ca, san, start, end, cn="pharos.test"):
        d = os.path.join(self.dir, "ca-" + name)
        os.makedirs(os.path.join(d, "newcerts"))
        U.write_file(os.path.join(d, "index.txt"), "")
        U.write_file(os.path.join(d, "serial"), "%02X\n" % (abs(hash(name)) % 200 + 16))
        conf = U.write_file(os.path.join(d, "ca.cnf"), CA_CONF.format(d=d, san=san))
        csr = self.csr
        if cn != "pharos.test":
            csr = os.path.join(d, "leaf.csr")
            _openssl("req", "-new", "-key", self.key, "-out", csr, "-subj", "/CN=" + cn)
        out = os.path.join(self.dir, name + ".pem")
        _openssl("ca", "-batch", "-config", conf, "-extensions", "leaf", "-notext",
                 "-keyfile", os.path.join(self.dir, ca + ".key"),
                 "-cert", os.path.join(self.dir, ca + ".pem"),
                 "-startdate", _asn1(start), "-enddate", _asn1(end),
                 "-in", csr, "-out", out)
        return out


@pytest.fixture(scope="module")
def pki(module_workdir):
    if not os.path.exists(OPENSSL):
        pytest.skip("the openssl command is missing; install the Debian package openssl")
    return Pki(module_workdir)


# --- openssl s_server ---------------------------------------------------------------

class TlsServer:
    def __init__(self, proc, port, log):
        self.proc, self.port, self.log = proc, port, log


def _start_s_server(d, name, cert, key, chain=None):
    """openssl s_server -www on a free 127.0.0.1 port, up once it accepts."""
    for attempt in range(5):
        port = U.free_port()
        args = [OPENSSL, "s_server", "-accept", "127.0.0.1:%d" % port, "-cert", cert,
                "-key", key, "-www", "-quiet"]
        if chain:
            args += ["-cert_chain", chain]
        log = open(os.path.join(d, "s_server-%s.log" % name), "ab")
        # stdin stays open (a pipe): s_server must not see end of input.
        p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=log, stderr=log)

        def up():
            if p.poll() is not None:
                return "exited"
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                return "up"
            except OSError:
                return None
        state = U.wait_until(up, 15, what="openssl s_server (%s) to accept" % name)
        if state == "up":
            return TlsServer(p, port, log)
        log.close()   # port taken in between: try another one
    raise AssertionError("openssl s_server (%s) did not start; see %s" % (name, d))


@pytest.fixture(scope="module")
def tls_servers(pki, module_workdir):
    servers = {}
    try:
        servers["good"] = _start_s_server(module_workdir, "good", pki.good, pki.key)
        servers["expired"] = _start_s_server(module_workdir, "expired", pki.expired, pki.key)
        servers["wrong"] = _start_s_server(module_workdir, "wrong", pki.wrong, pki.key)
        servers["untrusted"] = _start_s_server(module_workdir, "untrusted", pki.untrusted,
                                               pki.key, chain=pki.rogue)
        yield servers
    finally:
        for s in servers.values():
            if s.proc.poll() is None:
                s.proc.terminate()
                try:
                    s.proc.wait(10)
                except subprocess.TimeoutExpired:
                    s.proc.kill()
                    s.proc.wait(10)
            if s.proc.stdin:
                s.proc.stdin.close()
            s.log.close()


def tls_check(name, port, pki, **kw):
    c = {"name": name, "type": "tls", "host": "127.0.0.1", "port": port,
         "server_name": "pharos.test", "ca_file": pki.ca, "timeout": "5s"}
    c.update(kw)
    return c


def assert_passed(r, doc):
    assert r.rc == 0, r
    assert doc["ok"] is True, r
    assert doc.get("error") in (None, "", "ok"), r


def assert_failed(r, doc, error, message_re=None):
    assert r.rc == 1, r
    assert doc["ok"] is False, r
    assert doc["error"] == error, "error class %r, expected %r: %r" % (doc["error"], error, r)
    if message_re:
        assert re.search(message_re, doc["message"]), r


# --- tls ----------------------------------------------------------------------------

def test_check_page_shows_certificate_days(start_agent, pki, tls_servers):
    """A tls check's page says how many days its certificate has left."""
    a = start_agent([tls_check("cert", tls_servers["good"].port, pki, interval="2s",
                               timeout="2s")])
    U.wait_until(lambda: a.checks()["cert"]["state"] == "up", 15, what="the tls check up")
    page = a.get("/check/cert").text
    # under 14 days: marked
    assert re.search(r'<dt>Certificate</dt><dd id="check-cert" class="cert-bad">10 days left '
                     r'\(expires \d{4}-\d\d-\d\d\)</dd>', page), page[:3000]


def test_tls_valid_cert_passes_cert_min_days_5(cli, pki, tls_servers):
    r, doc = cli.probe(tls_check("cert", tls_servers["good"].port, pki,
                                 expect={"cert_min_days": 5}))
    assert_passed(r, doc)
    d = doc["details"]
    assert d["protocol"].startswith("TLSv1."), r
    assert d["verified"] is True and d["insecure"] is False, r
    assert d["days_to_expiry"] == 10, r
    assert d["subject_cn"] == "pharos.test" and d["issuer_cn"] == "Pharos E2E CA", r
    assert d.get("chain_earliest_expiry"), r
    assert doc.get("cert_expiry"), r
    assert "tls" in doc["phases_ms"] and "connect" in doc["phases_ms"], r
    assert [a["ok"] for a in doc["assertions"] if a["what"] == "cert_min_days 5"] == [True], r


def test_tls_cert_min_days_14_fails(cli, pki, tls_servers):
    r, doc = cli.probe(tls_check("cert", tls_servers["good"].port, pki,
                                 expect={"cert_min_days": 14}))
    assert_failed(r, doc, "assertion", r"cert_min_days 14: expires in 10 days")


def test_tls_verified_by_ip_without_server_name(cli, pki, tls_servers):
    c = tls_check("cert", tls_servers["good"].port, pki)
    del c["server_name"]
    r, doc = cli.probe(c)
    assert_passed(r, doc)
    assert doc["details"]["server_name"] == "127.0.0.1", r


def test_tls_expired(cli, pki, tls_servers):
    r, doc = cli.probe(tls_check("cert", tls_servers["expired"].port, pki))
    assert_failed(r, doc, "tls", r"^certificate has expired \(notAfter \d{4}-\d\d-\d\d")
    assert doc["details"]["verified"] is False, r
    assert doc["details"]["days_to_expiry"] < 0, r


def test_tls_wrong_host_name(cli, pki, tls_servers):
    r, doc = cli.probe(tls_check("cert", tls_servers["wrong"].port, pki))
    assert_failed(r, doc, "tls",
                  r"^hostname mismatch: certificate is for wrong\.example, not pharos\.test$")


def test_tls_self_signed_chain(cli, pki, tls_servers):
    r, doc = cli.probe(tls_check("cert", tls_servers["untrusted"].port, pki))
    assert_failed(r, doc, "tls", r"self-signed certificate in certificate chain")
    assert "Pharos Rogue CA" in doc["message"], r


def test_tls_insecure_passes_and_reports_expiry(cli, pki, tls_servers):
    r, doc = cli.probe(tls_check("cert", tls_servers["expired"].port, pki, insecure=True))
    assert_passed(r, doc)
    d = doc["details"]
    assert d["insecure"] is True and d["verified"] is False, r
    assert d["verify_error"] == "certificate has expired", r
    assert d["days_to_expiry"] < 0, r
    assert doc.get("cert_expiry"), r


def test_tls_refused(cli, pki, tls_servers):
    r, doc = cli.probe(tls_check("cert", U.closed_port(), pki))
    assert_failed(r, doc, "connect", r"connection refused by 127\.0\.0\.1:\d+")


# --- icmp ---------------------------------------------------------------------------

def _can_open(kind):
    try:
        socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def icmp_permitted():
    """Makes ICMP possible for pharos when it can: widens ping_group_range when
    root and needed (restored afterwards); skips with the reason otherwise."""
    saved = None
    if not _can_open(socket.SOCK_DGRAM) and os.geteuid() == 0:
        try:
            with open(PING_GROUP_RANGE) as f:
                saved = f.read()
            with open(PING_GROUP_RANGE, "w") as f:
                f.write("0 2147483647")
        except OSError:
            saved = None
    if not _can_open(socket.SOCK_DGRAM) and not _can_open(socket.SOCK_RAW):
        pytest.skip("ICMP not permitted here: net.ipv4.ping_group_range excludes gid %d, "
                    "the test is not root and has no CAP_NET_RAW" % os.getgid())
    try:
        yield True
    finally:
        if saved is not None:
            with open(PING_GROUP_RANGE, "w") as f:
                f.write(saved)


def test_icmp_loopback_no_loss(cli, icmp_permitted):
    r, doc = cli.probe({"name": "ping", "type": "icmp", "host": "127.0.0.1", "count": 3,
                        "timeout": "3s"})
    assert_passed(r, doc)
    d = doc["details"]
    assert d["sent"] == 3 and d["received"] == 3 and d["loss_pct"] == 0, r
    assert 0 < d["rtt_min_ms"] <= d["rtt_avg_ms"] <= d["rtt_max_ms"], r
    assert d["socket"] in ("dgram", "raw"), r
    assert r.elapsed < 3, r


def test_icmp_loopback_latency_assertion(cli, icmp_permitted):
    r, doc = cli.probe({"name": "ping", "type": "icmp", "host": "127.0.0.1", "count": 2,
                        "timeout": "3s", "expect": {"max_latency": "1s"}})
    assert_passed(r, doc)
    assert [a["ok"] for a in doc["assertions"] if a["what"].startswith("max_latency")] == [True], r


def test_icmp_loss_assertion_and_spacing(cli, icmp_permitted):
    r, doc = cli.probe({"name": "ping", "type": "icmp", "host": "127.0.0.1", "count": 4,
                        "spacing": "100ms", "timeout": "3s", "expect": {"max_loss": "0%"}})
    assert_passed(r, doc)
    assert doc["details"]["sent"] == 4, r
    assert [a["ok"] for a in doc["assertions"] if a["what"].startswith("max_loss")] == [True], r
    # Four echoes 100 ms apart: the run lasted at least 300 ms, but its
    # duration (its latency) is the average round trip, not the spacing.
    assert r.elapsed >= 0.3, r
    assert doc["duration_ms"] == doc["details"]["rtt_avg_ms"] or \
        abs(doc["duration_ms"] - doc["details"]["rtt_avg_ms"]) < 0.002, r
    assert doc["duration_ms"] < 100, r
    # The text form prints the loss and min/avg/max.
    r, _ = cli.probe({"name": "ping", "type": "icmp", "host": "127.0.0.1", "count": 2,
                      "timeout": "3s"}, json_out=False)
    assert "2 sent, 2 received, 0% loss" in r.stdout and "round trip min/avg/max" in r.stdout, r
