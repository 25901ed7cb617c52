"""Multi-step http checks (SPEC §2.1, issue 5) against a small API written
here: log in (POST credentials -> JSON token), then call with the token
(Authorization: Bearer ${var:token}), then fetch a resource whose id came
from the previous step, in the URL. The flow passes end to end; each step
failing in turn names that step; extracted values never show in results or
logs; the timeout covers the whole flow."""

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import e2eutil as U

DEFAULTS = {"interval": "5s", "timeout": "3s"}
SESSION = "sess-Xk29vLq7Pz"          # the token the API hands out; must never be shown


class Api(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def _send(self, code, doc, headers=()):
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        self.server.seen.append((self.command, self.path, dict(self.headers), body))
        mode = self.server.mode
        if self.path == "/login":
            try:
                creds = json.loads(body)
            except ValueError:
                return self._send(400, {"error": "bad json"})
            if mode == "login-fails" or creds.get("user") != "bob":
                return self._send(401, {"error": "bad credentials"})
            if mode == "no-token":
                return self._send(200, {"session": None})
            return self._send(200, {"token": SESSION, "user": {"id": 42}},
                              headers=[("X-Request-Id", "req-777")])
        return self._send(404, {"error": "no such path"})

    def do_GET(self):
        self.server.seen.append((self.command, self.path, dict(self.headers), b""))
        mode = self.server.mode
        auth = self.headers.get("Authorization", "")
        path = urllib.parse.urlsplit(self.path).path
        if path == "/profile":
            if mode == "profile-fails" or auth != "Bearer " + SESSION:
                return self._send(401, {"error": "unauthorized"})
            if mode == "profile-slow":
                time.sleep(5)
            return self._send(200, {"id": 42, "name": "Bob", "items_url": "/items/42"})
        if path.startswith("/items/"):
            if mode == "items-fails":
                return self._send(200, {"status": "broken"})
            if auth != "Bearer " + SESSION:
                return self._send(401, {"error": "unauthorized"})
            return self._send(200, {"status": "ok", "owner": path.rsplit("/", 1)[1],
                                    "q": urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)})
        return self._send(404, {"error": "no such path"})


@pytest.fixture(scope="module")
def api():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    srv.daemon_threads = True
    srv.mode = "ok"
    srv.seen = []
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def flow(port, name="login-flow", timeout=None):
    base = "http://127.0.0.1:%d" % port
    c = {"name": name, "type": "http", "steps": [
        {"name": "login", "method": "POST", "url": base + "/login",
         "headers": ["Content-Type: application/json"],
         "body": json.dumps({"user": "bob", "password": "hunter2"}),
         "expect": {"status": [200]},
         "extract": {"token": "$.token", "uid": "$.user.id", "rid": "header:X-Request-Id"}},
        {"name": "get-profile", "url": base + "/profile",
         "headers": ["Authorization: Bearer ${var:token}", "X-Request-Id: ${var:rid}"],
         "expect": {"status": [200], "json": [{"path": "$.id", "equals": 42}]}},
        {"name": "items", "url": base + "/items/${var:uid}?t=${var:token}&x=a%20b",
         "headers": ["Authorization: Bearer ${var:token}"],
         "expect": {"json": [{"path": "$.status", "equals": "ok"}]}},
    ]}
    if timeout:
        c["timeout"] = timeout
    return c


def run_probe(cli, api, mode, check=None):
    api.mode = mode
    api.seen.clear()
    r, doc = cli.probe(check or flow(api.server_address[1]), defaults=DEFAULTS)
    assert SESSION not in r.stdout and SESSION not in r.stderr, r
    return r, doc


def test_flow_passes(cli, api):
    r, doc = run_probe(cli, api, "ok")
    assert r.rc == 0, r
    assert doc["ok"] is True
    steps = doc["details"]["steps"]
    assert [s["name"] for s in steps] == ["login", "get-profile", "items"]
    assert all(s["ok"] for s in steps)
    assert [s["status_code"] for s in steps] == [200, 200, 200]
    for s in steps:
        assert "connect" in s["phases_ms"] and s["duration_ms"] >= 0
    assert steps[0]["extracts"] == ["token", "uid", "rid"]
    assert doc["message"].startswith("3 of 3 steps passed")
    # What the API received: the token in the header, the id and token in the URL.
    calls = [(m, p, h) for m, p, h, _ in api.seen]
    assert calls[1][2]["Authorization"] == "Bearer " + SESSION
    assert calls[1][2]["X-Request-Id"] == "req-777"
    assert calls[2][1].startswith("/items/42?t=" + SESSION + "&x=a%20b"), calls[2][1]
    # Overall phases are sums over the steps.
    assert doc["phases_ms"]["connect"] >= max(s["phases_ms"]["connect"] for s in steps)


@pytest.mark.parametrize("mode,step,fragment,error", [
    ("login-fails", 'step 1 "login"', "HTTP 401 Unauthorized (expected 200)", "http_status"),
    ("no-token", 'step 1 "login"', "extract token from $.token", "assertion"),
    ("profile-fails", 'step 2 "get-profile"', "HTTP 401 Unauthorized (expected 200)", "http_status"),
    ("items-fails", 'step 3 "items"', "$.status", "assertion"),
])
def test_each_step_failing_is_named(cli, api, mode, step, fragment, error):
    r, doc = run_probe(cli, api, mode)
    assert r.rc == 1, r
    assert doc["ok"] is False
    assert doc["error"] == error, doc
    assert doc["message"].startswith(step + ": "), doc["message"]
    assert fragment in doc["message"], doc["message"]
    steps = doc["details"]["steps"]
    n = int(step.split()[1])
    assert len(steps) == n                    # later steps did not run
    assert steps[-1]["ok"] is False and all(s["ok"] for s in steps[:-1])


def test_extracted_values_are_masked(cli, api):
    base = "http://127.0.0.1:%d" % api.server_address[1]
    check = flow(api.server_address[1])
    # The token lands in the URL of a failing step: the message and the
    # step's final_url must not show it.
    check["steps"][2]["url"] = base + "/nowhere/${var:token}"
    r, doc = run_probe(cli, api, "ok", check)
    assert r.rc == 1
    assert SESSION not in json.dumps(doc)
    assert "***" in doc["details"]["steps"][2]["final_url"]


def test_timeout_covers_the_whole_flow(cli, api):
    t0 = time.monotonic()
    r, doc = run_probe(cli, api, "profile-slow", flow(api.server_address[1], timeout="2s"))
    assert time.monotonic() - t0 < 4.5
    assert r.rc == 1
    assert doc["error"] == "timeout"
    assert 'step 2 "get-profile"' in doc["message"], doc["message"]
    steps = doc["details"]["steps"]
    assert steps[-1]["name"] == "get-profile" and steps[-1]["completed"] is False


def test_flow_in_the_agent(store, start_agent, api):
    api.mode = "ok"
    a = start_agent(defaults=DEFAULTS, checks=[flow(api.server_address[1])])
    U.wait_until(lambda: a.checks()["login-flow"]["state"] == "up", 10, what="the flow up")
    rows = U.wait_until(lambda: a.get_json("/api/v1/checks/login-flow/results"), 5)
    assert len(rows[0]["details"]["steps"]) == 3
    api.mode = "profile-fails"
    U.wait_until(lambda: a.checks()["login-flow"]["state"] == "down", 12, what="the flow down")
    last = a.checks()["login-flow"]["last"]
    assert last["message"].startswith('step 2 "get-profile": HTTP 401'), last
    assert SESSION not in a.logs()
