"""`pharos run` (SPEC §1, §3): the agent runs its checks on short intervals,
answers the health and checks API, stores every result in SQLite, guards the
admin endpoint, logs logfmt lines, keeps secrets out of logs and answers, and
stops cleanly on SIGTERM."""

import json
import os
import sqlite3
import time
import urllib.parse
from datetime import datetime

import pytest

import e2eutil as U

EXPECTED = {
    "web": ("up", None),
    "health": ("up", None),
    "broken": ("down", "http_status"),
    "smtp": ("up", None),
    "refused": ("down", "connect"),
    "dns-api": ("up", None),
    "secret-http": ("up", None),
    "cred-url": ("up", None),
    "hang": ("down", "timeout"),
}


def agent_checks(nginx, target, tcp, dnsmasq):
    return [
        {"name": "web", "group": "Web", "type": "http", "url": nginx.url("/index.html"),
         "expect": {"body_contains": "hello pharos"}},
        {"name": "health", "group": "Web", "type": "http", "url": nginx.url("/health.json"),
         "expect": {"json": [{"path": "$.status", "equals": "ok"}]}},
        {"name": "broken", "type": "http", "url": nginx.url("/unavailable")},
        {"name": "smtp", "type": "tcp", "host": "127.0.0.1", "port": tcp.banner.port,
         "expect": {"banner_regex": "^220 "}},
        {"name": "refused", "type": "tcp", "host": "127.0.0.1", "port": tcp.refused},
        {"name": "dns-api", "type": "dns", "query": "api.pharos.test", "record": "A",
         "server": dnsmasq.server, "expect": {"answers_contain": ["203.0.113.7"]}},
        {"name": "secret-http", "type": "http", "url": target.url("/ok"),
         "headers": ["Authorization: Bearer ${env:PHAROS_E2E_SECRET}"]},
        {"name": "cred-url", "type": "http",
         "url": "http://e2e:${env:PHAROS_E2E_SECRET}@127.0.0.1:%d/ok" % target.port},
        {"name": "hang", "type": "http", "url": target.url("/hang")},
    ]


DEFAULTS = {"interval": "1s", "timeout": "800ms"}


@pytest.fixture(scope="module")
def agent(module_store, module_workdir, nginx, target, tcp, dnsmasq):
    if not os.path.exists(U.PHAROS):
        pytest.fail("%s does not exist: run `make pharos` first" % U.PHAROS)
    wd = module_store.workdir(module_workdir)
    a = U.Agent(wd, agent_checks(nginx, target, tcp, dnsmasq), defaults=DEFAULTS,
                database=module_store.database_for(wd, "agent"))
    a.start()
    try:
        yield a
    finally:
        rc, took = a.stop(15)
        assert rc == 0, "pharos run exited with %s after SIGTERM:\n%s" % (rc, a.logs()[-5000:])


@pytest.fixture(scope="module")
def settled(agent):
    """The agent once every check has run at least twice and shows its expected state."""
    def ok():
        cs = agent.checks()
        for name, (state, error) in EXPECTED.items():
            c = cs.get(name)
            if not c or c.get("state") != state:
                return False
        return cs
    U.wait_until(ok, 30, interval=0.2, what="every check in its expected state")
    U.wait_until(lambda: all(len(agent.get_json("/api/v1/checks/%s/results?limit=5" % n)) >= 2
                             for n in EXPECTED), 30, interval=0.2, what="two results per check")
    return agent


def assert_json_error(r, status):
    assert r.status == status, r
    assert r.headers.get("content-type", "").startswith("application/json"), r
    doc = r.json()
    assert isinstance(doc.get("error"), str) and doc["error"], r
    assert "detail" in doc, r


# --- health ---------------------------------------------------------------------

def test_healthz(agent):
    r = agent.get("/healthz")
    assert r.status == 200, r
    assert "ok" in r.text.lower(), r


def test_readyz(agent):
    assert agent.get("/readyz").status == 200


# --- checks ----------------------------------------------------------------------

def test_checks_states_and_shape(settled):
    cs = settled.checks()
    assert set(cs) == set(EXPECTED), cs.keys()
    for name, (state, error) in EXPECTED.items():
        c = cs[name]
        assert c["state"] == state, c
        for key in ("name", "group", "type", "target", "state", "last", "uptime", "latency_ms"):
            assert key in c, "no %r in %r" % (key, c)
        last = c["last"]
        for key in ("ts", "ok", "duration_ms", "error", "message"):
            assert key in last, "no %r in last of %r" % (key, c)
        assert last["ok"] is (state == "up"), c
        if error:
            assert last["error"] == error, c
            assert last["message"], c
        for w in ("24h", "7d", "30d", "90d"):
            assert w in c["uptime"], c
        assert "p50" in c["latency_ms"] and "p95" in c["latency_ms"], c
    assert cs["web"]["group"] == "Web" and cs["web"]["type"] == "http"
    assert cs["smtp"]["type"] == "tcp" and cs["dns-api"]["type"] == "dns"
    assert cs["smtp"]["target"].startswith("127.0.0.1:"), cs["smtp"]
    assert "api.pharos.test" in cs["dns-api"]["target"], cs["dns-api"]
    assert cs["web"]["uptime"]["24h"] == pytest.approx(100.0)
    assert cs["broken"]["uptime"]["24h"] == pytest.approx(0.0)


def test_check_detail(settled):
    r = settled.get("/api/v1/checks/web")
    assert r.status == 200, r
    doc = r.json()
    assert doc["name"] == "web" and doc["state"] == "up", doc
    recent = [v for v in doc.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
    assert recent, "no recent results in %r" % doc
    assert all("ok" in x and "ts" in x for x in recent[0]), doc


def parse_ts(ts):
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def test_results_limit_newest_first(settled):
    U.wait_until(lambda: len(settled.get_json("/api/v1/checks/web/results?limit=10")) >= 3, 20,
                 what="three results of web")
    res = settled.get_json("/api/v1/checks/web/results?limit=2")
    assert len(res) == 2, res
    a, b = parse_ts(res[0]["ts"]), parse_ts(res[1]["ts"])
    assert a > b, "not newest first: %r" % res
    for x in res:
        assert x["ok"] is True and "duration_ms" in x, x


def _with_since(agent, name, ts):
    """Results since ts: RFC 3339 as the API prints it, else Unix seconds."""
    r = agent.get("/api/v1/checks/%s/results?since=%s&limit=100" % (name, urllib.parse.quote(ts)))
    if r.status == 400:
        secs = parse_ts(ts).timestamp()
        r = agent.get("/api/v1/checks/%s/results?since=%s&limit=100" % (name, secs))
    assert r.status == 200, r
    return r.json()


def test_results_since(settled):
    U.wait_until(lambda: len(settled.get_json("/api/v1/checks/smtp/results?limit=10")) >= 3, 20,
                 what="three results of smtp")
    res = settled.get_json("/api/v1/checks/smtp/results?limit=100")
    pivot = res[1]["ts"]
    got = _with_since(settled, "smtp", pivot)
    assert got, "nothing since %s" % pivot
    assert all(parse_ts(x["ts"]) >= parse_ts(pivot) for x in got), got
    assert len(got) < len(_with_since(settled, "smtp", res[-1]["ts"])) or len(res) < 3
    future = "2100-01-01T00:00:00Z"
    assert _with_since(settled, "smtp", future) == []


def test_results_of_failing_check(settled):
    res = settled.get_json("/api/v1/checks/refused/results?limit=3")
    assert res and all(x["ok"] is False and x["error"] == "connect" for x in res), res


@pytest.mark.parametrize("path", [
    "/api/v1/checks/nope", "/api/v1/checks/nope/results", "/api/v1/nothing",
    "/api/v1/checks/" + "x" * 1000, "/api/v1/checks/%00", "/api/v1/checks/..%2f..%2fetc",
    "/api/v1/checks/web/nothing",
])
def test_unknown_names_404(agent, path):
    r = agent.get(path)
    assert_json_error(r, 404)


@pytest.mark.parametrize("method,path", [
    ("POST", "/api/v1/checks"), ("DELETE", "/api/v1/checks/web"), ("PUT", "/api/v1/checks/web/results"),
    ("GET", "/api/v1/checks/web/run"), ("POST", "/healthz"),
])
def test_wrong_method_405(agent, method, path):
    r = agent.request(method, path, headers={"Authorization": "Bearer " + U.ADMIN_TOKEN}, body=b"")
    assert_json_error(r, 405)


@pytest.mark.parametrize("query", ["limit=abc", "limit=-1", "limit=1e99", "since=yesterday",
                                   "until=%ff%fe"])
def test_bad_query_400(agent, query):
    r = agent.get("/api/v1/checks/web/results?" + query)
    assert_json_error(r, 400)


# --- admin ----------------------------------------------------------------------

def test_admin_run_needs_token(agent):
    r = agent.request("POST", "/api/v1/checks/web/run")
    assert_json_error(r, 401)
    r = agent.request("POST", "/api/v1/checks/web/run", headers={"Authorization": "Bearer wrong-token"})
    assert_json_error(r, 401)
    r = agent.request("POST", "/api/v1/checks/web/run",
                      headers={"Authorization": "Bearer " + U.ADMIN_TOKEN[:-1]})
    assert_json_error(r, 401)
    r = agent.request("POST", "/api/v1/checks/web/run", headers={"Authorization": "Basic " + U.ADMIN_TOKEN})
    assert_json_error(r, 401)


def test_admin_run_with_token(agent):
    auth = {"Authorization": "Bearer " + U.ADMIN_TOKEN}
    r = agent.request("POST", "/api/v1/checks/web/run", headers=auth)
    assert r.status == 200, r
    doc = r.json()
    assert doc["ok"] is True and doc.get("run_id"), doc
    r = agent.request("POST", "/api/v1/checks/broken/run", headers=auth)
    assert r.status == 200, r
    assert r.json()["ok"] is False and r.json()["error"] == "http_status", r
    r = agent.request("POST", "/api/v1/checks/nope/run", headers=auth)
    assert_json_error(r, 404)


def test_admin_disabled_without_token(start_agent, tcp):
    a = start_agent([{"name": "smtp", "type": "tcp", "host": "127.0.0.1", "port": tcp.banner.port}],
                    admin_token=None, defaults=DEFAULTS)
    for headers in ({}, {"Authorization": "Bearer " + U.ADMIN_TOKEN}, {"Authorization": "Bearer "}):
        r = a.request("POST", "/api/v1/checks/smtp/run", headers=headers)
        assert_json_error(r, 403)


# --- the database -----------------------------------------------------------------

def open_db(path):
    return sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)


def count_rows(path, name):
    db = open_db(path)
    try:
        cols = [r[1] for r in db.execute("PRAGMA table_info(results)")]
        col = "check_name" if "check_name" in cols else "check"
        return db.execute('SELECT count(*) FROM results WHERE "%s" = ?' % col, (name,)).fetchone()[0]
    finally:
        db.close()


def test_results_in_database(settled):
    if U.store_kind(settled.db) != "sqlite":
        pytest.skip("reads the SQLite file; the API checks cover PostgreSQL")
    assert os.path.exists(settled.db)
    db = open_db(settled.db)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
        cols = {r[1] for r in db.execute("PRAGMA table_info(results)")}
    finally:
        db.close()
    assert cols, "no results table in %s" % settled.db
    for want in (("check_name", "check"), ("ts_us", "ts", "start", "started_at"),
                 ("duration_us", "duration_ms", "duration"), ("ok", "success"),
                 ("error",), ("message",), ("status_code",), ("run_id",)):
        assert any(w in cols for w in want), "no column like %s in %s" % (want, sorted(cols))
    api = len(settled.get_json("/api/v1/checks/web/results?limit=1000"))
    assert api >= 2
    assert count_rows(settled.db, "web") >= api
    for name in EXPECTED:
        assert count_rows(settled.db, name) >= 2, name
    db = open_db(settled.db)
    try:
        cols = [r[1] for r in db.execute("PRAGMA table_info(results)")]
        col = "check_name" if "check_name" in cols else "check"
        row = db.execute('SELECT * FROM results WHERE "%s" = ? ORDER BY rowid DESC LIMIT 1' % col,
                         ("broken",)).fetchone()
        row = dict(zip(cols, row))
    finally:
        db.close()
    assert row["ok"] in (0, False) and row["error"] == "http_status" and row["message"], row
    if "status_code" in row:
        assert row["status_code"] == 503, row


# --- secrets ----------------------------------------------------------------------

def test_secrets_never_in_api(settled):
    auth = {"Authorization": "Bearer " + U.ADMIN_TOKEN}
    bodies = [settled.get(p).text for p in (
        "/api/v1/checks", "/api/v1/checks/secret-http", "/api/v1/checks/cred-url",
        "/api/v1/checks/secret-http/results", "/api/v1/checks/cred-url/results", "/readyz", "/healthz")]
    for name in ("secret-http", "cred-url"):
        bodies.append(settled.request("POST", "/api/v1/checks/%s/run" % name, headers=auth).text)
    bodies.append(settled.request("POST", "/api/v1/checks/web/run",
                                  headers={"Authorization": "Bearer wrong"}).text)
    for b in bodies:
        assert U.SECRET not in b, b
        assert U.ADMIN_TOKEN not in b, b
    target = settled.checks()["cred-url"]["target"]
    assert "***" in target and "127.0.0.1" in target, target


# --- stopping and logs ---------------------------------------------------------------

def test_sigterm_logs_and_secrets(start_agent, nginx, target, tcp, dnsmasq):
    checks = agent_checks(nginx, target, tcp, dnsmasq)
    for c in checks:
        if c["name"] == "hang":
            c["timeout"] = "3s"
            c["interval"] = "5s"
    a = start_agent(checks, defaults=DEFAULTS)
    U.wait_until(lambda: all(c["state"] != "pending" for c in a.checks().values()), 20,
                 what="every check to have run")
    U.wait_until(lambda: a.checks()["hang"]["state"] == "down", 20, what="hang to time out once")
    # make sure a hanging probe is in flight when SIGTERM arrives
    U.wait_until(lambda: any(q[1] == "/hang" for q in target.requests[-50:]), 10)
    before = {n: len(a.get_json("/api/v1/checks/%s/results?limit=1000" % n)) for n in EXPECTED}
    a.request("POST", "/api/v1/checks/web/run", headers={"Authorization": "Bearer " + U.ADMIN_TOKEN})
    rc, took = a.stop(15)
    assert rc == 0, a.logs()[-5000:]
    assert took < 3 + 5, "SIGTERM took %.1fs with a 3s probe hanging" % took
    for n, count in before.items():
        assert count_rows(a.db, n) >= count, "results of %s lost at stop" % n
    logs = a.logs()
    assert U.SECRET not in logs
    assert U.ADMIN_TOKEN not in logs
    lines = [l for l in logs.splitlines() if l.strip()]
    assert lines, "no log lines"
    for line in lines:
        kv = U.parse_logfmt(line)
        assert kv is not None, "not logfmt: %r" % line
        for key in ("ts", "level", "msg"):
            assert key in kv, "no %s in %r" % (key, line)
        assert kv["level"] in ("debug", "info", "warn", "warning", "error"), line
        parse_ts(kv["ts"])
    # a probe run's log lines carry its run_id, the same one the database keeps
    run_ids = {kv["run_id"] for kv in map(U.parse_logfmt, lines)
               if kv.get("check") == "refused" and kv.get("run_id")}
    assert run_ids, "no log line with check=refused and a run_id"
    db = open_db(a.db)
    try:
        stored = {r[0] for r in db.execute("SELECT run_id FROM results")}
    finally:
        db.close()
    assert run_ids & stored, "run_ids in the log %s not in the database" % sorted(run_ids)[:5]


def test_json_logs(start_agent, tcp):
    a = start_agent([{"name": "smtp", "type": "tcp", "host": "127.0.0.1", "port": tcp.banner.port},
                     {"name": "refused", "type": "tcp", "host": "127.0.0.1", "port": tcp.refused}],
                    defaults=DEFAULTS, agent_extra={"log_format": "json"})
    U.wait_until(lambda: all(c["state"] != "pending" for c in a.checks().values()), 20)
    rc, _ = a.stop(15)
    assert rc == 0
    lines = [l for l in a.logs().splitlines() if l.strip()]
    assert lines
    for line in lines:
        doc = json.loads(line)
        for key in ("ts", "level", "msg"):
            assert key in doc, line
    assert U.ADMIN_TOKEN not in a.logs()


def test_sigint_stops_cleanly(start_agent, tcp):
    import signal
    a = start_agent([{"name": "smtp", "type": "tcp", "host": "127.0.0.1", "port": tcp.banner.port}],
                    defaults=DEFAULTS)
    U.wait_until(lambda: a.checks()["smtp"]["state"] == "up", 20)
    a.proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    a.proc.wait(15)
    assert a.proc.returncode == 0, a.logs()
    assert time.monotonic() - t0 < 10
