"""retries / retry_interval (SPEC §2.1): a failed run is retried before it
is recorded. A target failing twice then passing, with retries = 2, records
ONE successful result with attempts = 3; a target that always fails, with
retries = 1, records one failure with attempts = 2 and what the earlier
attempt said in details.earlier_attempts."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import e2eutil as U

# A long interval: the scheduled run stays out of the way; runs are started
# with the admin "run now", which goes through the same retries.
DEFAULTS = {"interval": "1h", "timeout": "2s"}


class Flaky(BaseHTTPRequestHandler):
    """GET /flaky/N fails (503) the first N times, then answers 200;
    GET /always fails every time. Counts every request by path."""

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        with self.server.lock:
            self.server.hits[self.path] = self.server.hits.get(self.path, 0) + 1
            n = self.server.hits[self.path]
        parts = self.path.strip("/").split("/")
        ok = parts[0] == "flaky" and n > int(parts[1])
        body = b"ok\n" if ok else b"unavailable\n"
        self.send_response(200 if ok else 503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def flaky():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    srv.daemon_threads = True
    srv.hits = {}
    srv.lock = threading.Lock()
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def run_now(agent, name):
    r = agent.request("POST", "/api/v1/checks/%s/run" % name,
                      headers={"Authorization": "Bearer " + U.ADMIN_TOKEN}, timeout=30)
    assert r.status == 200, r
    return r.json()


def stored(agent, name, n):
    return U.wait_until(lambda: len(agent.get_json("/api/v1/checks/%s/results" % name)) >= n
                        and agent.get_json("/api/v1/checks/%s/results" % name), 5,
                        what="%d stored result(s) of %s" % (n, name))


def test_retries_until_success(store, start_agent, flaky):
    url = "http://127.0.0.1:%d/flaky/2" % flaky.server_address[1]
    a = start_agent(defaults=DEFAULTS, checks=[
        {"name": "flaky", "type": "http", "url": url, "retries": 2, "retry_interval": "200ms"}])
    doc = run_now(a, "flaky")
    assert doc["ok"] is True, doc
    assert doc["attempts"] == 3
    assert flaky.hits["/flaky/2"] == 3
    rows = stored(a, "flaky", 1)
    assert len(rows) == 1, rows                 # the failed attempts are not results
    assert rows[0]["ok"] is True and rows[0]["attempts"] == 3
    assert len(rows[0]["details"]["earlier_attempts"]) == 2
    assert rows[0]["details"]["earlier_attempts"][0]["error"] == "http_status"
    assert a.checks()["flaky"]["last"]["ok"] is True


def test_retries_exhausted(store, start_agent, flaky):
    url = "http://127.0.0.1:%d/always" % flaky.server_address[1]
    a = start_agent(defaults=DEFAULTS, checks=[
        {"name": "always", "type": "http", "url": url, "retries": 1, "retry_interval": "300ms"}])
    doc = run_now(a, "always")
    assert doc["ok"] is False and doc["attempts"] == 2, doc
    assert doc["error"] == "http_status"
    assert flaky.hits["/always"] == 2
    rows = stored(a, "always", 1)
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["ok"] is False and row["attempts"] == 2
    earlier = row["details"]["earlier_attempts"]
    assert len(earlier) == 1
    assert earlier[0]["error"] == "http_status"
    assert "503" in earlier[0]["message"]


def test_no_retries_by_default(start_agent, flaky):
    url = "http://127.0.0.1:%d/flaky/1" % flaky.server_address[1]
    a = start_agent(defaults=DEFAULTS, checks=[{"name": "once", "type": "http", "url": url}])
    doc = run_now(a, "once")
    assert doc["ok"] is False and doc["attempts"] == 1
    assert "earlier_attempts" not in (doc.get("details") or {})
