"""`pharos probe -c FILE NAME [--json]` (SPEC §1, §2.1): every check type
against real local servers, every failure class, exit codes 0 pass / 1 fail /
2 no such check, and `--json` printing only JSON."""

import json

import pytest

import e2eutil as U

MiB = 1024 * 1024


def header_expect(name, pattern):
    """expect.headers: one header match, "Name: PCRE2 pattern on its value"."""
    return ["%s: %s" % (name, pattern)]


def phases(doc):
    p = doc.get("phases_ms", doc.get("phases"))
    assert isinstance(p, dict), "no phases in %r" % (doc,)
    return p


def assert_passed(r, doc):
    assert r.rc == 0, r
    assert doc["ok"] is True, r
    assert doc.get("error") in (None, "", "ok"), r


def assert_failed(r, doc, error, message_re=None):
    assert r.rc == 1, r
    assert doc["ok"] is False, r
    errors = (error,) if isinstance(error, str) else error
    assert doc["error"] in errors, "error class %r, expected %s: %r" % (doc["error"], errors, r)
    assert isinstance(doc.get("message"), str) and doc["message"].strip(), r
    if message_re:
        import re
        assert re.search(message_re, doc["message"], re.I), r


def http(name, url, **kw):
    c = {"name": name, "type": "http", "url": url, "timeout": "5s"}
    c.update(kw)
    return c


def tcp_check(name, port, **kw):
    c = {"name": name, "type": "tcp", "host": "127.0.0.1", "port": port, "timeout": "3s"}
    c.update(kw)
    return c


def dns_check(name, server, query, record="A", **kw):
    c = {"name": name, "type": "dns", "query": query, "record": record, "server": server,
         "timeout": "3s"}
    c.update(kw)
    return c


# --- exit codes and output ------------------------------------------------------------

def test_no_such_check_exits_2(cli, nginx):
    path = cli.config(checks=[http("web", nginx.url("/index.html"))])
    r = cli.run("probe", "-c", path, "nope", timeout=20)
    assert r.rc == 2, r
    assert "nope" in r.stderr, r


def test_probe_invalid_config_exits_2(cli):
    path = cli.config('checks = ( { name = "a"; type = "tcp"; port = 1; bogus = 1; } );\n')
    r = cli.run("probe", "-c", path, "a", timeout=20)
    assert r.rc == 2, r
    assert path + ":" in r.stderr, r


def test_human_output_pass(cli, nginx):
    r, _ = cli.probe(http("web", nginx.url("/index.html"),
                          expect={"body_contains": "hello pharos"}), json_out=False)
    assert r.rc == 0, r
    out = r.stdout.lower()
    assert "web" in out and "200" in out, r
    assert "body_contains" in out, r


def test_human_output_fail(cli, nginx):
    r, _ = cli.probe(http("broken", nginx.url("/unavailable")), json_out=False)
    assert r.rc == 1, r
    assert "503" in r.stdout, r
    assert "http_status" in r.stdout, r


def test_json_output_is_only_json(cli, nginx):
    r, doc = cli.probe(http("web", nginx.url("/index.html")))
    assert isinstance(doc, dict), r
    for key in ("ok", "error", "message"):
        assert key in doc, "no %r in %r" % (key, doc)
    phases(doc)
    json.loads(r.stdout)  # the whole of stdout, nothing before or after


# --- http ------------------------------------------------------------------------------

def test_http_pass_with_phases(cli, nginx):
    r, doc = cli.probe(http("web", nginx.url("/index.html"),
                            expect={"status": [200], "body_contains": "hello pharos",
                                    "body_regex": "hello\\s+pharos", "max_latency": "3s"}))
    assert_passed(r, doc)
    assert doc.get("status_code") == 200, r
    p = phases(doc)
    assert "connect" in p and "first_byte" in p, r         # the metrics' phase name
    assert 0 <= p["connect"] <= p["first_byte"], r
    assert doc.get("bytes") == len("<html><body>hello pharos</body></html>\n"), r
    assert all(a["ok"] for a in doc.get("assertions", [])), r
    assert len(doc.get("assertions", [])) >= 3, r


def test_http_default_status_accepts_redirect_target(cli, nginx):
    r, doc = cli.probe(http("moved", nginx.url("/moved"), expect={"body_contains": "hello pharos"}))
    assert_passed(r, doc)
    assert doc.get("status_code") == 200, r


def test_http_json_path(cli, nginx):
    r, doc = cli.probe(http("health", nginx.url("/health.json"), expect={"json": [
        {"path": "$.status", "equals": "ok"}, {"path": "$.version", "equals": 3}]}))
    assert_passed(r, doc)


def test_http_status_list_accepts_503(cli, nginx):
    r, doc = cli.probe(http("maint", nginx.url("/unavailable"), expect={"status": [503]}))
    assert_passed(r, doc)


def test_http_custom_header_match(cli, nginx):
    r, doc = cli.probe(http("hdr", nginx.url("/custom"), expect={"headers": header_expect("X-Pharos", "^yes$")}))
    assert_passed(r, doc)


def test_fail_http_status_503(cli, nginx):
    r, doc = cli.probe(http("broken", nginx.url("/unavailable")))
    assert_failed(r, doc, "http_status", "503")
    assert doc.get("status_code") == 503, r


def test_fail_http_status_404(cli, nginx):
    r, doc = cli.probe(http("missing", nginx.url("/missing")))
    assert_failed(r, doc, "http_status", "404")


def test_fail_connect_refused(cli, tcp):
    r, doc = cli.probe(http("refused", "http://127.0.0.1:%d/" % tcp.refused))
    assert_failed(r, doc, "connect")


def test_fail_timeout_on_hang(cli, target):
    r, doc = cli.probe(http("hang", target.url("/hang"), timeout="1s"))
    assert_failed(r, doc, "timeout")
    assert r.elapsed < 6, "a 1s timeout took %.1fs" % r.elapsed


def test_fail_dns_unknown_host(cli):
    r, doc = cli.probe(http("nxhost", "http://pharos-e2e-no-such-host.invalid/", timeout="10s"))
    assert_failed(r, doc, "dns")


def test_fail_assertion_body_contains(cli, nginx):
    r, doc = cli.probe(http("body", nginx.url("/index.html"), expect={"body_contains": "goodbye"}))
    assert_failed(r, doc, "assertion", "goodbye|body")
    assert any(not a["ok"] for a in doc["assertions"]), r


def test_fail_assertion_body_regex(cli, nginx):
    r, doc = cli.probe(http("re", nginx.url("/index.html"), expect={"body_regex": "^bye\\d+"}))
    assert_failed(r, doc, "assertion")


def test_fail_assertion_json_equals(cli, nginx):
    r, doc = cli.probe(http("health", nginx.url("/health.json"),
                            expect={"json": [{"path": "$.version", "equals": 4}]}))
    assert_failed(r, doc, "assertion", r"version|\$")


def test_fail_assertion_json_missing_path(cli, target):
    r, doc = cli.probe(http("j", target.url("/json/ok"),
                            expect={"json": [{"path": "$.items[5].id", "exists": True}]}))
    assert_failed(r, doc, "assertion")


def test_json_exists_and_not_exists(cli, target):
    r, doc = cli.probe(http("j", target.url("/json/ok"), expect={"json": [
        {"path": "$.items[0].id", "equals": 1},
        {"path": "$.nested.n", "exists": True},
        {"path": "$.nope", "exists": False}]}))
    assert_passed(r, doc)


@pytest.mark.parametrize("body", ["html", "truncated", "empty", "string", "deep", "binary"])
def test_fail_assertion_non_json_body(cli, target, body):
    r, doc = cli.probe(http("j", target.url("/json/" + body),
                            expect={"json": [{"path": "$.status", "equals": "ok"}]}))
    assert_failed(r, doc, "assertion")


def test_json_unicode(cli, target):
    r, doc = cli.probe(http("j", target.url("/json/unicode"),
                            expect={"json": [{"path": "$.status", "equals": "\u00e9t\u00e9 \u2603"}]}))
    assert_passed(r, doc)


def test_fail_assertion_header(cli, target):
    r, doc = cli.probe(http("hdr", target.url("/header"), expect={"headers": header_expect("X-Pharos", "^no$")}))
    assert_failed(r, doc, "assertion", "x-pharos")


def test_fail_assertion_missing_header(cli, target):
    r, doc = cli.probe(http("hdr", target.url("/ok"), expect={"headers": header_expect("X-Pharos", "yes")}))
    assert_failed(r, doc, "assertion")


def test_fail_assertion_max_latency(cli, target):
    r, doc = cli.probe(http("slow", target.url("/slow/1200"), expect={"max_latency": "200ms"}))
    assert_failed(r, doc, "assertion", "latency")


def test_slow_within_timeout_passes(cli, target):
    r, doc = cli.probe(http("slow", target.url("/slow/300")))
    assert_passed(r, doc)
    assert doc["duration_ms"] >= 290, r


def test_fail_protocol_on_close(cli, target):
    r, doc = cli.probe(http("broken", target.url("/close")))
    assert_failed(r, doc, "protocol")


def test_fail_connect_on_reset(cli, target):
    # A reset is a connection failure, whatever the phase: the same class as
    # the tcp probe gives it, with the phase in the message.
    r, doc = cli.probe(http("broken", target.url("/reset")))
    assert_failed(r, doc, "connect")
    assert "reset" in doc["message"], r


def test_fail_redirect_loop(cli, target):
    r, doc = cli.probe(http("loop", target.url("/redirect-loop")))
    assert r.rc == 1 and doc["ok"] is False, r
    assert doc["error"] in ("protocol", "http_status"), r
    assert "redirect" in doc["message"].lower(), r


def test_http_method_and_headers_sent(cli, target):
    n = len(target.requests)
    r, doc = cli.probe(http("post", target.url("/ok"), method="POST", body="ping=1",
                            headers=["X-E2E: one", "Authorization: Bearer ${env:PHAROS_E2E_SECRET}"]))
    assert_passed(r, doc)
    reqs = [q for q in target.requests[n:] if q[0] == "POST"]
    assert reqs, "no POST reached the target"
    hdrs = {k.lower(): v for k, v in reqs[-1][2].items()}
    assert hdrs.get("x-e2e") == "one"
    assert hdrs.get("authorization") == "Bearer " + U.SECRET
    assert U.SECRET not in r.stdout + r.stderr, r


def test_big_body_is_capped(cli, target):
    # 300 MiB offered. The peak RSS wait4 reports also holds the test runner's
    # own, inherited across fork and exec (some 80 MiB once the suite has
    # loaded everything), so the bound is well above it and well below what an
    # uncapped body would take.
    r, doc = cli.probe(http("big", target.url("/big/300"), timeout="20s"), timeout=60)
    assert doc.get("bytes") is not None and 0 < doc["bytes"] <= MiB, \
        "bytes %r beyond max_body (1 MiB): %r" % (doc.get("bytes"), r)
    assert r.maxrss_kb < 160 * 1024, "pharos peak RSS %d kB" % r.maxrss_kb
    assert r.elapsed < 20, r


def test_binary_body_contains(cli, target):
    r, doc = cli.probe(http("bin", target.url("/json/binary"), expect={"body_contains": "hello"}))
    assert_failed(r, doc, "assertion")


# --- tcp -------------------------------------------------------------------------------

def test_tcp_connect(cli, tcp):
    r, doc = cli.probe(tcp_check("port", tcp.banner.port))
    assert_passed(r, doc)
    assert "connect" in phases(doc), r


def test_tcp_banner(cli, tcp):
    r, doc = cli.probe(tcp_check("smtp", tcp.banner.port, expect={"banner_regex": "^220 pharos\\.test"}))
    assert_passed(r, doc)


def test_tcp_banner_mismatch(cli, tcp):
    r, doc = cli.probe(tcp_check("smtp", tcp.banner.port, expect={"banner_regex": "^554 "}))
    assert_failed(r, doc, "assertion")


def test_tcp_send_expect(cli, tcp):
    r, doc = cli.probe(tcp_check("echo", tcp.echo.port, send="PING\r\n", expect={"expect_regex": "^PONG"}))
    assert_passed(r, doc)


def test_tcp_send_expect_mismatch(cli, tcp):
    r, doc = cli.probe(tcp_check("echo", tcp.echo.port, send="HELLO\r\n", expect={"expect_regex": "^PONG"}))
    assert_failed(r, doc, "assertion")


def test_tcp_silent_server_times_out(cli, tcp):
    r, doc = cli.probe(tcp_check("silent", tcp.silent.port, timeout="1s",
                                 expect={"banner_regex": "^220"}))
    assert_failed(r, doc, "timeout")
    assert r.elapsed < 6, r


def test_tcp_refused(cli, tcp):
    r, doc = cli.probe(tcp_check("refused", tcp.refused))
    assert_failed(r, doc, "connect")


# --- dns -------------------------------------------------------------------------------

def answers_text(doc):
    return json.dumps(doc.get("details", {}))


def test_dns_a(cli, dnsmasq):
    r, doc = cli.probe(dns_check("a", dnsmasq.server, "api.pharos.test",
                                 expect={"rcode": "NOERROR", "answers_contain": ["203.0.113.7"],
                                         "min_answers": 1}))
    assert_passed(r, doc)
    assert "203.0.113.7" in answers_text(doc), r


def test_dns_answers_exact(cli, dnsmasq):
    r, doc = cli.probe(dns_check("a", dnsmasq.server, "api.pharos.test",
                                 expect={"answers_exact": ["203.0.113.7"]}))
    assert_passed(r, doc)


def test_dns_answers_mismatch(cli, dnsmasq):
    r, doc = cli.probe(dns_check("a", dnsmasq.server, "api.pharos.test",
                                 expect={"answers_contain": ["198.51.100.99"]}))
    assert_failed(r, doc, "assertion", "198.51.100.99")


def test_dns_min_answers(cli, dnsmasq):
    r, doc = cli.probe(dns_check("a", dnsmasq.server, "api.pharos.test", expect={"min_answers": 2}))
    assert_failed(r, doc, "assertion")


def test_dns_nxdomain_expected(cli, dnsmasq):
    r, doc = cli.probe(dns_check("nx", dnsmasq.server, "nope.pharos.test", expect={"rcode": "NXDOMAIN"}))
    assert_passed(r, doc)


def test_dns_nxdomain_fails_rcode_assertion(cli, dnsmasq):
    r, doc = cli.probe(dns_check("nx", dnsmasq.server, "nope.pharos.test", expect={"rcode": "NOERROR"}))
    assert_failed(r, doc, ("assertion", "dns"), "NXDOMAIN")


def test_dns_nxdomain_fails_by_default(cli, dnsmasq):
    r, doc = cli.probe(dns_check("nx", dnsmasq.server, "nope.pharos.test"))
    assert_failed(r, doc, ("dns", "assertion"), "NXDOMAIN")


@pytest.mark.parametrize("record,query,want", [
    ("AAAA", "www.pharos.test", "2001:db8::10"),
    ("CNAME", "alias.pharos.test", "www.pharos.test"),
    ("MX", "pharos.test", "mail.pharos.test"),
    ("TXT", "txt.pharos.test", "v=spf1 -all"),
    ("SRV", "_sip._tcp.pharos.test", "sip.pharos.test"),
])
def test_dns_record_types(cli, dnsmasq, record, query, want):
    r, doc = cli.probe(dns_check("rr", dnsmasq.server, query, record, expect={"min_answers": 1}))
    assert_passed(r, doc)
    assert want in answers_text(doc), r


def test_dns_server_not_answering_times_out(cli, silent_udp):
    r, doc = cli.probe(dns_check("silent", "127.0.0.1:%d" % silent_udp, "api.pharos.test", timeout="1s"))
    assert_failed(r, doc, "timeout")
    assert r.elapsed < 6, r


# --- retries ---------------------------------------------------------------------------

def test_retries_recorded(cli, tcp):
    r, doc = cli.probe(tcp_check("refused", tcp.refused, retries=2, retry_interval="250ms"))
    assert_failed(r, doc, "connect")
    assert doc.get("attempts") == 3, r
