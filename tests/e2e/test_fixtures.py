"""The fixtures themselves: nginx, dnsmasq, the target and the TCP servers
answer as the other tests expect (so a pharos failure is never a fixture's)."""

import http.client
import socket

import e2eutil as U


def test_nginx_serves_everything(nginx):
    get = lambda p: U.http_request(nginx.port, "GET", p)
    r = get("/index.html")
    assert r.status == 200 and "hello pharos" in r.text
    r = get("/health.json")
    assert r.status == 200 and r.json() == {"status": "ok", "version": 3}
    assert get("/missing").status == 404
    assert get("/unavailable").status == 503
    r = get("/moved")
    assert r.status == 301 and r.headers["location"].endswith("/index.html")
    r = get("/custom")
    assert r.status == 200 and r.headers.get("x-pharos") == "yes"
    r = get("/nginx_status")
    assert r.status == 200 and "Active connections" in r.text
    assert r.headers.get("connection", "close").lower() == "close"


def test_dnsmasq_answers(dnsmasq):
    assert U.dns_query(dnsmasq.port, "api.pharos.test") == (0, 1)
    assert U.dns_query(dnsmasq.port, "www.pharos.test", qtype=28) == (0, 1)
    assert U.dns_query(dnsmasq.port, "alias.pharos.test", qtype=5)[0] == 0
    assert U.dns_query(dnsmasq.port, "pharos.test", qtype=15) == (0, 1)
    assert U.dns_query(dnsmasq.port, "txt.pharos.test", qtype=16) == (0, 1)
    assert U.dns_query(dnsmasq.port, "_sip._tcp.pharos.test", qtype=33) == (0, 1)
    assert U.dns_query(dnsmasq.port, "nope.pharos.test")[0] == 3  # NXDOMAIN


def test_target_behaves(target):
    get = lambda p, **kw: U.http_request(target.port, "GET", p, **kw)
    assert get("/ok").status == 200
    assert get("/status/418").status == 418
    assert get("/header").headers["x-pharos"] == "yes"
    assert get("/json/ok").json()["status"] == "ok"
    assert get("/redirect-loop").headers["location"] == "/redirect-loop"
    for path, exc in (("/close", (http.client.RemoteDisconnected, ConnectionError)),
                      ("/reset", (ConnectionResetError, http.client.RemoteDisconnected))):
        try:
            get(path)
            raise AssertionError("%s answered" % path)
        except exc:
            pass
    try:
        get("/hang", timeout=0.5)
        raise AssertionError("/hang answered")
    except socket.timeout:
        pass


def test_tcp_servers(tcp):
    with socket.create_connection(("127.0.0.1", tcp.banner.port), 5) as s:
        assert s.recv(100) == b"220 pharos.test ESMTP\r\n"
    with socket.create_connection(("127.0.0.1", tcp.echo.port), 5) as s:
        s.sendall(b"PING\r\n")
        assert s.recv(100) == b"PONG\r\n"
    try:
        socket.create_connection(("127.0.0.1", tcp.refused), 5).close()
        raise AssertionError("the refused port accepted")
    except ConnectionRefusedError:
        pass
