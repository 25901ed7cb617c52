"""Fixtures for the pharos end-to-end tests: a real nginx, a real dnsmasq, a
controllable HTTP target, raw TCP servers, and helpers that run ./pharos with a
generated config. Everything listens on 127.0.0.1 on free ports and is stopped
afterwards; logs and configs of failing tests stay under tests/e2e/artifacts/."""

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2eutil as U  # noqa: E402

NGINX = "/usr/sbin/nginx"
DNSMASQ = "/usr/sbin/dnsmasq"


# --- artifacts: kept for failures only ------------------------------------------------

_failed_modules = set()

# Under pytest-xdist (scripts/run-e2e) every worker is a session of its own:
# the tree of artifacts is emptied and swept by the controller only, and what
# a worker's fixtures share (session servers, module directories) is named
# after the worker, so that two workers never write or remove the same path.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _is_worker(session):
    return hasattr(session.config, "workerinput")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "serial: measures time or CPU, or loads the machine: scripts/run-e2e "
        "runs these after the parallel phase, one at a time")
    # Registered here too: the mark is read by pytest-xdist, which a serial run
    # does not load.
    config.addinivalue_line(
        "markers", "xdist_group(name): tests of one group run on the same xdist worker")


@pytest.hookimpl(tryfirst=True)     # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """A module whose tests share a module-scoped fixture (an agent, a fleet,
    servers) runs on one xdist worker, in its order, as in a serial run: the
    fixture is set up once, and no test meets it fresher than it would there."""
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        info = getattr(item, "_fixtureinfo", None)
        defs = info.name2fixturedefs.values() if info is not None else ()
        if any(d[-1].scope == "module" for d in defs if d):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


def pytest_sessionstart(session):
    if _is_worker(session) or os.environ.get("PHAROS_E2E_KEEP_ARTIFACTS"):
        return
    shutil.rmtree(U.ARTIFACTS, ignore_errors=True)
    os.makedirs(U.ARTIFACTS, exist_ok=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        item._e2e_failed = True
        _failed_modules.add(item.module.__name__)


def pytest_sessionfinish(session, exitstatus):
    if _is_worker(session):
        return
    if exitstatus == 0:
        shutil.rmtree(os.path.join(U.ARTIFACTS, "_servers"), ignore_errors=True)
    for root, dirs, files in os.walk(U.ARTIFACTS, topdown=False):
        try:
            if not os.listdir(root):
                os.rmdir(root)
        except OSError:
            pass


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]


@pytest.fixture
def workdir(request):
    """A fresh directory for this test under artifacts/, removed when it passed."""
    d = os.path.join(U.ARTIFACTS, _safe(request.module.__name__), _safe(request.node.name))
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    yield d
    if not getattr(request.node, "_e2e_failed", False):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def module_workdir(request):
    d = os.path.join(U.ARTIFACTS, _safe(request.module.__name__), "_module" + WORKER)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    yield d
    if request.module.__name__ not in _failed_modules:
        shutil.rmtree(d, ignore_errors=True)


def _server_dir(name):
    d = os.path.join(U.ARTIFACTS, "_servers", WORKER or "serial", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def _need(path, why):
    if not os.path.exists(path):
        pytest.skip("%s is missing (%s); install the Debian package" % (path, why))


def _stop_process(p, timeout=10):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


# --- nginx ------------------------------------------------------------------------------

NGINX_CONF = """\
{user}worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    {temp_paths}
    types {{ text/html html; application/json json; text/plain txt; }}
    default_type application/octet-stream;
    keepalive_timeout 0;
    absolute_redirect off;
    server {{
        listen 127.0.0.1:{port};
        server_name pharos.test;
        root {d}/www;
        location = /unavailable {{ return 503; }}
        location = /moved {{ return 301 /index.html; }}
        location = /custom {{ add_header X-Pharos yes always; try_files /index.html =404; }}
        location = /nginx_status {{ stub_status; }}
    }}
}}
"""


class Nginx:
    def __init__(self, port, d, proc):
        self.port, self.dir, self.proc = port, d, proc

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)


@pytest.fixture(scope="session")
def nginx():
    _need(NGINX, "nginx-light")
    d = _server_dir("nginx")
    port = U.free_port()
    www = os.path.join(d, "www")
    os.makedirs(www)
    U.write_file(os.path.join(www, "index.html"), "<html><body>hello pharos</body></html>\n")
    U.write_file(os.path.join(www, "health.json"), json.dumps({"status": "ok", "version": 3}) + "\n")
    v = subprocess.run([NGINX, "-V"], capture_output=True, text=True, timeout=10).stderr
    temp = ["client_body_temp_path %s/client_body_temp;" % d]
    for mod, directive in (("proxy", "proxy_temp_path"), ("fastcgi", "fastcgi_temp_path"),
                           ("uwsgi", "uwsgi_temp_path"), ("scgi", "scgi_temp_path")):
        if "--without-http_%s_module" % mod not in v:
            temp.append("%s %s/%s_temp;" % (directive, d, mod))
    conf = U.write_file(os.path.join(d, "nginx.conf"), NGINX_CONF.format(
        user="user root;\n" if os.geteuid() == 0 else "", d=d, port=port,
        temp_paths="\n    ".join(temp)))
    log = open(os.path.join(d, "stderr.log"), "wb")
    p = subprocess.Popen([NGINX, "-p", d + "/", "-e", d + "/error.log", "-c", conf,
                          "-g", "daemon off;"], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    n = Nginx(port, d, p)
    try:
        def up():
            if p.poll() is not None:
                raise AssertionError("nginx exited with %s: see %s" % (p.returncode, d))
            return U.http_request(port, "GET", "/index.html", timeout=2).status == 200
        U.wait_until(up, 15, what="nginx to answer")
        yield n
    finally:
        _stop_process(p)
        log.close()


# --- dnsmasq ------------------------------------------------------------------------------

class Dnsmasq:
    def __init__(self, port, proc):
        self.port, self.proc = port, proc

    @property
    def server(self):
        return "127.0.0.1:%d" % self.port


@pytest.fixture(scope="session")
def dnsmasq():
    _need(DNSMASQ, "dnsmasq-base")
    d = _server_dir("dnsmasq")
    for attempt in range(5):
        port = U.free_port(socket.SOCK_DGRAM)
        args = [DNSMASQ, "-k", "--port=%d" % port, "--listen-address=127.0.0.1",
                "--bind-interfaces", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                "--pid-file=", "--log-facility=-", "--log-queries",
                "--local=/pharos.test/",
                "--address=/api.pharos.test/203.0.113.7",
                "--host-record=www.pharos.test,203.0.113.10,2001:db8::10",
                "--cname=alias.pharos.test,www.pharos.test",
                "--mx-host=pharos.test,mail.pharos.test,10",
                "--txt-record=txt.pharos.test,v=spf1 -all",
                "--srv-host=_sip._tcp.pharos.test,sip.pharos.test,5060,10,20"]
        if os.geteuid() == 0:
            args.append("--user=root")
        log = open(os.path.join(d, "dnsmasq.log"), "ab")
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)

        def up():
            if p.poll() is not None:
                return "exited"
            try:
                return U.dns_query(port, "api.pharos.test", timeout=0.3)
            except OSError:
                return None
        try:
            r = U.wait_until(up, 15, what="dnsmasq to answer")
        except AssertionError:
            _stop_process(p)
            log.close()
            raise
        if r == "exited":  # port taken in between: try another one
            log.close()
            continue
        try:
            yield Dnsmasq(port, p)
        finally:
            _stop_process(p)
            log.close()
        return
    raise AssertionError("dnsmasq did not start; see %s" % d)


@pytest.fixture(scope="session")
def silent_udp():
    """A UDP port that receives DNS queries and never answers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    yield s.getsockname()[1]
    s.close()


# --- the controllable HTTP target -------------------------------------------------------

JSON_BODIES = {
    "ok": ("application/json", json.dumps({"status": "ok", "version": 3,
                                           "items": [{"id": 1, "name": "a"}, {"id": 2}],
                                           "nested": {"a b": True, "n": None}})),
    "html": ("application/json", "<!DOCTYPE html><html><body>Service Unavailable</body></html>"),
    "truncated": ("application/json", '{"status": "ok", "items": [1, 2'),
    "empty": ("application/json", ""),
    "array": ("application/json", "[1, 2, 3]"),
    "string": ("application/json", '"ok"'),
    "deep": ("application/json", "[" * 5000 + "]" * 5000),
    "unicode": ("application/json; charset=utf-8", json.dumps({"status": "\u00e9t\u00e9 \u2603"})),
    "binary": ("application/json", None),  # random bytes, filled below
}


class TargetHandler(BaseHTTPRequestHandler):
    server_version = "pharos-e2e-target"

    def log_message(self, fmt, *args):
        log = getattr(self.server, "logfile", None)
        if log:
            log.write(("%s %s\n" % (self.address_string(), fmt % args)).encode())
            log.flush()

    def _send(self, code, body=b"", ctype="text/plain", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _drop(self, rst):
        if rst:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.connection.close()
        self.close_connection = True

    def do_GET(self):
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        path = self.path.split("?", 1)[0]
        parts = path.strip("/").split("/")
        try:
            self._route(parts)
        except (BrokenPipeError, ConnectionResetError, ValueError, OSError):
            self.close_connection = True

    do_POST = do_GET
    do_HEAD = do_GET
    do_PUT = do_GET

    def _route(self, parts):
        head = parts[0]
        if head == "ok":
            self._send(200, "ok\n")
        elif head == "status" and len(parts) == 2:
            self._send(int(parts[1]), "status %s\n" % parts[1])
        elif head == "slow" and len(parts) == 2:
            if self.server.stopping.wait(int(parts[1]) / 1000.0):
                return
            self._send(200, "slow ok\n")
        elif head == "hang":
            self.server.stopping.wait(300)
            self.close_connection = True
        elif head == "reset":
            self._drop(rst=True)
        elif head == "close":
            self._drop(rst=False)
        elif head == "big" and len(parts) == 2:
            total = int(parts[1]) * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(total))
            self.end_headers()
            chunk = b"x" * 65536
            sent = 0
            self.connection.settimeout(30)
            while sent < total and not self.server.stopping.is_set():
                self.wfile.write(chunk)
                sent += len(chunk)
            self.server.big_sent.append(sent)
        elif head == "json" and len(parts) == 2 and parts[1] in JSON_BODIES:
            ctype, body = JSON_BODIES[parts[1]]
            if body is None:
                body = bytes((i * 7919 + 13) % 256 for i in range(4096))
            self._send(200, body, ctype)
        elif head == "header":
            self._send(200, "with header\n", headers=[("X-Pharos", "yes")])
        elif head == "redirect-loop":
            self._send(302, "", headers=[("Location", "/redirect-loop")])
        elif head == "echo-headers":
            self._send(200, json.dumps(dict(self.headers)), "application/json")
        else:
            self._send(404, "not found\n")


class Target:
    def __init__(self, server):
        self.server = server
        self.port = server.server_address[1]

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    @property
    def requests(self):
        return self.server.requests


@pytest.fixture(scope="session")
def target():
    d = _server_dir("target")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), TargetHandler)
    srv.daemon_threads = True
    srv.stopping = threading.Event()
    srv.requests = []
    srv.big_sent = []
    srv.logfile = open(os.path.join(d, "access.log"), "wb")
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    try:
        U.wait_until(lambda: U.http_request(srv.server_address[1], "GET", "/ok", timeout=2).status == 200,
                     10, what="the target to answer")
        yield Target(srv)
    finally:
        srv.stopping.set()
        srv.shutdown()
        srv.server_close()
        srv.logfile.close()


# --- raw TCP servers ----------------------------------------------------------------------

class TcpServer:
    """Accepts connections on 127.0.0.1 and hands each to behave(conn, stop)."""

    def __init__(self, behave):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.behave = behave
        self.stop = threading.Event()
        self.accepted = 0
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            conn.settimeout(30)
            self.behave(conn, self.stop)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def _banner(conn, stop):
    conn.sendall(b"220 pharos.test ESMTP\r\n")
    conn.settimeout(0.2)
    while not stop.is_set():  # keep it open until the client goes away
        try:
            if not conn.recv(4096):
                return
        except socket.timeout:
            continue


def _echo(conn, stop):
    buf = b""
    conn.settimeout(0.2)
    while not stop.is_set():
        try:
            data = conn.recv(4096)
        except socket.timeout:
            continue
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.rstrip(b"\r") == b"PING":
                conn.sendall(b"PONG\r\n")
            else:
                conn.sendall(line + b"\n")


def _silent(conn, stop):
    conn.settimeout(0.2)
    while not stop.is_set():
        try:
            if not conn.recv(4096):
                return
        except socket.timeout:
            continue


class TcpServers:
    def __init__(self):
        self.banner = TcpServer(_banner)
        self.echo = TcpServer(_echo)
        self.silent = TcpServer(_silent)
        self.refused = U.closed_port()

    def close(self):
        for s in (self.banner, self.echo, self.silent):
            s.close()


@pytest.fixture(scope="session")
def tcp():
    s = TcpServers()
    yield s
    s.close()


# --- PostgreSQL: one throw-away server per session, a database per test ------------------

PG_SERVER = os.path.join(U.REPO, "scripts", "pg-test-server")
STORES = ["sqlite", "postgresql"]


class PgServer:
    """A PostgreSQL started by scripts/pg-test-server in a temporary directory
    (as the postgres user when we are root). new_database() is CREATE DATABASE
    (cheap: a copy of template1) owned by the role pharos."""

    def __init__(self, d, uri):
        self.dir = d
        self.uri = uri                      # postgresql://pharos:pharos@127.0.0.1:PORT/pharos
        self.port = int(re.search(r":(\d+)/", uri).group(1))
        self.n = 0
        self.by_agent = {}

    def psql(self, sql, db="postgres"):
        r = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                            "-p", str(self.port), "-U", "postgres", "-d", db, "-c", sql],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("psql %r: %s" % (sql, r.stderr))
        return r.stdout

    def uri_of(self, name):
        return "postgresql://pharos:pharos@127.0.0.1:%d/%s" % (self.port, name)

    def new_database(self):
        self.n += 1
        name = "e2e_%d_%d" % (os.getpid(), self.n)
        self.psql('CREATE DATABASE "%s" OWNER pharos' % name)
        return self.uri_of(name)

    def database_for(self, workdir, name):
        key = (workdir, name)
        if key not in self.by_agent:
            self.by_agent[key] = self.new_database()
        return self.by_agent[key]

    def stop(self, how="stop"):
        subprocess.run([PG_SERVER, how, self.dir], stdin=subprocess.DEVNULL, timeout=120)

    def start_again(self):
        subprocess.run([PG_SERVER, "restart", self.dir], stdin=subprocess.DEVNULL, check=True,
                       timeout=120)


def start_pg_server(tag):
    """A fresh PostgreSQL server, or pytest.skip when PostgreSQL is not installed."""
    import glob
    import tempfile
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("psql") is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    d = tempfile.mkdtemp(prefix="pharos-e2e-pg-%s-" % tag)
    r = subprocess.run([PG_SERVER, "start", d, str(U.free_port())], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=180)
    if r.returncode != 0:
        shutil.rmtree(d, ignore_errors=True)
        pytest.fail("scripts/pg-test-server start failed: %s" % r.stderr)
    return PgServer(d, r.stdout.strip().splitlines()[-1])


def stop_pg_server(server):
    server.stop("kill")
    shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server():
    s = start_pg_server("session")
    yield s
    stop_pg_server(s)


class StoreChoice:
    """The store of a parametrised test or module: kind is "sqlite" or
    "postgresql"; database_for(workdir, name) gives an agent's agent.database."""

    def __init__(self, kind, server):
        self.kind = kind
        self.server = server

    def database_for(self, workdir, name):
        if self.server is None:
            return os.path.join(workdir, name + ".db")
        return self.server.database_for(workdir, name)

    def workdir(self, base):
        """A directory of base for this store's run of a module."""
        d = os.path.join(base, self.kind)
        os.makedirs(d, exist_ok=True)
        return d


def _store_choice(request):
    server = request.getfixturevalue("pg_server") if request.param == "postgresql" else None
    return StoreChoice(request.param, server)


@pytest.fixture(params=STORES)
def store(request):
    """Runs the test once per store: every agent the test starts gets a SQLite
    file, or a fresh PostgreSQL database of its own (from the session's
    server). Returns "sqlite" or "postgresql"."""
    choice = _store_choice(request)
    U.set_store(choice.database_for if choice.server is not None else None)
    yield choice.kind
    U.set_store(None)


@pytest.fixture(scope="module", params=STORES)
def module_store(request):
    """For a module-scoped agent: the module's tests run once per store. Pass
    module_store.database_for(workdir, name) as the agent's database (the
    module's other tests keep SQLite)."""
    return _store_choice(request)


# --- running pharos ----------------------------------------------------------------------

@pytest.fixture(scope="session")
def pharos_bin():
    if not os.path.exists(U.PHAROS):
        pytest.fail("%s does not exist: run `make pharos` first" % U.PHAROS)
    return U.PHAROS


class Cli:
    """Writes configs into the test's directory and runs ./pharos on them."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.n = 0
        self.log = os.path.join(workdir, "commands.log")

    def config(self, text=None, checks=None, name=None, **kw):
        """Writes a config (raw text, or rendered from checks) and returns its path."""
        self.n += 1
        if text is None:
            text = U.render_config(checks or [], **kw)
        return U.write_file(os.path.join(self.workdir, name or "pharos-%d.conf" % self.n), text)

    def run(self, *args, timeout=60, env=None):
        return U.run_pharos(list(args), timeout=timeout, env=env, cwd=self.workdir, log_to=self.log)

    def probe(self, check, json_out=True, timeout=60, env=None, defaults=None):
        """Runs `pharos probe` on a config holding only this check. With
        json_out, returns (RunResult, parsed JSON); the JSON must be valid."""
        path = self.config(checks=[check], defaults=defaults)
        args = ["probe", "-c", path, check["name"]] + (["--json"] if json_out else [])
        r = self.run(*args, timeout=timeout, env=env)
        if not json_out:
            return r, None
        try:
            doc = json.loads(r.stdout)
        except ValueError as e:
            raise AssertionError("probe --json did not print valid JSON (%s): %r" % (e, r))
        return r, doc


@pytest.fixture
def cli(workdir, pharos_bin):
    return Cli(workdir)


@pytest.fixture
def start_agent(workdir, pharos_bin, request):
    """start_agent(checks, admin_token=..., name=...) starts `pharos run` and waits
    for /readyz; every agent is stopped with SIGTERM afterwards and must exit 0
    within 15 s."""
    agents = []

    def start(checks, **kw):
        a = U.Agent(workdir, checks, **kw)
        agents.append(a)
        return a.start()

    yield start
    problems = []
    for a in agents:
        try:
            rc, _ = a.stop(15)
            if rc != 0:
                problems.append("pharos run exited with %s after SIGTERM:\n%s" % (rc, a.logs()[-5000:]))
        except AssertionError as e:
            problems.append(str(e))
    if problems:
        request.node._e2e_failed = True
        pytest.fail("\n".join(problems))
