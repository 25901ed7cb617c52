"""Helpers for the pharos end-to-end tests: waiting on conditions, free ports,
rendering libconfig text, running the real ./pharos binary and driving a
running agent over HTTP. Standard library only."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def _artifacts_dir():
    """tests/e2e/artifacts, or a directory under $TMPDIR when the tree is not
    writable (tests run by another user than the tree's owner)."""
    d = os.environ.get("PHAROS_E2E_ARTIFACTS") or os.path.join(HERE, "artifacts")
    try:
        os.makedirs(d, exist_ok=True)
        probe = os.path.join(d, ".write-test-%d" % os.getpid())
        open(probe, "w").close()
        os.unlink(probe)
        return d
    except OSError:
        import tempfile
        return os.path.join(tempfile.gettempdir(), "pharos-e2e-artifacts-%d" % os.getuid())


ARTIFACTS = _artifacts_dir()
PHAROS = os.environ.get("PHAROS_BIN", os.path.join(REPO, "pharos"))

# A value that only ever reaches pharos through ${env:...}: it must never show
# up in any output.
SECRET = "e2e-s3cr3t-Zq7vXw9"
SECRET_ENV = "PHAROS_E2E_SECRET"
ADMIN_TOKEN = "e2e-admin-T0ken-Kp4mYr2"


# --- waiting -------------------------------------------------------------------

def wait_until(fn, timeout=10.0, interval=0.05, what=None):
    """Calls fn until it returns something truthy and returns that; raises
    AssertionError after timeout seconds (with the last value or exception)."""
    deadline = time.monotonic() + timeout
    last, last_exc = None, None
    while True:
        try:
            last = fn()
            last_exc = None
            if last:
                return last
        except Exception as e:  # the condition may not be checkable yet
            last_exc = e
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s (last value: %r, last error: %r)"
                         % (timeout, what or getattr(fn, "__name__", "condition"), last, last_exc))


# Ports handed out by free_port() for a server to bind later (nginx, dnsmasq,
# pharos, PostgreSQL, ...) come from a block of their own per pytest-xdist
# worker, below Linux's ephemeral range (32768-60999): the kernel never hands
# them to a bind(0) or a connect() of any process, and no other worker hands
# them out, so a port stays free between free_port() and the server's bind.
# A serial run (no worker) has a block of its own; gwN beyond 7 share blocks
# modulo 8 (still safe in practice: the start in a block depends on the pid).
PORT_BLOCK_FIRST = 12000
PORT_BLOCK_SIZE = 2500
PORT_BLOCKS = 8
_next_port = [None]


def port_block():
    """(first, size) of the ports free_port() hands out in this process."""
    w = os.environ.get("PYTEST_XDIST_WORKER", "")
    if w.startswith("gw") and w[2:].isdigit():
        return PORT_BLOCK_FIRST + (int(w[2:]) % PORT_BLOCKS) * PORT_BLOCK_SIZE, PORT_BLOCK_SIZE
    return PORT_BLOCK_FIRST - PORT_BLOCK_SIZE, PORT_BLOCK_SIZE   # serial: 9500-11999


def _bindable(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_port(kind=socket.SOCK_STREAM):
    """A port on 127.0.0.1, free for TCP and UDP a moment ago (whatever kind
    says), from this worker's block (see port_block); successive calls walk
    the block, so a port just closed by one test is not handed to the next."""
    first, size = port_block()
    if _next_port[0] is None:
        _next_port[0] = (os.getpid() * 7919) % size
    for _ in range(size):
        port = first + _next_port[0]
        _next_port[0] = (_next_port[0] + 1) % size
        if _bindable(port):
            return port
    raise AssertionError("no free port left in %d-%d" % (first, first + size - 1))


def closed_port():
    """A TCP port that refuses connections: bound, never listened on, closed."""
    return free_port()


# --- libconfig rendering ---------------------------------------------------------

def lc_string(s):
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class Raw(str):
    """Text put into the config as is (for hand-written libconfig)."""


def lc(v, indent=""):
    """Python value -> libconfig text. dict -> group, list of scalars -> array,
    list with a dict in it -> list, str -> string, bool/int/float as such."""
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return lc_string(v)
    if isinstance(v, dict):
        inner = indent + "  "
        body = "".join("%s%s = %s;\n" % (inner, k, lc(x, inner)) for k, x in v.items())
        return "{\n%s%s}" % (body, indent)
    if isinstance(v, (list, tuple)):
        if any(isinstance(x, dict) for x in v):
            inner = indent + "  "
            return "(\n%s\n%s)" % (",\n".join(inner + lc(x, inner) for x in v), indent)
        return "[ %s ]" % ", ".join(lc(x, indent) for x in v)
    raise TypeError("cannot render %r" % (v,))


def render_config(checks=(), agent=None, defaults=None, extra=""):
    parts = []
    if agent:
        parts.append("agent = %s;\n" % lc(agent))
    if defaults:
        parts.append("defaults = %s;\n" % lc(defaults))
    parts.append("checks = %s;\n" % (lc(list(checks)) if checks else "()"))
    if extra:
        parts.append(extra)
    return "".join(parts)


def write_file(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


# --- running the binary ------------------------------------------------------------

class RunResult:
    def __init__(self, args, rc, stdout, stderr, elapsed, maxrss_kb):
        self.args, self.rc, self.stdout, self.stderr = args, rc, stdout, stderr
        self.elapsed, self.maxrss_kb = elapsed, maxrss_kb

    def json(self):
        return json.loads(self.stdout)

    def __repr__(self):
        return ("<pharos %s rc=%s %.2fs\n--- stdout\n%s\n--- stderr\n%s>"
                % (" ".join(self.args), self.rc, self.elapsed, self.stdout, self.stderr))


def base_env(extra=None):
    env = dict(os.environ)
    env.pop("PHAROS_CONFIG", None)
    env[SECRET_ENV] = SECRET
    if extra:
        env.update(extra)
    return env


def run_pharos(args, timeout=60, env=None, cwd=None, log_to=None):
    """Runs ./pharos ARGS with no stdin; returns a RunResult with exit code,
    output, wall time and the child's own peak RSS (from wait4). Kills it and
    fails when it runs past timeout."""
    if not os.path.exists(PHAROS):
        raise AssertionError("%s does not exist: build it with `make pharos`" % PHAROS)
    argv = [PHAROS] + list(args)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=base_env(env), cwd=cwd or REPO)
    chunks = {p.stdout: [], p.stderr: []}

    def reader(f):
        while True:
            b = f.read1(65536) if hasattr(f, "read1") else f.read(65536)
            if not b:
                break
            chunks[f].append(b)

    threads = [threading.Thread(target=reader, args=(f,), daemon=True) for f in chunks]
    for t in threads:
        t.start()
    deadline = t0 + timeout
    status, ru, timed_out = None, None, False
    while True:
        pid, st, rusage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            status, ru = st, rusage
            break
        if time.monotonic() > deadline:
            timed_out = True
            p.kill()
            pid, st, rusage = os.wait4(p.pid, 0)
            status, ru = st, rusage
            break
        time.sleep(0.005)
    rc = os.waitstatus_to_exitcode(status)
    p.returncode = rc  # already reaped: keep Popen from waiting again
    for t in threads:
        t.join(5)
    elapsed = time.monotonic() - t0
    out = b"".join(chunks[p.stdout]).decode("utf-8", "replace")
    err = b"".join(chunks[p.stderr]).decode("utf-8", "replace")
    res = RunResult(argv[1:], rc, out, err, elapsed, ru.ru_maxrss)
    if log_to:
        with open(log_to, "a") as f:
            f.write("$ pharos %s\n# rc=%s elapsed=%.2fs maxrss=%dkB\n--- stdout\n%s\n--- stderr\n%s\n\n"
                    % (" ".join(args), rc, elapsed, ru.ru_maxrss, out, err))
    if timed_out:
        raise AssertionError("pharos %s did not finish within %ss (killed): %r"
                             % (" ".join(args), timeout, res))
    return res


# --- logfmt -----------------------------------------------------------------------

_LOGFMT_PAIR = re.compile(r'([A-Za-z0-9_.\-]+)=("(?:[^"\\]|\\.)*"|[^ ]*)')


def parse_logfmt(line):
    """key=value / key="quoted value" pairs of one logfmt line -> dict, or
    None when the line is not logfmt."""
    pos, out = 0, {}
    line = line.rstrip("\n")
    while pos < len(line):
        if line[pos] == " ":
            pos += 1
            continue
        m = _LOGFMT_PAIR.match(line, pos)
        if not m:
            return None
        v = m.group(2)
        if v.startswith('"'):
            v = re.sub(r'\\(.)', r'\1', v[1:-1])
        out[m.group(1)] = v
        pos = m.end()
    return out


# --- the agent ---------------------------------------------------------------------

class HttpAnswer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<HTTP %s %s>" % (self.status, self.text[:2000])


def http_request(port, method, path, headers=None, body=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return HttpAnswer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        c.close()


# --- which store the agents of a test use ------------------------------------------

# None: SQLite (a file per agent). Else a callable (workdir, name) -> the
# postgresql:// URI of that agent's database, set by the `store` fixtures of
# conftest.py for the tests that run on both stores.
_database_for = [None]


def set_store(database_for):
    _database_for[0] = database_for


def store_kind(database=None):
    """"sqlite" or "postgresql": the store of database, or of this test's agents."""
    if database is not None:
        return "postgresql" if database.startswith(("postgresql://", "postgres://")) else "sqlite"
    return "sqlite" if _database_for[0] is None else "postgresql"


def db_rows(database, sql):
    """Rows of sql (no parameters: inline the values) on an agent's database,
    SQLite file or PostgreSQL URI; values as Python ints/strings (psql: text)."""
    if store_kind(database) == "sqlite":
        import sqlite3
        c = sqlite3.connect("file:%s?mode=ro" % database, uri=True, timeout=10)
        try:
            return c.execute(sql).fetchall()
        finally:
            c.close()
    r = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\x1f", "-v", "ON_ERROR_STOP=1",
                        "-d", database, "-c", sql], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("psql: %s" % r.stderr)
    rows = []
    for line in r.stdout.splitlines():
        rows.append(tuple(int(v) if re.fullmatch(r"-?\d+", v) else v for v in line.split("\x1f")))
    return rows


def database_for(workdir, name):
    """agent.database for the agent NAME of a test: its SQLite file, or its own
    PostgreSQL database (the same one for every Agent of that name in workdir,
    so a restarted agent finds its state)."""
    if _database_for[0] is None:
        return os.path.join(workdir, name + ".db")
    return _database_for[0](workdir, name)


class Agent:
    """One `pharos run` process with its own config, database and log file."""

    def __init__(self, workdir, checks, admin_token=ADMIN_TOKEN, defaults=None,
                 agent_extra=None, env=None, name="agent", database=None):
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.port = free_port()
        self.db = database or database_for(workdir, name)
        self.log_path = os.path.join(workdir, name + ".log")
        self.admin_token = admin_token
        agent = {"listen": "127.0.0.1:%d" % self.port, "database": self.db}
        if admin_token is not None:
            agent["admin_token"] = admin_token
        if agent_extra:
            agent.update(agent_extra)
        self.config = write_file(os.path.join(workdir, name + ".conf"),
                                 render_config(checks, agent=agent,
                                               defaults=defaults or {"interval": "1s", "timeout": "1s"}))
        self.env = env
        self.proc = None
        self.rc = None

    def start(self, ready_timeout=20):
        if not os.path.exists(PHAROS):
            raise AssertionError("%s does not exist: build it with `make pharos`" % PHAROS)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([PHAROS, "run", "-c", self.config], stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     env=base_env(self.env), cwd=self.workdir)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("pharos run exited with %s before it was ready:\n%s"
                                     % (self.proc.returncode, self.logs()))
            try:
                return self.get("/readyz", timeout=2).status == 200
            except OSError:
                return False

        deadline = time.monotonic() + ready_timeout
        while True:
            try:
                if ready():
                    return self
            except AssertionError:
                raise
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError("GET /readyz never answered 200 within %ss:\n%s"
                                     % (ready_timeout, self.logs()))
            time.sleep(0.05)

    def logs(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def request(self, method, path, headers=None, body=None, timeout=30):
        return http_request(self.port, method, path, headers, body, timeout)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def get_json(self, path):
        r = self.get(path)
        assert r.status == 200, "GET %s: %r" % (path, r)
        return r.json()

    def checks(self):
        return {c["name"]: c for c in self.get_json("/api/v1/checks")}

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15):
        """SIGTERM; returns (exit code, seconds taken). Kills with SIGKILL and
        raises when it does not exit within timeout."""
        if self.proc is None:
            return self.rc, 0.0
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("pharos did not exit within %ss of SIGTERM (killed):\n%s"
                                     % (timeout, self.logs()[-5000:]))
        self.rc = self.proc.returncode
        self._log.close()
        self.proc = None
        return self.rc, time.monotonic() - t0

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.proc is not None:
            self.rc = self.proc.returncode
            self._log.close()
            self.proc = None


# --- DNS ---------------------------------------------------------------------------

def dns_query(port, name, qtype=1, timeout=1.0, host="127.0.0.1"):
    """Sends one UDP query; returns (rcode, ancount) or raises socket.timeout."""
    qid = os.getpid() & 0xFFFF
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(q, (host, port))
        while True:
            data, _ = s.recvfrom(4096)
            rid, flags, _qd, an = struct.unpack(">HHHH", data[:8])
            if rid == qid:
                return flags & 0xF, an
    finally:
        s.close()


def which(path):
    return path if os.path.exists(path) else shutil.which(os.path.basename(path))
