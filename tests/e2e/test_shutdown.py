"""SIGTERM (SPEC §1, §5): stop scheduling, let in-flight probes finish within
their timeout (or abandon them, recorded as such), flush the results, keep
undelivered notifications for the next start, exit 0 within the longest
timeout plus a few seconds, even with probes hanging on targets that never
answer and a notification receiver that never answers. The tests that read
the database back run on both stores (SQLite, PostgreSQL)."""

import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import e2eutil as U

PROBE_TIMEOUT_S = 4
MARGIN_S = 3        # the agent's own 2 s beyond the longest timeout, plus slack

# Every test here bounds the time a stop takes, with about a second of slack.
pytestmark = pytest.mark.serial


def write_config(a, checks, defaults, extra=""):
    agent = {"listen": "127.0.0.1:%d" % a.port, "database": a.db, "admin_token": U.ADMIN_TOKEN}
    U.write_file(a.config, U.render_config(checks, agent=agent, defaults=defaults, extra=extra))


def sigterm(a, limit):
    """SIGTERM; returns (exit code, seconds); fails when it takes over limit."""
    t0 = time.monotonic()
    a.proc.send_signal(signal.SIGTERM)
    try:
        rc = a.proc.wait(limit + 10)
    except Exception:
        a.kill()
        raise AssertionError("pharos did not exit after SIGTERM:\n%s" % a.logs()[-4000:])
    took = time.monotonic() - t0
    a.rc = rc
    a._log.close()
    a.proc = None
    assert took <= limit, "pharos took %.1fs to stop (limit %.1fs):\n%s" % (took, limit, a.logs()[-4000:])
    return rc, took


class Receiver:
    """A webhook receiver: status None hangs every request (never answers)."""

    def __init__(self):
        recv = self
        self.stop = threading.Event()

        class H(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                recv.requests.append((dict(self.headers), body, recv.status))
                if recv.status is None:
                    recv.stop.wait(120)
                    self.close_connection = True
                    return
                self.send_response(recv.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.status = None
        self.requests = []
        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()

    def close(self):
        self.stop.set()
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def agents(workdir, pharos_bin):
    started = []

    def make(checks, defaults, extra="", name="agent"):
        a = U.Agent(workdir, checks, defaults=defaults, name=name)
        write_config(a, checks, defaults, extra)
        started.append(a)
        return a

    yield make
    for a in started:
        if a.proc is not None:
            rc, _ = a.stop(30)
            assert rc == 0, a.logs()[-4000:]


def test_sigterm_with_probes_hanging(store, agents, target, tcp, silent_udp):
    defaults = {"interval": "5s", "timeout": "%ds" % PROBE_TIMEOUT_S}
    checks = [
        {"name": "hang-http", "type": "http", "url": target.url("/hang")},
        {"name": "hang-tcp", "type": "tcp", "host": "127.0.0.1", "port": tcp.silent.port,
         "expect": {"banner_regex": "^220 "}},
        {"name": "hang-dns", "type": "dns", "query": "api.pharos.test",
         "server": "127.0.0.1:%d" % silent_udp},
        {"name": "fast", "type": "tcp", "host": "127.0.0.1", "port": tcp.banner.port,
         "interval": "1s", "timeout": "500ms"},
    ]
    a = agents(checks, defaults).start()
    # Every hanging probe is in flight (each started within one interval).
    hang_before = sum(1 for r in target.requests if r[1] == "/hang")
    accepted_before = tcp.silent.accepted
    U.wait_until(lambda: sum(1 for r in target.requests if r[1] == "/hang") > hang_before and
                 tcp.silent.accepted > accepted_before, 12, interval=0.05,
                 what="the hanging probes to be in flight")
    U.wait_until(lambda: len(a.get_json("/api/v1/checks/fast/results?limit=100")) >= 2, 10,
                 what="two results of the fast check")
    seen = len(a.get_json("/api/v1/checks/fast/results?limit=1000"))
    t_signal_us = time.time() * 1e6

    rc, took = sigterm(a, PROBE_TIMEOUT_S + MARGIN_S)
    assert rc == 0, a.logs()[-4000:]
    logs = a.logs()
    assert "stopping: waiting for probes in flight" in logs
    assert "pharos stopped" in logs

    # The runs in flight were recorded: as timeouts (they finished within
    # their timeout) or as aborted (abandoned at the deadline).
    for name in ("hang-http", "hang-tcp"):
        rows = U.db_rows(a.db, "SELECT ts_us, error FROM results WHERE check_name = '%s'"
                               " ORDER BY ts_us" % name)
        assert rows, "the in-flight run of %s was not recorded:\n%s" % (name, logs[-3000:])
        assert rows[-1][1] in ("timeout", "aborted"), rows
    # Nothing started after the signal; every result seen before it is stored.
    late = U.db_rows(a.db, "SELECT check_name, ts_us FROM results WHERE ts_us > %d"
                     % int(t_signal_us + 100000))
    assert late == [], "runs started after SIGTERM: %r" % late
    stored = U.db_rows(a.db, "SELECT count(*) FROM results WHERE check_name = 'fast'")[0][0]
    assert stored >= seen

    # A restart on the same database sees everything.
    b = agents(checks, defaults, name="agent").start()
    assert len(b.get_json("/api/v1/checks/fast/results?limit=1000")) >= stored
    assert b.checks()["fast"]["last"] is not None


def test_sigterm_during_failing_delivery(store, agents, tcp, receiver):
    """A delivery attempt hangs on a receiver that never answers: SIGTERM still
    exits 0 at once, the notification stays queued, and the next start
    delivers it, once, with the same idempotency key."""
    defaults = {"interval": "1s", "timeout": "500ms"}
    checks = [{"name": "refused", "type": "tcp", "host": "127.0.0.1", "port": tcp.refused}]
    extra = "alerts = %s;\nnotifiers = %s;\n" % (
        U.lc([{"name": "down", "checks": "refused", "when": "consecutive_failures >= 1",
               "severity": "critical", "notify": ["hook"]}]),
        U.lc([{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:%d/hook" % receiver.port,
               "timeout": "20s"}]))
    a = agents(checks, defaults, extra).start()
    U.wait_until(lambda: receiver.requests, 15, what="a delivery attempt (left hanging)")
    rc, took = sigterm(a, 0.5 + MARGIN_S)
    assert rc == 0, a.logs()[-4000:]
    rows = U.db_rows(a.db, "SELECT id, key, state FROM notifications")
    assert len(rows) == 1 and rows[0][2] == "pending", rows

    receiver.status = 200
    b = agents(checks, defaults, extra, name="agent").start()

    def delivered():
        r = U.db_rows(b.db, "SELECT id, key, state FROM notifications")
        return r if all(x[2] == "delivered" for x in r) else None
    after = U.wait_until(delivered, 20, interval=0.2, what="the queued notification to be delivered")
    assert [x[:2] for x in after] == [x[:2] for x in rows], "a second notification was queued: %r" % after
    ids = {h.get("webhook-id") for h, _, _ in receiver.requests}
    assert len(ids) == 1, "the idempotency key changed across the restart: %r" % ids
    assert "undelivered notifications found" in b.logs()


def test_sigterm_while_idle_is_quick(agents, tcp):
    # The first run comes at a fixed point of the interval (0.5 s of 6 s for
    # this name); the next one is over 5 s away when the signal comes, and an
    # agent that waited out a 5 s timeout for nothing would miss the 2 s bound.
    defaults = {"interval": "6s", "timeout": "5s"}
    checks = [{"name": "banner", "type": "tcp", "host": "127.0.0.1", "port": tcp.banner.port}]
    a = agents(checks, defaults).start()
    U.wait_until(lambda: a.checks()["banner"]["state"] == "up", 10, what="the first run")
    rc, took = sigterm(a, 2)
    assert rc == 0


def test_second_signal_during_stop_is_harmless(agents, target):
    defaults = {"interval": "4s", "timeout": "3s"}      # hang-http starts 0.5 s in
    checks = [{"name": "hang-http", "type": "http", "url": target.url("/hang")}]
    a = agents(checks, defaults).start()
    n = sum(1 for r in target.requests if r[1] == "/hang")
    U.wait_until(lambda: sum(1 for r in target.requests if r[1] == "/hang") > n, 10,
                 what="the probe to be in flight")
    a.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    a.proc.send_signal(signal.SIGHUP)
    a.proc.send_signal(signal.SIGINT)
    rc, took = sigterm(a, 3 + MARGIN_S)
    assert rc == 0, a.logs()[-4000:]


def keep_asking(port, paths, stop):
    """Sends the paths over and over on one keep-alive connection (reopened
    when the agent closes it) until stop is set."""
    import http.client
    conn = None
    while not stop.is_set():
        for path in paths:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", path)
                conn.getresponse().read()
            except (OSError, http.client.HTTPException):
                conn = None
                if stop.wait(0.01):
                    return


def test_sigterm_while_clients_keep_asking(agents, tcp):
    # The page and the API run on worker threads that hold their connection
    # suspended. A request arriving on an open connection while the server
    # stops must not start one: libmicrohttpd aborts (SIGABRT) when stopped
    # with a connection suspended, and a worker outliving the server used its
    # freed state. Each round stops the agent amid such requests.
    defaults = {"interval": "1h", "timeout": "1s"}
    checks = [{"name": "c%03d" % i, "type": "tcp", "host": "127.0.0.1", "port": tcp.banner.port}
              for i in range(300)]
    paths = ["/", "/api/v1/checks", "/api/v1/checks?limit=5", "/metrics"]
    for round_ in range(6):
        a = agents(checks, defaults, name="agent%d" % round_).start()
        stop = threading.Event()
        clients = [threading.Thread(target=keep_asking, args=(a.port, paths, stop), daemon=True)
                   for _ in range(6)]
        for c in clients:
            c.start()
        time.sleep(0.3 + 0.2 * round_)
        try:
            rc, _ = sigterm(a, 1 + 2 + MARGIN_S)
        finally:
            stop.set()
            for c in clients:
                c.join(10)
        assert rc == 0, "round %d: pharos exited with %s:\n%s" % (round_, rc, a.logs()[-3000:])
