"""depends_on (SPEC §2.1, §3, issue 5): while a check it depends on is down,
a failing check shows state `blocked` with the dependency named in
/api/v1/checks; once the dependency is up again the dependent checks are
evaluated on their own (down when they still fail, up when they pass)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import e2eutil as U

DEFAULTS = {"interval": "1s", "timeout": "500ms"}


class Switch(BaseHTTPRequestHandler):
    """GET /NAME answers 200 while NAME is in server.up, else 503."""

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        name = self.path.strip("/")
        code = 200 if name in self.server.up else 503
        body = b"ok\n" if code == 200 else b"down\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def switch():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Switch)
    srv.daemon_threads = True
    srv.up = set()
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def checks(port):
    url = "http://127.0.0.1:%d/%%s" % port
    return [
        {"name": "gateway", "type": "http", "url": url % "gateway"},
        {"name": "svc-a", "type": "http", "url": url % "svc-a", "depends_on": ["gateway"]},
        {"name": "svc-b", "type": "http", "url": url % "svc-b", "depends_on": "gateway"},
        {"name": "svc-c", "type": "http", "url": url % "svc-c", "depends_on": ["svc-a"]},
        {"name": "free", "type": "http", "url": url % "free"},
    ]


def states(agent):
    return {n: (c["state"], c.get("blocked_by")) for n, c in agent.checks().items()}


def wait_states(agent, want, timeout=10):
    def ok():
        s = states(agent)
        return s if all(s[n] == v for n, v in want.items()) else None
    return U.wait_until(ok, timeout, what="states %r (now %r)" % (want, states(agent)))


def test_parent_down_blocks_children_then_releases_them(start_agent, switch):
    a = start_agent(defaults=DEFAULTS, checks=checks(switch.server_address[1]))
    # Everything failing: the gateway is down, its dependants are blocked by
    # it, svc-c is blocked by svc-a (down itself, whatever its own state), and
    # a check without dependencies is plainly down.
    wait_states(a, {"gateway": ("down", None), "svc-a": ("blocked", "gateway"),
                    "svc-b": ("blocked", "gateway"), "svc-c": ("blocked", "svc-a"),
                    "free": ("down", None)})
    c = a.checks()["svc-a"]
    assert c["state_reason"] == "dependency down"
    assert c["last"]["ok"] is False       # its own result is still recorded and shown
    # A passing dependant is up, blocked or not.
    switch.up.add("svc-b")
    wait_states(a, {"svc-b": ("up", None), "svc-a": ("blocked", "gateway")})
    # The gateway recovers: the dependants are evaluated on their own again.
    switch.up.add("gateway")
    wait_states(a, {"gateway": ("up", None), "svc-a": ("down", None), "svc-b": ("up", None),
                    "svc-c": ("blocked", "svc-a")})
    switch.up.update({"svc-a", "svc-c"})
    wait_states(a, {"svc-a": ("up", None), "svc-c": ("up", None)})
    # And down again.
    switch.up.clear()
    wait_states(a, {"gateway": ("down", None), "svc-a": ("blocked", "gateway"),
                    "svc-c": ("blocked", "svc-a")})


def test_blocked_detail_on_the_check_endpoint(start_agent, switch):
    a = start_agent(defaults=DEFAULTS, checks=checks(switch.server_address[1]))
    U.wait_until(lambda: a.get_json("/api/v1/checks/svc-b")["state"] == "blocked", 10,
                 what="svc-b blocked")
    doc = a.get_json("/api/v1/checks/svc-b")
    assert doc["blocked_by"] == "gateway"
    assert "blocked_by" not in a.get_json("/api/v1/checks/gateway")
