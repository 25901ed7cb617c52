"""GET /metrics (SPEC §4): the agent's exposition passes `promtool check metrics`
with nothing to report, the OpenMetrics variant is framed right, a real
Prometheus scrapes both variants and answers pharos_check_up through its query
API, and the Grafana dashboard is valid JSON whose every query Prometheus
accepts."""

import json
import os
import re
import subprocess
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import e2eutil as U

PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"
DASHBOARD = os.path.join(U.REPO, "dashboards", "grafana", "pharos.json")

TEXT_CT = "text/plain; version=0.0.4; charset=utf-8"
OM_CT = "application/openmetrics-text; version=1.0.0; charset=utf-8"
OM_ACCEPT = "application/openmetrics-text; version=1.0.0"

# A group that needs every escape of a label value.
TRICKY_GROUP = 'Edge "north" \\ tier\nsecond line'

EXPECTED_UP = {"web-ok": 1, "web-503": 0, "smtp": 1, "refused": 0}
PENDING = "beat"    # a heartbeat check that is never pinged: no pharos_check_up

FAMILIES = {
    "pharos_build_info": "gauge",
    "pharos_checks_configured": "gauge",
    "pharos_check_up": "gauge",
    "pharos_check_duration_seconds": "histogram",
    "pharos_check_phase_seconds": "gauge",
    "pharos_check_runs_total": "counter",
    "pharos_check_cert_expiry_timestamp_seconds": "gauge",
    "pharos_alert_firing": "gauge",
    "pharos_notifications_total": "counter",
    "pharos_notification_queue": "gauge",
    "pharos_store_dropped_results_total": "counter",
    "pharos_scheduler_lag_seconds": "histogram",
}


def agent_checks(target, tcp):
    return [
        {"name": "web-ok", "group": TRICKY_GROUP, "type": "http", "url": target.url("/ok")},
        {"name": "web-503", "group": "Web", "type": "http", "url": target.url("/status/503")},
        {"name": "smtp", "type": "tcp", "host": "127.0.0.1", "port": tcp.banner.port,
         "expect": {"banner_regex": "^220 "}},
        {"name": "refused", "type": "tcp", "host": "127.0.0.1", "port": tcp.refused},
        {"name": PENDING, "type": "heartbeat", "interval": "24h", "grace": "1h",
         "token": "${env:PHAROS_E2E_SECRET}"},
    ]


# --- a small parser of the exposition (enough to check values) ---------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def parse_labels(s):
    out, pos = {}, 0
    while pos < len(s):
        m = _LABEL.match(s, pos)
        assert m, "bad label set at %r" % s[pos:]
        out[m.group(1)] = re.sub(r'\\[\\"n]', lambda e: _UNESCAPE[e.group(0)], m.group(2))
        pos = m.end()
    return out


def parse_exposition(text):
    """-> list of (name, labels dict, value float), and {family: type}."""
    samples, types = [], {}
    for line in text.split("\n")[:-1]:
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line.startswith("#"):
            continue
        else:
            m = _SAMPLE.match(line)
            assert m, "not a sample line: %r" % line
            samples.append((m.group(1), parse_labels(m.group(2) or ""), float(m.group(3))))
    return samples, types


def check_up_values(samples):
    return {lb["check"]: v for n, lb, v in samples if n == "pharos_check_up"}


# --- fixtures ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def agent(module_store, module_workdir, target, tcp, pharos_bin):
    wd = module_store.workdir(module_workdir)
    a = U.Agent(wd, agent_checks(target, tcp), defaults={"interval": "1s", "timeout": "1s"},
                database=module_store.database_for(wd, "agent"))
    a.start()
    try:
        def all_ran():
            r = a.get("/metrics")
            ups = check_up_values(parse_exposition(r.text)[0])
            return ups == EXPECTED_UP and r
        U.wait_until(all_ran, 20, interval=0.2, what="every check's first run in /metrics")
        yield a
    finally:
        rc, _ = a.stop(15)
        assert rc == 0, "pharos run exited with %s:\n%s" % (rc, a.logs()[-5000:])


def need(path):
    if not os.path.exists(path):
        pytest.skip("%s is missing: apt-get install -y prometheus" % path)


# --- text format 0.0.4 -----------------------------------------------------------------

def test_text_exposition_values(agent):
    r = agent.get("/metrics")
    assert r.status == 200
    assert r.headers["content-type"] == TEXT_CT
    text = r.text
    assert text.endswith("\n") and "# EOF" not in text
    samples, types = parse_exposition(text)
    for fam, kind in FAMILIES.items():
        assert types.get(fam) == kind, "TYPE of %s: %r" % (fam, types.get(fam))
    assert check_up_values(samples) == EXPECTED_UP
    up = {lb["check"]: lb for n, lb, v in samples if n == "pharos_check_up"}
    assert up["web-ok"]["group"] == TRICKY_GROUP
    assert up["web-ok"]["type"] == "http" and up["smtp"]["type"] == "tcp"
    assert 'group="Edge \\"north\\" \\\\ tier\\nsecond line"' in text
    values = {(n, tuple(sorted(lb.items()))): v for n, lb, v in samples}

    def get(name, **labels):
        return values.get((name, tuple(sorted(labels.items()))))

    assert get("pharos_checks_configured") == 5
    assert get("pharos_build_info", version=get_version(samples)) == 1
    assert get("pharos_check_runs_total", check="web-ok", result="success") >= 1
    assert get("pharos_check_runs_total", check="web-503", result="http_status") >= 1
    assert get("pharos_check_runs_total", check="refused", result="connect") >= 1
    assert get("pharos_check_runs_total", check=PENDING, result="success") == 0
    assert get("pharos_check_runs_total", check="web-ok", result="timeout") is None
    # histograms: cumulative, +Inf == _count
    for check in EXPECTED_UP:
        buckets = [(lb["le"], v) for n, lb, v in samples
                   if n == "pharos_check_duration_seconds_bucket" and lb["check"] == check]
        assert buckets[-1][0] == "+Inf"
        counts = [v for _, v in buckets]
        assert counts == sorted(counts)
        assert counts[-1] == get("pharos_check_duration_seconds_count", check=check) >= 1
    assert get("pharos_scheduler_lag_seconds_bucket", le="+Inf") == \
        get("pharos_scheduler_lag_seconds_count")
    assert get("pharos_check_phase_seconds", check="web-ok", phase="connect") is not None


def get_version(samples):
    return [lb["version"] for n, lb, v in samples if n == "pharos_build_info"][0]


def test_promtool_finds_nothing(agent):
    need(PROMTOOL)
    r = agent.get("/metrics")
    assert r.status == 200
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=r.body, capture_output=True, timeout=60)
    assert (p.returncode, p.stdout, p.stderr) == (0, b"", b""), \
        "promtool: rc=%s\n%s%s" % (p.returncode, p.stdout.decode(), p.stderr.decode())


def test_head_and_wrong_method(agent):
    r = agent.request("HEAD", "/metrics")
    assert r.status == 200 and r.body == b""
    r = agent.request("POST", "/metrics", body=b"")
    assert r.status == 405


# --- OpenMetrics ------------------------------------------------------------------------

def test_openmetrics_exposition(agent):
    r = agent.get("/metrics", headers={"Accept": OM_ACCEPT})
    assert r.status == 200
    assert r.headers["content-type"] == OM_CT
    text = r.text
    assert text.endswith("# EOF\n")
    lines = text.split("\n")[:-1]
    assert lines[-1] == "# EOF" and lines.count("# EOF") == 1
    assert "\r" not in text
    types = {}
    for line in lines:
        if line.startswith("#"):
            kind = line.split(" ", 2)[1]
            assert kind in ("TYPE", "HELP", "EOF"), "comment line not allowed in OM: %r" % line
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
    # counter families are named without _total, their samples keep it
    assert types["pharos_check_runs"] == "counter"
    assert types["pharos_notifications"] == "counter"
    assert "pharos_check_runs_total" not in types and "pharos_notifications_total" not in types
    assert types["pharos_check_duration_seconds"] == "histogram"
    samples, _ = parse_exposition(text)
    for n, lb, v in samples:
        fam = [f for f in types if n == f or (n.startswith(f + "_") and n[len(f):] in
                                               ("_total", "_bucket", "_sum", "_count"))]
        assert fam, "sample without a family: %s" % n
        if types[fam[0]] == "counter":
            assert n.endswith("_total")
        if "le" in lb:   # canonical: a decimal point or +Inf
            assert lb["le"] == "+Inf" or "." in lb["le"], lb
    assert check_up_values(samples) == EXPECTED_UP
    # what Prometheus sends picks OpenMetrics; a text preference picks text
    prom_accept = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                   "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
    assert agent.get("/metrics", headers={"Accept": prom_accept}).headers["content-type"] == OM_CT
    r = agent.get("/metrics", headers={"Accept": "text/plain;version=0.0.4, application/openmetrics-text;q=0.2"})
    assert r.headers["content-type"] == TEXT_CT


# --- a real Prometheus ------------------------------------------------------------------

class TextOnlyProxy:
    """Forwards GET /metrics to the agent without the scraper's Accept header (so
    the agent answers text 0.0.4) and remembers the Accept headers it saw."""

    def __init__(self, agent_port):
        proxy = self
        self.accepts = []

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                proxy.accepts.append(self.headers.get("Accept"))
                r = U.http_request(agent_port, "GET", self.path, timeout=10)
                self.send_response(r.status)
                self.send_header("Content-Type", r.headers.get("content-type", ""))
                self.send_header("Content-Length", str(len(r.body)))
                self.end_headers()
                self.wfile.write(r.body)

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


PROM_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: pharos
    static_configs:
      - targets: ["127.0.0.1:{agent}"]
  - job_name: pharos-text
    static_configs:
      - targets: ["127.0.0.1:{proxy}"]
"""


class Prometheus:
    def __init__(self, workdir, agent_port, proxy_port):
        self.dir = os.path.join(workdir, "prometheus")
        os.makedirs(self.dir, exist_ok=True)
        self.port = U.free_port()
        conf = U.write_file(os.path.join(self.dir, "prometheus.yml"),
                            PROM_CONFIG.format(agent=agent_port, proxy=proxy_port))
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + conf,
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, cwd=self.dir)

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-5000:]

    def get_json(self, path, **params):
        if self.proc.poll() is not None:
            raise AssertionError("prometheus exited with %s:\n%s" % (self.proc.returncode, self.logs()))
        q = "?" + urllib.parse.urlencode(params) if params else ""
        r = U.http_request(self.port, "GET", path + q, timeout=5)
        return r.status, (r.json() if r.body[:1] == b"{" else None)

    def query(self, expr):
        status, doc = self.get_json("/api/v1/query", query=expr)
        assert status == 200 and doc["status"] == "success", (expr, status, doc)
        return doc["data"]["result"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


@pytest.fixture(scope="module")
def prometheus(agent, module_workdir):
    need(PROMETHEUS)
    proxy = TextOnlyProxy(agent.port)
    prom = Prometheus(os.path.dirname(agent.config), agent.port, proxy.port)
    try:
        U.wait_until(lambda: prom.get_json("/-/ready")[0] == 200, 30, interval=0.2,
                     what="prometheus to be ready")
        prom.proxy = proxy
        yield prom
    finally:
        prom.stop()
        proxy.close()


def test_prometheus_scrapes_check_up(prometheus):
    def answered():
        got = {}
        for r in prometheus.query("pharos_check_up"):
            m = r["metric"]
            got.setdefault(m["job"], {})[m["check"]] = (int(r["value"][1]), m.get("group", ""),
                                                         m["type"])
        want = {
            "web-ok": (1, TRICKY_GROUP, "http"),
            "web-503": (0, "Web", "http"),
            "smtp": (1, "", "tcp"),
            "refused": (0, "", "tcp"),
        }
        return got == {"pharos": want, "pharos-text": want} and got
    U.wait_until(answered, 60, interval=0.5, what="prometheus to answer pharos_check_up for both jobs")

    # both scrapes are clean: OpenMetrics (Prometheus asks for it) and text 0.0.4
    _, doc = prometheus.get_json("/api/v1/targets")
    targets = {t["labels"]["job"]: t for t in doc["data"]["activeTargets"]}
    for job in ("pharos", "pharos-text"):
        assert targets[job]["health"] == "up", targets[job]
        assert targets[job]["lastError"] == "", targets[job]
    assert prometheus.proxy.accepts and "application/openmetrics-text" in prometheus.proxy.accepts[0]

    # counters, histograms and the build info arrive too
    r = prometheus.query('pharos_check_runs_total{job="pharos",check="refused",result="connect"}')
    assert r and float(r[0]["value"][1]) >= 1
    r = prometheus.query('pharos_check_duration_seconds_count{check="web-ok"}')
    assert len(r) == 2 and all(float(x["value"][1]) >= 1 for x in r)
    assert prometheus.query('pharos_check_up{check="%s"}' % PENDING) == []
    r = prometheus.query("pharos_build_info")
    assert {x["metric"]["job"] for x in r} == {"pharos", "pharos-text"}


# --- the Grafana dashboard ---------------------------------------------------------------

def dashboard_exprs(doc):
    out = []
    for p in doc["panels"]:
        for t in p.get("targets", []):
            out.append((p["title"], t["expr"]))
    return out


def test_dashboard_is_valid_json():
    with open(DASHBOARD) as f:
        doc = json.load(f)
    assert 30 <= doc["schemaVersion"] <= 40
    assert any(i["name"] == "DS_PROMETHEUS" and i["pluginId"] == "prometheus" for i in doc["__inputs"])
    titles = {p["title"] for p in doc["panels"]}
    for want in ("Checks up", "Checks down", "Check status", "Check duration p50 / p95",
                 "Runs by result", "Certificate days left", "Alerts firing", "Notification queue",
                 "Notifications delivered / failed", "Scheduler lag p99 / p50"):
        assert want in titles, want
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
    used = set()
    for title, expr in dashboard_exprs(doc):
        names = set(re.findall(r"\bpharos_[a-z_]+", expr))
        assert names, (title, expr)
        used |= names
    for p in doc["panels"]:
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "${DS_PROMETHEUS}", p["title"]
    known = set(FAMILIES) | {f + s for f in FAMILIES for s in ("_bucket", "_sum", "_count")}
    assert used <= known, used - known
    assert "pharos_check_duration_seconds_bucket" in used
    assert "pharos_scheduler_lag_seconds_bucket" in used


def test_dashboard_queries_run(prometheus):
    """Every panel query, with the dashboard's variables set to "All", is
    accepted by Prometheus; the up/down ones return data."""
    with open(DASHBOARD) as f:
        doc = json.load(f)
    for title, expr in dashboard_exprs(doc):
        q = (expr.replace("$__rate_interval", "10s").replace("$instance", ".*")
             .replace("$check", ".*").replace("$location", ".*"))
        assert "$" not in q, (title, q)
        prometheus.query(q)   # asserts status success
    U.wait_until(lambda: prometheus.query('count(pharos_check_up{check=~".*"} == 0) or vector(0)'),
                 10, what="a down count")
