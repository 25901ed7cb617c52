"""The TLS listener: agent.tls_cert / agent.tls_key serve the status page, the
API and the metrics over HTTPS (libmicrohttpd with GnuTLS), checked with
`curl --cacert` against a certificate made by the test; a reload picks up a
new certificate, a bad one is refused without taking the listener down."""

import os
import signal
import ssl
import subprocess
import http.client

import pytest

import e2eutil as U

OPENSSL = U.which("/usr/bin/openssl")
CURL = U.which("/usr/bin/curl")
DEFAULTS = {"interval": "1s", "timeout": "500ms"}


def _need_tools():
    if not OPENSSL:
        pytest.skip("openssl is missing (apt-get install openssl)")
    if not CURL:
        pytest.skip("curl is missing (apt-get install curl)")


def make_cert(d, name):
    """A self-signed certificate for 127.0.0.1 (its own CA): (cert, key) paths."""
    cert = os.path.join(d, name + ".crt")
    key = os.path.join(d, name + ".key")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def curl(port, path, cacert, timeout=10):
    """`curl --cacert CACERT https://127.0.0.1:PORT/PATH`: (exit code, status, body)."""
    r = subprocess.run([CURL, "-sS", "--max-time", str(timeout), "--cacert", cacert,
                        "-o", "-", "-w", "\n%{http_code}", "https://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True, timeout=timeout + 5)
    out = r.stdout.decode("utf-8", "replace")
    body, _, code = out.rpartition("\n")
    return r.returncode, int(code or 0), body, r.stderr.decode("utf-8", "replace")


class TlsAgent(U.Agent):
    """An Agent whose requests (readiness included) go over HTTPS, trusting cafile."""

    cafile = None

    def request(self, method, path, headers=None, body=None, timeout=30):
        ctx = ssl.create_default_context(cafile=self.cafile)
        c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=ctx)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return U.HttpAnswer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            c.close()


@pytest.fixture
def tls_agent(workdir, pharos_bin, tcp):
    _need_tools()
    cert, key = make_cert(workdir, "server")
    live_cert = os.path.join(workdir, "live.crt")
    live_key = os.path.join(workdir, "live.key")
    for src, dst in ((cert, live_cert), (key, live_key)):
        with open(src, "rb") as f, open(dst, "wb") as g:
            g.write(f.read())
    a = TlsAgent(workdir, [{"name": "banner", "type": "tcp", "host": "127.0.0.1",
                            "port": tcp.banner.port}],
                 agent_extra={"tls_cert": live_cert, "tls_key": live_key}, defaults=DEFAULTS)
    a.cafile = cert
    a.live = (live_cert, live_key)
    a.start()
    yield a
    rc, took = a.stop(15)
    assert rc == 0, a.logs()[-3000:]


def _copy(src, dst):
    with open(src, "rb") as f:
        data = f.read()
    tmp = dst + ".tmp"
    with open(tmp, "wb") as g:
        g.write(data)
    os.replace(tmp, dst)


def test_https_page_api_and_metrics(tls_agent):
    a = tls_agent
    rc, code, body, err = curl(a.port, "/healthz", a.cafile)
    assert (rc, code) == (0, 200), err
    U.wait_until(lambda: a.checks()["banner"]["state"] == "up", 15, what="the check to run")
    rc, code, body, err = curl(a.port, "/api/v1/checks", a.cafile)
    assert (rc, code) == (0, 200), err
    assert '"banner"' in body
    rc, code, body, err = curl(a.port, "/", a.cafile)
    assert (rc, code) == (0, 200), err
    assert "<html" in body.lower()
    rc, code, body, err = curl(a.port, "/metrics", a.cafile)
    assert (rc, code) == (0, 200), err
    assert "pharos_build_info" in body
    rc, code, body, err = curl(a.port, "/readyz", a.cafile)
    assert (rc, code) == (0, 200), err


def test_plain_http_and_wrong_ca_are_refused(tls_agent, workdir):
    a = tls_agent
    with pytest.raises((OSError, http.client.HTTPException)):
        r = U.http_request(a.port, "GET", "/healthz", timeout=5)
        raise AssertionError("plain HTTP answered on the TLS listener: %r" % r)
    other, _ = make_cert(workdir, "other")
    rc, code, body, err = curl(a.port, "/healthz", other)
    assert rc != 0, "a certificate from another CA was accepted"
    # ... and the listener still serves afterwards.
    assert curl(a.port, "/healthz", a.cafile)[:2] == (0, 200)


def test_reload_picks_up_new_certificate(tls_agent, workdir):
    a = tls_agent
    new_cert, new_key = make_cert(workdir, "renewed")
    _copy(new_cert, a.live[0])
    _copy(new_key, a.live[1])
    a.proc.send_signal(signal.SIGHUP)
    U.wait_until(lambda: "configuration reloaded" in a.logs(), 10, what="the reload")

    def renewed():
        return curl(a.port, "/healthz", new_cert)[:2] == (0, 200)
    U.wait_until(renewed, 10, what="the renewed certificate to be served")
    assert curl(a.port, "/healthz", a.cafile)[0] != 0, "the old certificate is still served"
    a.cafile = new_cert
    assert a.running()
    # The old listener's retirement does not close the API's store routes
    # (served by worker threads) of the new one: they answer once the old
    # listener is gone, not 503 for good.

    def api_answers():
        return curl(a.port, "/api/v1/checks", new_cert)[:2] == (0, 200)
    U.wait_until(api_answers, 10, what="/api/v1/checks to answer after the reload")


def test_reload_with_bad_key_keeps_serving(tls_agent, workdir):
    a = tls_agent
    U.write_file(a.live[1], "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    a.proc.send_signal(signal.SIGHUP)
    U.wait_until(lambda: "keeping the previous" in a.logs(), 10, what="the TLS reload to be refused")
    assert a.running()
    assert curl(a.port, "/healthz", a.cafile)[:2] == (0, 200)


def test_bad_certificate_fails_at_start(cli, workdir, tcp):
    _need_tools()
    cert, key = make_cert(workdir, "server")
    U.write_file(key, "garbage\n")
    a = U.Agent(workdir, [{"name": "banner", "type": "tcp", "host": "127.0.0.1",
                           "port": tcp.banner.port}],
                agent_extra={"tls_cert": cert, "tls_key": key}, defaults=DEFAULTS, name="bad")
    r = cli.run("run", "-c", a.config, timeout=20)
    assert r.rc == 1, r
    assert "cannot serve HTTPS" in r.stderr, r
    assert key in r.stderr


def test_cert_without_key_is_a_config_error(cli, workdir):
    _need_tools()
    cert, _ = make_cert(workdir, "server")
    path = cli.config(checks=[], agent={"listen": "127.0.0.1:1", "tls_cert": cert})
    r = cli.run("check-config", "-c", path)
    assert r.rc == 2, r
    assert "tls_key" in r.stderr
