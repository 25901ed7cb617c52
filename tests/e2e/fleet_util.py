"""Fleet test helpers (SPEC §6): several `pharos run` agents on one PostgreSQL
database, each with its own agent.location, port and agent.source_address
(127.0.0.2, .3, .4: Linux routes all of 127/8 to lo, so binding needs no
set-up), and a real nginx target that tells the agents apart by the address a
probe comes from, and that fails for chosen client addresses.

    db = pg_server.new_database()
    target = FleetNginx(workdir).start()
    agents = start_fleet(workdir, db, [
        AgentSpec("a", "127.0.0.2", checks),
        AgentSpec("b", "127.0.0.3", checks, extra=ALERT_TEXT),
    ])
    target.fail_for(["127.0.0.3"])          # b's probes now get 503
    target.hits("/x")                        # {"127.0.0.2": 4, "127.0.0.3": 3}
    stop_fleet(agents)

Readiness is always polled (GET /readyz, a request from the given source),
never waited for with a fixed sleep. Standard library only."""

import http.client
import os
import re
import signal
import socket
import subprocess
import time

import e2eutil as U

NGINX = "/usr/sbin/nginx"

# Every request is logged as "ADDR MSEC URI STATUS"; /who answers the client
# address in a header and the body; a client address listed in fail.conf
# ("127.0.0.3 1;") gets 503 on every path but /who.
FLEET_NGINX_CONF = """\
{user}worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 1024; }}
http {{
    log_format fleet '$remote_addr $msec "$request_uri" $status';
    access_log {d}/access.log fleet;
    {temp_paths}
    default_type text/plain;
    keepalive_timeout 0;
    geo $remote_addr $fleet_fail {{
        default 0;
        include {d}/fail.conf;
    }}
    server {{
        listen 127.0.0.1:{port};
        location = /who {{
            add_header X-Client-Addr $remote_addr always;
            return 200 "$remote_addr\\n";
        }}
        location / {{
            add_header X-Client-Addr $remote_addr always;
            if ($fleet_fail) {{ return 503 "failing for $remote_addr\\n"; }}
            return 200 "ok $remote_addr\\n";
        }}
    }}
}}
"""


def _temp_paths(d):
    v = subprocess.run([NGINX, "-V"], capture_output=True, text=True, timeout=10).stderr
    temp = ["client_body_temp_path %s/client_body_temp;" % d]
    for mod, directive in (("proxy", "proxy_temp_path"), ("fastcgi", "fastcgi_temp_path"),
                           ("uwsgi", "uwsgi_temp_path"), ("scgi", "scgi_temp_path")):
        if "--without-http_%s_module" % mod not in v:
            temp.append("%s %s/%s_temp;" % (directive, d, mod))
    return "\n    ".join(temp)


def request_from(source, port, path="/", timeout=5):
    """GET 127.0.0.1:port/path sent from source; returns (status, headers, body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode("utf-8", "replace")
    finally:
        c.close()


class FleetNginx:
    """An nginx of its own (not the session's): start(), url(path),
    fail_for(addresses), hits(path), requests()."""

    def __init__(self, workdir, name="target"):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = U.free_port()
        self.proc = None
        self._log = None

    def start(self):
        if not os.path.exists(NGINX):
            import pytest
            pytest.skip("%s is missing (nginx-light)" % NGINX)
        d = self.dir
        U.write_file(os.path.join(d, "fail.conf"), "")
        conf = U.write_file(os.path.join(d, "nginx.conf"), FLEET_NGINX_CONF.format(
            user="user root;\n" if os.geteuid() == 0 else "", d=d, port=self.port,
            temp_paths=_temp_paths(d)))
        self._log = open(os.path.join(d, "stderr.log"), "wb")
        self.proc = subprocess.Popen([NGINX, "-p", d + "/", "-e", d + "/error.log", "-c", conf,
                                      "-g", "daemon off;"], stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("nginx exited with %s: see %s" % (self.proc.returncode, d))
            try:
                return request_from("127.0.0.1", self.port, "/who", timeout=2)[0] == 200
            except OSError:
                return False
        U.wait_until(up, 15, what="the fleet's nginx to answer")
        return self

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def fail_for(self, addresses, timeout=10):
        """From now on, requests from these client addresses get 503 (the
        others 200); returns once nginx answers so (polled from each address)."""
        addresses = list(addresses)
        U.write_file(os.path.join(self.dir, "fail.conf"),
                     "".join("%s 1;\n" % a for a in addresses))
        self.proc.send_signal(signal.SIGHUP)

        def applied():
            for a in set(addresses) | {"127.0.0.1"}:
                try:
                    st = request_from(a, self.port, "/_fleet_probe", timeout=2)[0]
                except OSError:
                    return False
                if (st == 503) != (a in addresses):
                    return False
            return True
        U.wait_until(applied, timeout, what="nginx to reload its failing addresses")

    def requests(self):
        """Every logged request: (address, unix time, uri, status)."""
        out = []
        try:
            with open(os.path.join(self.dir, "access.log")) as f:
                for line in f:
                    m = re.match(r'(\S+) (\S+) "([^"]*)" (\d+)', line)
                    if m:
                        out.append((m.group(1), float(m.group(2)), m.group(3), int(m.group(4))))
        except OSError:
            pass
        return out

    def hits(self, path, since=0.0):
        """Requests for path (exact URI) at or after unix time since, by client address."""
        counts = {}
        for addr, ts, uri, _ in self.requests():
            if uri == path and ts >= since:
                counts[addr] = counts.get(addr, 0) + 1
        return counts

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None


class AgentSpec:
    """One agent of a fleet: its location, source address, checks (python
    values, as U.render_config takes them), extra config text appended to its
    file (alerts, notifiers, ...) and extra agent settings."""

    def __init__(self, location, source=None, checks=(), extra="", agent_extra=None,
                 defaults=None, env=None):
        self.location = location
        self.source = source
        self.checks = list(checks)
        self.extra = extra
        self.agent_extra = agent_extra or {}
        self.defaults = defaults or {"interval": "1s", "timeout": "1s"}
        self.env = env


class FleetAgent(U.Agent):
    """A U.Agent whose config also carries location, source_address and the
    spec's extra text. start(), stop(), kill(), get_json() as U.Agent."""

    def __init__(self, workdir, database, spec, admin_token=U.ADMIN_TOKEN):
        name = "agent-" + re.sub(r"[^A-Za-z0-9_.-]", "_", spec.location)
        super().__init__(workdir, spec.checks, admin_token=admin_token, defaults=spec.defaults,
                         env=spec.env, name=name, database=database)
        self.location = spec.location
        self.source = spec.source
        agent = {"listen": "127.0.0.1:%d" % self.port, "database": database,
                 "location": spec.location}
        if spec.source:
            agent["source_address"] = spec.source
        if admin_token is not None:
            agent["admin_token"] = admin_token
        agent.update(spec.agent_extra)
        U.write_file(self.config, U.render_config(spec.checks, agent=agent, defaults=spec.defaults,
                                                  extra=spec.extra))

    def start_alive(self, timeout=60):
        """Starts it and waits for GET /healthz 200 only (a loaded host may
        keep /readyz at 503 for its scheduler lag: benchmarks)."""
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([U.PHAROS, "run", "-c", self.config], stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     env=U.base_env(self.env), cwd=self.workdir)

        def alive():
            if self.proc.poll() is not None:
                raise AssertionError("pharos run exited with %s:\n%s" % (self.proc.returncode,
                                                                         self.logs()))
            try:
                return self.get("/healthz", timeout=2).status == 200
            except OSError:
                return False
        try:
            U.wait_until(alive, timeout, interval=0.1, what="GET /healthz")
        except AssertionError:
            self.kill()
            raise
        return self

    def agents(self):
        """GET /api/v1/agents, by location."""
        return {a["location"]: a for a in self.get_json("/api/v1/agents")}


def start_fleet(workdir, database, specs, ready_timeout=30, ready=True):
    """Starts one agent per spec on database (a postgresql:// URI, e.g.
    pg_server.new_database()), in order, each waited for (GET /readyz 200;
    with ready=False only GET /healthz). Returns the FleetAgents; on a
    failure the ones started are stopped."""
    agents = []
    try:
        for spec in specs:
            a = FleetAgent(workdir, database, spec)
            agents.append(a)        # stopped below too when its start fails
            if ready:
                a.start(ready_timeout=ready_timeout)
            else:
                a.start_alive(ready_timeout)
    except BaseException:
        stop_fleet(agents)
        raise
    return agents


def wait_members(agents, n, timeout=30):
    """Polls until every running agent lists n live agents in /api/v1/agents."""
    def all_see():
        for a in agents:
            if not a.running():
                continue
            try:
                up = [x for x in a.get_json("/api/v1/agents") if x.get("state") == "up"]
            except (OSError, AssertionError):
                return False
            if len(up) != n:
                return False
        return True
    U.wait_until(all_see, timeout, interval=0.2, what="every agent to see %d live agents" % n)


def stop_fleet(agents, timeout=15):
    """SIGTERM to every agent still running; returns {location: exit code}."""
    codes = {}
    for a in agents:
        try:
            codes[a.location] = a.stop(timeout)[0]
        except AssertionError:
            codes[a.location] = None
    return codes


def free_source_port_ok(source):
    """Whether this host can send from source (127.0.0.x works on Linux)."""
    s = socket.socket()
    try:
        s.bind((source, 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


# --- agents built through a test rig (tests/e2e/alerting.py), for the alert tests ---


def fleet_agent(rig, uri, location, checks=None, rules=None, notifiers=None, agent_extra=None):
    """An agent of the fleet on database uri, named and located `location`
    (not started), built by rig with its receivers."""
    extra = {"location": location}
    extra.update(agent_extra or {})
    U.set_store(lambda workdir, name: uri)
    try:
        return rig.agent(checks=checks, rules=rules, notifiers=notifiers, name=location,
                         agent_extra=extra)
    finally:
        U.set_store(None)


def start_all(agents, ready_timeout=30):
    """Starts every agent (each waits for its /readyz)."""
    for a in agents:
        a.start(ready_timeout=ready_timeout)
    return agents
