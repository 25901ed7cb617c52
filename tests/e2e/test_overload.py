"""An overloaded agent never blames a target (SPEC §2.0.1): given far more
checks than it can run against a healthy local nginx, pharos records no
`timeout` against it, skips the runs it cannot start in time and counts them,
says `overloaded` on /readyz and in its metrics, and recovers when a reload
brings the load down."""

import os
import re
import signal
import sqlite3
import subprocess
import time

import pytest

import e2eutil as U

# It loads both cores on purpose, and a neighbour would slow its target.
pytestmark = pytest.mark.serial

LOAD_CHECKS = 15000          # every 1 s: well beyond what one loop thread carries
CALM_CHECKS = 10
NGINX = "/usr/sbin/nginx"

# A target that is healthy at this load: the shared nginx fixture accepts 256
# connections, which an agent with hundreds of runs in flight exceeds, and
# nginx then closes connections (a failure of the target, not the agent's).
NGINX_CONF = """\
{user}worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 8192; multi_accept on; }}
http {{
    access_log off;
    keepalive_timeout 0;
    client_body_temp_path {d}/client_body_temp;
    server {{
        listen 127.0.0.1:{port};
        root {d}/www;
    }}
}}
"""


class Target:
    def __init__(self, port):
        self.port = port

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)


@pytest.fixture(scope="module")
def nginx(module_workdir):
    if not os.path.exists(NGINX):
        pytest.skip("%s is missing (nginx-light)" % NGINX)
    d = os.path.join(module_workdir, "nginx")
    os.makedirs(os.path.join(d, "www"))
    U.write_file(os.path.join(d, "www", "index.html"), "ok\n")
    port = U.free_port()
    conf = U.write_file(os.path.join(d, "nginx.conf"), NGINX_CONF.format(
        user="user root;\n" if os.geteuid() == 0 else "", d=d, port=port))
    p = subprocess.Popen([NGINX, "-p", d + "/", "-e", d + "/error.log", "-c", conf,
                          "-g", "daemon off;"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        U.wait_until(lambda: U.http_request(port, "GET", "/index.html", timeout=2).status == 200,
                     15, what="nginx to answer")
        yield Target(port)
    finally:
        p.terminate()
        p.wait(10)


def http_checks(nginx, n):
    return [{"name": "load-%05d" % i, "type": "http", "url": nginx.url("/index.html?%d" % i)}
            for i in range(n)]


def write_config(a, checks, threads):
    agent = {"listen": "127.0.0.1:%d" % a.port, "database": a.db, "threads": threads}
    U.write_file(a.config, U.render_config(checks, agent=agent,
                                           defaults={"interval": "1s", "timeout": "1s"}))


def metric(text, name, labels=None):
    """The sum of every sample of name whose labels include labels."""
    total, seen = 0.0, False
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        m = re.match(r'^([a-z_]+)(\{[^}]*\})? (\S+)$', line)
        if not m or m.group(1) != name:
            continue
        if labels and any('%s="%s"' % kv not in (m.group(2) or "") for kv in labels.items()):
            continue
        total += float(m.group(3))
        seen = True
    return total if seen else None


def metrics(a):
    r = a.get("/metrics", timeout=30)
    assert r.status == 200
    return r.text


def stored_errors(db):
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return dict(c.execute("SELECT error, count(*) FROM results GROUP BY error").fetchall())
    finally:
        c.close()


@pytest.mark.parametrize("threads", [1, 2])
def test_overloaded_agent_sheds_runs_and_blames_no_target(nginx, workdir, pharos_bin, threads):
    a = U.Agent(workdir, [], admin_token=None)
    write_config(a, http_checks(nginx, LOAD_CHECKS), threads)
    # Not a.start(): that waits for /readyz 200, which an agent this loaded
    # may never answer; /healthz says the loop is alive.
    a._log = open(a.log_path, "wb")
    a.proc = U.subprocess.Popen([U.PHAROS, "run", "-c", a.config], stdin=U.subprocess.DEVNULL,
                                stdout=a._log, stderr=U.subprocess.STDOUT, env=U.base_env(None),
                                cwd=workdir)
    try:
        U.wait_until(lambda: a.running() and a.get("/healthz", timeout=5).status == 200, 60,
                     what="the loaded agent to answer /healthz")

        def shedding():
            t = metrics(a)
            return (metric(t, "pharos_overloaded") == 1 and
                    (metric(t, "pharos_runs_skipped_total", {"reason": "overload"}) or 0) > 0)
        U.wait_until(shedding, 30, interval=0.5, what="pharos_overloaded 1 and runs skipped")

        r = a.get("/readyz")
        assert r.status == 503, r
        assert r.json()["status"] == "overloaded", r.json()
        assert "reason" in r.json()

        time.sleep(3)       # a few seconds of steady overload
        t = metrics(a)
        ok = metric(t, "pharos_check_runs_total", {"result": "success"}) or 0
        timeouts = metric(t, "pharos_check_runs_total", {"result": "timeout"}) or 0
        assert ok > 1000, "the agent carried almost nothing: %s runs passed" % ok
        assert timeouts == 0, "%d runs recorded as timeout against a healthy target" % timeouts
        # No check of the healthy target is shown down.
        states = {}
        for c in a.get_json("/api/v1/checks"):
            states[c["state"]] = states.get(c["state"], 0) + 1
        assert states.get("down", 0) == 0, (states, stored_errors(a.db))
        # One log line a minute at most about skipping, never one per run.
        assert a.logs().count("runs skipped") <= 1

        # The load drops: the agent is ready again and no longer overloaded.
        write_config(a, http_checks(nginx, CALM_CHECKS), threads)
        a.proc.send_signal(signal.SIGHUP)
        U.wait_until(lambda: "configuration reloaded" in a.logs(), 30, what="the reload")

        def calm():
            return a.get("/readyz").status == 200 and metric(metrics(a), "pharos_overloaded") == 0
        U.wait_until(calm, 30, interval=0.5, what="/readyz 200 and pharos_overloaded 0 after the reload")
        assert "timeout" not in stored_errors(a.db)
    finally:
        rc, _ = a.stop(30)
    assert rc == 0, a.logs()[-3000:]
