"""Fixtures and helpers for the alerting end-to-end tests (test_alerts.py,
test_notifiers.py, test_outbox.py) and bench/detection-latency: a target
whose health the test flips, `pharos run` with alert rules, notifiers and
maintenance windows pointing at the fake receivers of receivers.py, and a
real Prometheus Alertmanager (Debian prometheus-alertmanager) on free ports
with clustering off.

Secrets reach pharos only through ${env:...} and are checked never to show
up in its log or API answers.

Test modules import the fixtures by name:
    from alerting import rig, alertmanager  # noqa: F401"""

import base64
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import pytest
except ImportError:         # bench/detection-latency imports this without pytest
    class pytest:  # noqa: N801
        @staticmethod
        def fixture(*args, **kw):
            return args[0] if args and callable(args[0]) else (lambda f: f)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2eutil as U  # noqa: E402
from receivers import PagerDutyReceiver, SlackReceiver, WebhookReceiver  # noqa: E402

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"

# Secrets, all given to pharos through the environment only.
PD_KEY = "R0e2eP4gerDutyIntegrationKey9x7Q"          # 32 characters like a real one
WHSEC = "whsec_" + base64.b64encode(bytes(range(7, 7 + 24))).decode()
SLACK_PATH = "/services/T0E2E0000/B0E2E0000/e2eSlackT0kenXy12"
ENV_PD, ENV_WHSEC, ENV_SLACK = "PHAROS_E2E_PD_KEY", "PHAROS_E2E_WHSEC", "PHAROS_E2E_SLACK_URL"
SECRETS = (PD_KEY, WHSEC, WHSEC[len("whsec_"):], "e2eSlackT0kenXy12", U.ADMIN_TOKEN)

LOCATION = "e2e-agent"
INTERVAL_S = 1.0            # check interval of the scenarios
THRESHOLD = 2               # consecutive_failures >= THRESHOLD


def detection_bound_s(threshold=THRESHOLD, interval_s=INTERVAL_S):
    """The bound on detection latency: threshold x interval + 2 s."""
    return threshold * interval_s + 2.0


# --- a target the test flips between up and down -------------------------------------

class _FlipHandler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        t = self.server.flip
        up = t.is_up
        body = b"ok\n" if up else b"down\n"
        try:
            self.send_response(200 if up else 503)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass
        with t.lock:
            t.hits.append((time.monotonic(), up))

    do_HEAD = do_GET


class FlipTarget:
    """An HTTP target answering 200 while up and 503 while down."""

    def __init__(self):
        self.lock = threading.Lock()
        self.is_up = True
        self.flipped_at = time.monotonic()
        self.hits = []
        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), _FlipHandler)
        self.srv.daemon_threads = True
        self.srv.flip = self
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def url(self, path="/health"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def down(self):
        with self.lock:
            self.is_up = False
            self.flipped_at = time.monotonic()
        return self.flipped_at

    def up(self):
        with self.lock:
            self.is_up = True
            self.flipped_at = time.monotonic()
        return self.flipped_at

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


# --- pharos with alerting ---------------------------------------------------------

class AlertAgent(U.Agent):
    """U.Agent with `alerts`, `notifiers` and `maintenance` sections; every
    start writes a new log file (NAME-1.log, NAME-2.log, ...) so a restart
    keeps the previous run's log."""

    def __init__(self, workdir, checks, rules=(), notifiers=(), maintenance=(), agent_extra=None,
                 env=None, name="agent", defaults=None):
        agent_extra = dict(agent_extra or {})
        agent_extra.setdefault("location", LOCATION)
        defaults = defaults or {"interval": "1s", "timeout": "800ms"}
        super().__init__(workdir, checks, agent_extra=agent_extra, env=env, name=name,
                         defaults=defaults)
        agent = {"listen": "127.0.0.1:%d" % self.port, "database": self.db}
        if self.admin_token is not None:
            agent["admin_token"] = self.admin_token
        agent.update(agent_extra)
        extra = ""
        if rules:
            extra += "alerts = %s;\n" % U.lc(list(rules))
        if notifiers:
            extra += "notifiers = %s;\n" % U.lc(list(notifiers))
        if maintenance:
            extra += "maintenance = %s;\n" % U.lc(list(maintenance))
        U.write_file(self.config, U.render_config(checks, agent=agent, defaults=defaults, extra=extra))
        self.name = name
        self.starts = 0
        self.log_paths = []

    def start(self, ready_timeout=20):
        self.starts += 1
        self.log_path = os.path.join(self.workdir, "%s-%d.log" % (self.name, self.starts))
        self.log_paths.append(self.log_path)
        return super().start(ready_timeout)

    def all_logs(self):
        out = []
        for p in self.log_paths:
            try:
                with open(p, "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "\n".join(out)

    def kill9(self):
        """SIGKILL, no chance to flush anything."""
        assert self.proc is not None and self.proc.poll() is None, "agent not running"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.rc = self.proc.returncode
        self._log.close()
        self.proc = None

    # --- API helpers -----------------------------------------------------------

    def alerts(self):
        return self.get_json("/api/v1/alerts")

    def alert(self, rule, check):
        for a in self.alerts()["alerts"]:
            if a["rule"] == rule and a["check"] == check:
                return a
        return None

    def notifications(self, state=None):
        return self.get_json("/api/v1/notifications" + ("?state=" + state if state else ""))

    def admin_post(self, path, token=True):
        headers = {"Authorization": "Bearer %s" % self.admin_token} if token else {}
        return self.request("POST", path, headers=headers, body=b"")


def slack_notifier(rcv, name="ops-slack", **kw):
    n = {"name": name, "type": "slack", "url": "${env:%s}" % ENV_SLACK}
    n.update(kw)
    return n


def pagerduty_notifier(rcv, name="oncall", **kw):
    n = {"name": name, "type": "pagerduty", "routing_key": "${env:%s}" % ENV_PD,
         "url": rcv.url("/v2/enqueue")}
    n.update(kw)
    return n


def webhook_notifier(rcv, name="audit", **kw):
    n = {"name": name, "type": "webhook", "url": rcv.url("/hooks/pharos"),
         "secret": "${env:%s}" % ENV_WHSEC}
    n.update(kw)
    return n


class Rig:
    """One test's world: the three fake receivers, a flip target, and the
    agents started on them. close() stops everything and checks that every
    request the receivers saw conformed and no secret leaked."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.slack = SlackReceiver()
        self.pd = PagerDutyReceiver(PD_KEY)
        self.hook = WebhookReceiver(WHSEC)
        self.target = FlipTarget()
        self.agents = []
        self.env = {ENV_PD: PD_KEY, ENV_WHSEC: WHSEC, ENV_SLACK: self.slack.url(SLACK_PATH)}

    @property
    def receivers(self):
        return (self.slack, self.pd, self.hook)

    def notifiers(self, **kw):
        """The three notifiers (names ops-slack, oncall, audit); kw is added to each."""
        return [slack_notifier(self.slack, **kw), pagerduty_notifier(self.pd, **kw),
                webhook_notifier(self.hook, **kw)]

    def check(self, name="api", **kw):
        c = {"name": name, "type": "http", "url": self.target.url(), "interval": "1s",
             "timeout": "800ms"}
        c.update(kw)
        return c

    def rule(self, name="down", checks="api", when="consecutive_failures >= %d" % THRESHOLD,
             notify=("ops-slack", "oncall", "audit"), severity="critical", **kw):
        r = {"name": name, "checks": checks, "when": when, "severity": severity,
             "notify": list(notify)}
        r.update(kw)
        return r

    def agent(self, checks=None, rules=None, notifiers=None, maintenance=(), name="agent",
              agent_extra=None, env=None):
        """A configured agent (not started)."""
        e = dict(self.env)
        e.update(env or {})
        a = AlertAgent(self.workdir, checks if checks is not None else [self.check()],
                       rules if rules is not None else [self.rule()],
                       notifiers if notifiers is not None else self.notifiers(),
                       maintenance, agent_extra=agent_extra, env=e, name=name)
        self.agents.append(a)
        return a

    def start(self, **kw):
        return self.agent(**kw).start()

    def pharos(self, args, timeout=60):
        """Runs ./pharos ARGS (notify-test, ...) with the rig's environment."""
        return U.run_pharos(args, timeout=timeout, env=self.env, cwd=self.workdir,
                            log_to=os.path.join(self.workdir, "commands.log"))

    def assert_no_secret(self, text, where):
        for s in SECRETS:
            assert s not in text, "a secret (%s...) leaked into %s" % (s[:6], where)

    def close(self):
        """Stops agents (SIGTERM, exit 0 expected) and receivers; returns the problems."""
        problems = []
        for a in self.agents:
            try:
                rc, _ = a.stop(15)
                if rc not in (0, None, -9):
                    problems.append("pharos run exited with %s after SIGTERM:\n%s" % (rc, a.logs()[-4000:]))
            except AssertionError as e:
                problems.append(str(e))
            try:
                self.assert_no_secret(a.all_logs(), "the agent log")
            except AssertionError as e:
                problems.append(str(e))
        for r in self.receivers:
            r.close()
            if r.failures:
                problems.append("%s saw non-conforming requests:\n%s" % (r.name, "\n".join(r.failures)))
        self.target.close()
        return problems


@pytest.fixture
def rig(workdir, pharos_bin, request):
    r = Rig(workdir)
    yield r
    problems = r.close()
    if problems:
        request.node._e2e_failed = True
        pytest.fail("\n".join(problems))


def wait_state(agent, check, state, timeout=10):
    return U.wait_until(lambda: agent.checks()[check]["state"] == state, timeout,
                        what="check %s to be %s" % (check, state))


def kind_of(req):
    """'firing', 'resolved' or 'test' of one request a receiver saw."""
    j = req.json if isinstance(req.json, dict) else {}
    if "event_action" in j:                                   # PagerDuty
        if str(j.get("dedup_key", "")).startswith("pharos:notify-test:"):
            return "test"
        return "resolved" if j["event_action"] == "resolve" else "firing"
    if "type" in j and "id" in j:                             # webhook
        return {"alert.firing": "firing", "alert.resolved": "resolved"}.get(j["type"], "test")
    txt = j.get("text", "")                                   # Slack
    if "TEST" in txt:
        return "test"
    return "resolved" if "RESOLVED" in txt else "firing"


def delivered(rcv, kind):
    """The requests of that kind the receiver accepted."""
    return [r for r in rcv.snapshot() if r.answer == rcv.success_status and kind_of(r) == kind]


def wait_delivered(rcv, kind, count=1, timeout=15):
    return rcv.wait_for(lambda r: r.answer == rcv.success_status and kind_of(r) == kind, count,
                        timeout, what="%d %s notification(s) accepted" % (count, kind))


# --- the kill -9 scenario (test_outbox.py and bench/detection-latency) ----------------

NOTIFIER_OF = {"slack": "ops-slack", "pagerduty": "oncall", "webhook": "audit"}


def _attempts(agent):
    """notifier -> attempts of its (only) firing notification, from the API."""
    return {r["notifier"]: r["attempts"] for r in agent.notifications() if r["kind"] == "firing"}


def kill9_scenario(rig):
    """Receivers answer 500, then refuse connections; the agent is killed
    with SIGKILL while the notifications are undelivered; then the receivers
    come back and the agent is restarted. Returns a dict of figures; asserts
    nothing itself except progress (the callers judge the figures)."""
    a = rig.start()
    wait_state(a, "api", "up")
    for rcv in rig.receivers:
        rcv.fail(500)
    rig.target.down()
    for rcv in rig.receivers:       # two failed attempts at each receiver
        rcv.wait_for(lambda r: r.answer == 500, 2, timeout=detection_bound_s() + 10,
                     what="two attempts answered 500")
    for rcv in rig.receivers:
        rcv.refuse()
    seen = {rcv.name: len(rcv.snapshot()) for rcv in rig.receivers}
    # Wait until every notifier made at least one attempt that was refused
    # (the outbox counts it; the receiver cannot see it).
    U.wait_until(lambda: all(_attempts(a).get(NOTIFIER_OF[n], 0) > seen[n] for n in seen), 20,
                 what="a refused attempt per notifier")
    pending = a.notifications(state="pending")
    attempts = _attempts(a)
    a.kill9()

    for rcv in rig.receivers:
        rcv.answer_ok()
        rcv.listen()
    t_restart = time.monotonic()
    a.start()
    out = {"pending_at_kill": len(pending), "attempts_at_kill": attempts, "receivers": {}}
    for rcv in rig.receivers:
        try:
            wait_delivered(rcv, "firing", timeout=30)
        except AssertionError:
            pass
    for rcv in rig.receivers:
        reqs = [r for r in rcv.snapshot() if kind_of(r) == "firing"]
        ok = [r for r in reqs if r.answer == rcv.success_status]
        out["receivers"][rcv.name] = {
            "attempts_seen": len(reqs),
            "keys": sorted({r.key for r in reqs}),
            "delivered": len(ok),
            "delivered_after_restart_s": (ok[0].t - t_restart) if ok else None,
        }
    # One firing notification per notifier was due: lost = due - accepted.
    out["due"] = len(out["receivers"])
    out["lost"] = sum(1 for v in out["receivers"].values() if v["delivered"] == 0)
    out["duplicates"] = sum(max(0, v["delivered"] - 1) for v in out["receivers"].values())
    out["agent"] = a
    return out


# --- a real Alertmanager ---------------------------------------------------------------

AM_CONFIG = """\
route:
  receiver: "null"
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: "null"
"""


class Alertmanager:
    def __init__(self, port, d, proc):
        self.port, self.dir, self.proc = port, d, proc

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def alerts(self, active=None):
        q = "" if active is None else "?active=%s&silenced=true&inhibited=true&unprocessed=true" % (
            "true" if active else "false")
        r = U.http_request(self.port, "GET", "/api/v2/alerts" + q, timeout=5)
        assert r.status == 200, r
        return r.json()

    def find(self, alertname, check, active=None):
        return [a for a in self.alerts(active) if a["labels"].get("alertname") == alertname
                and a["labels"].get("check") == check]


@pytest.fixture(scope="session")
def alertmanager():
    if not os.path.exists(ALERTMANAGER):
        pytest.skip("%s is missing: apt-get install prometheus-alertmanager "
                    "(scripts/install-deps test)" % ALERTMANAGER)
    # Each module importing this fixture gets its own instance: its own directory.
    os.makedirs(os.path.join(U.ARTIFACTS, "_servers"), exist_ok=True)
    d = tempfile.mkdtemp(prefix="alertmanager-", dir=os.path.join(U.ARTIFACTS, "_servers"))
    os.makedirs(os.path.join(d, "data"))
    conf = U.write_file(os.path.join(d, "alertmanager.yml"), AM_CONFIG)
    for attempt in range(3):
        port = U.free_port()
        log = open(os.path.join(d, "alertmanager.log"), "ab")
        p = subprocess.Popen([ALERTMANAGER, "--config.file=" + conf,
                              "--storage.path=" + os.path.join(d, "data"),
                              "--web.listen-address=127.0.0.1:%d" % port,
                              "--cluster.listen-address=", "--log.level=info"],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=d)

        def ready():
            if p.poll() is not None:
                return "exited"
            try:
                return U.http_request(port, "GET", "/-/ready", timeout=2).status == 200
            except OSError:
                return False
        try:
            r = U.wait_until(ready, 30, what="alertmanager /-/ready")
        except AssertionError:
            p.kill()
            p.wait(10)
            log.close()
            raise
        if r == "exited":       # port taken in between
            log.close()
            continue
        try:
            yield Alertmanager(port, d, p)
        finally:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(10)
            log.close()
        return
    raise AssertionError("alertmanager did not start; see %s" % d)
